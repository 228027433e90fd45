"""Restore of unix sockets (see unix.py for the whole story).

Path names are bound in the tree's view (unix_view.py: by the engine itself when it shares the tree's
mount namespace and root, else by a worker that joined the tree's mount namespace), with the cwd moved to
the name's directory for a relative name: bind() records the name exactly as given, so binding through
/proc/self/fd/<dir> or /proc/PID/root would change what getsockname() returns. Connects to a path go
through the restored socket's own file (SIOCUNIXFILE, /proc/self/fd/N): the name the peer sees is the
listener's or receiver's own, so this is exact and also reaches an unlinked ("deleted") one.
"""

from __future__ import annotations

import array
import errno
import fcntl
import os
import socket
import stat
import struct
import tempfile
from typing import TYPE_CHECKING

from engine import unpriv
from engine.abi import nr
from engine.abi.consts import F_SETFL, O_NONBLOCK, SIOCUNIXFILE, SO_SNDBUFFORCE
from engine.compel.pidfd import getfd
from engine.errors import RestoreError
from engine.images.pb import fdinfo_pb2, sk_packet_pb2, sk_unix_pb2
from engine.log import log
from engine.native import lib
from engine.objects import userns
from engine.objects.files import skqueue, sockets, unix_diag, unix_view
from engine.objects.files.unix_diag import TCP_LISTEN, show
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import RestoreContext

USK_EXTERN = 1
SEND_BOOST = 1 << 24  # SO_SNDBUFFORCE while a queue is written (the option is set back after)


@record
class UnixRestore:
    by_ino: dict[int, fdinfo_pb2.file_entry] = field(default_factory=dict)
    socks: dict[int, socket.socket] = field(default_factory=dict)  # ino -> the engine's socket
    partner: dict[int, socket.socket] = field(default_factory=dict)  # ino -> the other end of its pair,
    # kept only to write its queue (its original peer is gone): closed once the queue is written
    temp: list[socket.socket] = field(default_factory=list)  # throw-away senders
    temp_named: dict[bytes, socket.socket] = field(default_factory=dict)
    files: dict[int, int] = field(default_factory=dict)  # ino -> O_PATH fd of its socket file
    created: list[tuple[str, str, int]] = field(default_factory=list)  # (dir, path, ino) bound here
    # connections not yet accepted: the client (a socket of the tree, or a stand-in for a closed one),
    # what it had written into the embryo, and whether to close it after
    icons: list[tuple[socket.socket, sk_unix_pb2.unix_sk_entry, sk_unix_pb2.stasis_unix_icon, bool]] = \
        field(default_factory=list)
    done: bool = False
    root_pid: int = 0  # the tree's root: path names are bound in its view
    view: unix_view.View | None = None  # its view, once a path name is bound (the fd held till the end)

    def owned_fds(self) -> list[int]:
        fds = [s.detach() for s in self.socks.values() if s.fileno() >= 0]
        fds += [s.detach() for s in (*self.partner.values(), *self.temp, *self.temp_named.values())
                if s.fileno() >= 0]
        fds += list(self.files.values())
        if self.view is not None and self.view.mntfd != unix_view.HERE:
            fds.append(self.view.mntfd)
            self.view.mntfd = unix_view.HERE
        self.view = None
        self.socks.clear()
        self.partner.clear()
        self.temp.clear()
        self.temp_named.clear()
        self.files.clear()
        return fds


def rstate(ctx: RestoreContext) -> UnixRestore:
    return ctx.files.state(UnixRestore)


def load_images(ctx: RestoreContext) -> None:
    st = rstate(ctx)
    for e in ctx.files.entries:
        if e.type == fdinfo_pb2.UNIXSK:
            st.by_ino[e.usk.ino] = e
    skqueue.load_images(ctx)


def _where(u: sk_unix_pb2.unix_sk_entry) -> str:
    return f"unix socket {u.id} ({show(u.name) or 'unnamed'})"


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    st = rstate(ctx)
    st.root_pid = ctx.root.pid
    sk = _make(ctx, st, e.usk)
    return sk.fileno()


def _new(u: sk_unix_pb2.unix_sk_entry) -> socket.socket:
    return sockets.new_socket(socket.AF_UNIX, u.type, 0, _where(u))


def _set_flags(sk: socket.socket, u: sk_unix_pb2.unix_sk_entry) -> None:
    fcntl.fcntl(sk.fileno(), F_SETFL, u.flags & O_NONBLOCK)


