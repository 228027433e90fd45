"""System V IPC objects of a tree's own IPC namespace: shared memory segments with their content, semaphore
sets with their values, message queues with their messages (ipcns-shm/-sem/-msg-<id>.img, CRIU's format;
segment content inline, as CRIU's older images have it).

Dump: a worker that joined the namespace lists every object (SHM_STAT/SEM_STAT/MSG_STAT by index), reads a
segment through a read-only attach of its own, the values with GETALL, and the messages with MSG_COPY
(nothing is taken from the queue). A segment attached by anybody is refused (an attach is a mapping; the
tree's would have to come back attached), as are locked segments.
Restore: a worker in the new namespace makes each object again at its id (kernel.*_next_id), with its key,
mode, owner and content; ids the kernel would pick next are set last. Not restored (as in CRIU): creator
ids, pids and times of objects, semaphore undo lists.
"""

from __future__ import annotations

import base64
import errno
import os
import struct
from typing import TYPE_CHECKING, Any

from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWNS,
    GETALL,
    GETPID,
    IPC_CREAT,
    IPC_EXCL,
    IPC_NOWAIT,
    IPC_SET,
    IPC_STAT,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    MSG_COPY,
    MSG_INFO,
    MSG_STAT,
    SEM_INFO,
    SEM_STAT,
    SETALL,
    SHM_DEST,
    SHM_INFO,
    SHM_LOCKED,
    SHM_RDONLY,
    SHM_STAT,
)
from engine.errors import ImageError, RestoreError, UnsupportedError
from engine.images import magic
from engine.images.pb import ipc_pb2
from engine.native import ffi, lib

if TYPE_CHECKING:
    from engine.images import ImageDir

SHMGET, SHMAT, SHMCTL, SHMDT, SEMGET, SEMCTL = nr.shmget, nr.shmat, nr.shmctl, nr.shmdt, nr.semget, nr.semctl
MSGGET, MSGSND, MSGRCV, MSGCTL = nr.msgget, nr.msgsnd, nr.msgrcv, nr.msgctl
PERM = struct.Struct("<iIIIII")  # struct ipc64_perm: key, uid, gid, cuid, cgid, mode
DS_SIZE = 256  # room for shmid64_ds / semid64_ds / msqid64_ds
SHM_SEGSZ, SHM_NATTCH = 48, 88  # offsets in shmid64_ds
SEM_NSEMS = 80  # in semid64_ds
MSG_QNUM, MSG_QBYTES = 80, 88  # in msqid64_ds


def _sys(nr: int, *args: int) -> int:
    a = list(args) + [0] * (6 - len(args))
    ret = lib.st_syscall(nr, *a)
    if ret < 0:
        raise OSError(-ret, os.strerror(-ret))
    return int(ret)


def _addr(buf: Any) -> int:
    return int(ffi.cast("uintptr_t", buf))


def _perm(ds: Any, ident: int) -> dict[str, int]:
    key, uid, gid, cuid, cgid, mode = PERM.unpack_from(ds if isinstance(ds, bytes) else ffi.buffer(ds), 0)
    return {"key": key & 0xFFFFFFFF, "uid": uid, "gid": gid, "cuid": cuid, "cgid": cgid, "mode": mode,
            "id": ident}


def _ctl(ctl: int, ident: int, cmd: int, buf: int) -> int:
    """shmctl/msgctl(id, cmd, buf), semctl(id, 0, cmd, buf): -errno on failure."""
    if ctl == SEMCTL:
        return int(lib.st_syscall(ctl, ident, 0, cmd, buf, 0, 0))
    return int(lib.st_syscall(ctl, ident, cmd, buf, 0, 0, 0))


def _each(ctl: int, info: int, stat: int, ds: Any) -> list[tuple[int, bytes]]:
    """(id, its *id64_ds) of every object of a kind, by index."""
    top = _ctl(ctl, 0, info, _addr(ds))
    out = []
    for i in range(max(top, -1) + 1):
        ident = _ctl(ctl, i, stat, _addr(ds))
        if ident >= 0:
            out.append((int(ident), ffi.buffer(ds)[:]))
    return out


