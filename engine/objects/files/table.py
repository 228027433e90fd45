"""The fd table: one file_entry per open file description, fds pointing at them, and the fd broker.

Fds that share a description (dup, fork) share an id, so offset and flags stay shared after restore.
On restore the engine opens each description once itself (its kind knows how) and every task takes
its fds from the engine with pidfd_getfd(), so sharing between processes comes for free. The owner
and signal of a description (F_SETOWN, F_SETSIG) and O_ASYNC are set again by the task itself, where
the kernel records them.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import stat as st
import struct
from typing import TYPE_CHECKING, TypeVar

from engine import proc, unpriv
from engine.abi import nr
from engine.abi.consts import (
    F_DUPFD_CLOEXEC,
    F_GETOWN_EX,
    F_GETSIG,
    F_OWNER_PGRP,
    F_OWNER_PID,
    F_OWNER_TID,
    F_SETFD,
    F_SETFL,
    F_SETOWN_EX,
    F_SETSIG,
    FD_CLOEXEC,
    KCMP_FILE,
    O_ASYNC,
    O_CLOEXEC,
    O_PATH,
)
from engine.compel import pidfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, fown_pb2
from engine.native import lib
from engine.objects import namespaces
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files import sockets
from engine.objects.files.kind import Fd, FdKind
from engine.objects.files.kinds import KINDS, kind_of, opener_of
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

T = TypeVar("T")
ShareKey = tuple[int, int, str, str]  # see share_key
OWNER_EX = struct.Struct("<ii")  # struct f_owner_ex { int type; pid_t pid; }
PID_LIMIT = 1 << 22  # the kernel's PID_MAX_LIMIT on 64-bit: no pid is above it


@record
class FileTable:
    """files.img: every file description and path-opened file the images refer to."""

    entries: list[fdinfo_pb2.file_entry] = field(default_factory=list)
    _by_path: dict[tuple[str, int], int] = field(default_factory=dict)
    _descs: dict[ShareKey, list[tuple[int, int, int]]] = field(default_factory=dict)  # key: (pid, fd, id)
    _kind_states: dict[type, object] = field(default_factory=dict)
    held: list[int] = field(default_factory=list)  # dump: engine fds of descriptions in flight (dump_held)

    def state(self, cls: type[T]) -> T:
        """A kind's own tree-wide state (one instance per class)."""
        if cls not in self._kind_states:
            self._kind_states[cls] = cls()
        return self._kind_states[cls]  # type: ignore[return-value]

    def states(self) -> list[object]:
        return list(self._kind_states.values())

    def new(self, fd_type: fdinfo_pb2.fd_types) -> fdinfo_pb2.file_entry:
        e = fdinfo_pb2.file_entry(type=fd_type, id=len(self.entries) + 1)
        self.entries.append(e)
        return e

    def by_path(self, name: str, flags: int) -> int:
        """A path-opened file (exe, mapping, cwd): one entry per (path, open mode)."""
        key = (name, flags)
        if key not in self._by_path:
            e = self.new(fdinfo_pb2.REG)
            e.reg.id, e.reg.flags, e.reg.pos, e.reg.name = e.id, flags, 0, name
            _no_owner(e.reg.fown)
            try:
                e.reg.mode = os.stat(name).st_mode
            except OSError:
                pass
            self._by_path[key] = e.id
        return self._by_path[key]

    def shared_with(self, pid: int, fd: int, key: ShareKey) -> int:
        """The id of a description already seen (in any process) that (pid, fd) also holds, or 0: kcmp
        against the descriptions seen with the same key only."""
        for p, f, fid in self._descs.get(key, ()):
            if lib.st_syscall(nr.kcmp, pid, p, KCMP_FILE, fd, f, 0) == 0:
                return fid
        return 0

    def remember(self, pid: int, fd: int, key: ShareKey, fid: int) -> None:
        self._descs.setdefault(key, []).append((pid, fd, fid))

    def get(self, fid: int) -> fdinfo_pb2.file_entry:
        e = self.entries[fid - 1] if 0 < fid <= len(self.entries) else None
        if e is None or e.id != fid:
            e = next((x for x in self.entries if x.id == fid), None)
        if e is None:
            raise RestoreError(f"files.img has no file with id {fid}")
        return e

    def path_of(self, fid: int) -> str:
        return self.get(fid).reg.name


