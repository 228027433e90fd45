"""One TCP connection inside the tree, dumped with --tcp-established while both of its ends stream numbered
records to each other (real/progs/tcpstream.py pair): the root is the client end and its child the server
end; each checks every record it receives (number and payload) as it arrives.

Mid-work: the client end received 2,000 more records. End: SIGTERM to the client end, which ends the
stream with its total; the server end answers with its own. Verified: neither end saw a record lost,
doubled or out of order (each would have written ERROR and exited 1), each end's received total is the
other's sent total, and the stream went on after every restore.
"""

import sys
from pathlib import Path

from zdtm.real import Real, lines

SCRIPT = Path(__file__).resolve().parent / "progs" / "tcpstream.py"


def progress(wd: Path) -> int:
    return len(lines(wd / "recv-client.txt"))


def done(wd: Path, role: str) -> dict[str, int] | str:
    got = lines(wd / f"done-{role}.txt")
    if len(got) != 1 or not got[0].startswith("done "):
        return f"done-{role}.txt: {got!r}"
    return {k: int(v) for k, v in (f.split("=") for f in got[0].split()[1:])}


def verify_stream(wd: Path) -> list[str]:
    client, server = done(wd, "client"), done(wd, "server")
    problems = [d for d in (client, server) if isinstance(d, str)]
    if isinstance(client, dict) and isinstance(server, dict):
        if client["recv"] != server["sent"] or server["recv"] != client["sent"]:
            problems.append(f"client {client}, server {server}: each end must receive what the other sent")
        # the harness waits on the client end's received records (progress); the other direction runs
        # alongside and may be a few records behind when the stream is ended
        if client["recv"] < 2 * 50 * 40 or server["recv"] < 50 * 40:
            problems.append(f"client {client}, server {server}: too few records for 2 rounds of mid-work")
    for role in ("client", "server"):
        counts = [int(n) for n in lines(wd / f"recv-{role}.txt")]
        if counts != [50 * i for i in range(1, len(counts) + 1)]:
            problems.append(f"recv-{role}.txt: the counts are not 50, 100, ...")
    return problems


PROGRAM = Real(
    argv=[sys.executable, "-I", str(SCRIPT), "pair", "port"],
    progress=progress,
    verify=verify_stream,
    mid_work=40,
    stop="SIGTERM",
    opts=["--tcp-established"],
)
