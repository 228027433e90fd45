"""SQLite in WAL mode with a second process contending for its locks (real/progs/sqlitewal.py), dumped
with --file-locks: SQLite's POSIX locks on the database and its -shm file (and the -shm mapping both
processes share) must come back, or the contender and the writer would corrupt the WAL index.

Mid-work: the writer committed 100 more rows. End: SIGTERM to the writer. Verified: writer.txt is 1..N
with no gap or duplicate; contender.txt's check numbers are gapless and each saw count == max (no gap in
the table at any moment) and never less than before; the database itself (read here once the program
ended) has exactly rows 1..N and the contender's checks, PRAGMA integrity_check is ok, and done.txt has
the same totals, an ok integrity check and the contender's exit status 0.
"""

import sqlite3
import sys
from pathlib import Path

from zdtm.real import Real, gapless, lines

SCRIPT = Path(__file__).resolve().parent / "progs" / "sqlitewal.py"


def progress(wd: Path) -> int:
    return len(lines(wd / "writer.txt"))


def verify(wd: Path) -> list[str]:
    problems: list[str] = []
    written = [int(x) for x in lines(wd / "writer.txt")]
    if not written:
        problems.append("writer.txt is empty")
    problems += gapless(written, "writer.txt")
    checks = [[int(x) for x in ln.split()] for ln in lines(wd / "contender.txt")]
    if not checks:
        problems.append("contender.txt is empty")
    problems += gapless((c[0] for c in checks), "contender.txt check numbers")
    last = 0
    for k, top, count in checks:
        if top != count:
            problems.append(f"contender.txt check {k}: max(n) {top} but {count} rows (a gap)")
        if top < last:
            problems.append(f"contender.txt check {k}: max(n) {top} went back from {last}")
        last = top
        if len(problems) > 10:
            break
    db = sqlite3.connect(f"file:{wd / 'wal.db'}?mode=ro", uri=True)
    try:
        ns = [r[0] for r in db.execute("SELECT n FROM rows ORDER BY n")]
        ks = [tuple(r) for r in db.execute("SELECT k, top, count FROM checks ORDER BY k")]
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    if ns != written:
        problems.append(f"the database has {len(ns)} rows, writer.txt {len(written)} (they differ)")
    if ks != [tuple(c) for c in checks]:
        problems.append(f"the database has {len(ks)} checks, contender.txt {len(checks)} (they differ)")
    if integrity != "ok":
        problems.append(f"PRAGMA integrity_check: {integrity}")
    expected = [f"done {len(written)} {len(checks)} ok 0"]
    if lines(wd / "done.txt") != expected:
        problems.append(f"done.txt: {lines(wd / 'done.txt')!r}, expected {expected!r}")
    return problems


PROGRAM = Real(
    argv=[sys.executable, "-I", str(SCRIPT)],
    progress=progress,
    verify=verify,
    mid_work=100,
    stop="SIGTERM",
    opts=["--file-locks"],
)