def _no_owner(fown: fown_pb2.fown_entry) -> None:
    fown.uid = fown.euid = fown.signum = fown.pid_type = fown.pid = 0


@record
class TaskFiles:
    """One process's fd table (shared with others under CLONE_FILES: then only its first owner has it)."""

    fds: list[tuple[Fd, FdKind]] = field(default_factory=list)  # dump: every fd with its kind
    fdinfo: list[fdinfo_pb2.fdinfo_entry] = field(default_factory=list)
    owns_table: bool = True  # the first process of the tree with this table: it dumps/restores it
    engine_pidfd: int = -1  # restore: its handle on the engine


def state(t: Task) -> TaskFiles:
    if t.files is None:
        t.files = TaskFiles()
    return t.files


def _fstypes(pid: int) -> dict[int, str]:
    return {m.mnt_id: m.fstype for m in proc.mounts(pid)}


def unsupported_kind(fd: Fd) -> str:
    target = fd.target
    if target.startswith("anon_inode:"):
        name = target.removeprefix("anon_inode:").strip("[]")
    elif ":" in target and not target.startswith("/"):
        name = target.split(":", 1)[0]
    elif st.S_ISFIFO(fd.stat.st_mode):
        name = "FIFO"
    elif fd.sock is not None:
        import socket

        try:
            fam = socket.AddressFamily(fd.sock.family).name
        except ValueError:
            fam = f"family {fd.sock.family}"
        name = f"{fam} socket (type {fd.sock.type}, protocol {fd.sock.proto})"
        return f"{fd.where}: {name} fds are not supported"
    elif st.S_ISSOCK(fd.stat.st_mode):
        name = "socket"
    else:
        name = "this kind of"
    return f"{fd.where}: {name} fds are not supported yet"


# -- dump ------------------------------------------------------------------------------------------

def check(ctx: DumpContext, t: Task) -> None:
    """Every fd must be of a kind we can restore: refused before anything touches the task."""
    if not t.alive:
        return
    tf = state(t)
    if any(o.files is not None and o.files.owns_table and o.ids.files_id == t.ids.files_id
           for o in ctx.tasks if o is not t and o.alive):
        tf.owns_table = False  # an fd table shared (CLONE_FILES) with a process seen already
        return
    fstypes = _fstypes(t.pid) if t.facts.fds else {}
    for info in t.facts.fds:
        try:
            s = os.stat(f"/proc/{t.pid}/fd/{info.fd}")
        except OSError as exc:
            raise UnsupportedError(f"pid {t.pid} fd {info.fd} ({info.target}): cannot stat it: "
                                   f"{exc.strerror}") from exc
        sock = None
        if st.S_ISSOCK(s.st_mode):
            try:
                sock = sockets.ident(t.pid, info.fd, s.st_ino)
            except OSError as exc:
                raise UnsupportedError(f"pid {t.pid} fd {info.fd} ({info.target}): cannot read the socket: "
                                       f"{exc.strerror}") from exc
        fd = Fd(t.pid, info, s, fstypes.get(info.mnt_id, ""), sock)
        kind = kind_of(fd)
        if kind is None:
            raise UnsupportedError(unsupported_kind(fd))
        if kind.check:
            kind.check(ctx, t, fd)
        tf.fds.append((fd, kind))


