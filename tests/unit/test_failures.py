"""Failure semantics of the engine, on real processes and real kernel objects.

* an object the engine cannot dump: exit 1 naming it, the target runs on untouched;
* a fault at any dump step: the same;
* a fault at any restore step, a taken PID, a missing/truncated/corrupt image: exit 1, one line on
  stderr naming the file (and offset), nothing left behind, no pidfile;
* dump with --leave-running, and dump/restore iterations, work.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
from pathlib import Path

import pytest

from conftest import (
    Result,
    Snapshot,
    Spawner,
    Target,
    alive,
    assert_untouched,
    descendants,
    kill_and_reap,
    needs_root,
    proc_status,
    stasis,
)
from engine.check import fault_points as all_points

pytestmark = needs_root

PIDFD_TARGET = r"""
import os, sys, time
pidfd = os.pidfd_open(os.getpid())
n = 0
while True:
    n += 1
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""

SOCKET_TARGET = r"""
import array, os, socket, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
e = os.eventfd(1)  # in flight in b's queue: a kind the engine cannot dump from its own copy, refused
a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [e]))])
os.close(e)
n = 0
while True:
    n += 1
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


# every point the engine passes: dump's steps, restore's fixed points and one after each registry stage
DUMP_FAULTS = [p for p in all_points() if p.startswith("dump:")]
RESTORE_FAULTS = [p for p in all_points() if p.startswith("restore:")]


def one_line_error(res: Result) -> str:
    assert res.returncode == 1, str(res)
    assert "Traceback" not in res.stderr, str(res)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr:\n{res}"
    return lines[0]


def dump(t: Target, images: Path, *extra: str, fault: str | None = None) -> Result:
    images.mkdir(exist_ok=True)
    return stasis("dump", "-t", str(t.pid), "-D", images, "-o", "dump.log", "-v4", *extra, fault=fault)


def restore(images: Path, pidfile: Path, fault: str | None = None) -> Result:
    return stasis("restore", "-D", images, "-o", "restore.log", "-v4", "-d", "--pidfile", pidfile,
                  fault=fault)


def fd_of(pid: int, prefix: str) -> list[int]:
    return sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd")
                  if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(prefix))


# --- dump failures: the tree keeps running untouched ----------------------------------------------

@pytest.mark.parametrize(("code", "kind"),
                         [(PIDFD_TARGET, "anon_inode:[pidfd]"), (SOCKET_TARGET, "socket")],
                         ids=["pidfd", "socket"])
def test_unsupported_fd_leaves_target_untouched(spawn: Spawner, tmp_path: Path, code: str, kind: str) -> None:
    t = spawn.python(code)
    fds = fd_of(t.pid, kind if kind.endswith("]") else f"{kind}:[")
    assert fds, f"the target has no {kind} fd"
    before = Snapshot.take(t.pid)
    images = tmp_path / "img"
    res = dump(t, images)
    line = one_line_error(res)
    assert f"pid {t.pid}" in line and kind in line, line
    assert any(f"fd {fd}" in line for fd in fds), f"the message names none of fds {fds}: {line}"
    assert not (images / "inventory.img").exists()
    assert (images / "dump.log").exists()
    assert_untouched(t, before)


@pytest.mark.parametrize("point", DUMP_FAULTS)
def test_dump_fault_leaves_target_untouched(counter: Target, tmp_path: Path, point: str) -> None:
    before = Snapshot.take(counter.pid)
    images = tmp_path / "img"
    res = dump(counter, images, fault=point)
    line = one_line_error(res)
    assert point in line, line
    if point != "dump:images":  # that point is after the images are complete (inventory.img is last)
        assert not (images / "inventory.img").exists()
    assert_untouched(counter, before)


@pytest.mark.parametrize("point", DUMP_FAULTS)
def test_dump_fault_with_leave_running(counter: Target, tmp_path: Path, point: str) -> None:
    before = Snapshot.take(counter.pid)
    res = dump(counter, tmp_path / "img", "-R", fault=point)
    one_line_error(res)
    assert_untouched(counter, before)


def test_dump_of_missing_pid(tmp_path: Path) -> None:
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    pid = next(p for p in range(pid_max - 1, 1, -1) if not os.path.exists(f"/proc/{p}"))
    res = stasis("dump", "-t", str(pid), "-D", tmp_path, "-o", "dump.log")
    line = one_line_error(res)
    assert str(pid) in line


# --- a good dump, shared by the restore-side tests --------------------------------------------------

class Dumped:
    def __init__(self, images: Path, pid: int, count: int, target: Target) -> None:
        self.images, self.pid, self.count, self.target = images, pid, count, target

    def copy(self, dest: Path) -> Path:
        shutil.copytree(self.images, dest)
        return dest


@pytest.fixture
def dumped(counter: Target, tmp_path: Path) -> Dumped:
    """A counter target dumped (and killed by the dump) and reaped: its PID is free."""
    images = tmp_path / "good"
    res = dump(counter, images)
    assert res.returncode == 0, str(res)
    counter.reap_dumped()
    assert not os.path.exists(f"/proc/{counter.pid}")
    return Dumped(images, counter.pid, counter.count(), counter)


def assert_nothing_left(d: Dumped, before: set[tuple[int, int]], pidfile: Path) -> None:
    time.sleep(0.05)
    leftover = descendants() - before
    for pid, _ in leftover:  # clean up before failing
        kill_and_reap(pid)
    assert not leftover, f"the failed restore left processes behind: {sorted(leftover)}"
    assert not os.path.exists(f"/proc/{d.pid}"), f"something runs (or is a zombie) at pid {d.pid}"
    assert not pidfile.exists(), "a failed restore created the pidfile"


@pytest.mark.parametrize("point", RESTORE_FAULTS)
def test_restore_fault_leaves_nothing(dumped: Dumped, tmp_path: Path, point: str) -> None:
    before = descendants()
    pidfile = tmp_path / "pid"
    res = restore(dumped.images, pidfile, fault=point)
    line = one_line_error(res)
    assert point in line, line
    assert (dumped.images / "restore.log").exists()
    assert_nothing_left(dumped, before, pidfile)
    # and the images are still good: a plain restore afterwards works
    res = restore(dumped.images, pidfile)
    assert res.returncode == 0, str(res)
    assert int(pidfile.read_text()) == dumped.pid
    dumped.target.wait_count(dumped.count + 2)


def test_restore_when_pid_taken(counter: Target, tmp_path: Path) -> None:
    images = tmp_path / "img"
    res = dump(counter, images, "-R")
    assert res.returncode == 0, str(res)
    before_snap = Snapshot.take(counter.pid)
    before = descendants()
    pidfile = tmp_path / "pid"
    res = restore(images, pidfile)
    line = one_line_error(res)
    assert str(counter.pid) in line, line
    assert "pid" in line.lower(), line
    time.sleep(0.05)
    leftover = descendants() - before
    for pid, _ in leftover:
        kill_and_reap(pid)
    assert not leftover, f"restore left processes behind: {sorted(leftover)}"
    assert not pidfile.exists()
    assert_untouched(counter, before_snap)  # the process holding the PID is not disturbed


# --- corrupt images ---------------------------------------------------------------------------------

def _entry(data: bytes, n: int = 0) -> tuple[int, int]:
    """(offset of the size prefix, payload size) of entry n of a framed image with two magics."""
    pos = 8
    for _ in range(n):
        (size,) = struct.unpack_from("<I", data, pos)
        pos += 4 + size
    (size,) = struct.unpack_from("<I", data, pos)
    return pos, size


def _delete_core(d: Path, pid: int) -> tuple[str, int | None]:
    (d / f"core-{pid}.img").unlink()
    return f"core-{pid}.img", None


def _truncate_mm(d: Path, pid: int) -> tuple[str, int | None]:
    p = d / f"mm-{pid}.img"
    data = p.read_bytes()
    pos, size = _entry(data)
    assert size > 8
    p.write_bytes(data[:pos + 4 + size // 2])
    return p.name, pos


def _flip_pstree_magic(d: Path, pid: int) -> tuple[str, int | None]:
    p = d / "pstree.img"
    data = bytearray(p.read_bytes())
    data[4] ^= 0xFF  # the type magic (after IMG_COMMON)
    p.write_bytes(bytes(data))
    return p.name, 4


def _corrupt_core_payload(d: Path, pid: int) -> tuple[str, int | None]:
    p = d / f"core-{pid}.img"
    data = bytearray(p.read_bytes())
    pos, _ = _entry(bytes(data))
    data[pos + 4] = 0x07  # field number 0, wire type 7: no protobuf parser accepts this tag
    p.write_bytes(bytes(data))
    return p.name, pos


def _truncate_pages(d: Path, pid: int) -> tuple[str, int | None]:
    p = d / "pages-1.img"
    size = p.stat().st_size
    assert size >= 8192
    with open(p, "r+b") as f:
        f.truncate(size // 2 + 100)
    return p.name, None


CORRUPTIONS = {
    "missing-core": _delete_core,
    "truncated-mm": _truncate_mm,
    "bad-pstree-magic": _flip_pstree_magic,
    "bad-core-payload": _corrupt_core_payload,
    "truncated-pages": _truncate_pages,
}


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_corrupt_image(dumped: Dumped, tmp_path: Path, how: str) -> None:
    images = dumped.copy(tmp_path / how)
    name, offset = CORRUPTIONS[how](images, dumped.pid)
    before = descendants()
    pidfile = tmp_path / "pid"
    res = restore(images, pidfile)
    line = one_line_error(res)
    assert name in line, f"the message does not name {name}: {line}"
    if offset is not None:
        assert "offset" in line, line
        reported = int(line.split("offset", 1)[1].split()[0].strip(":,"))
        assert reported == offset, f"reported offset {reported}, the damage is at {offset}: {line}"
    assert_nothing_left(dumped, before, pidfile)


# --- successes ----------------------------------------------------------------------------------------

# Counts in place: a fixed-size file rewritten at offset 0, so that a dump with -R stays restorable
# (the engine, like criu, refuses to restore a regular file whose size changed since the dump).
PWRITE_COUNTER = r"""
import os, time
n = 0
while True:
    n += 1
    os.pwrite(1, f"{n:012d}\n".encode(), 0)
    time.sleep(0.02)
