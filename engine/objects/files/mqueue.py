"""POSIX message queues of the tree's own IPC namespace, and mq fds (CRIU has neither; Stasis's images).

Queues: a worker that joined the IPC namespace mounts its mqueue file system detached (fsopen/fsmount: no
mount point, no mount namespace changes), lists the queues, and for each reads its mode, owner, attributes
(mq_maxmsg, mq_msgsize) and whether a notification is registered (the queue file's NOTIFY_PID); a queue with
a registration is refused (the sigevent's value is not shown anywhere). POSIX queues have no peek: the
messages are taken with mq_timedreceive() (a timeout in the past: never blocks) and sent again at once, in
the order they came, with their priorities, so the queue ends with the same messages in the same order
(receive order is priority, then arrival; sending in that order rebuilds it). The tree is frozen meanwhile
and no process outside the tree shares the namespace (namespaces.py refuses that), so nobody is woken or
races with it; what changes is the queue file's times (mq_receive and mq_send set them). The worker sends
every message back even when a later one fails, and a dump that fails afterwards has nothing to undo.
A queue unlinked but still open (its fds' path ends with " (deleted)") is read the same way through a new
description the engine opens from the process's fd (/proc/PID/fd/N).

Images: the queues in the Stasis extension of ipcns-var-<id>.img (stasis_ipc_var_entry, mqueue.proto), an mq
fd as a file_entry of type EXT with a stasis_mqueue_file_entry at field 1001 (its open flags and the queue
by inode number). `crit show` decodes both and leaves the extensions out.

Restore: a stage of the root, once its IPC namespace and fs.mqueue limits are set up, runs a worker there
that makes each queue with mq_open(O_CREAT | O_EXCL) with its attributes, sends its messages in order, sets
owner and mode (fchown/fchmod), and opens each description of it (mq_open with its flags: oflag is what
fdinfo shows); unlinked queues first, under the names they had, unlinked again once their descriptions are
open (a queue made later may have the name now). The fds come to the engine over SCM_RIGHTS and the broker
hands them out. Not restored: the queue files' times; the per-user RLIMIT_MSGQUEUE charge goes to the
engine's user (the queues are made by it).
In a tree without an IPC namespace of its own (flavor h) the queues are the host's: mq fds are refused.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from typing import TYPE_CHECKING, Any

from engine.abi import nr
from engine.abi.consts import (
    FSCONFIG_CMD_CREATE,
    FSMOUNT_CLOEXEC,
    FSOPEN_CLOEXEC,
    MQUEUE_MAGIC,
    O_ACCMODE,
    O_CLOEXEC,
    O_CREAT,
    O_EXCL,
    O_NONBLOCK,
    O_RDWR,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, ipc_var_pb2, mqueue_pb2
from engine.log import log
from engine.native import ffi, lib
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files.kind import Fd, FdKind
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

MQ_ATTR = struct.Struct("<qqqq32x")  # struct mq_attr: flags, maxmsg, msgsize, curmsgs, reserved
ETIMEDOUT, EAGAIN = 110, 11
DELETED = " (deleted)"
UNLINKED_NAME = ".stasis-unlinked-{ino}"  # the name an unlinked queue has while its fds are opened


def _sys(call: int, *args: Any) -> int:
    a = [int(ffi.cast("uintptr_t", x)) if isinstance(x, ffi.CData) else x for x in args]
    ret = int(lib.st_syscall(call, *(a + [0] * (6 - len(a)))))
    if ret < 0:
        raise OSError(-ret, os.strerror(-ret))
    return ret


def _statfs_type(path: str) -> int:
    buf = ffi.new("long[16]")  # struct statfs starts with f_type
    if lib.st_syscall(nr.statfs, int(ffi.cast("uintptr_t", ffi.new("char[]", path.encode()))),
                      int(ffi.cast("uintptr_t", buf)), 0, 0, 0, 0) < 0:
        return -1
    return int(buf[0])


def _attr(fd: int) -> tuple[int, int, int, int]:
    """(mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs) by mq_getsetattr()."""
    out = ffi.new("char[64]")
    _sys(nr.mq_getsetattr, fd, 0, out)
    flags, maxmsg, msgsize, cur = MQ_ATTR.unpack_from(ffi.buffer(out))
    return flags, maxmsg, msgsize, cur


def _notify_pid(fd: int) -> int:
    """The queue file reads "QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:..."."""
    text = os.pread(fd, 256, 0).decode(errors="replace")
    fields = dict(part.split(":", 1) for part in text.split() if ":" in part)
    return int(fields.get("NOTIFY_PID", "0") or 0)


def _take_and_give_back(fd: int, msgsize: int, expected: int, what: str) -> list[tuple[int, bytes]]:
    """Every message of the queue, which ends as it was: received in order, sent back in that order."""
    buf = ffi.new(f"char[{max(msgsize, 1)}]")
    prio = ffi.new("unsigned int *")
    past = ffi.new("long[2]", [0, 0])  # an absolute timeout in the past: never blocks
    msgs: list[tuple[int, bytes]] = []
    try:
        while len(msgs) <= expected:
            n = int(lib.st_syscall(nr.mq_timedreceive, fd, int(ffi.cast("uintptr_t", buf)), msgsize,
                                   int(ffi.cast("uintptr_t", prio)), int(ffi.cast("uintptr_t", past)), 0))
            if n in (-ETIMEDOUT, -EAGAIN):
                break
            if n < 0:
                raise OSError(-n, f"{what}: mq_timedreceive: {os.strerror(-n)}")
            msgs.append((int(prio[0]), ffi.buffer(buf, n)[:]))
    finally:
        lost = []
        for p, data in msgs:
            ret = lib.st_syscall(nr.mq_timedsend, fd, int(ffi.cast("uintptr_t", ffi.from_buffer(data))),
                                 len(data), p, int(ffi.cast("uintptr_t", past)), 0)
            if ret < 0:
                lost.append(f"priority {p}, {len(data)} bytes: {os.strerror(-ret)}")
        if lost:
            raise RuntimeError(f"{what}: messages could not be put back: {'; '.join(lost)}")
    if len(msgs) != expected:
        raise OSError(0, f"{what}: {len(msgs)} messages read, mq_curmsgs said {expected}")
    return msgs


def _queue(fd: int, ino: int, name: str | None, mode: int, uid: int, gid: int, what: str) -> dict[str, Any]:
    notify = _notify_pid(fd)
    _, maxmsg, msgsize, cur = _attr(fd)
    q: dict[str, Any] = {"ino": ino, "name": name, "mode": mode & 0o7777, "uid": uid, "gid": gid,
                         "maxmsg": maxmsg, "msgsize": msgsize, "notify": notify, "msgs": []}
    if not notify:  # refused by the engine: its messages are not touched
        q["msgs"] = [[p, data.hex()] for p, data in _take_and_give_back(fd, msgsize, cur, what)]
    return q


def read_queues() -> dict[str, Any]:
    """In a worker that joined the IPC namespace: its mqueue file system's device and every queue."""
    fs = _sys(nr.fsopen, ffi.new("char[]", b"mqueue"), FSOPEN_CLOEXEC)
    try:
        _sys(nr.fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0)
        mnt = _sys(nr.fsmount, fs, FSMOUNT_CLOEXEC, 0)
    finally:
        os.close(fs)
    try:
        out: dict[str, Any] = {"dev": os.fstat(mnt).st_dev, "queues": []}
        root = os.open(".", os.O_RDONLY | os.O_DIRECTORY | O_CLOEXEC, dir_fd=mnt)  # fsmount()'s fd is O_PATH
        try:
            names = sorted(os.listdir(root))
        finally:
            os.close(root)
        for name in names:
            s = os.stat(name, dir_fd=mnt, follow_symlinks=False)
            fd = os.open(name, O_RDWR | O_CLOEXEC | O_NONBLOCK, dir_fd=mnt)
            try:
                out["queues"].append(_queue(fd, s.st_ino, name, s.st_mode, s.st_uid, s.st_gid,
                                            f"POSIX message queue /{name}"))
            finally:
                os.close(fd)
        return out
    finally:
        os.close(mnt)


