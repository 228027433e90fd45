"""A Python eventfd/epoll loop (real/progs/pyevloop.py): 4 worker threads post results to the main
thread through eventfds (one of them EFD_SEMAPHORE); the main thread epoll_wait()s on them, a 10 ms
timerfd and a signalfd for SIGTERM, and writes numbered records to out.txt.

Mid-work: 200 more records. End: SIGTERM (read through the signalfd). Verified: the record numbers are
1..N exactly once; each worker's results are 1..posted exactly once, in order; every result a worker
posted was counted by its eventfd (none left in its list at the end: a lost counter would leave some);
the timer went on ticking (ticks among the last 100 records, after the restore); done.txt has the same
totals.
"""

import sys
from pathlib import Path

from zdtm.real import Real, gapless, lines

WORKERS = 4
SCRIPT = Path(__file__).resolve().parent / "progs" / "pyevloop.py"


def progress(wd: Path) -> int:
    return len(lines(wd / "out.txt"))


def verify(wd: Path) -> list[str]:
    problems: list[str] = []
    recs = [ln.split() for ln in lines(wd / "out.txt")]
    if not recs:
        return ["out.txt is empty"]
    problems += gapless((int(r[0]) for r in recs), "out.txt record numbers")
    ticks = [int(r[2]) for r in recs if r[1] == "tick"]
    if not ticks or min(ticks) < 1:
        problems.append(f"timerfd reads: {len(ticks)}, smallest {min(ticks, default=0)}")
    if not any(r[1] == "tick" for r in recs[-100:]):
        problems.append("no timerfd tick among the last 100 records: the timer stopped")
    done = lines(wd / "done.txt")
    expected = f"done {len(recs)} {sum(ticks)}"
    if not done or done[0] != expected:
        problems.append(f"done.txt starts {done[:1]!r}, expected {expected!r}")
    for k in range(WORKERS):
        results = [int(r[2]) for r in recs if r[1] == str(k)]
        if not results:
            problems.append(f"no result of worker {k}")
        problems += gapless(results, f"worker {k}'s results")
        want = f"worker {k} {len(results)} {len(results)} 0"
        if want not in done:
            got = [x for x in done if x.startswith(f"worker {k} ")]
            problems.append(f"done.txt: {got!r}, expected {want!r}")
    return problems


PROGRAM = Real(
    argv=[sys.executable, "-I", str(SCRIPT), str(WORKERS)],
    progress=progress,
    verify=verify,
    mid_work=200,
    stop="SIGTERM",
)