def read_objects() -> dict[str, list[Any]]:
    """In a worker that joined the IPC namespace: every object, JSON-able."""
    ds = ffi.new(f"char[{DS_SIZE}]")
    out: dict[str, list[Any]] = {"shm": [], "sem": [], "msg": []}
    # shared memory: SHM_STAT by index, then its content through an attach of ours
    top = lib.st_syscall(SHMCTL, 0, SHM_INFO, _addr(ds), 0, 0, 0)
    for i in range(max(top, -1) + 1):
        ident = lib.st_syscall(SHMCTL, i, SHM_STAT, _addr(ds), 0, 0, 0)
        if ident < 0:
            continue
        desc = _perm(ds, int(ident))
        size, = struct.unpack_from("<Q", ffi.buffer(ds), SHM_SEGSZ)
        nattch, = struct.unpack_from("<Q", ffi.buffer(ds), SHM_NATTCH)
        if nattch or desc["mode"] & (SHM_DEST | SHM_LOCKED):
            out["shm"].append({"desc": desc, "busy": int(nattch), "mode": desc["mode"]})
            continue
        addr = _sys(SHMAT, int(ident), 0, SHM_RDONLY)
        try:
            data = ffi.buffer(ffi.cast("char *", addr), size)[:]
        finally:
            _sys(SHMDT, addr)
        out["shm"].append({"desc": desc, "size": size, "data": base64.b64encode(data).decode()})
    for ident, raw in _each(SEMCTL, SEM_INFO, SEM_STAT, ds):
        desc = _perm(raw, ident)
        nsems, = struct.unpack_from("<Q", raw, SEM_NSEMS)
        vals = ffi.new(f"unsigned short[{max(nsems, 1)}]")
        _sys(SEMCTL, ident, 0, GETALL, _addr(vals))
        last = [int(lib.st_syscall(SEMCTL, ident, n, GETPID, 0, 0, 0)) for n in range(nsems)]  # engine's pids
        out["sem"].append({"desc": desc, "values": [int(vals[i]) for i in range(nsems)], "last": last})
    with open("/proc/sys/kernel/msgmax") as f:
        msgmax = int(f.read())
    mbuf = ffi.new(f"char[{msgmax + 8}]")
    for ident, raw in _each(MSGCTL, MSG_INFO, MSG_STAT, ds):
        desc = _perm(raw, ident)
        qnum, qbytes = struct.unpack_from("<QQ", raw, MSG_QNUM)
        msgs = []
        for n in range(qnum):  # MSG_COPY: the n-th message, left in the queue
            size = _sys(MSGRCV, ident, _addr(mbuf), msgmax, n, IPC_NOWAIT | MSG_COPY)
            raw = ffi.buffer(mbuf, 8 + size)[:]
            msgs.append([struct.unpack_from("<q", raw)[0], base64.b64encode(raw[8:]).decode()])
        out["msg"].append({"desc": desc, "qbytes": qbytes, "msgs": msgs})
    return out


def posix_queues() -> list[str]:
    """In a worker that joined the IPC namespace (and may change its own mount namespace): the names of the
    namespace's POSIX message queues, from an mqueue file system mounted in a private copy of the worker's
    mount namespace (an mqueue mount shows the queues of the IPC namespace of whoever mounts it)."""
    names = [ffi.new("char[]", x) for x in (b"/", b"mqueue", b"/tmp")]
    _sys(nr.unshare, CLONE_NEWNS)
    _sys(nr.mount, 0, _addr(names[0]), 0, MS_REC | MS_PRIVATE, 0)  # nothing reaches the engine's mounts
    _sys(nr.mount, _addr(names[1]), _addr(names[2]), _addr(names[1]), MS_NOSUID | MS_NODEV | MS_NOEXEC, 0)
    return sorted(os.listdir("/tmp"))


