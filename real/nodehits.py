"""node's http server with a hit counter in memory (real/progs/nodehits.js) on a port chosen free at the
start; driven by an HTTP client (Python's http.client, a connection per request).

Every client round k (after the start, before each dump, after each restore) makes 20 requests to /hit:
the counter must answer exactly the next numbers after those of the earlier rounds (it continues after a
restore, not from 0), and the server's 10 ms interval timer must have gone on ticking since the last round.
End: SIGTERM. Verified: every round passed in order (client.txt), and done.txt has the total of hits.
"""

import http.client
from pathlib import Path

from zdtm.real import Real, command, free_port, lines, wait_tcp_idle

SCRIPT = Path(__file__).resolve().parent / "progs" / "nodehits.js"
HITS = 20  # per round


def argv(wd: Path) -> list[str]:
    port = free_port()
    (wd / "port").write_text(f"{port}\n")
    return [command("node") or "node", str(SCRIPT), str(port)]


def port(wd: Path) -> int:
    return int((wd / "port").read_text())


def get(wd: Path, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port(wd), timeout=10.0)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def client(wd: Path, k: int) -> list[str]:
    rounds = [ln.split() for ln in lines(wd / "client.txt")]
    last_ticks = int(rounds[-1][2]) if rounds else 0
    ticks = 0
    for n in range(k * HITS + 1, (k + 1) * HITS + 1):
        status, body = get(wd, "/hit")
        f = body.split()
        if status != 200 or len(f) != 3 or f[:2] != ["hit", str(n)]:
            return [f"GET /hit: {status} {body.strip()!r}, expected 'hit {n} ...'"]
        ticks = int(f[2])
    if k and ticks <= last_ticks:
        return [f"the interval timer did not tick since the last round: {ticks} ticks, {last_ticks} then"]
    problems = wait_tcp_idle(port(wd))
    if not problems:
        with open(wd / "client.txt", "a") as out:
            out.write(f"{k} {(k + 1) * HITS} {ticks}\n")
    return problems


def verify(wd: Path) -> list[str]:
    problems = []
    rounds = [ln.split() for ln in lines(wd / "client.txt")]
    if [r[0] for r in rounds] != [str(j) for j in range(len(rounds))] or len(rounds) < 2:
        problems.append(f"client.txt: rounds {[r[0] for r in rounds]}, expected 0, 1, ... (at least 2)")
    expected = [f"done {len(rounds) * HITS}"]
    if lines(wd / "done.txt") != expected:
        problems.append(f"done.txt: {lines(wd / 'done.txt')!r}, expected {expected!r}")
    return problems


PROGRAM = Real(
    argv=argv,
    ready=lambda wd: (wd / "listening").exists(),
    client=client,
    verify=verify,
    needs=("node",),
    stop="SIGTERM",
)