"""


def test_leave_running_then_restore(spawn: Spawner, tmp_path: Path) -> None:
    counter = spawn.python(PWRITE_COUNTER)
    before = Snapshot.take(counter.pid)
    images = tmp_path / "img"
    res = dump(counter, images, "-R")
    assert res.returncode == 0, str(res)
    assert (images / "inventory.img").exists()
    assert_untouched(counter, before)
    # the images are good: kill it, restore, it counts on at the same PID
    time.sleep(1.0)  # ~50 more ticks after the dump
    kill_and_reap(counter.pid)
    counter.proc.wait(timeout=5)
    killed_at = counter.count()
    pidfile = tmp_path / "pid"
    res = restore(images, pidfile)
    assert res.returncode == 0, str(res)
    assert int(pidfile.read_text()) == counter.pid
    assert alive(counter.pid) and proc_status(counter.pid)["TracerPid"] == "0"
    # it goes on from the value it had at the dump (well below the one at the kill), and keeps counting
    deadline = time.monotonic() + 10
    while counter.count() == killed_at and time.monotonic() < deadline:
        time.sleep(0.005)
    resumed = counter.count()
    assert resumed < killed_at, f"after restore it counts from {resumed}; it was at {killed_at} when killed"
    counter.wait_count(resumed + 3)


def test_dump_restore_iterations(counter: Target, tmp_path: Path) -> None:
    pid = counter.pid
    last = counter.count()
    for i in range(3):
        images = tmp_path / f"it{i}"
        res = dump(counter, images)
        assert res.returncode == 0, f"iteration {i}: {res}"
        # the dump killed it; reap (the first time Popen's child, later a restored one re-parented to us)
        if i == 0:
            counter.reap_dumped()
        else:
            os.waitpid(pid, 0)
        frozen = counter.count()
        assert frozen >= last
        time.sleep(0.1)
        assert counter.count() == frozen, "the target kept running after a dump without -R"
        pidfile = tmp_path / f"pid{i}"
        res = restore(images, pidfile)
        assert res.returncode == 0, f"iteration {i}: {res}"
        assert int(pidfile.read_text()) == pid
        last = counter.wait_count(frozen + 3)
        nums = [int(x) for x in counter.lines() if x.isdigit()]
        assert nums == list(range(1, len(nums) + 1)), f"iteration {i}: the count has a gap or a repeat"
