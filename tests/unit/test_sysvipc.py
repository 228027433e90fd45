"""SysV IPC and POSIX message queue images round trip (and crit decodes them), and the message queue read
that must leave a real queue exactly as it was."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from engine.abi import nr
from engine.abi.consts import O_CREAT, O_EXCL, O_RDWR, SHM_DEST, SHM_LOCKED
from engine.images import ImageDir
from engine.images.pb import ipc_var_pb2
from engine.native import ffi, lib
from engine.objects import sysvipc
from engine.objects.files import mqueue

CRIT = Path("/usr/bin/crit")


def _desc(ident: int, key: int, mode: int) -> dict[str, int]:
    return {"key": key, "uid": 1, "gid": 2, "cuid": 3, "cgid": 4, "mode": mode, "id": ident}


def _crit(path: Path) -> dict:
    res = subprocess.run([str(CRIT), "decode", "-i", str(path)], capture_output=True, timeout=60, text=True)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_sysv_images_round_trip(tmp_path: Path) -> None:
    d = ImageDir(tmp_path)
    data = bytes(range(256)) * 20
    got = {
        "shm": [{"desc": _desc(5, 0, 0o640 | SHM_DEST), "size": len(data), "nattch": 2, "name_key": 0x5a51,
                 "last_vpid": 7, "data": base64.b64encode(data).decode()},
                {"desc": _desc(6, 0x11, 0o600 | SHM_LOCKED), "size": 4096, "nattch": 0,
                 "data": base64.b64encode(b"\0" * 4096).decode()}],
        "sem": [{"desc": _desc(9, 0, 0o600), "values": [3, 0, 32767], "last": [0, 0, 0],
                 "last_vpid": [7, 0, 1]}],
        "msg": [],
    }
    sysvipc.write_images(d, 3, got)
    back = sysvipc.load_images(d, 3)
    a, b = back["shm"]
    assert (a["desc"]["mode"], a["dest"], a["locked"], a["name_key"], a["last"]) == (
        0o640, True, False, 0x5a51, 7)
    assert base64.b64decode(a["data"]) == data
    assert (b["desc"]["mode"], b["dest"], b["locked"], b["name_key"], b["last"]) == (
        0o600, False, True, 0x11, 0)
    assert back["sem"] == [{"desc": {"key": 0, "uid": 1, "gid": 2, "mode": 0o600, "id": 9},
                            "values": [3, 0, 32767], "last": [7, 0, 1]}]
    if CRIT.exists():  # CRIU's schema: the mode keeps SHM_DEST (as CRIU writes it), the extension is dropped
        entries = _crit(d.path("ipcns-shm", ns_id=3))["entries"]
        assert [e["desc"]["mode"] for e in entries] == [0o640 | SHM_DEST, 0o600 | SHM_LOCKED]
        assert "stasis" not in entries[0]
        assert _crit(d.path("ipcns-sem", ns_id=3))["entries"][0]["nsems"] == 3


def test_mqueue_entry_in_ipc_var(tmp_path: Path) -> None:
    e = ipc_var_pb2.ipc_var_entry(msg_ctlmax=1, msg_ctlmnb=2, msg_ctlmni=3, auto_msgmni=0, shm_ctlmax=4,
                                  shm_ctlall=5, shm_ctlmni=6, shm_rmid_forced=0, mq_queues_max=7,
                                  mq_msg_max=8, mq_msgsize_max=9)
    q = {"ino": 77, "name": "q", "mode": 0o604, "uid": 1234, "gid": 5678, "maxmsg": 4, "msgsize": 64,
         "notify": 0, "msgs": [[9, b"urgent".hex()], [5, b"".hex()]]}
    mqueue.to_entry(e, {"dev": 42, "queues": [q]}, "test")
    d = ImageDir(tmp_path)
    d.write("ipcns-var", e, ns_id=3)
    back = d.read_one("ipcns-var", ns_id=3)
    m = back.stasis.mqueues[0]
    assert (back.stasis.mq_dev, m.name, m.mode, m.uid, m.maxmsg, m.msgsize, m.unlinked) == (
        42, "q", 0o604, 1234, 4, 64, False)
    assert [(x.prio, x.data) for x in m.msgs] == [(9, b"urgent"), (5, b"")]
    q["notify"] = 55
    with pytest.raises(Exception, match="notification registered by pid 55"):
        mqueue.to_entry(ipc_var_pb2.ipc_var_entry(), {"dev": 42, "queues": [q]}, "test")
    if CRIT.exists():
        assert _crit(d.path("ipcns-var", ns_id=3))["entries"][0]["mq_msgsize_max"] == 9


def test_mqueue_read_leaves_the_queue_as_it_was() -> None:
    """A real queue (in this process's IPC namespace): every message comes back in receive order, and
    the queue then still gives the same messages in the same order."""
    name = f"stasis-unit-{os.getpid()}".encode()
    attr = ffi.new("char[64]")
    mqueue.MQ_ATTR.pack_into(ffi.buffer(attr), 0, 0, 8, 32, 0)
    fd = lib.st_syscall(nr.mq_open, int(ffi.cast("uintptr_t", ffi.new("char[]", name))),
                        O_CREAT | O_EXCL | O_RDWR, 0o600, int(ffi.cast("uintptr_t", attr)), 0, 0)
    if fd < 0:
        pytest.skip(f"mq_open: {os.strerror(-fd)}")
    try:
        sent = [(3, b"a"), (7, b"b"), (3, b"c"), (0, b""), (7, b"d" * 32)]
        past = ffi.new("long[2]", [0, 0])
        for prio, data in sent:
            assert lib.st_syscall(nr.mq_timedsend, fd, int(ffi.cast("uintptr_t", ffi.from_buffer(data))),
                                  len(data), prio, int(ffi.cast("uintptr_t", past)), 0) == 0
        want = [(7, b"b"), (7, b"d" * 32), (3, b"a"), (3, b"c"), (0, b"")]
        assert mqueue._take_and_give_back(fd, 32, len(sent), "test") == want
        assert mqueue._attr(fd)[3] == len(sent)
        assert mqueue._take_and_give_back(fd, 32, len(sent), "test") == want  # the same queue again
        with pytest.raises(OSError, match="mq_curmsgs said 4"):
            mqueue._take_and_give_back(fd, 32, 4, "test")  # a count that does not match is refused ...
        assert mqueue._take_and_give_back(fd, 32, len(sent), "test") == want  # ... and nothing is lost
    finally:
        os.close(fd)
        lib.st_syscall(nr.mq_unlink, int(ffi.cast("uintptr_t", ffi.new("char[]", name))), 0, 0, 0, 0, 0)


def test_sysv_segment_in_pagemaps(tmp_path: Path) -> None:
    """Current CRIU's images: the content in pagemap-shmem-<id>.img and its pages image, holes as zeros."""
    from engine.images.pb import ipc_pb2, pagemap_pb2
    from engine.native import PAGE_SIZE

    d = ImageDir(tmp_path)
    size = 3 * PAGE_SIZE + 100
    desc = ipc_pb2.ipc_desc_entry(key=7, uid=0, gid=0, cuid=0, cgid=0, mode=0o600, id=4)
    e = ipc_pb2.ipc_shm_entry(desc=desc, size=size, in_pagemaps=True)
    d.write("ipcns-shm", [e], ns_id=3)
    d.write("pagemap-shmem", [pagemap_pb2.pagemap_head(pages_id=9),
                              pagemap_pb2.pagemap_entry(vaddr=PAGE_SIZE, compat_nr_pages=1, nr_pages=1,
                                                        flags=4),
                              pagemap_pb2.pagemap_entry(vaddr=3 * PAGE_SIZE, compat_nr_pages=1, nr_pages=1,
                                                        flags=4)], shmid=4)
    with d.open_raw("pages", "wb", pages_id=9) as f:
        f.write(b"a" * PAGE_SIZE + b"b" * PAGE_SIZE)
    data = base64.b64decode(sysvipc.load_images(d, 3)["shm"][0]["data"])
    assert data == b"\0" * PAGE_SIZE + b"a" * PAGE_SIZE + b"\0" * PAGE_SIZE + b"b" * 100
    with d.open_raw("pages", "wb", pages_id=9) as f:
        f.write(b"a" * PAGE_SIZE)  # one page short
    with pytest.raises(Exception, match="ends before"):
        sysvipc.load_images(d, 3)
