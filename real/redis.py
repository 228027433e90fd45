"""redis-server (Debian's) with data, driven by redis-cli: its own config in the work dir (a port chosen free
at the start, no persistence: the data lives only in the server's memory), in the foreground.

Every client round k (after the start, before each dump, after each restore) checks with redis-cli that
everything the earlier rounds stored is there: the 100 string keys of each round with their values, the list
of rounds, the counter, a hash field per round, and that the key with a one-hour TTL still has one; then it
stores round k's. End: SIGTERM (redis's shutdown). Verified: every round passed in order (client.txt) and
the server's log says it shut down normally.
"""

from collections.abc import Callable
from pathlib import Path

from zdtm.real import Real, command, free_port, lines, listening, run_client, wait_tcp_idle

KEYS = 100  # string keys stored per round


def argv(wd: Path) -> list[str]:
    port = free_port()
    (wd / "port").write_text(f"{port}\n")
    (wd / "redis.conf").write_text(
        f"port {port}\n"
        "bind 127.0.0.1\n"
        "daemonize no\n"
        'save ""\n'
        "appendonly no\n"
        f"dir {wd}\n"
        'logfile ""\n'
        "databases 1\n"
    )
    return [command("redis-server") or "redis-server", str(wd / "redis.conf")]


def port(wd: Path) -> int:
    return int((wd / "port").read_text())


def value(k: int, i: int) -> str:
    return f"v{k}.{i}." + "x" * ((k * 31 + i * 7) % 50)


Check = tuple[str, str | Callable[[str], bool]]  # a command and its reply, or a test of the reply


def cli(wd: Path, checks: list[Check]) -> list[str]:
    """Run the commands through one redis-cli (one connection; one reply line each), compare the replies."""
    cmds = "".join(f"{c}\n" for c, _ in checks)
    rc, out = run_client([command("redis-cli") or "redis-cli", "-p", str(port(wd))], stdin=cmds)
    if rc != 0:
        return [f"redis-cli exited with {rc}: {out.strip()[-300:]}"]
    replies = out.splitlines()
    if len(replies) != len(checks):
        return [f"{len(replies)} replies to {len(checks)} commands: {out.strip()[-300:]}"]
    problems = []
    for (cmd, want), got in zip(checks, replies, strict=True):
        if not (want(got) if callable(want) else got == want):
            problems.append(
                f"{cmd[:60]}: {got[:80]!r}, expected {want if isinstance(want, str) else 'other'}"
            )
    return problems or wait_tcp_idle(port(wd))


def client(wd: Path, k: int) -> list[str]:
    # what the earlier rounds stored
    size = k * KEYS + (4 if k else 0)  # round j's keys, and rounds, counter, hrounds, ttlkey once round 0 ran
    checks: list[Check] = [
        ("DBSIZE", str(size)),
        ("LLEN rounds", str(k)),
        ("GET counter", str(k) if k else ""),
    ]
    checks.append(
        ("TTL ttlkey", lambda t: t.isdigit() and 3000 < int(t) <= 3600) if k else ("TTL ttlkey", "-2")
    )
    checks += [(f"LINDEX rounds {j}", str(j)) for j in range(k)]
    checks += [(f"HGET hrounds r{j}", f"h{j}") for j in range(k)]
    checks += [(f"GET r{j}:{i}", value(j, i)) for j in range(k) for i in range(KEYS)]
    problems = cli(wd, checks)
    if problems:
        return problems
    # round k's
    checks = [(f"SET r{k}:{i} {value(k, i)}", "OK") for i in range(KEYS)]
    checks += [
        (f"RPUSH rounds {k}", str(k + 1)),
        ("INCR counter", str(k + 1)),
        (f"HSET hrounds r{k} h{k}", "1"),
    ]
    if k == 0:
        checks.append(("SET ttlkey t EX 3600", "OK"))
    problems = cli(wd, checks)
    if not problems:
        with open(wd / "client.txt", "a") as f:
            f.write(f"{k}\n")
    return problems


def verify(wd: Path) -> list[str]:
    problems = []
    rounds = lines(wd / "client.txt")
    if rounds != [str(j) for j in range(len(rounds))] or len(rounds) < 2:
        problems.append(f"client.txt: rounds {rounds}, expected 0, 1, ... (at least 2)")
    log = (wd / "redis.stdout").read_text(errors="replace") if (wd / "redis.stdout").exists() else ""
    if "Ready to accept connections" not in log:
        problems.append("redis.stdout: no 'Ready to accept connections'")
    if "ready to exit, bye bye" not in log:
        problems.append("redis.stdout: no 'ready to exit, bye bye' (redis did not shut down normally)")
    return problems


PROGRAM = Real(
    argv=argv,
    ready=lambda wd: (wd / "port").exists() and listening(port(wd)),
    client=client,
    verify=verify,
    needs=("redis-server", "redis-cli"),
    stop="SIGTERM",
    check_state=True,  # between client rounds the server holds still
)
