"""redis-server (as real/redis) with a subscriber connected across C/R, dumped with --tcp-established: the
subscriber is Debian's redis-cli in SUBSCRIBE mode, a peer outside the tree (the harness's child) started
once the server is ready, whose connection to the server must survive the dump and the restore.

Every client round k (after the start, before each dump, after each restore) PUBLISHes "msg-k" on the
channel with a second redis-cli: the server must count 1 receiver (it still has the subscriber's
connection) and the subscriber must print the message (its end of the connection still works). End:
SIGTERM to the server, which closes the subscriber's connection: redis-cli ends. Verified: the subscriber
got every message once, in order, and redis shut down normally.
"""

import time
from pathlib import Path

from zdtm.real import Real, command, lines, listening, module, run_client, wait_tcp_idle

BASE = module(Path(__file__).resolve().with_name("redis.py"))


def subscriber(wd: Path) -> list[str]:
    cli = command("redis-cli") or "redis-cli"
    script = f'"{cli}" -p {BASE.port(wd)} SUBSCRIBE chan > sub.txt 2>&1; echo "exit $?" > sub.status'
    return ["/bin/sh", "-c", script]


def published(wd: Path) -> list[str]:
    """The messages the subscriber printed (redis-cli: 'message', the channel, the message, a line each)."""
    got = lines(wd / "sub.txt")
    return [got[i + 2] for i in range(len(got) - 2) if got[i] == "message" and got[i + 1] == "chan"]


def client(wd: Path, k: int) -> list[str]:
    cli = [command("redis-cli") or "redis-cli", "-p", str(BASE.port(wd))]
    deadline = time.monotonic() + 10.0
    while k == 0 and run_client([*cli, "PUBSUB", "NUMSUB", "chan"])[1].split() != ["chan", "1"]:
        if time.monotonic() > deadline:
            return [f"the subscriber did not subscribe in 10 s: {lines(wd / 'sub.txt')!r}"]
        time.sleep(0.05)
    rc, out = run_client([*cli, "PUBLISH", "chan", f"msg-{k}"])
    if rc != 0 or out.strip() != "1":
        return [f"PUBLISH chan msg-{k}: {rc} {out.strip()!r}, expected 1 receiver (the subscriber)"]
    deadline = time.monotonic() + 10.0
    while published(wd)[-1:] != [f"msg-{k}"]:
        if time.monotonic() > deadline:
            return [
                f"the subscriber did not print msg-{k} in 10 s: sub.txt ends {lines(wd / 'sub.txt')[-3:]!r}"
            ]
        time.sleep(0.02)
    return wait_tcp_idle(BASE.port(wd), keep=2)  # both ends of the subscriber's connection


def verify(wd: Path) -> list[str]:
    problems = []
    got = published(wd)
    if got != [f"msg-{k}" for k in range(len(got))] or len(got) < 2:
        problems.append(f"the subscriber printed {got!r}, expected msg-0, msg-1, ... (at least 2)")
    log = (wd / "redis_pubsub.stdout").read_text(errors="replace")
    if "ready to exit, bye bye" not in log:
        problems.append("redis_pubsub.stdout: no 'ready to exit, bye bye' (redis did not shut down normally)")
    return problems


PROGRAM = Real(
    argv=BASE.argv,
    ready=lambda wd: (wd / "port").exists() and listening(BASE.port(wd)),
    peer=subscriber,
    peer_after_ready=True,
    client=client,
    verify=verify,
    needs=("redis-server", "redis-cli"),
    stop="SIGTERM",
    check_state=True,  # between client rounds the server holds still
    opts=["--tcp-established"],
)
