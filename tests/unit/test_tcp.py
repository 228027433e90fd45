"""TCP connections whose peer is outside the dumped tree (the peer is this test process), the network lock
around them (nftables), and the failure paths: nothing may be left behind (repair mode, nft tables).

A real connection between the test and a target that echoes what it receives: while the target is
dumped and gone, what the test sends must meet no RST (the lock drops it, TCP retransmits it), and once
restored the target answers it."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Snapshot, Spawner, Target, assert_untouched, needs_root, stasis

pytestmark = [needs_root,
              pytest.mark.skipif(shutil.which("nft") is None, reason="nft (nftables) not installed")]

ECHO = r"""
import socket, sys, time
s = socket.create_connection(("HOST", PORT))
s.sendall(b"hello")
s.setblocking(False)
n = 0
while True:
    n += 1
    try:
        d = s.recv(65536)
        if d:
            s.sendall(d)
    except BlockingIOError:
        pass
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


_SPAWNER: list[Spawner] = []


@pytest.fixture(autouse=True)
def _this_tests_targets(spawn: Spawner) -> Iterator[None]:
    """tables() sees only the locks of this test's targets: tests running in parallel (xdist) have theirs."""
    _SPAWNER[:] = [spawn]
    yield
    _SPAWNER.clear()


def tables() -> list[str]:
    """The lock tables (inet stasis-<root pid>-...) of dumps of this test's targets."""
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    pids = {str(p) for sp in _SPAWNER for p in sp.pids}
    names = [line.split()[-1] for line in out.splitlines() if "stasis-" in line]
    return [n for n in names if n.split("-")[1] in pids]


def tcp_state(s: socket.socket) -> int:
    return struct.unpack_from("B", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8))[0]


def echo_target(spawn: Spawner, host: str = "127.0.0.1") -> tuple[Target, socket.socket, socket.socket]:
    """The target connects to `host` (an IPv4-mapped address: an AF_INET6 socket talking IPv4)."""
    v6 = ":" in host and not host.startswith("::ffff:")
    lst = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
    lst.bind(("::1" if v6 else "127.0.0.1", 0))
    lst.listen(1)
    t = spawn.python(ECHO.replace("PORT", str(lst.getsockname()[1])).replace("HOST", host))
    lst.settimeout(10)
    conn, _ = lst.accept()
    conn.settimeout(10)
    assert conn.recv(5) == b"hello"
    return t, lst, conn


def echoes(conn: socket.socket, data: bytes, timeout: float = 15.0) -> bool:
    conn.settimeout(timeout)
    got = b""
    while len(got) < len(data):
        d = conn.recv(65536)
        if not d:
            return False
        got += d
    return got == data


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_peer_outside_locked_then_restored(spawn: Spawner, tmp_path: Path, host: str) -> None:
    t, lst, conn = echo_target(spawn, host)
    conn.sendall(b"x" * 10)
    assert echoes(conn, b"x" * 10)
    before = set(tables())
    img = tmp_path / "img"
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    mine = set(tables()) - before
    assert len(mine) == 1, f"the dump's lock table: {mine}"
    # the target is gone: what we send now is dropped by the lock, no RST comes back
    payload = bytes(range(256)) * 40
    conn.sendall(payload)
    time.sleep(0.5)
    assert tcp_state(conn) == 1, "the peer's connection did not stay ESTABLISHED under the lock"
    conn.setblocking(False)
    with pytest.raises(BlockingIOError):
        conn.recv(1)
    res = stasis("restore", "-D", img, "-o", "restore.log", "--restore-detached")
    assert res.returncode == 0, str(res)
    assert set(tables()) - before == set(), "the lock is still there after the restore"
    assert echoes(conn, payload), "the restored target did not answer what was sent while it was locked"
    conn.sendall(b"after")
    assert echoes(conn, b"after")
    lst.close()
    conn.close()


