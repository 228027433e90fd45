"""A Ruby program with 4 worker threads posting results through eventfds (made through Fiddle: Ruby's
stdlib has no eventfd) to the main thread's IO.select loop (real/progs/rbthreads.rb). Ruby's VM holds
two eventfds of its own (timer thread, signal wake-up).

Mid-work: 200 more records. End: SIGTERM (a Ruby trap). Verified: the record numbers are 1..N exactly
once; each worker's results are 1..posted exactly once, in order; every result posted was counted by its
eventfd (none left in its list: a lost counter would leave some); the main loop went on ticking (ticks
among the last 100 records, after the restore); done.txt has the same totals.
"""

import shutil
from pathlib import Path

from zdtm.real import Real, gapless, lines

WORKERS = 4
SCRIPT = Path(__file__).resolve().parent / "progs" / "rbthreads.rb"


def progress(wd: Path) -> int:
    return len(lines(wd / "out.txt"))


def verify(wd: Path) -> list[str]:
    problems: list[str] = []
    recs = [ln.split() for ln in lines(wd / "out.txt")]
    if not recs:
        return ["out.txt is empty"]
    problems += gapless((int(r[0]) for r in recs), "out.txt record numbers")
    if not any(r[1] == "tick" for r in recs[-100:]):
        problems.append("no tick among the last 100 records: the main loop's timeout stopped")
    done = lines(wd / "done.txt")
    if not done or done[0] != f"done {len(recs)}":
        problems.append(f"done.txt starts {done[:1]!r}, expected 'done {len(recs)}'")
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
    argv=[shutil.which("ruby") or "ruby", str(SCRIPT), str(WORKERS)],
    progress=progress,
    verify=verify,
    mid_work=200,
    stop="SIGTERM",
)
