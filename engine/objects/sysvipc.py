"""System V IPC objects of a tree's own IPC namespace: shared memory segments with their content, semaphore
sets with their values, message queues with their messages (ipcns-shm/-sem/-msg-<id>.img, CRIU's format;
segment content inline, as CRIU's older images have it); the segments' attaches (VMAs of status
VMA_AREA_SYSVIPC, shmid the segment's id, as CRIU has them); and the refusal of SEM_UNDO adjustments.

Dump: a worker that joined the namespace lists every object (SHM_STAT/SEM_STAT/MSG_STAT by index), reads an
unattached segment through a read-only attach of its own (its shm_lpid and times change: the process that
was last attaches once more in its injection session), the values with GETALL, and the messages with
MSG_COPY (nothing is taken from the queue). An attached segment is read through an attach of the tree's
that maps all of it (/proc/PID/mem: nothing of the segment changes), else like an unattached one. A segment
attached by the tree is a mapping of its processes (mm.py asks check_vma here, and attach_vmas at restore):
every attach must be one of the tree's (shm_nattch counts the VMAs), and only in the tree's own IPC
namespace. A segment removed with IPC_RMID but still attached (key 0, SHM_DEST) keeps the key it was made
with in its mappings' name (/SYSV<key>): that key is kept in the entry's Stasis extension. With
kernel.shm_rmid_forced an unattached segment is refused (it lives only while its creator does).
Restore: a worker in the new namespace makes each object again at its id (kernel.*_next_id), with its key,
mode, owner and content (SHM_LOCK again for a locked segment); ids the kernel would pick next are set last.
Each process shmat()s its segments at their addresses (SHM_RDONLY where the attach was read-only), with the
protections and holes of its VMAs (mprotect, mremap, munmap), so shm_nattch comes back; segments marked
for removal are removed (IPC_RMID) once every process is attached, and kernel.shm_rmid_forced is set then
(restore_done). shm_lpid and each semaphore's sempid are given back by the process that was last (an attach
and detach; a semop() that changes nothing). Not restored (no interface sets them; CRIU neither): creator
pids, the objects' times (they become the restore's).
SEM_UNDO: the kernel shows no process's undo adjustments; kcmp(KCMP_SYSVSEM) shows that a process has an
undo list at all (made by its first semop() with SEM_UNDO, or by clone(CLONE_SYSVSEM): every threaded
process has one). Adjustments exist only for sets that exist, so a process with a list is refused when its
IPC namespace has semaphore sets (in every flavor: the kill that ends a dump would apply the adjustments,
and restore could not give them back); without sets it holds nothing.
"""

from __future__ import annotations

import base64
import errno
import os
import struct
from typing import TYPE_CHECKING, Any

from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWIPC,
    GETALL,
    GETPID,
    IPC_CREAT,
    IPC_EXCL,
    IPC_NOWAIT,
    IPC_RMID,
    IPC_SET,
    IPC_STAT,
    KCMP_SYSVSEM,
    MREMAP_FIXED,
    MREMAP_MAYMOVE,
    MSG_COPY,
    MSG_INFO,
    MSG_STAT,
    SEM_INFO,
    SEM_STAT,
    SETALL,
    SHM_DEST,
    SHM_INFO,
    SHM_LOCK,
    SHM_LOCKED,
    SHM_RDONLY,
    SHM_STAT,
)
from engine.errors import ImageError, RestoreError, UnsupportedError
from engine.images import magic
from engine.images.pb import ipc_pb2
from engine.log import log
from engine.native import PAGE_SIZE, ffi, lib
from engine.objects.base import KernelObject, Phase, Stage
from engine.record import field, record

if TYPE_CHECKING:
    from engine import proc
    from engine.context import DumpContext, RestoreContext
    from engine.images import ImageDir
    from engine.images.pb import mm_pb2
    from engine.task import Task

