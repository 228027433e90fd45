"""Unix sockets (AF_UNIX): stream, datagram and seqpacket, in CRIU's unix_sk_entry and sk-queues.img.

Dump (from outside: every fact comes from the engine's copy of the socket, the same socket): sock_diag in
the socket's network namespace gives its type, state, name, bound inode, peer, pending connections and
shutdown bits; the bound file (SIOCUNIXFILE) gives its mode, owner, the directory of a relative name and
whether it was unlinked; the options come from sockets.dump_opts; the receive queue is read with
MSG_PEEK from offset 0 (SO_PEEK_OFF, put back after), so a -R dump leaves every byte in place. Datagram
and seqpacket queues are read one message per peek, so their boundaries are exact; a datagram's sender
name and the SCM_CREDENTIALS a receiver with SO_PASSCRED sees are kept in the packet's Stasis extension.

Restore (unix_restore.py): the engine makes every socket. Pairs that are each other's peer come from
socketpair(); a connection with a name (accepted from a listener) is made again through the restored
listener, so both ends keep their names; datagram senders connect to their receivers; queues are
written by each socket's peer (or a sender with the original name) once every socket exists, then the
options, then the shutdown bits (a shut-down sender could not refill a queue).

Refused at dump, with the tree untouched: states other than LISTEN/ESTABLISHED/CLOSE, connections not
yet accepted, peers outside the tree (datagram peers with a name are reconnected with --ext-unix-sk, as
criu does; stream peers never), file descriptors in flight of kinds the engine cannot hold.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import SIOCUNIXFILE
from engine.errors import DumpError, UnsupportedError
from engine.images import digest
from engine.images.pb import fdinfo_pb2, sk_opts_pb2, sk_unix_pb2
from engine.native import lib
from engine.objects.base import KernelObject
from engine.objects.files import sockets, unix_diag, unix_queue, unix_view
from engine.objects.files import unix_restore as restore
from engine.objects.files.kind import Fd, FdKind
from engine.objects.files.unix_diag import TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN, UnixDiag, show
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext
    from engine.task import Task

USK_EXTERN = 1
TYPES: dict[int, str] = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "datagram",
                         socket.SOCK_SEQPACKET: "seqpacket"}


@record
class UnixDump:
    diag: sockets.DiagCache = field(default_factory=sockets.DiagCache)
    seen: dict[int, tuple[UnixDiag, str]] = field(default_factory=dict)  # ino -> (diag, where) of the tree
    fids: dict[int, int] = field(default_factory=dict)  # ino -> file id of every dumped unix socket
    entries: dict[int, fdinfo_pb2.file_entry] = field(default_factory=dict)  # ino -> its entry
    parsed: dict[int, dict[int, UnixDiag]] = field(default_factory=dict)  # id of a DiagCache table -> parsed
    # listeners with connections not yet accepted: (entry, the engine's copy, client inodes, where)
    pending: list[tuple[fdinfo_pb2.file_entry, socket.socket, list[int], str]] = field(default_factory=list)
    resolved: bool = False
    views: dict[int, unix_view.View] = field(default_factory=dict)  # pid -> its view of path names


def state(ctx: DumpContext) -> UnixDump:
    return ctx.files.state(UnixDump)


def matches(fd: Fd) -> bool:
    return fd.sock is not None and fd.sock.family == socket.AF_UNIX


def lookup(ctx: DumpContext, sk: socket.socket, where: str) -> tuple[UnixDiag, dict[int, UnixDiag]]:
    """This socket as sock_diag shows it, and every unix socket of its namespace."""
    try:
        table = state(ctx).diag.lookup(sk, unix_diag.request(), unix_diag.DIAG_MSG.size, unix_diag.ino_of)
    except OSError as exc:
        raise UnsupportedError(f"{where}: sock_diag of unix sockets: {exc.strerror or exc}") from exc
    ino = os.fstat(sk.fileno()).st_ino
    parsed = state(ctx).parsed.get(id(table))
    if parsed is None or len(parsed) != len(table):
        parsed = state(ctx).parsed[id(table)] = {i: unix_diag.parse(m) for i, m in table.items()}
    if ino not in parsed:
        raise UnsupportedError(f"{where}: unix socket {ino} is not listed by sock_diag of its namespace")
    return parsed[ino], parsed



def is_unix(fd: int) -> bool:
    """Is the engine's fd a unix socket (SO_DOMAIN)?"""
    try:
        sk = socket.socket(fileno=os.dup(fd))
    except OSError:
        return False
    try:
        return sk.family == socket.AF_UNIX
    finally:
        sk.close()