def _refuse_notify(q: dict[str, Any], where: str) -> None:
    if q["notify"]:
        name = f"/{q['name']}" + (" (unlinked)" if q.get("unlinked") else "")
        raise UnsupportedError(f"{where}: POSIX message queue {name} has a notification registered by pid "
                               f"{q['notify']} (mq_notify): not supported (the kernel does not show its "
                               "sigevent value)")


def _entry(q: dict[str, Any]) -> mqueue_pb2.stasis_mqueue:
    e = mqueue_pb2.stasis_mqueue(ino=q["ino"], mode=q["mode"], uid=q["uid"], gid=q["gid"], maxmsg=q["maxmsg"],
                                 msgsize=q["msgsize"])
    e.name = q["name"]
    if q.get("unlinked"):
        e.unlinked = True
    for p, data in q["msgs"]:
        e.msgs.add(prio=p, data=bytes.fromhex(data))
    return e


def to_entry(e: ipc_var_pb2.ipc_var_entry, got: dict[str, Any], where: str) -> None:
    """namespaces.py: the queues read_queues() found, into the namespace's ipc_var_entry."""
    e.stasis.mq_dev = got["dev"]
    for q in got["queues"]:
        _refuse_notify(q, where)
        e.stasis.mqueues.append(_entry(q))