def share_key(fd: Fd) -> ShareKey:
    """What every fd of one open file description has in common, so that shared_with compares (by kcmp)
    a new fd only with the few seen fds that may be the same description: the file's device and inode
    (a pipe's, a memfd's, a regular file's own); for an anon inode, which the kernel shares among every
    eventfd, timerfd, signalfd, epoll, inotify..., also its kind (the link's name) and the object's own
    number where fdinfo shows one (eventfd-id, not on every kernel: then the kind alone)."""
    if not fd.target.startswith("anon_inode:"):
        return (fd.stat.st_dev, fd.stat.st_ino, "", "")
    return (fd.stat.st_dev, fd.stat.st_ino, fd.target, fd.info.extra.get("eventfd-id", ""))


def dump(ctx: DumpContext, t: Task) -> None:
    tf = state(t)
    if not tf.owns_table:
        return
    files = ctx.files
    for fd, kind in tf.fds:
        key = share_key(fd)
        fid = files.shared_with(t.pid, fd.num, key)
        if not fid:
            e = files.new(kind.fd_type)
            sub = getattr(e, kind.sub)
            sub.id = e.id
            flags = fd.info.flags & ~O_CLOEXEC
            sub.flags = flags
            _dump_owner(ctx, t, fd, sub.fown)
            kind.dump(ctx, t, fd, e)
            fid = e.id
            files.remember(t.pid, fd.num, key, fid)
        tf.fdinfo.append(fdinfo_pb2.fdinfo_entry(id=fid, flags=FD_CLOEXEC if fd.info.flags & O_CLOEXEC else 0,
                                                 type=kind.fd_type, fd=fd.num))


def _dump_owner(ctx: DumpContext, t: Task, fd: Fd, fown: fown_pb2.fown_entry) -> None:
    """F_GETOWN_EX and F_GETSIG (the kernel shows them nowhere else). The owner's uids are the task's as
    it sees them (as criu keeps them: restore sets them in the task)."""
    _no_owner(fown)
    if fd.info.flags & O_PATH:
        return  # an O_PATH fd has no owner (fcntl says EBADF)
    got = _owner_here(ctx, t, fd)
    if got is None:  # asked in the task: two injected syscalls
        inj = t.injector
        inj.call(nr.fcntl, fd.num, F_GETOWN_EX, inj.scratch, what=f"fcntl({fd.num}, F_GETOWN_EX)")
        typ, pid = OWNER_EX.unpack(inj.get(0, OWNER_EX.size))
        sig = inj.call(nr.fcntl, fd.num, F_GETSIG, what=f"fcntl({fd.num}, F_GETSIG)")
    else:
        typ, pid, sig = got
    if pid or sig:
        uids = [int(x) for x in t.leader.facts.status["Uid"].split()[:2]]
        inside = namespaces.id_translator(ctx, t)
        fown.uid, fown.euid = (inside("uid", u) for u in uids) if inside else uids
        fown.pid_type, fown.pid, fown.signum = typ, pid, sig


@record
class _Owners:
    """The tree's tids, pids and group ids as the engine sees them -> as the tree sees them."""

    ids: dict[int, dict[int, int]] = field(default_factory=dict)  # F_OWNER_* -> engine's id -> tree's


def _owner_here(ctx: DumpContext, t: Task, fd: Fd) -> tuple[int, int, int] | None:
    """The owner asked of the engine's own copy of the description (the owner lives there: the same
    answer for every fd of it), without injecting anything; the pid is the engine's view, given in the
    tree's. None where the task must be asked: a task in a pid namespace below the tree's (its view is
    its own), an owner the tree does not know by its id, a character device or a FUSE file (whose
    driver sees every close: the copy's would reach it)."""
    if t.leader.deeper or st.S_ISCHR(fd.stat.st_mode) or fd.fstype.startswith("fuse"):
        return None
    try:
        mine = pidfd.getfd(t.pid, fd.num)
    except OSError:
        return None
    try:
        typ, pid = struct.unpack("<ii", fcntl.fcntl(mine, F_GETOWN_EX, bytes(OWNER_EX.size)))
        sig = fcntl.fcntl(mine, F_GETSIG)
    except OSError:
        return None
    finally:
        os.close(mine)
    if not pid or not t.vpid:
        return typ, pid, sig  # no owner, or a tree in the engine's pid namespace: the same ids
    owners = ctx.files.state(_Owners)
    if not owners.ids:
        live = [x for x in ctx.tasks if x.alive]
        owners.ids = {F_OWNER_TID: {th.tid: th.inner_tid for x in live for th in x.threads},
                      F_OWNER_PID: {x.pid: x.inner_pid for x in live},
                      F_OWNER_PGRP: {x.pgid: x.vpgid for x in live if x.vpgid}}
    inner = owners.ids.get(typ, {}).get(pid)
    return (typ, inner, sig) if inner else None