def check(got: dict[str, list[Any]], where: str, tree: set[int]) -> None:
    """What restore could not give back: attached segments; semaphores the tree operated on (their
    SEM_UNDO adjustments cannot be read, and the kill that ends the dump would apply them)."""
    for s in got["sem"]:
        for n, pid in enumerate(s["last"]):
            if pid in tree:
                ident = s["desc"]["id"]
                raise UnsupportedError(f"{where}: pid {pid} operated on SysV semaphore {ident}/{n}: its "
                                       "SEM_UNDO adjustments cannot be read, and the dump's kill would "
                                       "apply them (not supported)")
    for s in got["shm"]:
        if "busy" in s:
            why = f"attached {s['busy']} times" if s["busy"] else "locked or marked for removal"
            raise UnsupportedError(f"{where}: SysV shared memory segment {s['desc']['id']} is {why}: only "
                                   "segments nobody has attached are supported yet")


def _desc(d: dict[str, int]) -> ipc_pb2.ipc_desc_entry:
    return ipc_pb2.ipc_desc_entry(key=d["key"], uid=d["uid"], gid=d["gid"], cuid=d["cuid"], cgid=d["cgid"],
                                  mode=d["mode"] & 0o777, id=d["id"])


def _pad(data: bytes, to: int) -> bytes:
    return data + b"\0" * (-len(data) % to)


def write_images(images: ImageDir, ns_id: int, got: dict[str, list[Any]]) -> None:
    if got["shm"]:
        entries, extras = [], []
        for s in got["shm"]:
            entries.append(ipc_pb2.ipc_shm_entry(desc=_desc(s["desc"]), size=s["size"], in_pagemaps=False))
            extras.append(_pad(base64.b64decode(s["data"]), 4))
        images.write("ipcns-shm", entries, extras, ns_id=ns_id)
    if got["sem"]:
        entries, extras = [], []
        for s in got["sem"]:
            entries.append(ipc_pb2.ipc_sem_entry(desc=_desc(s["desc"]), nsems=len(s["values"])))
            extras.append(_pad(struct.pack(f"<{len(s['values'])}H", *s["values"]), 8))
        images.write("ipcns-sem", entries, extras, ns_id=ns_id)
    if got["msg"]:
        out = [struct.pack("<II", magic.IMG_COMMON, magic.magic_of("IPCNS_MSG"))]
        for q in got["msg"]:
            e = ipc_pb2.ipc_msg_entry(desc=_desc(q["desc"]), qbytes=q["qbytes"], qnum=len(q["msgs"]))
            body = e.SerializeToString()
            out.append(struct.pack("<I", len(body)) + body)
            for mtype, data64 in q["msgs"]:
                data = base64.b64decode(data64)
                m = ipc_pb2.ipc_msg(mtype=mtype, msize=len(data)).SerializeToString()
                out.append(struct.pack("<I", len(m)) + m + _pad(data, 8))
        with images.open_raw("ipcns-msg", "wb", ns_id=ns_id) as f:
            f.write(b"".join(out))


def load_images(images: ImageDir, ns_id: int) -> dict[str, list[Any]]:
    """The objects of the images, in the form read_objects() gives (for make_objects())."""
    got: dict[str, list[Any]] = {"shm": [], "sem": [], "msg": []}

    def desc(d: ipc_pb2.ipc_desc_entry) -> dict[str, int]:
        return {"key": d.key, "uid": d.uid, "gid": d.gid, "mode": d.mode, "id": d.id}

    for e in images.read_entries("ipcns-shm", missing_ok=True, ns_id=ns_id):
        m = e.message
        if m.in_pagemaps:
            raise ImageError(images.path("ipcns-shm", ns_id=ns_id), f"segment {m.desc.id}: content in "
                             "pagemap-shmem images (not supported yet)")
        got["shm"].append({"desc": desc(m.desc), "size": m.size,
                           "data": base64.b64encode(bytes(e.extra or b"")[:m.size]).decode()})
    for e in images.read_entries("ipcns-sem", missing_ok=True, ns_id=ns_id):
        m = e.message
        vals = struct.unpack_from(f"<{m.nsems}H", bytes(e.extra or b""))
        got["sem"].append({"desc": desc(m.desc), "values": list(vals)})
    path = images.path("ipcns-msg", ns_id=ns_id)
    if path.exists():
        data = path.read_bytes()
        if struct.unpack_from("<II", data) != (magic.IMG_COMMON, magic.magic_of("IPCNS_MSG")):
            raise ImageError(path, "not an IPCNS_MSG image")
        off = 8
        try:
            while off < len(data):
                n, = struct.unpack_from("<I", data, off)
                q = ipc_pb2.ipc_msg_entry.FromString(data[off + 4:off + 4 + n])
                off += 4 + n
                msgs = []
                for _ in range(q.qnum):
                    n, = struct.unpack_from("<I", data, off)
                    m = ipc_pb2.ipc_msg.FromString(data[off + 4:off + 4 + n])
                    off += 4 + n
                    msgs.append([m.mtype, base64.b64encode(data[off:off + m.msize]).decode()])
                    off += m.msize + (-m.msize % 8)
                got["msg"].append({"desc": desc(q.desc), "qbytes": q.qbytes, "msgs": msgs})
        except (struct.error, ValueError) as exc:
            raise ImageError(path, f"corrupt at offset {off}: {exc}") from exc
    return got