def pending_in(d: UnixDiag, table: dict[int, UnixDiag]) -> UnixDiag | None:
    """The listener (of the namespace) whose queue holds this client's connection, if any."""
    if d.type == socket.SOCK_DGRAM or not d.ino:
        return None
    return next((x for x in table.values() if x.state == TCP_LISTEN and d.ino in x.icons), None)


def check_sock(d: UnixDiag, table: dict[int, UnixDiag], where: str, leave_running: bool) -> None:
    """What a unix socket alone says we cannot restore."""
    if d.type not in TYPES:
        raise UnsupportedError(f"{where}: unix socket of type {d.type} (not supported)")
    if d.state not in (TCP_ESTABLISHED, TCP_CLOSE, TCP_LISTEN):
        name = unix_diag.STATE_NAMES.get(d.state, str(d.state))
        raise UnsupportedError(f"{where}: unix {TYPES[d.type]} socket in state {name} (not supported)")
    if d.state == TCP_LISTEN and d.icons and leave_running:
        raise UnsupportedError(f"{where}: unix listener {show(d.name) or '(unnamed)'} with {len(d.icons)} "
                               "connection(s) not yet accepted: they can be read only by accepting them, "
                               "which a dump that leaves the tree running (-R) must not do")
    if d.type != socket.SOCK_DGRAM and d.state == TCP_ESTABLISHED and d.has_peer and not d.peer:
        lst = pending_in(d, table)
        if lst is not None and leave_running:
            raise UnsupportedError(f"{where}: unix {TYPES[d.type]} socket whose connection to "
                                   f"{show(lst.name) or 'a listener'} is not yet accepted (with -R: not "
                                   "supported)")
        if lst is None and d.shutdown != 3:
            raise UnsupportedError(f"{where}: unix {TYPES[d.type]} socket connected to a peer that is gone "
                                   f"but not shut down (shutdown {d.shutdown}; not supported)")
    if d.type != socket.SOCK_DGRAM and d.state == TCP_ESTABLISHED and not d.has_peer:
        raise UnsupportedError(f"{where}: unix {TYPES[d.type]} socket connected without a peer "
                               "(not supported)")


def view(ctx: DumpContext, pid: int, where: str) -> unix_view.View:
    """pid's view of path names (unix_view.py), opened once per process for the whole dump."""
    st = state(ctx)
    if pid not in st.views:
        got = unix_view.open_view(pid)
        if isinstance(got, str):
            raise UnsupportedError(f"{where}: unix socket with a path name in a process with {got} "
                                   "(not supported)")
        st.views[pid] = got
    return st.views[pid]


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    with sockets.dup(fd) as sk:
        d, table = lookup(ctx, sk, fd.where)
        try:
            peer_name = sk.getpeername()
        except OSError:
            peer_name = ""
    check_sock(d, table, fd.where, ctx.opts.leave_running)
    peer_path = isinstance(peer_name, str) and peer_name and not peer_name.startswith("\0")
    if unix_diag.is_path(d.name) or peer_path:
        view(ctx, t.pid, fd.where)  # names read (and bound again, connected to) in the process's view
    state(ctx).seen[d.ino] = (d, fd.where)


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    with sockets.dup(fd) as sk:
        dump_sock(ctx, sk, fd.where, e, t.pid)