SHMGET, SHMAT, SHMCTL, SHMDT, SEMGET, SEMCTL = nr.shmget, nr.shmat, nr.shmctl, nr.shmdt, nr.semget, nr.semctl
MSGGET, MSGSND, MSGRCV, MSGCTL = nr.msgget, nr.msgsnd, nr.msgrcv, nr.msgctl
PERM = struct.Struct("<iIIIII")  # struct ipc64_perm: key, uid, gid, cuid, cgid, mode
DS_SIZE = 256  # room for shmid64_ds / semid64_ds / msqid64_ds
SHM_SEGSZ, SHM_CPID, SHM_NATTCH = 48, 80, 88  # offsets in shmid64_ds
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
    # shared memory: SHM_STAT by index, then its content through an attach of ours (with shm_rmid_forced the
    # detach of an otherwise unattached segment would destroy it)
    with open("/proc/sys/kernel/shm_rmid_forced") as f:
        forced = f.read().strip() != "0"
    top = lib.st_syscall(SHMCTL, 0, SHM_INFO, _addr(ds), 0, 0, 0)
    for i in range(max(top, -1) + 1):
        ident = lib.st_syscall(SHMCTL, i, SHM_STAT, _addr(ds), 0, 0, 0)
        if ident < 0:
            continue
        desc = _perm(ds, int(ident))
        size, = struct.unpack_from("<Q", ffi.buffer(ds), SHM_SEGSZ)
        cpid, lpid, nattch = struct.unpack_from("<iiQ", ffi.buffer(ds), SHM_CPID)
        seg = {"desc": desc, "size": size, "nattch": int(nattch), "cpid": cpid, "lpid": lpid, "data": ""}
        if nattch or forced:  # attached: read through the tree's own attach (dump_tree); with
            out["shm"].append(seg)  # shm_rmid_forced our detach would destroy it (and dump_tree refuses it)
            continue
        addr = _sys(SHMAT, int(ident), 0, SHM_RDONLY)  # an attach of ours: nothing is taken from it
        try:
            data = ffi.buffer(ffi.cast("char *", addr), size)[:]
        finally:
            _sys(SHMDT, addr)
        seg.update(data=base64.b64encode(data).decode(), via_attach=True)
        out["shm"].append(seg)
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


def _desc(d: dict[str, int], mode_mask: int = 0o777) -> ipc_pb2.ipc_desc_entry:
    return ipc_pb2.ipc_desc_entry(key=d["key"], uid=d["uid"], gid=d["gid"], cuid=d["cuid"], cgid=d["cgid"],
                                  mode=d["mode"] & mode_mask, id=d["id"])


def _pad(data: bytes, to: int) -> bytes:
    return data + b"\0" * (-len(data) % to)


def write_images(images: ImageDir, ns_id: int, got: dict[str, list[Any]]) -> None:
    if got["shm"]:
        entries, extras = [], []
        for s in got["shm"]:  # the mode with SHM_DEST and SHM_LOCKED, as CRIU's
            e = ipc_pb2.ipc_shm_entry(desc=_desc(s["desc"], 0o777 | SHM_DEST | SHM_LOCKED), size=s["size"],
                                      in_pagemaps=False)
            e.stasis.nattch = s["nattch"]
            e.stasis.last_pid = s.get("last_vpid", 0)
            if s.get("name_key", s["desc"]["key"]) != s["desc"]["key"]:
                e.stasis.name_key = s["name_key"]
            entries.append(e)
            extras.append(_pad(base64.b64decode(s["data"]), 4))
        images.write("ipcns-shm", entries, extras, ns_id=ns_id)
    if got["sem"]:
        entries, extras = [], []
        for s in got["sem"]:
            e = ipc_pb2.ipc_sem_entry(desc=_desc(s["desc"]), nsems=len(s["values"]))
            e.stasis.last_pid.extend(s.get("last_vpid", []))
            entries.append(e)
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