def _finish(st: UnixRestore, u: sk_unix_pb2.unix_sk_entry, sk: socket.socket) -> None:
    st.socks[u.ino] = sk
    _set_flags(sk, u)
    try:
        sockets.restore_bufs(sk, u.opts)
    except RestoreError as exc:
        raise RestoreError(f"{_where(u)}: {exc}") from exc


def _make(ctx: RestoreContext, st: UnixRestore, u: sk_unix_pb2.unix_sk_entry) -> socket.socket:
    if u.ino in st.socks:
        return st.socks[u.ino]
    if u.uflags & USK_EXTERN:
        raise RestoreError(f"{_where(u)}: an external socket is not opened")
    pe = st.by_ino.get(u.peer) if u.peer else None
    p = pe.usk if pe is not None else None
    try:
        if u.state == TCP_LISTEN:
            sk = _new(u)
            _bind(st, sk, u)
            sk.listen(u.backlog)
            _finish(st, u, sk)
            _pending(st, u)
        elif p is not None and p.state == TCP_LISTEN and u.type != socket.SOCK_DGRAM:
            _make(ctx, st, p)  # a connection not yet accepted: made with its listener's, in their order
            if u.ino not in st.socks:
                raise RestoreError(f"{_where(u)}: not among the pending connections of {_where(p)}")
        elif p is not None and p.peer == u.ino and not (p.uflags & USK_EXTERN):
            _pair(ctx, st, u, p)
        elif p is not None and u.type == socket.SOCK_DGRAM:
            sk = _new(u)
            _bind(st, sk, u)
            if p.uflags & USK_EXTERN:
                _connect_extern(st, sk, p, u)
            else:
                ctx.fd_broker.fd_for(p.id)  # the receiver first
                sk.connect(_addr(st, p))
            _finish(st, u, sk)
        elif u.type == socket.SOCK_DGRAM and u.stasis.peer_closed and u.stasis.peer_name:
            sk = _new(u)
            _bind(st, sk, u)
            _dead_peer(st, sk, u)
            _finish(st, u, sk)
        elif u.peer and p is None:
            raise RestoreError(f"{_where(u)}: its peer {u.peer} is not in the images")
        elif u.stasis.peer_closed:
            a, b = _socketpair(ctx, u.type, u.stasis.peercred_pid)
            _bind(st, a, u)
            st.partner[u.ino] = b  # writes the queue, then closes: the peer is gone
            _finish(st, u, a)
        elif p is not None:
            raise RestoreError(f"{_where(u)}: a {u.type} socket whose peer {u.peer} is connected elsewhere")
        else:
            sk = _new(u)
            _bind(st, sk, u)
            _finish(st, u, sk)
    except OSError as exc:
        raise RestoreError(f"{_where(u)}: {exc.strerror or exc}") from exc
    return st.socks[u.ino]


def _dead_peer(st: UnixRestore, sk: socket.socket, u: sk_unix_pb2.unix_sk_entry) -> None:
    """Connected to a named receiver that is gone: connect to a stand-in with its name, then close it.
    (An unnamed one, a socketpair's end, comes from socketpair() with the other end closed after the
    queue is written: the peer_closed case of _make.)"""
    gone = sk_unix_pb2.unix_sk_entry()
    gone.CopyFrom(u)
    gone.ClearField("stasis")
    gone.ClearField("file_perms")
    gone.ClearField("name_dir")
    gone.ino, gone.name, gone.deleted = 0, u.stasis.peer_name, True  # bound only while connecting
    scratch, scratch_fd = "", -1
    if unix_diag.is_path(bytes(gone.name)) and not unix_diag.path_of(bytes(gone.name)).startswith(b"/"):
        # a relative name is what getpeername gives, wherever it was bound: bind it in a scratch directory
        # (the engine's: the worker binding in the tree's view gets there by its fd)
        scratch = tempfile.mkdtemp(prefix="stasis-unix-")
        scratch_fd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    t = _new(gone)
    try:
        _bind(st, t, gone, scratch_fd)
        if unix_diag.is_path(bytes(gone.name)):
            target: str | bytes = f"/proc/self/fd/{st.files[0]}"
        else:
            target = bytes(gone.name)
        sk.connect(target)
    finally:
        t.close()
        fd = st.files.pop(0, None)
        if fd is not None:
            os.close(fd)
        if scratch:
            os.close(scratch_fd)
            os.rmdir(scratch)