# kinds whose dump needs no task (no injection, no fd of a task): what an fd in flight may be
HELD_KINDS = ("file", "pipe", "unix socket")


def dump_held(ctx: DumpContext, fd: int, where: str) -> int:
    """The file id of a description the engine itself holds (an fd in flight in a socket's queue, which
    a peek installed in the engine): the id the tree's fds of the same description have (kcmp, in either
    order: the engine keeps the fd until the dump ends), or a new entry dumped by its kind. Only kinds
    that need no task (HELD_KINDS): others are refused with what they are."""
    pid = os.getpid()
    try:
        s = os.fstat(fd)
        target = os.readlink(f"/proc/self/fd/{fd}")
        with open(f"/proc/self/fdinfo/{fd}") as f:
            raw = dict(line.rstrip("\n").split(":", 1) for line in f if ":" in line)
    except OSError as exc:
        raise UnsupportedError(f"{where}: a file in flight: {exc.strerror}") from exc
    info_d = {k.strip(): v.strip() for k, v in raw.items()}
    info = proc.FdInfo(fd, target, int(info_d.get("pos", "0")), int(info_d.get("flags", "0"), 8),
                       int(info_d.get("mnt_id", "-1")), int(info_d.get("ino", "0")), info_d)
    sock = sockets.ident(pid, fd, s.st_ino) if st.S_ISSOCK(s.st_mode) else None
    fstypes = _fstypes(pid) if target.startswith("/") else {}
    held = Fd(pid, info, s, fstypes.get(info.mnt_id, ""), sock)
    what = f"{where}: a file in flight ({target})"
    kind = kind_of(held)
    if kind is None:
        raise UnsupportedError(f"{where}: in flight: {unsupported_kind(held)}")
    key = share_key(held)
    files = ctx.files
    fid = files.shared_with(pid, fd, key)
    if fid:
        return fid
    if kind.name not in HELD_KINDS:
        raise UnsupportedError(f"{what}: {kind.name} fds in flight (SCM_RIGHTS) are not supported")
    if target.endswith(" (deleted)"):
        raise UnsupportedError(f"{what}: an unlinked file in flight (SCM_RIGHTS) is not supported")
    if kind.check:
        kind.check(ctx, ctx.root, held)  # paths resolve in the root task's root (the engine's own fd)
    own = struct.unpack("<ii", fcntl.fcntl(fd, F_GETOWN_EX, bytes(OWNER_EX.size)))
    if own[1] or fcntl.fcntl(fd, F_GETSIG):
        raise UnsupportedError(f"{what}: a file with an owner (F_SETOWN) in flight is not supported")
    e = files.new(kind.fd_type)
    sub = getattr(e, kind.sub)
    sub.id = e.id
    sub.flags = info.flags & ~O_CLOEXEC
    _no_owner(sub.fown)
    kind.dump(ctx, ctx.root, held, e)
    files.held.append(fd)
    files.remember(pid, fd, key, e.id)
    return e.id


def dump_done(ctx: DumpContext, kill: bool) -> None:
    for fd in ctx.files.held:
        os.close(fd)
    ctx.files.held.clear()