# -- mq fds ----------------------------------------------------------------------------------------

FD_TYPE = fdinfo_pb2.EXT  # with its stasis_mqueue_file_entry (file_entry field 1001)


def matches(fd: Fd) -> bool:
    if not fd.target.startswith("/") or (fd.stat.st_mode & 0o170000) != 0o100000:
        return False
    if fd.fstype:  # a mount the task sees (/dev/mqueue): its type; mq_open()'s internal mount is in none
        return fd.fstype == "mqueue"
    return _statfs_type(f"/proc/{fd.pid}/fd/{fd.num}") == MQUEUE_MAGIC


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    from engine.objects import namespaces

    if "ipc" not in namespaces.state(ctx).dumped:
        raise UnsupportedError(f"{fd.where}: a POSIX message queue of the engine's IPC namespace (the tree "
                               "has none of its own): the queue is not the tree's to dump (queues are dumped "
                               "with the tree's own IPC namespace)")


@record
class MqDump:
    unlinked: set[int] = field(default_factory=set)  # inodes of unlinked queues read through an fd


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    from engine.objects import namespaces

    ipc = namespaces.state(ctx).ipc
    if ipc is None or not ipc.HasField("stasis"):
        raise UnsupportedError(f"{fd.where}: the tree's POSIX message queues were not read")
    if fd.stat.st_dev != ipc.stasis.mq_dev:
        raise UnsupportedError(f"{fd.where}: a POSIX message queue of another IPC namespace than the tree's "
                               "(not supported)")
    ino = fd.stat.st_ino
    known = {q.ino for q in ipc.stasis.mqueues}
    if ino not in known:
        if not fd.target.endswith(DELETED):
            raise UnsupportedError(f"{fd.where}: the POSIX message queue is not among the namespace's queues "
                                   "(it was made while they were read)")
        mine = os.open(f"/proc/{fd.pid}/fd/{fd.num}", O_RDWR | O_CLOEXEC | O_NONBLOCK)
        try:
            s = os.fstat(mine)
            name = fd.target.removesuffix(DELETED).lstrip("/")
            from engine.objects import namespaces

            inside = namespaces.id_translator(ctx)  # the named ones were read inside: their ids are its
            uid, gid = (inside("uid", s.st_uid), inside("gid", s.st_gid)) if inside else (s.st_uid, s.st_gid)
            q = _queue(mine, ino, name, s.st_mode, uid, gid, f"{fd.where}: the unlinked queue")
            q["unlinked"] = True
        finally:
            os.close(mine)
        _refuse_notify(q, fd.where)
        ipc.stasis.mqueues.append(_entry(q))
        ctx.files.state(MqDump).unlinked.add(ino)
    e.mq.queue = ino


@record
class MqRestore:
    queues: list[mqueue_pb2.stasis_mqueue] = field(default_factory=list)
    descs: list[tuple[int, int, int]] = field(default_factory=list)  # (file id, queue ino, open flags)
    held: dict[int, int] = field(default_factory=dict)  # file id -> engine fd of the description

    def owned_fds(self) -> list[int]:  # closed with the broker's
        return list(self.held.values())


def load_images(ctx: RestoreContext) -> None:
    from engine.objects import namespaces

    st = ctx.files.state(MqRestore)
    ipc = namespaces.rstate(ctx).ipc
    if ipc is not None and ipc.HasField("stasis"):
        st.queues = list(ipc.stasis.mqueues)
    known = {q.ino for q in st.queues}
    for e in ctx.files.entries:
        if e.type == FD_TYPE and e.HasField("mq"):
            if e.mq.queue not in known:
                raise RestoreError(f"mq fd (file {e.id}): its queue (inode {e.mq.queue}) is not in "
                                   "ipcns-var's queues")
            st.descs.append((e.id, e.mq.queue, e.mq.flags & (O_ACCMODE | O_NONBLOCK)))


