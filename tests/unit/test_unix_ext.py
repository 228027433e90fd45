"""--ext-unix-sk: a datagram socket connected to a receiver outside the dumped tree is refused without the
option, and with it reconnected by name at restore (as criu does). The ZDTM harness cannot have a process
outside the tree that outlives the dump, so this runs here."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import Spawner, Target, kill_and_reap, needs_root, stasis

pytestmark = needs_root

OUTSIDER = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"\0stasis-unit-ext-%d" % int(sys.argv[1]))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(100)
    s.sendto(data, addr)
"""

TARGET = r"""
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"\0stasis-unit-ext-client-%d" % int(sys.argv[1]))
s.connect(b"\0stasis-unit-ext-%d" % int(sys.argv[1]))
s.settimeout(0.5)
n = 0
while True:
    n += 1
    while True:  # datagrams: a reply that was on its way while the tree was dumped is gone, ask again
        s.send(b"%d" % n)
        try:
            got = s.recv(100)
        except socket.timeout:
            continue
        if got == b"%d" % n:
            break
    print(n, flush=True)
    time.sleep(0.02)
"""


def _ready(t: Target) -> bool:
    return "ready" in t.out.read_text()


def test_ext_unix_sk(spawn: Spawner, tmp_path: Path) -> None:
    tag = str(os.getpid())
    outsider = spawn(["python3", "-c", OUTSIDER, tag], _ready, name="outsider")
    target = spawn(["python3", "-c", TARGET, tag], lambda t: t.count() >= 3, name="target")
    images = tmp_path / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(target.pid), "-D", images, "-o", "dump.log", "-v4")
    assert res.returncode == 1, str(res)
    assert "--ext-unix-sk" in res.stderr and "outside the dumped tree" in res.stderr, str(res)
    target.wait_count(target.count() + 2)  # refused: it runs on
    res = stasis("dump", "-t", str(target.pid), "-D", images, "-o", "dump.log", "-v4", "--ext-unix-sk")
    assert res.returncode == 0, str(res)
    target.reap_dumped()
    frozen = target.count()
    pidfile = tmp_path / "pid"
    res = stasis("restore", "-D", images, "-o", "restore.log", "-v4", "-d", "--pidfile", pidfile,
                 "--ext-unix-sk")
    assert res.returncode == 0, str(res)
    try:
        assert int(pidfile.read_text()) == target.pid
        # it counts on only if the outside receiver answers the restored socket
        target.wait_count(frozen + 3)
    finally:
        kill_and_reap(target.pid)
        kill_and_reap(outsider.pid)