def _pending(st: UnixRestore, lst: sk_unix_pb2.unix_sk_entry) -> None:
    """The listener's connections not yet accepted, connected again in their order (accept's order)."""
    for icon in lst.stasis.icons:
        ce = st.by_ino.get(icon.client_ino) if icon.client_ino else None
        cu = ce.usk if ce is not None else None
        if cu is not None and cu.peer != lst.ino:
            raise RestoreError(f"{_where(lst)}: pending client {cu.ino} is not connected to it")
        c = _new(cu if cu is not None else lst)
        if cu is not None:
            _bind(st, c, cu)
        c.setblocking(False)
        try:
            c.connect(_addr(st, lst))
        except BlockingIOError as exc:
            raise RestoreError(f"{_where(lst)}: its backlog does not take its pending connections "
                               "again") from exc
        if cu is not None:
            _finish(st, cu, c)
        st.icons.append((c, cu if cu is not None else lst, icon, cu is None))


def _pair(ctx: RestoreContext, st: UnixRestore, u: sk_unix_pb2.unix_sk_entry,
          p: sk_unix_pb2.unix_sk_entry) -> None:
    """Two sockets that are each other's peer."""
    if u.type != socket.SOCK_DGRAM and (u.name or p.name):
        lst = _listener_for(st, u, p)
        if lst is not None:
            server, client = (u, p) if u.name == lst.name else (p, u)
            lsk = _make(ctx, st, lst)
            c = _new(client)
            _bind(st, c, client)
            c.setblocking(False)
            try:
                c.connect(_addr(st, lst))
            except BlockingIOError as exc:
                raise RestoreError(f"{_where(u)}: the restored listener {show(lst.name)} does not take "
                                   "another connection (its backlog is full)") from exc
            lfl = fcntl.fcntl(lsk.fileno(), fcntl.F_GETFL)
            fcntl.fcntl(lsk.fileno(), F_SETFL, lfl | O_NONBLOCK)
            try:
                fd, _ = lsk._accept()  # type: ignore[attr-defined]
            finally:
                fcntl.fcntl(lsk.fileno(), F_SETFL, lfl)
            s = socket.socket(socket.AF_UNIX, server.type, 0, fileno=fd)
            _finish(st, server, s)
            _finish(st, client, c)
            return
    creator = u.stasis.peercred_pid if u.stasis.peercred_pid == p.stasis.peercred_pid else 0
    a, b = _socketpair(ctx, u.type, creator)
    _bind(st, a, u)
    _bind(st, b, p)
    _finish(st, u, a)
    _finish(st, p, b)


def _socketpair(ctx: RestoreContext, type_: int, creator: int) -> tuple[socket.socket, socket.socket]:
    """A socketpair, made by the process of the tree that made the original one if it is there (so
    SO_PEERCRED gives its pid, and its effective uid and gid as the images have them), else by the
    engine."""
    t = next((x for x in ctx.tasks if creator and x.pid == creator and x.alive and x.inj is not None), None)
    if t is None:
        return sockets.new_socketpair(type_, "unix socketpair")
    inj = t.injector
    # SO_PEERCRED has the creator's effective ids at socketpair() time: the task's own (it is still the
    # helper's root here, its credentials come later), for this call only
    c = t.core.thread_core.creds
    euid, egid = unpriv.helper_ids()
    ids = c.euid != euid or c.egid != egid
    if ids:
        inj.call(nr.setresgid, -1, c.egid, -1, what="setresgid(-1, the task's egid, -1)")
        inj.call(nr.setresuid, -1, c.euid, -1, what="setresuid(-1, the task's euid, -1)")
    try:
        inj.call(nr.socketpair, socket.AF_UNIX, type_ | socket.SOCK_CLOEXEC, 0, inj.scratch,
                 what="socketpair (for SO_PEERCRED)")
    finally:
        if ids:
            inj.call(nr.setresuid, -1, euid, -1, what=f"setresuid(-1, {euid}, -1)")
            inj.call(nr.setresgid, -1, egid, -1, what=f"setresgid(-1, {egid}, -1)")
    fa, fb = struct.unpack("<ii", inj.get(0, 8))
    try:
        a = socket.socket(fileno=getfd(t.pid, fa))
        b = socket.socket(fileno=getfd(t.pid, fb))
    finally:
        inj.call(nr.close, fa, what="close")
        inj.call(nr.close, fb, what="close")
    return a, b