def test_leave_running_removes_lock_and_repair(spawn: Spawner, tmp_path: Path) -> None:
    t, lst, conn = echo_target(spawn)
    before = set(tables())
    img = tmp_path / "img"
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established", "-R")
    assert res.returncode == 0, str(res)
    assert set(tables()) == before
    t.wait_count(t.count())
    conn.sendall(b"still here")
    assert echoes(conn, b"still here"), "the connection does not work after a --leave-running dump"
    assert (img / "inventory.img").exists()
    lst.close()
    conn.close()


@pytest.mark.parametrize("point", ["dump:objects", "dump:images"])
def test_failed_dump_leaves_nothing(spawn: Spawner, tmp_path: Path, point: str) -> None:
    t, lst, conn = echo_target(spawn)
    before_tables = set(tables())
    snap = Snapshot.take(t.pid)
    img = tmp_path / "img"
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established", fault=point)
    assert res.returncode == 1, str(res)
    assert set(tables()) == before_tables, "a failed dump left its lock table"
    assert_untouched(t, snap)
    conn.sendall(b"ping")
    assert echoes(conn, b"ping"), "the connection does not work after a failed dump (repair mode left on?)"
    lst.close()
    conn.close()


def test_failed_restore_removes_lock(spawn: Spawner, tmp_path: Path) -> None:
    t, lst, conn = echo_target(spawn)
    before = set(tables())
    img = tmp_path / "img"
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    assert len(set(tables()) - before) == 1
    res = stasis("restore", "-D", img, "-o", "restore.log", "--restore-detached", fault="restore:final")
    assert res.returncode == 1, str(res)
    assert set(tables()) == before, "a failed restore left the lock table"
    lst.close()
    conn.close()


def test_refusals(spawn: Spawner, tmp_path: Path) -> None:
    t, lst, conn = echo_target(spawn)
    before = set(tables())
    snap = Snapshot.take(t.pid)
    img = tmp_path / "img"
    img.mkdir()
    for args, words in (((), "--tcp-established"),
                        (("--tcp-established", "--network-lock", "iptables"), "iptables")):
        res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", *args)
        assert res.returncode == 1, str(res)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and f"pid {t.pid}" in lines[0], res.stderr
        assert "Traceback" not in res.stderr
    assert set(tables()) == before
    assert_untouched(t, snap)
    conn.sendall(b"ok")
    assert echoes(conn, b"ok")
    lst.close()
    conn.close()


def test_lock_skip_and_lock_again_at_restore(spawn: Spawner, tmp_path: Path) -> None:
    """--network-lock skip adds no table; a dump's table gone before the restore (another boot) is made
    again for the restore and removed once the sockets exist."""
    t, lst, conn = echo_target(spawn)
    before = set(tables())
    img = tmp_path / "img"
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established", "-R",
                 "--network-lock", "skip")
    assert res.returncode == 0, str(res)
    assert set(tables()) == before
    conn.sendall(b"skip")
    assert echoes(conn, b"skip")
    shutil.rmtree(img)
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    (mine,) = set(tables()) - before
    subprocess.run(["nft", "delete", "table", "inet", mine], check=True)
    res = stasis("restore", "-D", img, "-o", "restore.log", "--restore-detached", "-v4")
    assert res.returncode == 0, str(res)
    assert set(tables()) == before
    conn.sendall(b"again")
    assert echoes(conn, b"again")
    lst.close()
    conn.close()