def dump_sock(ctx: DumpContext, sk: socket.socket, where: str, e: fdinfo_pb2.file_entry, pid: int) -> None:
    """Fill e.usk from the engine's copy of a socket (also for sockets only in flight)."""
    st = state(ctx)
    d, table = lookup(ctx, sk, where)
    check_sock(d, table, where, ctx.opts.leave_running)
    u = e.usk
    u.ino, u.type, u.state, u.uflags, u.peer = d.ino, d.type, d.state, 0, d.peer
    u.backlog = d.wqueue if d.state == TCP_LISTEN else 0
    u.name = d.name
    if d.shutdown:
        u.shutdown = d.shutdown  # type: ignore[assignment]
    if unix_diag.is_path(d.name):
        _dump_file(sk, d, u, where, pid, view(ctx, pid, where))
    sockets.dump_opts(sk, u.opts)
    if d.type != socket.SOCK_DGRAM and d.state == TCP_ESTABLISHED and d.has_peer and not d.peer:
        lst = pending_in(d, table)
        if lst is not None:
            u.peer = lst.ino  # a connection not yet accepted: its listener (as criu writes it)
        else:
            u.stasis.peer_closed = True
    if d.type == socket.SOCK_DGRAM and d.has_peer and not d.peer:
        # connected to a receiver that was closed since: the next send says ECONNREFUSED
        u.stasis.peer_closed = True
        u.stasis.peer_name = unix_diag.sockaddr_name(sk.getpeername())
    if d.state == TCP_ESTABLISHED:
        pid, _, _ = struct.unpack("<iII", sk.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        if pid > 0:
            u.stasis.peercred_pid = pid
    if d.state == TCP_LISTEN and d.icons:
        st.pending.append((e, socket.socket(fileno=os.dup(sk.fileno())), list(d.icons), where))
    st.fids[d.ino] = e.id
    st.entries[d.ino] = e
    if d.state != TCP_LISTEN:
        unix_queue.dump_queue(ctx, sk, d, e, where)


def _dump_file(sk: socket.socket, d: UnixDiag, usk: sk_unix_pb2.unix_sk_entry, where: str, pid: int,
               v: unix_view.View) -> None:
    """The bound file: mode and owner, the directory of a relative name, unlinked or not (its path and
    what the name leads to now are read in the process's view)."""
    fd = lib.st_syscall(nr.ioctl, sk.fileno(), SIOCUNIXFILE, 0, 0, 0, 0)
    if fd < 0:
        raise UnsupportedError(f"{where}: the file of unix socket {show(d.name)}: SIOCUNIXFILE: "
                               f"{os.strerror(-fd)}")
    fds = os.open("/proc/self/fd", os.O_PATH | os.O_CLOEXEC)  # /proc/self means nothing in a worker
    try:
        fst = os.fstat(fd)
        name = os.fsdecode(unix_diag.path_of(d.name))
        cwd = os.readlink(f"/proc/{pid}/cwd")

        def look() -> list[object]:
            link = os.readlink(str(fd), dir_fd=fds)

            def names_it(p: str) -> bool:  # through symlinks too (/var/run -> /run)
                try:
                    now = os.stat(p)
                except OSError:
                    return False
                return (now.st_ino, now.st_dev) == (fst.st_ino, fst.st_dev)

            return [link, names_it(name), not name.startswith("/") and names_it(os.path.join(cwd, name))]

        link, at_name, at_cwd = unix_view.run(v, look, f"{where}: the file of unix socket {show(d.name)}",
                                              UnsupportedError)
    finally:
        os.close(fds)
        os.close(fd)
    deleted = link.endswith(" (deleted)")
    path = link[:-len(" (deleted)")] if deleted else link
    if name.startswith("/"):
        if not deleted and not at_name:
            raise UnsupportedError(f"{where}: unix socket bound to {name}, its file is now {path} "
                                   "(moved: not supported)")
    else:
        ndir = unix_diag.name_dir(d.name, path)
        if ndir is None and not deleted and at_cwd:
            ndir = cwd  # a symlink in the name: bound in the process's cwd
        if ndir is None:
            raise UnsupportedError(f"{where}: unix socket bound to the relative name {name}, its file is "
                                   f"{path} (moved: not supported)")
        usk.name_dir = ndir
    if deleted:
        usk.deleted = True
    perms = usk.file_perms
    perms.mode, perms.uid, perms.gid = fst.st_mode, fst.st_uid, fst.st_gid
    usk.stasis.vfs_ino, usk.stasis.vfs_dev = fst.st_ino, fst.st_dev


def _resolve_peers(ctx: DumpContext) -> None:
    """Once every socket of the tree (and in flight) is dumped: each peer is dumped too, or is outside
    the tree — a refusal, or with --ext-unix-sk an EXTERN entry for a datagram peer with a name."""
    st = state(ctx)
    if st.resolved:
        return
    st.resolved = True
    for ino, e in list(st.entries.items()):
        u = e.usk
        if not u.peer or u.peer in st.fids:
            continue
        where = st.seen[ino][1] if ino in st.seen else f"unix socket {ino} (in flight)"
        peer_d = None
        for table in st.diag.by_key.values():
            m = table.get(u.peer)
            if m is not None:
                peer_d = unix_diag.parse(m)
        pname = show(peer_d.name) if peer_d and peer_d.name else "an unnamed socket"
        if u.type != socket.SOCK_DGRAM:
            raise UnsupportedError(f"{where}: unix {TYPES[u.type]} socket connected to {pname} outside the "
                                   "dumped tree (external stream peers are not supported)")
        if not ctx.opts.ext_unix_sk:
            raise UnsupportedError(f"{where}: unix datagram socket connected to {pname} outside the dumped "
                                   "tree (use --ext-unix-sk to reconnect it by name at restore)")
        if peer_d is None or not peer_d.name:
            raise UnsupportedError(f"{where}: unix datagram socket connected to an unnamed socket outside "
                                   "the dumped tree (cannot be reconnected)")
        x = ctx.files.new(fdinfo_pb2.UNIXSK)
        xu = x.usk
        xu.id, xu.ino, xu.type, xu.state, xu.flags = x.id, peer_d.ino, peer_d.type, peer_d.state, 0
        xu.uflags, xu.backlog, xu.peer, xu.name = USK_EXTERN, 0, 0, peer_d.name
        xu.fown.uid = xu.fown.euid = xu.fown.signum = xu.fown.pid_type = xu.fown.pid = 0
        _empty_opts(xu.opts)
        if unix_diag.is_path(peer_d.name) and not unix_diag.path_of(peer_d.name).startswith(b"/"):
            raise UnsupportedError(f"{where}: unix datagram socket connected to {pname} (a relative name) "
                                   "outside the dumped tree (not supported)")
        st.fids[peer_d.ino] = x.id
        st.entries[peer_d.ino] = x


def _empty_opts(o: sk_opts_pb2.sk_opts_entry) -> None:
    o.so_sndbuf = o.so_rcvbuf = 0
    o.so_snd_tmo_sec = o.so_snd_tmo_usec = o.so_rcv_tmo_sec = o.so_rcv_tmo_usec = 0


def dump_data(ctx: DumpContext, t: Task) -> None:
    _resolve_peers(ctx)


def dump_done(ctx: DumpContext, kill: bool) -> None:
    """Connections not yet accepted: their data is only in the embryo sockets, which the engine reaches
    only by accepting them (taking them from the program). So it is done here, when the images are
    complete and the tree is about to be killed (never for a tree that runs on), and files.img is
    written again with what the embryos held. A failure now fails the dump (the tree is gone)."""
    st = state(ctx)
    for v in st.views.values():
        unix_view.close(v)
    st.views.clear()
    pending, st.pending = st.pending, []
    try:
        if kill and pending:
            for e, lsk, icons, where in pending:
                _take_pending(e, lsk, icons, where)
            ctx.images.write("files", ctx.files.entries)
            digest.refresh(ctx.images.root, ctx.opts.sign_key)  # files.img changed after the inventory
    finally:
        for _, lsk, _, _ in pending:
            lsk.close()


def _take_pending(e: fdinfo_pb2.file_entry, lsk: socket.socket, icons: list[int], where: str) -> None:
    lsk.setblocking(False)
    for ino in icons:  # the listener's queue order, which is accept()'s
        try:
            conn, _ = lsk.accept()
        except BlockingIOError as exc:
            raise DumpError(f"{where}: a connection not yet accepted is gone") from exc
        with conn:
            icon = e.usk.stasis.icons.add(client_ino=ino)
            if not ino:
                icon.client_closed = True
            conn.setblocking(False)
            data = bytearray()
            while True:
                try:
                    chunk, anc, flags, _ = conn.recvmsg(1 << 20, 4096)
                except BlockingIOError:
                    break
                if anc and any(t == socket.SCM_RIGHTS for _, t, _ in anc):
                    raise DumpError(f"{where}: a connection not yet accepted holds file descriptors in "
                                    "flight (not supported; the dump fails)")
                if not chunk:
                    break
                if e.usk.type == socket.SOCK_SEQPACKET:
                    icon.packets.append(chunk)
                else:
                    data += chunk
            if data:
                icon.data = bytes(data)




KIND = FdKind("unix socket", fdinfo_pb2.UNIXSK, "usk", matches, dump, restore.open_, check=check,
              load_images=restore.load_images)
OBJECT = KernelObject("unix-sockets", dump_data=dump_data, dump_done=dump_done,
                      restore_done=restore.restore_done, restore_abort=restore.restore_abort)