def _listener_for(st: UnixRestore, u: sk_unix_pb2.unix_sk_entry,
                  p: sk_unix_pb2.unix_sk_entry) -> sk_unix_pb2.unix_sk_entry | None:
    """The listener of the images an accepted end's name is the name of (for a path, the one whose
    socket file it shares: a path may have been bound again since)."""
    for e in st.by_ino.values():
        x = e.usk
        if x.state != TCP_LISTEN or x.type != u.type or not x.name or x.uflags & USK_EXTERN:
            continue
        for end in (u, p):
            if x.name != end.name:
                continue
            if not unix_diag.is_path(bytes(x.name)) or x.stasis.vfs_ino == end.stasis.vfs_ino:
                return x
    return None


# -- names -----------------------------------------------------------------------------------------

def _file_fd(st: UnixRestore, u: sk_unix_pb2.unix_sk_entry) -> int:
    if u.ino not in st.files:
        sk = st.socks[u.ino]
        fd = lib.st_syscall(nr.ioctl, sk.fileno(), SIOCUNIXFILE, 0, 0, 0, 0)
        if fd < 0:
            raise RestoreError(f"{_where(u)}: SIOCUNIXFILE: {os.strerror(-fd)}")
        st.files[u.ino] = fd
    return st.files[u.ino]


def _addr(st: UnixRestore, u: sk_unix_pb2.unix_sk_entry) -> str | bytes:
    """Where to connect (or send) to reach restored socket u."""
    name = bytes(u.name)
    if not name:
        raise RestoreError(f"{_where(u)}: an unnamed socket cannot be reached by name")
    if unix_diag.is_abstract(name):
        return name
    return f"/proc/self/fd/{_file_fd(st, u)}"


def _connect_extern(st: UnixRestore, sk: socket.socket, p: sk_unix_pb2.unix_sk_entry,
                    u: sk_unix_pb2.unix_sk_entry) -> None:
    """Connect to a socket outside the tree by its name (a path as the tree reaches it)."""
    name = bytes(p.name)
    try:
        if unix_diag.is_abstract(name):
            sk.connect(name)
        else:
            path = os.fsdecode(unix_diag.path_of(name))
            unix_view.run(_view(st, u), lambda: sk.connect(path), f"{_where(u)}: connect", RestoreError)
    except OSError as exc:
        raise RestoreError(f"{_where(u)}: connecting to the external socket {show(name)}: "
                           f"{exc.strerror}") from exc


def _view(st: UnixRestore, u: sk_unix_pb2.unix_sk_entry) -> unix_view.View:
    """The tree's view, where its path names are bound (the root helper's: the tree shares its mount
    namespace, and its root is the namespace's at this point)."""
    if st.view is None:
        got = unix_view.open_view(st.root_pid)
        if isinstance(got, str):
            raise RestoreError(f"{_where(u)}: pid {st.root_pid} has {got}: its path names cannot be bound")
        st.view = got
    return st.view


