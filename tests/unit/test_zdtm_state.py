"""The harness's visible-state comparison (zdtm.state) against real processes: a child Python process
changes one thing about itself on command, and the comparison must report exactly that (or nothing, for a
change a program cannot tell: a VMA split, a pipe recreated with the same sharing). The interpreter itself
does not hold still (its heap grows as it runs the commands), so each test looks at the part it changed:
its own region, or the fields of the fds or the thread it changed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zdtm import state

PAGE = os.sysconf("SC_PAGE_SIZE")

# the child: runs each line of stdin (Python), answers "ok <repr of `out`>" or "err ..."
CHILD = r"""
import ctypes, fcntl, mmap, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t] + [ctypes.c_int] * 3 + [ctypes.c_long]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.mremap.restype = ctypes.c_void_p
libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p]
env = {"libc": libc, "ctypes": ctypes, "fcntl": fcntl, "mmap": mmap, "os": os, "signal": signal}
for line in sys.stdin:
    env["out"] = None
    try:
        exec(line, env)
        print("ok", repr(env["out"]), flush=True)
    except Exception as e:
        print("err", repr(e), flush=True)
"""


class Child:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.pid = self.proc.pid

    def do(self, code: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(code + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer.startswith("ok "), f"{code!r}: {answer}"
        return answer[3:]

    def snap(self) -> state.State:
        return state.snapshot([self.pid])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def child() -> Iterator[Child]:
    c = Child()
    try:
        yield c
    finally:
        c.close()


def anon_region(child: Child, pages: int) -> int:
    """A private anonymous RW region of `pages`, every page touched, between two PROT_NONE pages (so that
    it merges with no neighbour); its address."""
    addr = int(child.do(f"out = libc.mmap(None, {(pages + 2) * PAGE}, 0, 0x22, -1, 0)")) + PAGE
    child.do(f"assert libc.mprotect({addr}, {pages * PAGE}, 3) == 0")
    child.do(f"ctypes.memset({addr}, 1, {pages * PAGE})")
    return addr


def region(snap: state.State, lo: int, hi: int) -> state.State:
    """Only the ranges of [lo, hi) of each pid, and no fields."""
    return {
        pid: state.PidState(s.tids, s.fds, [r for r in s.maps if lo <= r[0] < hi], s.mounts)
        for pid, s in snap.items()
    }


def about(diff: str | None, *keys: str) -> list[str]:
    """The lines of a diff that name one of `keys` (as ' KEY' or ' KEY:' in the line)."""
    lines = (diff or "").splitlines()
    return [line for line in lines if any(f" {k} " in line or f" {k}:" in line for k in keys)]


def smaps_starts(pid: int, lo: int, hi: int) -> list[int]:
    starts = []
    with open(f"/proc/{pid}/smaps") as f:
        lines = f.read().splitlines()
    for line in lines:
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
        if m and lo <= int(m[1], 16) < hi:
            starts.append(int(m[1], 16))
    return starts


def test_same_process_twice_is_no_difference(child: Child) -> None:
    child.do("r, w = os.pipe(); out = (r, w)")
    before = child.snap()  # the interpreter is idle between two snapshots: nothing may differ
    assert state.compare(before, child.snap()) is None


def test_vma_split_alone_is_no_difference(child: Child) -> None:
    addr = anon_region(child, 8)
    before = child.snap()
    # the second half replaced by another touched region moved there (mremap): same prot, flags and
    # contents, but its own anon_vma, so the kernel keeps two VMAs
    half = addr + 4 * PAGE
    child.do(f"ctypes.memmove(b := libc.mmap(None, {4 * PAGE}, 3, 0x22, -1, 0), {half}, {4 * PAGE})")
    child.do(f"assert libc.munmap({half}, {4 * PAGE}) == 0")
    assert int(child.do(f"out = libc.mremap(b, {4 * PAGE}, {4 * PAGE}, 3, {half})")) == half
    assert smaps_starts(child.pid, addr, addr + 8 * PAGE) == [addr, half], "no split to test"
    end = addr + 8 * PAGE
    assert state.compare(region(before, addr, end), region(child.snap(), addr, end)) is None
    # and a real change in that region is seen: the second half read-only
    child.do(f"assert libc.mprotect({half}, {4 * PAGE}, 1) == 0")
    diff = state.compare(region(before, addr, end), region(child.snap(), addr, end))
    assert diff == (
        f"  pid {child.pid} vma {half:x}-{end:x}: VmFlags='ac me mr mw rd wr' prot='rw-p'"
        " -> VmFlags='ac me mr mw rd' prot='r--p'"
    ), diff


def test_vmflag_on_part_of_a_range(child: Child) -> None:
    addr = anon_region(child, 8)
    before = child.snap()
    page = addr + 3 * PAGE
    child.do(f"assert libc.madvise({page}, {PAGE}, 16) == 0")  # MADV_DONTDUMP: VmFlags gains dd
    diff = state.compare(region(before, addr, addr + 8 * PAGE), region(child.snap(), addr, addr + 8 * PAGE))
    assert diff is not None
    lines = diff.splitlines()
    assert lines == [
        f"  pid {child.pid} vma {page:x}-{page + PAGE:x}: VmFlags='ac me mr mw rd wr'"
        f" -> VmFlags='ac dd me mr mw rd wr'"
    ], diff


def test_fdinfo_flags(child: Child) -> None:
    r, w = eval(child.do("r, w = os.pipe(); out = (r, w)"))
    before = child.snap()
    child.do(f"os.set_blocking({r}, False)")
    lines = about(state.compare(before, child.snap()), f"fd {r}", f"fd {w}")
    assert lines == [f"  pid {child.pid} fd {r} fdinfo.flags: '02000000' -> '02004000'"], lines


def test_sigblk(child: Child) -> None:
    before = child.snap()
    child.do("signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})")
    lines = about(state.compare(before, child.snap()), "status.SigBlk", "stat.blocked")
    blocked = f"{1 << (10 - 1):016x}"  # SIGUSR1 is 10
    assert lines == [f"  pid {child.pid} tid {child.pid} status.SigBlk: '0000000000000000' -> '{blocked}'"]


def test_pipes_compared_structurally(child: Child) -> None:
    r, w = eval(child.do("r, w = os.pipe(); out = (r, w)"))
    before = child.snap()
    # the same sharing with a new pipe (a new inode): no difference
    new = "os.pipe(); os.dup2(r2, {r}, False); os.dup2(w2, {w}, False); os.close(r2); os.close(w2)"
    child.do(f"r2, w2 = {new}".format(r=r, w=w))
    fds = (f"fd {r}", f"fd {w}")
    assert about(state.compare(before, child.snap()), *fds) == []
    # the read end of another pipe: fds r and w are no longer the same pipe
    child.do(f"r3, w3 = os.pipe(); os.dup2(r3, {r}, False); os.close(r3); os.close(w3)")
    lines = about(state.compare(before, child.snap()), *fds)
    assert any(f"fd {w} link: 'pipe:" in line for line in lines), lines


def test_file_offset(child: Child, tmp_path) -> None:  # noqa: ANN001 (pytest's tmp_path)
    path = tmp_path / "data"
    path.write_bytes(b"x" * 4 * PAGE)
    addr = anon_region(child, 4)
    child.do(f"fd = os.open({str(path)!r}, os.O_RDONLY)")
    assert int(child.do(f"out = libc.mmap({addr}, {4 * PAGE}, 1, 0x12, fd, 0)")) == addr  # MAP_PRIVATE|FIXED
    before = child.snap()
    page = addr + PAGE
    assert int(child.do(f"out = libc.mmap({page}, {PAGE}, 1, 0x12, fd, {3 * PAGE})")) == page
    diff = state.compare(region(before, addr, addr + 4 * PAGE), region(child.snap(), addr, addr + 4 * PAGE))
    expected = f"  pid {child.pid} vma {page:x}-{page + PAGE:x}: offset={PAGE:#x} -> offset={3 * PAGE:#x}"
    assert diff == expected, diff


def test_a_timerfd_is_armed_while_it_runs_even_when_fdinfo_shows_no_time_left() -> None:
    """Real timerfds: an expired interval timer shows it_value (0, 0) until it is read, yet runs; an expired
    one-shot and a timer disarmed with an interval left in place are disarmed."""
    import ctypes
    import struct
    import time
    from pathlib import Path

    libc = ctypes.CDLL(None, use_errno=True)

    def timer(value_ns: int, interval_ns: int) -> int:
        fd = libc.timerfd_create(1, 0)  # CLOCK_MONOTONIC
        assert fd >= 0
        spec = struct.pack("<qqqq", *divmod(interval_ns, 10**9), *divmod(value_ns, 10**9))
        assert libc.timerfd_settime(fd, 0, spec, None) == 0
        return fd

    periodic, one_shot, parked = timer(1_000_000, 1_000_000), timer(1_000_000, 0), timer(0, 10**9)
    try:
        time.sleep(0.05)
        info = {fd: Path(f"/proc/self/fdinfo/{fd}").read_text() for fd in (periodic, one_shot, parked)}
        assert "it_value: (0, 0)" in info[periodic] and "ticks: 1" in info[periodic], info[periodic]
        assert state._timerfd_armed(info[periodic])
        assert not state._timerfd_armed(info[one_shot])
        assert not state._timerfd_armed(info[parked])
    finally:
        for fd in (periodic, one_shot, parked):
            os.close(fd)


def test_socket_recreated_alike_is_no_difference_and_a_new_port_is(child: Child) -> None:
    """A socket recreated at the same fd with the same binding (a new inode) is the same visible state;
    one bound to another port, or not bound, is reported by its /proc/net line."""
    child.do("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0))")
    port = int(child.do("out = s.getsockname()[1]"))
    fd = int(child.do("out = s.fileno()"))
    child.do(f"u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b'x', ('127.0.0.1', {port}))")
    before = child.snap()
    assert before[child.pid].fields[f"fd {fd} sock.table"] == "udp"
    assert before[child.pid].fields[f"fd {fd} sock.udp.rx_queue"] == "data"
    # the same binding and queue on a new socket in the same fd
    child.do(f"n = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.close(); "
             f"os.dup2(n.fileno(), {fd}, False); n.close(); s = socket.socket(fileno={fd}); "
             f"s.bind(('127.0.0.1', {port})); u.sendto(b'y', ('127.0.0.1', {port}))")
    assert about(state.compare(before, child.snap()), f"fd {fd}") == []
    # the queue read: empty now
    child.do("s.recv(10)")
    diff = about(state.compare(before, child.snap()), f"fd {fd}")
    assert diff == [f"  pid {child.pid} fd {fd} sock.udp.rx_queue: 'data' -> 'empty'"], diff
    # not bound: in no table
    child.do(f"n = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.close(); "
             f"os.dup2(n.fileno(), {fd}, False); n.close(); s = socket.socket(fileno={fd})")
    diff = state.compare(before, child.snap()) or ""
    assert f"fd {fd} sock.table: 'udp' -> '<none>'" in diff, diff


def test_every_socket_table_is_read(child: Child, tmp_path: Path) -> None:
    """Each kind of socket is found in its /proc/net table by inode, with the fields of that table."""
    path = tmp_path / "sk"
    child.do("import socket; u = socket.socket(socket.AF_UNIX); "
             f"u.bind({str(path)!r}); u.listen(3); out = u.fileno()")
    child.do("t = socket.socket(socket.AF_INET6); t.bind(('::1', 0)); t.listen(5)")
    child.do("n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 1))")
    child.do("d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); d.bind(('127.0.0.1', 0))")
    fds = {k: int(child.do(f"out = {k}.fileno()")) for k in ("u", "t", "n", "d")}
    f = child.snap()[child.pid].fields
    assert f[f"fd {fds['u']} sock.table"] == "unix"
    assert f[f"fd {fds['u']} sock.unix.Path"] == str(path)
    assert f[f"fd {fds['u']} sock.unix.Flags"] == "00010000"  # __SO_ACCEPTCON: listening
    assert f[f"fd {fds['t']} sock.table"] == "tcp6"
    assert f[f"fd {fds['t']} sock.tcp6.st"] == "0A"  # TCP_LISTEN
    assert f[f"fd {fds['n']} sock.table"] == "netlink"
    assert f[f"fd {fds['n']} sock.netlink.Groups"] == "00000001"
    assert f[f"fd {fds['d']} sock.udp.uid"] == str(os.getuid())
    assert not any(k.endswith((".RefCount", ".Drops", ".drops", ".sk")) for k in f)


def test_the_tracking_vmflags_are_left_out_only_where_asked() -> None:
    """--pre/--snaps: between a tracking dump and the next, the engine's uffd-wp registrations show as
    VmFlags uw; without_vmflags() takes them out (ranges equal then merged again), nothing else."""
    a = (("VmFlags", "mr mw rd uw wr"),)
    b = (("VmFlags", "mr mw rd wr"),)
    ps = state.PidState([1], set(), [(0, PAGE, a), (PAGE, 2 * PAGE, b)], [], {"x": "1"})
    out = state.without_vmflags({1: ps}, state.TRACKING)[1]
    assert out.maps == [(0, 2 * PAGE, b)] and out.fields == {"x": "1"}
    assert state.compare({1: ps}, {1: out}) is not None  # the flag itself is still seen by a plain compare