def _from_pagemaps(images: ImageDir, ident: int, size: int) -> bytes:
    """A segment's content as current CRIU writes it (in_pagemaps): pagemap-shmem-<segment id>.img with
    offsets in the segment, the bytes in its pages-<id>.img; holes are zeros."""
    path = images.path("pagemap-shmem", shmid=ident)
    head, *entries = images.read("pagemap-shmem", shmid=ident)
    out = bytearray(size)
    with open(images.path("pages", pages_id=head.pages_id), "rb") as f:
        for pe in entries:
            n = (pe.nr_pages if pe.HasField("nr_pages") else pe.compat_nr_pages) * PAGE_SIZE
            if pe.vaddr + n > (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE:
                raise ImageError(path, f"pages at {pe.vaddr:#x}+{n:#x} are beyond the segment's {size} bytes")
            data = f.read(n)
            if len(data) != n:
                raise ImageError(path, f"pages image {head.pages_id} ends before {n} bytes at {pe.vaddr:#x}")
            end = min(pe.vaddr + n, size)
            if end > pe.vaddr:
                out[pe.vaddr:end] = data[:end - pe.vaddr]
    return bytes(out)


def load_images(images: ImageDir, ns_id: int) -> dict[str, list[Any]]:
    """The objects of the images, in the form read_objects() gives (for make_objects())."""
    got: dict[str, list[Any]] = {"shm": [], "sem": [], "msg": []}

    def desc(d: ipc_pb2.ipc_desc_entry) -> dict[str, int]:
        return {"key": d.key, "uid": d.uid, "gid": d.gid, "mode": d.mode, "id": d.id}

    for e in images.read_entries("ipcns-shm", missing_ok=True, ns_id=ns_id):
        m = e.message
        if m.in_pagemaps:
            content = _from_pagemaps(images, m.desc.id, m.size)
        else:
            content = bytes(e.extra or b"")[:m.size]
        d = desc(m.desc)
        d["mode"] &= 0o777
        got["shm"].append({"desc": d, "size": m.size, "dest": bool(m.desc.mode & SHM_DEST),
                           "locked": bool(m.desc.mode & SHM_LOCKED),
                           "name_key": m.stasis.name_key if m.stasis.HasField("name_key") else m.desc.key,
                           "last": m.stasis.last_pid,
                           "data": base64.b64encode(content).decode()})
    for e in images.read_entries("ipcns-sem", missing_ok=True, ns_id=ns_id):
        m = e.message
        vals = struct.unpack_from(f"<{m.nsems}H", bytes(e.extra or b""))
        got["sem"].append({"desc": desc(m.desc), "values": list(vals), "last": list(m.stasis.last_pid)})
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
        # a segment marked for removal is made with the key its mappings are named by, removed once attached
        ident = _sys(SHMGET, s.get("name_key", d["key"]), s["size"], IPC_CREAT | IPC_EXCL | 0o600)
        if ident != d["id"]:
            raise RuntimeError(f"shm segment {d['id']} came back as {ident}")
        addr = _sys(SHMAT, ident, 0, 0)
        try:
            data = base64.b64decode(s["data"])
            ffi.memmove(ffi.cast("char *", addr), data, len(data))
        finally:
            _sys(SHMDT, addr)
        _set_owner(SHMCTL, ident, d)
        if s.get("locked"):
            _sys(SHMCTL, ident, SHM_LOCK, 0)
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


# -- the tree's attaches and semaphore undo lists (the KernelObject) ------------------------------------

VMA_NAME = "/SYSV"  # a segment's mapping: /SYSV<key as 8 hex digits> (deleted), inode = the segment's id


def is_sysv_vma(v: proc.Vma) -> bool:
    return v.path.startswith(VMA_NAME)


@record
class SysvDump:
    # segment id -> [(pid, start, end, key of its name, offset in the segment)] of every VMA of the tree
    vmas: dict[int, list[tuple[int, int, int, int, int]]] = field(default_factory=dict)


def check_vma(ctx: DumpContext, t: Task, v: proc.Vma) -> None:
    """A mapping of a SysV segment (mm.py's check): only with the tree's own IPC namespace."""
    from engine.objects import namespaces

    where = f"pid {t.pid}: SysV shared memory segment {v.inode} attached at {v.start:#x}-{v.end:#x}"
    if not v.shared:
        raise UnsupportedError(f"{where}: a private mapping of a segment (not supported)")
    if "ipc" not in namespaces.state(ctx).dumped:
        raise UnsupportedError(f"{where}: the tree is in the engine's IPC namespace, not one of its own: the "
                               "segment is not the tree's to dump (segments are dumped with the tree's own "
                               "IPC namespace)")
    try:
        key = int(v.path[len(VMA_NAME):].split()[0], 16)
    except ValueError as exc:
        raise UnsupportedError(f"{where}: cannot read its key from the name {v.path!r}") from exc
    ctx.files.state(SysvDump).vmas.setdefault(v.inode, []).append((t.pid, v.start, v.end, key, v.pgoff))


def _undo_lists(ctx: DumpContext) -> list[tuple[Task, int]]:
    """(process, thread) of the tree with a SysV semaphore undo list: kcmp(KCMP_SYSVSEM) against the engine,
    which has none. A list is made by the first semop() with SEM_UNDO, and also by clone(CLONE_SYSVSEM)
    (threads share it: every threaded process has one, maybe empty)."""
    me = os.getpid()
    out = []
    for t in ctx.tasks:
        if not t.alive:
            continue
        for th in t.threads:
            ret = int(lib.st_syscall(nr.kcmp, me, th.tid, KCMP_SYSVSEM, 0, 0, 0))
            if ret < 0:
                raise UnsupportedError(f"pid {t.pid}: cannot tell whether thread {th.tid} has SysV semaphore "
                                       f"undo adjustments: kcmp(KCMP_SYSVSEM): {os.strerror(-ret)}")
            if ret:
                out.append((t, th.tid))
                break
    return out


def check_undo(ctx: DumpContext, sets: list[int], where: str) -> None:
    """SEM_UNDO adjustments exist only for semaphore sets that exist (removing a set drops its adjustments
    from every list): with none in the tree's IPC namespace, undo lists hold nothing. Else a process with a
    list is refused: the kernel shows no list's adjustments, restore could not give them back, and the kill
    that ends a dump would apply them."""
    if not sets:
        return
    for t, tid in _undo_lists(ctx):
        who = f"pid {t.pid}" if tid == t.pid else f"pid {t.pid} (thread {tid})"
        threads = " (a threaded process: CLONE_SYSVSEM made one)" if len(t.threads) > 1 else ""
        shown = ", ".join(str(i) for i in sets[:8])
        raise UnsupportedError(f"{who} has a SysV semaphore undo list{threads} and {where} has semaphore "
                               f"sets ({shown}): the kernel does not show the list's SEM_UNDO adjustments, "
                               "so restore could not give them back, and the kill that ends a dump would "
                               "apply them (not supported)")


def last_pids(ctx: DumpContext, objs: dict[str, list[Any]]) -> None:
    """Who changed each semaphore and segment last, as the tree sees it, if it is one of the tree's."""
    inner = {t.pid: t.inner_pid for t in ctx.tasks if t.alive}
    for sem in objs.get("sem", []):
        sem["last_vpid"] = [inner.get(pid, 0) for pid in sem["last"]]
    for seg in objs.get("shm", []):
        seg["last_vpid"] = inner.get(seg["lpid"], 0)


def check_nested(ctx: DumpContext, objs: dict[str, list[Any]], where: str) -> None:
    """The objects of an IPC namespace of a process below the root (nestedns.py): undo lists as for the
    tree's own, and who changed them last."""
    check_undo(ctx, [sem["desc"]["id"] for sem in objs.get("sem", [])], where)
    last_pids(ctx, objs)


def _host_sem_sets() -> list[int]:
    try:
        with open("/proc/sysvipc/sem") as f:
            return [int(line.split()[1]) for line in list(f)[1:] if line.strip()]
    except FileNotFoundError:
        return []


def dump_tree(ctx: DumpContext) -> None:
    """Every attach of a segment must be one of the tree's VMAs; a removed segment keeps its name's key;
    then the content of the attached ones, read through the tree's attaches."""
    from engine.objects import namespaces

    s = namespaces.state(ctx)
    if "ipc" not in s.dumped:  # the engine's IPC namespace: its semaphore sets are the tree's to use
        check_undo(ctx, _host_sem_sets(), "the IPC namespace it shares with the engine")
        return
    check_undo(ctx, [sem["desc"]["id"] for sem in s.sysv.get("sem", [])], "its IPC namespace")
    where = f"pid {ctx.root.pid}: its IPC namespace"
    vmas = ctx.files.state(SysvDump).vmas
    segs = {seg["desc"]["id"]: seg for seg in s.sysv.get("shm", [])}
    for ident, maps in vmas.items():
        if ident not in segs:
            pid, start, end, _, _ = maps[0]
            raise UnsupportedError(f"pid {pid}: SysV shared memory segment {ident} attached at {start:#x}-"
                                   f"{end:#x} is not in the tree's IPC namespace (attached in another one)")
    forced = s.ipc is not None and s.ipc.shm_rmid_forced
    for seg in segs.values():
        if forced and not seg["nattch"]:
            raise UnsupportedError(f"{where}: SysV shared memory segment {seg['desc']['id']} is not attached "
                                   "and kernel.shm_rmid_forced is 1: it would go at restore (it lives on "
                                   "only while its creator does, and the creator cannot be given back)")
    last_pids(ctx, s.sysv)
    keys = {seg["desc"]["key"]: i for i, seg in segs.items() if seg["desc"]["key"]}
    for ident, seg in segs.items():
        maps = vmas.get(ident, [])
        if seg["nattch"] != len(maps):
            raise UnsupportedError(f"{where}: SysV shared memory segment {ident} is attached {seg['nattch']} "
                                   f"times, {len(maps)} of them by the tree: attaches outside the tree "
                                   "cannot be given back")
        if maps:
            names = {k for _, _, _, k, _ in maps}
            if len(names) != 1:
                raise UnsupportedError(f"{where}: SysV shared memory segment {ident} is mapped under several "
                                       f"names ({', '.join(f'{k:#x}' for k in sorted(names))})")
            seg["name_key"] = names.pop()
        dest = seg["desc"]["mode"] & SHM_DEST
        if dest and seg.get("name_key") and keys.get(seg["name_key"], ident) != ident:
            raise UnsupportedError(f"{where}: SysV shared memory segment {ident}, removed but still "
                                   f"attached, was made with key {seg['name_key']:#x}, which segment "
                                   f"{keys[seg['name_key']]} has now: restore could not make both (not "
                                   "supported)")
        if not dest and seg.get("name_key", seg["desc"]["key"]) != seg["desc"]["key"]:
            raise UnsupportedError(f"{where}: SysV shared memory segment {ident} has key "
                                   f"{seg['desc']['key']:#x} but its mappings are named {seg['name_key']:#x}")
    for seg in segs.values():  # every check passed: the attached segments' content
        if seg["nattch"] and not seg["data"]:
            _read_attached(s, seg, vmas[seg["desc"]["id"]])


def _read_attached(s: Any, seg: dict[str, Any], maps: list[tuple[int, int, int, int, int]]) -> None:
    """An attached segment's content, through an attach of the tree's that maps all of it (/proc/PID/mem:
    the segment's attach count, times and last pid stay as they are), else through an attach of a worker's
    in the namespace (whose shm_lpid `dump` gives back)."""
    from engine.compel.memory import TaskMemory
    from engine.objects import nsworker

    size = seg["size"]
    whole = (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE
    attaches: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for pid, start, end, _, off in maps:
        attaches.setdefault((pid, start - off), []).append((start, end))
    for (pid, base), parts in attaches.items():
        parts.sort()
        if parts[0][0] == base and parts[-1][1] >= base + whole and all(
                a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False)):
            mem = TaskMemory(pid)
            try:
                seg["data"] = base64.b64encode(mem.read(base, size)).decode()
            finally:
                mem.close()
            return
    ident = seg["desc"]["id"]

    def read() -> str:
        addr = _sys(SHMAT, ident, 0, SHM_RDONLY)
        try:
            return base64.b64encode(ffi.buffer(ffi.cast("char *", addr), size)[:]).decode()
        finally:
            _sys(SHMDT, addr)

    nsfd = s.fds[("ipc", s.root["ipc"])]
    seg["data"] = nsworker.run([(nsfd, CLONE_NEWIPC)], read, f"SysV shared memory segment {ident}")
    seg["via_attach"] = True


def dump(ctx: DumpContext, t: Task) -> None:
    """A worker's read attach made itself the segment's last attacher (shm_lpid): the process that was
    attaches and detaches once more, in its injection session, so the tree finds shm_lpid as it was. The
    segments are those of t's own IPC namespace: the tree's, or one nested below it."""
    from engine.objects import namespaces, nestedns

    s = namespaces.state(ctx)
    mine = s.of.get(t.pid, {}).get("ipc")
    if mine is not None and mine in nestedns.state(ctx).ipc:
        segs = nestedns.state(ctx).ipc[mine][1].get("shm", [])
    elif "ipc" in s.dumped and mine in (None, s.root.get("ipc")):
        segs = s.sysv.get("shm", [])
    else:
        return
    inj = t.injector
    for seg in segs:
        if seg["lpid"] == t.pid and seg.get("via_attach"):
            ident = seg["desc"]["id"]
            addr = inj.call(SHMAT, ident, 0, SHM_RDONLY, what=f"shmat({ident}) for its shm_lpid")
            inj.call(SHMDT, addr, what=f"shmdt({ident})")


# -- restore ---------------------------------------------------------------------------------------

def _segments(ctx: RestoreContext) -> dict[int, dict[str, Any]]:
    from engine.objects import namespaces

    return {seg["desc"]["id"]: seg for seg in namespaces.rstate(ctx).sysv.get("shm", [])}


def attach_vmas(ctx: RestoreContext, t: Task, vmas: list[mm_pb2.vma_entry]) -> None:
    """In the task (mm.py's restore_vmas): shmat() each attach of a segment at its address, then its VMAs'
    protections and holes. VMAs of one attach are those of one segment at one base (start - pgoff)."""
    from engine.abi.consts import O_RDWR, PROT_READ, PROT_WRITE

    inj = t.injector
    segs = _segments(ctx)
    groups: dict[tuple[int, int], list[mm_pb2.vma_entry]] = {}
    for v in vmas:
        groups.setdefault((v.shmid, v.start - v.pgoff), []).append(v)
    for (ident, base), parts in groups.items():
        seg = segs.get(ident)
        where = f"pid {t.pid}: SysV shared memory segment {ident} at {base:#x}"
        if seg is None:
            raise RestoreError(f"{where}: the segment is not in the images of the tree's IPC namespace")
        parts.sort(key=lambda v: v.start)
        size = (seg["size"] + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE
        # writable attach: map_files said so (Stasis's fdflags), else the protection (CRIU's images)
        rw = any((v.fdflags & 3) == O_RDWR if v.HasField("fdflags") else v.prot & PROT_WRITE for v in parts)
        flags = 0 if rw else SHM_RDONLY
        whole = parts[0].start == base and parts[-1].end == base + size and all(
            a.end == b.start for a, b in zip(parts, parts[1:], strict=False))
        if whole:
            ret = inj.raw(SHMAT, ident, base, flags)
            if ret != base:
                raise RestoreError(f"{where}: shmat: {os.strerror(-ret) if ret < 0 else hex(ret)}")
        else:  # a part of the attach was unmapped: attach anywhere, move each part to its place
            tmp = inj.call(SHMAT, ident, 0, flags, what=f"shmat({ident})")
            for v in parts:
                n = v.end - v.start
                ret = inj.raw(nr.mremap, tmp + v.pgoff, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, v.start)
                if ret != v.start:
                    raise RestoreError(f"{where}: mremap of {v.start:#x}-{v.end:#x}: "
                                       f"{os.strerror(-ret) if ret < 0 else hex(ret)}")
            pos = 0
            for off, n in sorted((v.pgoff, v.end - v.start) for v in parts):  # what is left of it
                if off > pos:
                    inj.call(nr.munmap, tmp + pos, off - pos, what="munmap(rest of a SysV attach)")
                pos = max(pos, off + n)
            if size > pos:
                inj.call(nr.munmap, tmp + pos, size - pos, what="munmap(rest of a SysV attach)")
        attach_prot = PROT_READ | (PROT_WRITE if rw else 0)
        for v in parts:
            if v.prot != attach_prot:
                inj.call(nr.mprotect, v.start, v.end - v.start, v.prot, what=f"mprotect {v.start:#x}")
        log.debug("pid %d: SysV segment %d attached at %#x (%s, %d VMAs)", t.pid, ident, base,
                  "rw" if rw else "ro", len(parts))


SEMBUF = struct.Struct("<Hhh")  # struct sembuf


def restore_last_pids(ctx: RestoreContext, t: Task) -> None:
    """Once every process has its attaches, before the credentials (as root): shm_lpid, by an attach and
    detach of the process that attached or detached last; sempid, by a semop() of the process that changed
    the semaphore last that changes nothing (wait-for-zero on 0, else -1 and +1 at once). The segment's
    attach and detach times and the set's sem_otime become now."""
    from engine.objects import namespaces, nestedns

    inj = t.injector
    objs = nestedns.sysv_of(ctx, t) or namespaces.rstate(ctx).sysv  # its IPC namespace's objects
    for seg in objs.get("shm", []):
        if seg.get("last") and seg["last"] == t.inner_pid:
            ident = seg["desc"]["id"]
            addr = inj.call(SHMAT, ident, 0, SHM_RDONLY, what=f"shmat({ident}) for its shm_lpid")
            inj.call(SHMDT, addr, what=f"shmdt({ident})")
    for sem in objs.get("sem", []):
        ident = sem["desc"]["id"]
        for n, (pid, value) in enumerate(zip(sem.get("last", []), sem["values"], strict=False)):
            if pid != t.inner_pid or not pid:
                continue
            ops = [(n, 0, IPC_NOWAIT)] if value == 0 else [(n, -1, IPC_NOWAIT), (n, 1, IPC_NOWAIT)]
            inj.put(b"".join(SEMBUF.pack(*op) for op in ops))
            inj.call(nr.semop, ident, inj.scratch, len(ops), what=f"semop({ident}/{n}) for its sempid")


def restore_done(ctx: RestoreContext) -> None:
    """Now that every process has its attaches: kernel.shm_rmid_forced, and IPC_RMID of the segments that
    were marked for removal."""
    from engine.objects import namespaces, nsworker

    s = namespaces.rstate(ctx)
    dest = [ident for ident, seg in _segments(ctx).items() if seg.get("dest")]
    forced = s.ipc is not None and s.ipc.shm_rmid_forced
    if not (dest or forced) or "ipc" not in s.new:
        return

    def rmid() -> None:
        if forced:  # from now on a segment goes with its last detach (namespaces.py left it for here)
            nsworker.write_text("/proc/sys/kernel/shm_rmid_forced", "1")
        for ident in dest:
            _sys(SHMCTL, ident, IPC_RMID, 0)

    # with a user namespace of the tree's own, as its root (the IPC sysctls there are its root's to write)
    userns = s.userns is not None
    try:
        nsworker.run_in(ctx.root.pid, ["user", "ipc"] if userns else ["ipc"], rmid,
                        f"pid {ctx.root.pid}: IPC_RMID of SysV segments {dest}", as_root=userns)
    except (OSError, RuntimeError) as exc:
        raise RestoreError(str(exc)) from exc


OBJECT = KernelObject("sysvipc", dump_tree=dump_tree, dump=dump, restore_done=restore_done,
                      stages=(Stage("sysv-pids", Phase.PROCESS, restore_last_pids,
                                    doc="once the tree exists, before the credentials"),))