def _stale(path: str, u: sk_unix_pb2.unix_sk_entry) -> bool:
    """A socket file at the path that nobody is bound to any more (the dumped tree's, left behind when it
    was killed): connecting to it is refused."""
    try:
        s = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(s.st_mode):
        return False
    probe = socket.socket(socket.AF_UNIX, u.type | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
    try:
        probe.connect(path)
    except OSError as exc:
        return exc.errno == errno.ECONNREFUSED
    finally:
        probe.close()
    return False


def _bind(st: UnixRestore, sk: socket.socket, u: sk_unix_pb2.unix_sk_entry, cwd_fd: int = -1) -> None:
    """Bind u's name to sk; a path name in the tree's view, relative to u.name_dir there (or to the
    directory cwd_fd, of the engine's, for a stand-in's scratch directory)."""
    name = bytes(u.name)
    if not name:
        return
    if unix_diag.is_abstract(name):
        sk.bind(name)
        return
    path = os.fsdecode(unix_diag.path_of(name))
    got = unix_view.run(_view(st, u), lambda: _bind_path(sk, u, path, cwd_fd), f"{_where(u)}: bind",
                        RestoreError)
    log.debug("unix: %s bound%s%s", _where(u), " (unlinked again)" if u.deleted else "",
              f", {path} moved aside meanwhile" if got["aside"] else "")
    if u.deleted:
        st.socks[u.ino] = sk
        _file_fd(st, u)  # the only way to reach it once unlinked (the socket keeps its file)
        del st.socks[u.ino]
    else:
        st.created.append((got["cwd"], path, got["ino"]))


def _bind_path(sk: socket.socket, u: sk_unix_pb2.unix_sk_entry, path: str,
               cwd_fd: int) -> dict[str, object]:
    """In the tree's view: bind sk to path (with the file's mode and owner; unlinked again for a
    deleted name). The engine's cwd and umask are as they were after. {cwd, ino, aside}."""
    here = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    aside = ""
    made_dirs: list[str] = []
    out: dict[str, object] = {"cwd": "", "ino": 0, "aside": False}
    try:
        if cwd_fd >= 0:
            os.fchdir(cwd_fd)
        elif u.name_dir:
            os.chdir(u.name_dir)
        if u.deleted:
            parent = os.path.dirname(path)
            while parent and not os.path.isdir(parent):
                made_dirs.append(parent)
                parent = os.path.dirname(parent)
            with userns.creating():  # names made in the tree's file systems (see userns.creating)
                for d in reversed(made_dirs):
                    os.mkdir(d, 0o700)
                if os.path.lexists(path):
                    aside = f"{path}.stasis-{os.getpid()}"
                    os.rename(path, aside)
                out["aside"] = True
        elif _stale(path, u):
            os.unlink(path)  # the dumped tree's, left behind when it was killed
        mask = os.umask(0)
        try:
            with userns.creating():
                sk.bind(path)
        except OSError as exc:
            raise RestoreError(f"{_where(u)}: bind to {path}"
                               f"{' in ' + u.name_dir if u.name_dir else ''}: {exc.strerror}") from exc
        finally:
            os.umask(mask)
        if u.HasField("file_perms"):
            os.chmod(path, stat.S_IMODE(u.file_perms.mode))
            os.lchown(path, u.file_perms.uid, u.file_perms.gid)
        if u.deleted:
            os.unlink(path)
            if aside:
                with userns.creating():
                    os.rename(aside, path)
                aside = ""
            for d in made_dirs:
                os.rmdir(d)
            made_dirs = []
        else:
            out["cwd"], out["ino"] = os.getcwd(), os.lstat(path).st_ino
    finally:
        if aside:
            with userns.creating():
                os.rename(aside, path)
        for d in made_dirs:
            try:
                os.rmdir(d)
            except OSError:
                pass
        os.fchdir(here)
        os.close(here)
    return out


# -- once every socket exists ----------------------------------------------------------------------

def _queuer(ctx: RestoreContext, st: UnixRestore, u: sk_unix_pb2.unix_sk_entry,
            p: skqueue.Packet) -> tuple[socket.socket, str | bytes | None]:
    """The socket that writes packet p into u's queue, and the address to send it to (None: its peer)."""
    if u.ino in st.partner:
        return st.partner[u.ino], None
    if u.type != socket.SOCK_DGRAM:
        if not u.peer or u.peer not in st.socks:
            raise RestoreError(f"{_where(u)}: data queued but no peer to write it")
        return st.socks[u.peer], None
    sender = bytes(p.entry.stasis.addr) if p.entry.stasis.HasField("addr") else b""
    peer = st.by_ino.get(u.peer).usk if u.peer in st.by_ino else None  # type: ignore[union-attr]
    if sender:
        for e in st.by_ino.values():
            x = e.usk
            if bytes(x.name) == sender and x.type == socket.SOCK_DGRAM and not x.uflags & USK_EXTERN:
                s = st.socks.get(x.ino) or _make(ctx, st, x)
                return s, (None if x.peer == u.ino else _addr(st, u))
        if not unix_diag.is_abstract(sender):
            raise RestoreError(f"{_where(u)}: a datagram from {show(sender)}, which is not restored")
        if sender not in st.temp_named:
            t = _new(u)
            try:
                t.bind(sender)
            except OSError as exc:  # e.g. a live socket outside the tree (--ext-unix-sk) has that name
                t.close()
                raise RestoreError(f"{_where(u)}: a queued datagram from {show(sender)}, which cannot be "
                                   f"sent from that name again: {exc.strerror}") from None
            st.temp_named[sender] = t
        return st.temp_named[sender], _addr(st, u)
    if peer is not None and peer.peer == u.ino and not peer.name and peer.ino in st.socks:
        return st.socks[peer.ino], None
    t = _new(u)
    st.temp.append(t)
    return t, _addr(st, u)


def _send(ctx: RestoreContext, sk: socket.socket, u: sk_unix_pb2.unix_sk_entry, p: skqueue.Packet,
          to: str | bytes | None) -> None:
    anc = []
    for scm in p.entry.scm:
        if scm.type != socket.SCM_RIGHTS:
            raise RestoreError(f"{_where(u)}: a queued message with control message type {scm.type}")
        fds = array.array("i", [ctx.fd_broker.fd_for(fid) for fid in scm.rights])
        anc.append((socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes()))
    x = p.entry.stasis
    if x.HasField("ucred") and x.ucred.pid:  # pid 0: sent without credentials (none are given again)
        if not os.path.exists(f"/proc/{x.ucred.pid}"):
            raise RestoreError(f"{_where(u)}: a queued message from pid {x.ucred.pid}, which does not exist "
                               "(its credentials cannot be given again)")
        anc.append((socket.SOL_SOCKET, socket.SCM_CREDENTIALS,
                    struct.pack("<iII", x.ucred.pid, x.ucred.uid, x.ucred.gid)))
    data = p.data
    flags = socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL
    try:
        if u.type == socket.SOCK_STREAM:
            pos = sk.sendmsg([data], anc, flags)  # fds go with the first skb, as they came
            anc = [a for a in anc if a[1] != socket.SCM_RIGHTS]
            while pos < len(data):
                pos += sk.sendmsg([data[pos:]], anc, flags)
        elif to is None:
            sk.sendmsg([data], anc, flags)
        else:
            sk.sendmsg([data], anc, flags, to)
    except OSError as exc:
        raise RestoreError(f"{_where(u)}: writing its queue ({len(data)} bytes): {exc.strerror}") from exc


def restore_done(ctx: RestoreContext) -> None:
    st = rstate(ctx)
    if st.done:
        return
    st.done = True
    q = skqueue.queues(ctx)
    for e in list(st.by_ino.values()):  # also sockets only in flight, before any queue is written
        if not e.usk.uflags & USK_EXTERN:
            ctx.fd_broker.fd_for(e.id)
    boosted: set[int] = set()
    for e in st.by_ino.values():
        u = e.usk
        if u.ino not in st.socks:
            continue
        for p in q.of(u.id):
            sk, to = _queuer(ctx, st, u, p)
            if sk.fileno() not in boosted:
                sk.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, SEND_BOOST)
                boosted.add(sk.fileno())
            _send(ctx, sk, u, p, to)
    for c, cu, icon, closed in st.icons:  # what the pending clients had written into their embryos
        if icon.data or icon.packets:
            c.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, SEND_BOOST)
        for data in ([icon.data] if icon.data else list(icon.packets)):
            _send(ctx, c, cu, skqueue.Packet(sk_packet_pb2.sk_packet_entry(id_for=cu.id, length=len(data)),
                                             bytes(data)), None)
        if closed:
            c.close()
    st.icons = [x for x in st.icons if not x[3]]
    for s in (*st.partner.values(), *st.temp, *st.temp_named.values()):
        s.close()
    st.partner.clear()
    st.temp.clear()
    st.temp_named.clear()
    for e in st.by_ino.values():
        u = e.usk
        made = st.socks.get(u.ino)
        if made is None:
            continue
        try:
            sockets.restore_opts(made, u.opts)
        except RestoreError as exc:
            raise RestoreError(f"{_where(u)}: {exc}") from exc
    for e in st.by_ino.values():
        u = e.usk
        made = st.socks.get(u.ino)
        if made is None or not u.shutdown or u.stasis.peer_closed:
            continue
        try:
            made.shutdown(sockets.shutdown_of(u.shutdown))
        except OSError as exc:
            raise RestoreError(f"{_where(u)}: shutdown: {exc.strerror}") from exc


def restore_abort(ctx: RestoreContext) -> None:
    """The socket files this restore bound are removed again (a retry must find the paths free)."""
    st = rstate(ctx)
    created, st.created = st.created, []
    if not created or st.view is None:
        return

    def remove() -> None:
        for where, path, ino in created:
            full = os.path.join(where, path)
            try:
                if os.lstat(full).st_ino == ino:
                    os.unlink(full)
            except OSError:
                pass

    unix_view.run(st.view, remove, "unix sockets: removing the socket files bound", RestoreError)