def _make(queues: list[mqueue_pb2.stasis_mqueue], descs: list[tuple[int, int, int]],
          sk: socket.socket) -> None:
    """In a worker in the new IPC namespace: unlinked queues first, under the names they had, each
    description of theirs opened before the name goes again (a queue made later may have it); then the
    named queues and their descriptions. The fds go to the engine with their file ids, in batches."""
    past = ffi.new("long[2]", [0, 0])
    out: list[tuple[int, int]] = []
    os.umask(0)
    for q in sorted(queues, key=lambda q: not q.unlinked):
        name = ffi.new("char[]", q.name.encode())
        attr = ffi.new("char[64]")
        MQ_ATTR.pack_into(ffi.buffer(attr), 0, 0, q.maxmsg, q.msgsize, 0)
        try:
            fd = _sys(nr.mq_open, name, O_CREAT | O_EXCL | O_RDWR, 0o600, attr)
        except OSError as exc:
            raise OSError(exc.errno, f"mq_open(/{q.name}, maxmsg {q.maxmsg}, msgsize {q.msgsize}): "
                          f"{exc.strerror}") from exc
        try:
            for m in q.msgs:
                _sys(nr.mq_timedsend, fd, ffi.from_buffer(m.data), len(m.data), m.prio, past)
            os.fchown(fd, q.uid, q.gid)
            os.fchmod(fd, q.mode)
        finally:
            os.close(fd)
        for fid, ino, flags in descs:  # no O_CLOEXEC: mq_open() keeps oflag in f_flags (fdinfo shows it)
            if ino == q.ino:
                out.append((fid, _sys(nr.mq_open, name, flags, 0, 0)))
        if q.unlinked:
            _sys(nr.mq_unlink, name)
    for i in range(0, len(out), 200):  # SCM_MAX_FD is 253
        batch = out[i:i + 200]
        socket.send_fds(sk, [json.dumps([fid for fid, _ in batch]).encode()], [fd for _, fd in batch])
    sk.send(b"done")


def restore_queues(ctx: RestoreContext, t: Task) -> None:
    """The root, right after its namespaces are set up (its MEMORY phase): every queue and description."""
    st = ctx.files.state(MqRestore)
    if t is not ctx.root or not st.queues:
        return
    from engine.objects import namespaces, nsworker

    # in a user namespace of the tree's own, as its root: the queues' files belong to it (the engine's root
    # is not mapped there), and their owners are that namespace's ids
    userns = namespaces.in_userns(ctx)
    nsfds = nsworker.open_ns(t.pid, ["user", "ipc"] if userns else ["ipc"])
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            mine.close()
            nsworker.enter(nsfds, as_root=userns)
            _make(st.queues, st.descs, theirs)
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the engine
            try:
                theirs.send(f"error: {type(exc).__name__}: {exc}".encode())
            except OSError:
                pass
        finally:
            os._exit(0)
    nsworker.close_ns(nsfds)
    theirs.close()
    msg = b""
    try:
        while True:
            msg, fds, _, _ = socket.recv_fds(mine, 1 << 16, 253, socket.MSG_CMSG_CLOEXEC)
            if not fds:
                break
            for fid, fd in zip(json.loads(msg), fds, strict=True):
                st.held[fid] = fd
    finally:
        mine.close()
        os.waitpid(pid, 0)
    if msg != b"done":
        why = msg.decode(errors="replace") or "the worker died"
        raise RestoreError(f"pid {t.pid}: POSIX message queues: {why}")
    log.debug("pid %d: %d POSIX message queues, %d descriptions", t.pid, len(st.queues), len(st.held))


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    fd = ctx.files.state(MqRestore).held.pop(e.id, None)
    if fd is None:
        raise RestoreError(f"mq fd (file {e.id}): its queue was not made (inode {e.mq.queue})")
    return fd


def owns(e: fdinfo_pb2.file_entry) -> bool:
    return e.HasField("mq")


KIND = FdKind("POSIX message queue", FD_TYPE, "mq", matches, dump, open_, check=check, owns=owns,
              load_images=load_images)

OBJECT = KernelObject("mqueue", stages=(
    Stage("mqueues", Phase.MEMORY, restore_queues,
          doc="in the root, once its IPC namespace and limits are set up and before any fd is opened"),))