def _next_id(kind: str, ident: int) -> None:
    with open(f"/proc/sys/kernel/{kind}_next_id", "w") as f:
        f.write(str(ident))


def _set_owner(ctl: int, ident: int, d: dict[str, int]) -> None:
    ds = ffi.new(f"char[{DS_SIZE}]")
    if _ctl(ctl, ident, IPC_STAT, _addr(ds)) < 0:
        raise OSError(errno.EIO, f"IPC_STAT of {ident}")
    buf = ffi.buffer(ds)
    key, _, _, cuid, cgid, _ = PERM.unpack_from(buf, 0)
    PERM.pack_into(buf, 0, key, d["uid"], d["gid"], cuid, cgid, d["mode"])
    ret = _ctl(ctl, ident, IPC_SET, _addr(ds))
    if ret < 0:
        raise OSError(-ret, f"IPC_SET of {ident}: {os.strerror(-ret)}")


def make_objects(got: dict[str, list[Any]]) -> None:
    """In a worker that joined the new IPC namespace: every object at its id (CRIU's order)."""
    for s in got["shm"]:
        d = s["desc"]
        _next_id("shm", d["id"])
        ident = _sys(SHMGET, d["key"], s["size"], IPC_CREAT | IPC_EXCL | 0o600)
        if ident != d["id"]:
            raise RuntimeError(f"shm segment {d['id']} came back as {ident}")
        addr = _sys(SHMAT, ident, 0, 0)
        try:
            data = base64.b64decode(s["data"])
            ffi.memmove(ffi.cast("char *", addr), data, len(data))
        finally:
            _sys(SHMDT, addr)
        _set_owner(SHMCTL, ident, d)
    for q in got["msg"]:
        d = q["desc"]
        _next_id("msg", d["id"])
        ident = _sys(MSGGET, d["key"], IPC_CREAT | IPC_EXCL | 0o600)
        if ident != d["id"]:
            raise RuntimeError(f"message queue {d['id']} came back as {ident}")
        for mtype, data64 in q["msgs"]:
            data = base64.b64decode(data64)
            buf = ffi.new(f"char[{8 + len(data)}]")
            ffi.memmove(buf, struct.pack("<q", mtype) + data, 8 + len(data))
            _sys(MSGSND, ident, _addr(buf), len(data), IPC_NOWAIT)
        _set_owner(MSGCTL, ident, d)
    for s in got["sem"]:
        d, values = s["desc"], s["values"]
        _next_id("sem", d["id"])
        ident = _sys(SEMGET, d["key"], len(values), IPC_CREAT | IPC_EXCL | 0o600)
        if ident != d["id"]:
            raise RuntimeError(f"semaphore set {d['id']} came back as {ident}")
        vals = ffi.new(f"unsigned short[{max(len(values), 1)}]", values)
        _sys(SEMCTL, ident, 0, SETALL, _addr(vals))
        _set_owner(SEMCTL, ident, d)


def restore(nsfd: int, got: dict[str, list[Any]], what: str) -> None:
    from engine.abi.consts import CLONE_NEWIPC
    from engine.objects import nsworker

    if not any(got.values()):
        return
    try:
        nsworker.run([(nsfd, CLONE_NEWIPC)], lambda: make_objects(got), what)
    except (OSError, RuntimeError) as exc:
        raise RestoreError(str(exc)) from exc