def write_images(ctx: DumpContext) -> None:
    for t in ctx.tasks:
        if t.alive and state(t).owns_table:
            ctx.images.write("fdinfo", state(t).fdinfo, files_id=t.ids.files_id)
    ctx.images.write("files", ctx.files.entries)
    for kind in KINDS:
        if kind.write_images:
            kind.write_images(ctx)


# -- restore ---------------------------------------------------------------------------------------

def load_images(ctx: RestoreContext) -> None:
    ctx.files.entries.extend(ctx.images.read("files", missing_ok=True))
    seen: set[int] = set()
    for t in ctx.tasks:
        if not t.alive:
            continue
        tf = state(t)
        tf.engine_pidfd = ctx.engine_pidfd
        tf.owns_table = t.ids.files_id not in seen
        if tf.owns_table:
            seen.add(t.ids.files_id)
            tf.fdinfo = list(ctx.images.read("fdinfo", missing_ok=True, files_id=t.ids.files_id))
    for kind in KINDS:
        if kind.load_images:
            kind.load_images(ctx)


MSGHDR = struct.Struct("<QI4xQQQQi4x")  # struct msghdr
CMSG_ONE_FD = 24  # CMSG_SPACE(sizeof(int))
MSG_CMSG_CLOEXEC = 0x40000000


