"""A Python program with 4 worker threads and the main thread (real/progs/pythreads.py).

Mid-work: the workers wrote 100 more records. End: SIGTERM. Verified: each worker's own sequence is
gapless, the global numbers of all workers together are 1..N exactly once, the main thread's ticks are
gapless, and done.txt says the program ended normally with the same totals.
"""

import sys
from pathlib import Path

from zdtm.real import Real, gapless, lines

WORKERS = 4
SCRIPT = Path(__file__).resolve().parent / "progs" / "pythreads.py"


def records(wd: Path, k: int) -> list[list[int]]:
    return [[int(x) for x in ln.split()] for ln in lines(wd / f"worker{k}.txt")]


def progress(wd: Path) -> int:
    return sum(len(lines(wd / f"worker{k}.txt")) for k in range(WORKERS))


def verify(wd: Path) -> list[str]:
    problems: list[str] = []
    totals: list[int] = []
    for k in range(WORKERS):
        recs = records(wd, k)
        if not recs:
            problems.append(f"worker{k}.txt is empty")
        problems += gapless((r[0] for r in recs), f"worker{k}.txt seq")
        totals += [r[1] for r in recs]
    problems += gapless(sorted(totals), "the workers' global numbers")
    ticks = [int(t) for t in lines(wd / "main.txt")]
    problems += gapless(ticks, "main.txt")
    expected = [f"done {len(totals)} {len(ticks)}"]
    if lines(wd / "done.txt") != expected:
        problems.append(f"done.txt: {lines(wd / 'done.txt')!r}, expected {expected!r}")
    return problems


PROGRAM = Real(
    argv=[sys.executable, "-I", str(SCRIPT), str(WORKERS)],
    progress=progress,
    verify=verify,
    mid_work=100,
    stop="SIGTERM",
)