def test_netlock_in_another_netns(tmp_path: Path) -> None:
    """The lock goes to the socket's network namespace (nft run after setns), not the engine's."""
    import os

    from engine.objects.files import netlock

    holder = subprocess.Popen(["unshare", "-n", "sleep", "60"])
    try:
        deadline = time.monotonic() + 5
        while os.stat(f"/proc/{holder.pid}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino:
            assert time.monotonic() < deadline, "unshare -n did not make a network namespace"
            time.sleep(0.01)
        fd = os.open(f"/proc/{holder.pid}/ns/net", os.O_RDONLY)
        table = netlock.table_name(holder.pid)
        try:
            conns = [netlock.Conn(socket.AF_INET, "127.0.0.1", 1000, "127.0.0.1", 2000),
                     netlock.Conn(socket.AF_INET6, "::ffff:127.0.0.1", 3, "::ffff:127.0.0.1", 4),
                     netlock.Conn(socket.AF_INET6, "::1", 5, "::1", 6)]
            netlock.lock(table, conns, fd)
            assert netlock.exists(table, fd) and not netlock.exists(table)
            listing = ["nsenter", "-t", str(holder.pid), "-n", "nft", "list", "table", "inet", table]
            out = subprocess.run(listing, capture_output=True, text=True, check=True).stdout
            assert "127.0.0.1 . 3 . 127.0.0.1 . 4" in out, out  # IPv4-mapped: written as IPv4
            assert "::1 . 5 . ::1 . 6" in out and "127.0.0.1 . 2000 . 127.0.0.1 . 1000" in out, out
            netlock.lock(table, conns[:1], fd)  # again: the elements only, no second set of rules
            out2 = subprocess.run(listing, capture_output=True, text=True, check=True).stdout
            assert out2.count("@conns4 drop") == 2, out2
            netlock.unlock(table, fd)
            assert not netlock.exists(table, fd)
        finally:
            os.close(fd)
    finally:
        holder.kill()
        holder.wait()


HALF = r"""
import os, socket, sys, time
s = socket.create_connection(("HOST", PORT))
s.setblocking(False)
eof = False
n = 0
while True:
    n += 1
    try:
        d = s.recv(65536)
        if d == b"" and not eof:
            eof = True
            print("eof", flush=True)
        elif d:
            s.sendall(d)
    except BlockingIOError:
        pass
    if eof and os.path.exists("go"):
        os.unlink("go")
        try:
            again = s.recv(1)
        except BlockingIOError:
            again = None
        s.sendall(b"after-eof:" + (b"eof" if again == b"" else b"?"))
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_half_closed_by_a_peer_outside(spawn: Spawner, tmp_path: Path, host: str) -> None:
    """The peer (this test) shut its side down: the target's end is in CLOSE_WAIT with the peer outside the
    tree. After C/R the peer's FIN is there again (end-of-file, CLOSE_WAIT) and the target still sends."""
    v6 = ":" in host and not host.startswith("::ffff:")
    lst = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
    lst.bind(("::1" if v6 else "127.0.0.1", 0))
    lst.listen(1)
    t = spawn.python(HALF.replace("PORT", str(lst.getsockname()[1])).replace("HOST", host))
    lst.settimeout(10)
    conn, _ = lst.accept()
    conn.sendall(b"data")
    assert echoes(conn, b"data")
    conn.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + 10
    while "eof" not in t.lines():
        assert time.monotonic() < deadline, "the target did not see the end-of-file"
        time.sleep(0.01)
    before = set(tables())
    img = tmp_path / "img"
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    assert tcp_state(conn) == 5, "the peer left FIN_WAIT2"  # TCP_FIN_WAIT2
    res = stasis("restore", "-D", img, "-o", "restore.log", "--restore-detached")
    assert res.returncode == 0, str(res)
    assert set(tables()) == before
    (t.cwd / "go").write_text("")
    assert echoes(conn, b"after-eof:eof"), "the restored end lost the peer's FIN or cannot send"
    lst.close()
    conn.close()


def test_fault_walk_with_a_lock(spawn: Spawner, tmp_path: Path) -> None:
    """Every fault point with a locked connection: a failed dump leaves no table and the connection as it
    was; a failed restore leaves no table (also after restore_done: the restored sockets go back to repair
    mode before they close, so the peer sees nothing); the same images then restore, and the peer is
    answered."""
    from engine.check import fault_points

    points = fault_points()
    t, lst, conn = echo_target(spawn)
    before = set(tables())
    img = tmp_path / "img"
    for point in (p for p in points if p.startswith("dump:")):
        shutil.rmtree(img, ignore_errors=True)
        img.mkdir()
        res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established", fault=point)
        assert res.returncode == 1, f"{point}: {res}"
        assert set(tables()) == before, f"{point}: a lock table is left"
        conn.sendall(point.encode())
        assert echoes(conn, point.encode()), f"{point}: the connection does not work after the failed dump"
    shutil.rmtree(img)
    img.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    dumps = set(tables()) - before
    assert len(dumps) == 1
    for point in (p for p in points if p.startswith("restore:")):
        res = stasis("restore", "-D", img, "-o", "restore.log", "--restore-detached", fault=point)
        assert res.returncode == 1, f"{point}: {res}"
        # before the restore made anything (restore:images) the dump's lock is as the dump left it;
        # once it began, a failed restore removes it
        allowed = [before, before | dumps] if point == "restore:images" else [before]
        assert set(tables()) in allowed, f"{point}: the failed restore left a lock table"
    res = stasis("restore", "-D", img, "-o", "restore.log", "--restore-detached")
    assert res.returncode == 0, str(res)
    assert set(tables()) == before
    conn.sendall(b"end")
    assert echoes(conn, b"end")
    lst.close()
    conn.close()


CONNECTING = r"""
import select, socket, sys, time
s = socket.socket()
s.setblocking(False)
print("connect", s.connect_ex(("127.0.0.1", PORT)), s.getsockname()[1], flush=True)
p = select.poll()
p.register(s, select.POLLOUT)
done = False
n = 0
while True:
    n += 1
    if not done and p.poll(0):
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        print("connected", err, flush=True)
        if err == 0:
            s.setblocking(True)
            s.sendall(b"hi")
        done = True
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


def test_connect_in_progress(spawn: Spawner, tmp_path: Path) -> None:
    """A non-blocking connect() whose SYNs are dropped (SYN_SENT) at the dump: restored from the same port
    and sequence number, the SYN goes out again and the connection is made once the drop is gone."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    port = lst.getsockname()[1]
    drop = f"stasis-test-drop-{port}"
    subprocess.run(["nft", "-f", "-"], check=True, text=True,
                   input=f"table inet {drop} {{\n chain in {{ type filter hook input priority -10; "
                         f"tcp dport {port} tcp flags syn drop; }}\n}}\n")
    try:
        t = spawn.python(CONNECTING.replace("PORT", str(port)))
        line = next(x for x in t.lines() if x.startswith("connect "))
        assert line.split()[1] == "115", line  # EINPROGRESS
        sport = int(line.split()[2])
        img = tmp_path / "img"
        img.mkdir()
        res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log")
        assert res.returncode == 1 and "--tcp-established" in res.stderr, str(res)
        res = stasis("dump", "-t", str(t.pid), "-D", img, "-o", "dump.log", "--tcp-established")
        assert res.returncode == 0, str(res)
        t.reap_dumped()
        res = stasis("restore", "-D", img, "-o", "restore.log", "--restore-detached")
        assert res.returncode == 0, str(res)
        time.sleep(0.3)
        assert not any(x.startswith("connected") for x in t.lines()), "connected through the drop"
    finally:
        subprocess.run(["nft", "delete", "table", "inet", drop], check=True)
    lst.settimeout(15)
    conn, peer = lst.accept()
    assert peer[1] == sport, f"the restored connect() comes from port {peer[1]}, not {sport}"
    conn.settimeout(10)
    assert conn.recv(2) == b"hi"
    deadline = time.monotonic() + 5
    while "connected 0" not in t.lines():
        assert time.monotonic() < deadline, t.lines()[-3:]
        time.sleep(0.01)
    conn.close()
    lst.close()
