"""File locks on real processes: refused without --file-locks; with it, a lock that restore cannot take
again (someone else took a conflicting one meanwhile) fails the restore with one line naming it, leaves
nothing behind and keeps the images good for a retry once the file is free."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from conftest import Snapshot, Spawner, assert_untouched, descendants, kill_and_reap, needs_root, stasis

pytestmark = needs_root

LOCKER = r"""
import fcntl, os, sys, time
fd = os.open("locked.dat", os.O_CREAT | os.O_RDWR, 0o644)
os.write(fd, b"x" * 100)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
fd2 = os.open("ranges.dat", os.O_CREAT | os.O_RDWR, 0o644)
fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 20, 10)  # [10, 29]
n = 0
while True:
    n += 1
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


def one_line(res) -> str:  # type: ignore[no-untyped-def]
    assert res.returncode == 1, str(res)
    assert "Traceback" not in res.stderr, str(res)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, str(res)
    return lines[0]


def test_lock_refused_without_file_locks(spawn: Spawner, tmp_path: Path) -> None:
    t = spawn.python(LOCKER)
    before = Snapshot.take(t.pid)
    images = tmp_path / "img"
    images.mkdir()
    line = one_line(stasis("dump", "-t", str(t.pid), "-D", images, "-o", "dump.log"))
    assert f"pid {t.pid}" in line and "--file-locks" in line and "lock" in line, line
    assert not (images / "inventory.img").exists()
    assert_untouched(t, before)


@pytest.mark.parametrize("kind", ["flock", "posix"])
def test_restore_lock_conflict_then_retry(spawn: Spawner, tmp_path: Path, kind: str) -> None:
    t = spawn.python(LOCKER)
    images = tmp_path / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", images, "-o", "dump.log", "--file-locks")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    count = t.count()
    # the dump killed it: its locks are gone, and we take a conflicting one
    ours = os.open(t.cwd / ("locked.dat" if kind == "flock" else "ranges.dat"), os.O_RDWR)
    try:
        if kind == "flock":
            fcntl.flock(ours, fcntl.LOCK_SH | fcntl.LOCK_NB)
        else:
            fcntl.lockf(ours, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 15)  # [15, 15]
        before = descendants()
        pidfile = tmp_path / "pid"
        line = one_line(stasis("restore", "-D", images, "-o", "restore.log", "-d", "--pidfile", pidfile))
        want = "flock() lock WRITE [0, EOF]" if kind == "flock" else "POSIX (fcntl) lock WRITE [10, 29]"
        assert f"pid {t.pid}" in line and want in line and "conflicting" in line, line
        leftover = descendants() - before
        for pid, _ in leftover:
            kill_and_reap(pid)
        assert not leftover, f"the failed restore left {sorted(leftover)}"
        assert not pidfile.exists()
    finally:
        os.close(ours)  # the file is free again: the same images restore
    res = stasis("restore", "-D", images, "-o", "restore.log", "-d", "--pidfile", pidfile)
    assert res.returncode == 0, str(res)
    t.wait_count(count + 3)
    probe = os.open(t.cwd / "locked.dat", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    finally:
        os.close(probe)