@record
class Broker:
    """The engine's own copies of every file description to restore, handed out to the tasks.

    A task takes one with pidfd_getfd() on the engine (the fd every helper inherits, `engine_pidfd`). A
    task in a user namespace of its own may not (it has no ptrace right on the engine): the inherited fd
    is then one end of a socketpair instead, and the engine sends each fd over it (SCM_RIGHTS), which the
    task receives with an injected recvmsg(); both place it at the lowest free number, close-on-exec."""

    ctx: RestoreContext
    fds: dict[int, int] = field(default_factory=dict)  # file id -> engine fd
    task: Task | None = None  # whose fds are being placed (kinds that must open a file in the task)
    used_inherited: set[int] = field(default_factory=set)  # --inherit-fd fds that stood for a file
    sock: socket.socket | None = None  # the engine's end, when fds go over SCM_RIGHTS
    peer: socket.socket | None = None  # the tasks' end (the engine's copy: a failed receive is drained)

    def passing_socket(self) -> int:
        """Switch to SCM_RIGHTS; the fd the helpers inherit instead of the engine's pidfd."""
        self.sock, self.peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        os.set_inheritable(self.peer.fileno(), True)
        return self.peer.fileno()

    def hand_out(self, t: Task, src: int) -> int:
        """The engine's fd `src` copied into task t: its number there, or -errno."""
        assert t.files is not None
        inj = t.injector
        if self.sock is None:
            return inj.raw(nr.pidfd_getfd, t.files.engine_pidfd, src, 0)
        self.sock.sendmsg([b"f"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", src))])
        base = inj.scratch  # msghdr at 0, its iovec at 64, the byte at 80, the control buffer at 88
        inj.put(MSGHDR.pack(0, 0, base + 64, 1, base + 88, CMSG_ONE_FD, 0) + b"\0" * 8
                + struct.pack("<QQ", base + 80, 1) + b"\0" * (8 + CMSG_ONE_FD), 0)
        ret = inj.raw(nr.recvmsg, t.files.engine_pidfd, base, MSG_CMSG_CLOEXEC)
        if ret != 1:
            self._drain()
            return ret if ret < 0 else -errno.EIO
        length, level, type_, fd = struct.unpack("<QiiI", inj.get(88, 20))
        if (length, level, type_) != (20, socket.SOL_SOCKET, socket.SCM_RIGHTS):
            return -errno.EIO
        return fd

    def _drain(self) -> None:
        assert self.peer is not None
        while True:
            try:
                _, anc, _, _ = self.peer.recvmsg(1, socket.CMSG_SPACE(4), socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            for _, _, data in anc:
                os.close(struct.unpack("i", data[:4])[0])

    def fd_for(self, fid: int) -> int:
        if fid not in self.fds:
            e = self.ctx.files.get(fid)
            kind = opener_of(e)
            if kind is None:
                raise RestoreError(f"files.img: file id {fid} has type {e.type}, which this engine "
                                   "cannot open")
            inherited = self._inherited(kind, e)
            self.fds[fid] = inherited if inherited >= 0 else kind.open(self.ctx, e)
        return self.fds[fid]

    def _inherited(self, kind: FdKind, e: fdinfo_pb2.file_entry) -> int:
        """--inherit-fd fd[N]:RESOURCE: the caller's fd N stands for the file the images name so (a pipe or
        terminal of the caller's that the tree used): a copy of it instead of a new file, -1 if none."""
        if not self.ctx.opts.inherit_fds or kind.ext_id is None:
            return -1
        name = kind.ext_id(e)
        for num, res in self.ctx.opts.inherit_fds:
            by_path = not res.startswith(("pipe:", "socket:"))
            if res == name or (by_path and res.lstrip("/") == name.lstrip("/")):
                self.used_inherited.add(num)
                return fcntl.fcntl(num, fcntl.F_DUPFD_CLOEXEC, 0)
        return -1

    def close(self) -> None:
        """Every engine fd of the restore: the descriptions handed out and what kinds keep besides."""
        fds = set(self.fds.values())
        for st_ in self.ctx.files.states():
            owned = getattr(st_, "owned_fds", None)
            if owned:
                fds.update(owned())
        for fd in fds:
            os.close(fd)
        self.fds.clear()
        for sk in (self.sock, self.peer):
            if sk is not None:
                sk.close()
        self.sock = self.peer = None


def restore(ctx: RestoreContext, t: Task) -> None:
    """Take every fd from the engine, placing them in ascending order.

    In ascending order the lowest free fd that pidfd_getfd() returns is never a target fd still
    to be placed, so nothing placed gets clobbered.
    """
    tf = state(t)
    if not tf.owns_table:
        return  # the fd table is shared with a process restored before (CLONE_FILES)
    inj = t.injector
    entries = sorted(tf.fdinfo, key=lambda e: e.fd)
    pidfd = tf.engine_pidfd
    if any(e.fd == pidfd for e in entries):
        top = max(e.fd for e in entries) + 1
        newfd = inj.call(nr.fcntl, pidfd, F_DUPFD_CLOEXEC, top, what="fcntl(F_DUPFD_CLOEXEC)")
        inj.call(nr.close, pidfd, what="close")
        pidfd = tf.engine_pidfd = newfd
    owned: set[int] = set()
    ctx.fd_broker.task = t
    for fdi in entries:
        src = ctx.fd_broker.fd_for(fdi.id)
        fd = ctx.fd_broker.hand_out(t, src)
        if fd < 0:
            raise RestoreError(f"pid {t.pid}: cannot take fd {fdi.fd} from the engine: {os.strerror(-fd)}")
        if fd != fdi.fd:
            inj.call(nr.dup3, fd, fdi.fd, O_CLOEXEC if fdi.flags & FD_CLOEXEC else 0,
                     what=f"dup3 to fd {fdi.fd}")
            inj.call(nr.close, fd, what="close")
        else:
            inj.call(nr.fcntl, fd, F_SETFD, fdi.flags & FD_CLOEXEC, what="fcntl(F_SETFD)")
        if fdi.id not in owned:  # once per description
            owned.add(fdi.id)
            _restore_owner(ctx, t, fdi.fd, ctx.files.get(fdi.id))


@record
class _LateOwners:
    """Owners that did not exist yet when their fd came back (a thread, made later): set at the end."""

    todo: list[tuple[Task, int, fown_pb2.fown_entry]] = field(default_factory=list)


def _restore_owner(ctx: RestoreContext, t: Task, fd: int, e: fdinfo_pb2.file_entry) -> None:
    kind = opener_of(e)
    assert kind is not None
    sub = getattr(e, kind.sub)
    inj = t.injector
    own = sub.fown
    if own.pid_type not in (F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP) or not 0 <= own.pid < PID_LIMIT or \
            not 0 <= own.signum <= 64:
        raise RestoreError(f"files.img: entry {e.id}: owner type {own.pid_type} pid {own.pid} signal "
                           f"{own.signum} cannot be an fd's owner")
    if sub.fown.pid:
        # the kernel records who set the owner, and signals the owner only if those uids match its own
        # (or were root's): set it as the uids it was set with, from the helper's root
        back = unpriv.helper_ids()[0]
        own = (sub.fown.uid, sub.fown.euid) != (back, back)
        if own:
            inj.call(nr.setresuid, sub.fown.uid, sub.fown.euid, -1, what="setresuid(the owner's uids)")
        inj.put(OWNER_EX.pack(sub.fown.pid_type, sub.fown.pid))
        try:
            ret = inj.raw(nr.fcntl, fd, F_SETOWN_EX, inj.scratch)
        finally:
            if own:
                inj.call(nr.setresuid, back, back, -1, what=f"setresuid({back}, {back})")
        if ret == -errno.ESRCH:  # a thread (or a process's) not made yet
            ctx.files.state(_LateOwners).todo.append((t, fd, sub.fown))
        elif ret < 0:
            raise RestoreError(f"pid {t.pid}: fcntl({fd}, F_SETOWN_EX): {os.strerror(-ret)}")
    if sub.fown.signum:
        inj.call(nr.fcntl, fd, F_SETSIG, sub.fown.signum, what=f"fcntl({fd}, F_SETSIG)")
    if sub.flags & O_ASYNC:  # in the task: the kernel records the fd number it signals
        inj.call(nr.fcntl, fd, F_SETFL, sub.flags, what=f"fcntl({fd}, F_SETFL, O_ASYNC)")


def close_engine_fd(ctx: RestoreContext, t: Task) -> None:
    """Each fd table drops its handle on the engine once its fds are in place."""
    tf = state(t)
    if tf.owns_table:
        t.injector.call(nr.close, tf.engine_pidfd, what="close(engine pidfd)")


def engine_pidfd(t: Task) -> int:
    return state(t).engine_pidfd


def restore_done(ctx: RestoreContext) -> None:
    """The owners that were not there yet: every thread of the tree exists now. Each task has its own
    credentials back, which are the uids its owners were dumped with (the task's own): set as they are."""
    for t, fd, fown in ctx.files.state(_LateOwners).todo:
        creds = t.leader.core.thread_core.creds  # as the task has them now, in its own view
        mine = [creds.uid, creds.euid]
        if mine != [fown.uid, fown.euid]:
            raise RestoreError(f"pid {t.pid}: fd {fd}'s owner {fown.pid} is set only now (it was made after "
                               f"the fd) and the task's uids {mine} are not those it was set with "
                               f"({fown.uid}, {fown.euid})")
        inj = t.injector
        inj.put(OWNER_EX.pack(fown.pid_type, fown.pid))
        ret = inj.raw(nr.fcntl, fd, F_SETOWN_EX, inj.scratch)
        if ret < 0:
            raise RestoreError(f"pid {t.pid}: fd {fd}'s owner {fown.pid} (F_SETOWN_EX type "
                               f"{fown.pid_type}) is not in the restored tree: {os.strerror(-ret)}")


OBJECT = KernelObject(
    "files",
    check=check,
    dump=dump,
    write_images=write_images,
    dump_done=dump_done,
    load_images=load_images,
    restore_done=restore_done,
    stages=(
        Stage("files", Phase.PROCESS, restore),
        Stage("engine-fd", Phase.LATE, close_engine_fd),
    ),
)
