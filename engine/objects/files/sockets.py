"""What every socket kind shares: which socket an fd is, the options every socket carries (sk_opts_entry),
sock_diag queries in the socket's own network namespace, and where restore makes new sockets.

The engine reads a task's socket through its own copy (pidfd_getfd: the same socket), so getsockopt,
ioctl and MSG_PEEK need no injection. Options are written at restore only where the new socket's value
differs from the dumped one, so a kernel that refuses an option the program never set is no failure.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from engine import unpriv
from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWNET,
    IP_FREEBIND,
    IPV6_FREEBIND,
    NETLINK_SOCK_DIAG,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    SIOCGSKNS,
    SO_BUF_LOCK,
    SO_GET_FILTER,
    SO_PASSPIDFD,
    SO_PEEK_OFF,
    SO_RCVBUFFORCE,
    SO_SNDBUFFORCE,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import sk_opts_pb2
from engine.native import ffi, lib
from engine.record import field, record

if TYPE_CHECKING:
    from engine.objects.files.kind import Fd

SOL_SOCKET = socket.SOL_SOCKET
SO_SNDTIMEO_OLD, SO_RCVTIMEO_OLD = 21, 20
SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD, SO_TIMESTAMPING_OLD = 29, 35, 37
SO_LOCK_FILTER, SO_BUSY_POLL, SO_RXQ_OVFL, SO_WIFI_STATUS = 44, 46, 40, 41
SO_SELECT_ERR_QUEUE, SO_INCOMING_CPU, SO_MAX_PACING_RATE = 45, 49, 47
SO_ATTACH_FILTER = 26
TIMEVAL = struct.Struct("<qq")
LINGER = struct.Struct("<ii")
SOCK_FILTER = struct.Struct("<HBBI")  # struct sock_filter { u16 code; u8 jt, jf; u32 k; }
NLMSGHDR = struct.Struct("<IHHII")
NLA = struct.Struct("<HH")


@record(frozen=True)
class SockId:
    """Which socket an fd is: SO_DOMAIN, SO_TYPE, SO_PROTOCOL of the task's socket, and its inode."""

    family: int
    type: int
    proto: int
    ino: int


def ident(pid: int, fdnum: int, ino: int) -> SockId:
    mine = getfd(pid, fdnum)
    try:
        sk = socket.socket(fileno=mine)
        try:
            return SockId(sk.getsockopt(SOL_SOCKET, socket.SO_DOMAIN),
                          sk.getsockopt(SOL_SOCKET, socket.SO_TYPE),
                          sk.getsockopt(SOL_SOCKET, socket.SO_PROTOCOL), ino)
        finally:
            sk.detach()
    finally:
        os.close(mine)


@contextmanager
def dup(fd: Fd) -> Iterator[socket.socket]:
    """The engine's copy of a task's socket, closed on leaving."""
    sk = socket.socket(fileno=getfd(fd.pid, fd.num))
    try:
        yield sk
    finally:
        sk.close()


# -- raw getsockopt (Python's caps buffers at 1024 bytes and trusts optlen as a byte count) ---------

def getsockopt_raw(fd: int, level: int, opt: int, size: int) -> tuple[int, bytes]:
    """(optlen the kernel returned, the buffer): some options return a count, not a byte length."""
    buf = ffi.new("char[]", max(size, 1))
    ln = ffi.new("unsigned int *", size)
    ret = lib.st_syscall(nr.getsockopt, fd, level, opt, int(ffi.cast("long", buf)) if size else 0,
                         int(ffi.cast("long", ln)), 0)
    if ret < 0:
        raise OSError(-ret, os.strerror(-ret))
    return ln[0], bytes(ffi.buffer(buf, size))


def _opt(sk: socket.socket, opt: int, level: int = SOL_SOCKET) -> int | None:
    try:
        return sk.getsockopt(level, opt)
    except OSError:
        return None


def _timeval(sk: socket.socket, opt: int) -> tuple[int, int]:
    sec, usec = TIMEVAL.unpack(sk.getsockopt(SOL_SOCKET, opt, TIMEVAL.size))
    return sec, usec


def get_filter(sk: socket.socket) -> list[int]:
    """A classic BPF filter as CRIU stores it: code << 48 | jt << 40 | jf << 32 | k, one per insn."""
    try:
        count, _ = getsockopt_raw(sk.fileno(), SOL_SOCKET, SO_GET_FILTER, 0)
    except OSError:
        return []
    if not count:
        return []
    _, buf = getsockopt_raw(sk.fileno(), SOL_SOCKET, SO_GET_FILTER, count * SOCK_FILTER.size)
    out = []
    for i in range(count):
        code, jt, jf, k = SOCK_FILTER.unpack_from(buf, i * SOCK_FILTER.size)
        out.append(code << 48 | jt << 40 | jf << 32 | k)
    return out


def set_filter(sk: socket.socket, insns: list[int]) -> None:
    prog = b"".join(SOCK_FILTER.pack(i >> 48 & 0xFFFF, i >> 40 & 0xFF, i >> 32 & 0xFF, i & 0xFFFFFFFF)
                    for i in insns)
    buf = ffi.new("char[]", prog)
    fprog = ffi.new("char[16]", struct.pack("<HxxxxxxQ", len(insns), int(ffi.cast("long", buf))))
    ret = lib.st_syscall(nr.setsockopt, sk.fileno(), SOL_SOCKET, SO_ATTACH_FILTER,
                         int(ffi.cast("long", fprog)), 16, 0)
    if ret < 0:
        raise OSError(-ret, f"SO_ATTACH_FILTER: {os.strerror(-ret)}")


# (field of sk_opts_entry, option): booleans and integers read and written alike
_INT_OPTS: tuple[tuple[str, int], ...] = (
    ("reuseaddr", socket.SO_REUSEADDR), ("so_reuseport", socket.SO_REUSEPORT),
    ("so_priority", socket.SO_PRIORITY), ("so_rcvlowat", socket.SO_RCVLOWAT), ("so_mark", 36),
    ("so_passcred", socket.SO_PASSCRED), ("so_passsec", 34), ("so_dontroute", socket.SO_DONTROUTE),
    ("so_no_check", 11), ("so_broadcast", socket.SO_BROADCAST), ("so_keepalive", socket.SO_KEEPALIVE),
    ("so_oobinline", socket.SO_OOBINLINE),
)
# (field of stasis_sk_opts_entry, option)
_EXT_OPTS: tuple[tuple[str, int], ...] = (
    ("timestamp", SO_TIMESTAMP_OLD), ("timestampns", SO_TIMESTAMPNS_OLD),
    ("timestamping", SO_TIMESTAMPING_OLD), ("passpidfd", SO_PASSPIDFD), ("lock_filter", SO_LOCK_FILTER),
    ("busy_poll", SO_BUSY_POLL), ("rxq_ovfl", SO_RXQ_OVFL), ("wifi_status", SO_WIFI_STATUS),
    ("select_err_queue", SO_SELECT_ERR_QUEUE), ("incoming_cpu", SO_INCOMING_CPU),
)


def dump_opts(sk: socket.socket, o: sk_opts_pb2.sk_opts_entry) -> None:
    """Every option a program can set and read back on any socket."""
    o.so_sndbuf = sk.getsockopt(SOL_SOCKET, socket.SO_SNDBUF)
    o.so_rcvbuf = sk.getsockopt(SOL_SOCKET, socket.SO_RCVBUF)
    o.so_snd_tmo_sec, o.so_snd_tmo_usec = _timeval(sk, SO_SNDTIMEO_OLD)
    o.so_rcv_tmo_sec, o.so_rcv_tmo_usec = _timeval(sk, SO_RCVTIMEO_OLD)
    for name, opt in _INT_OPTS:
        v = _opt(sk, opt)
        if v is not None:
            setattr(o, name, v if name not in ("reuseaddr",) else v != 0)
    dev = sk.getsockopt(SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b"\0")
    if dev:
        o.so_bound_dev = dev.decode()
    on, secs = LINGER.unpack(sk.getsockopt(SOL_SOCKET, socket.SO_LINGER, LINGER.size))
    if on:
        o.so_linger = secs
    lock = _opt(sk, SO_BUF_LOCK)
    if lock is not None:
        o.so_buf_lock = lock
    o.so_filter.extend(get_filter(sk))
    x = o.stasis
    peek = _opt(sk, SO_PEEK_OFF)
    if peek is not None:
        x.peek_off = peek if peek < 1 << 31 else peek - (1 << 32)
    for name, opt in _EXT_OPTS:
        v = _opt(sk, opt)
        if v and not (name == "incoming_cpu" and v == -1):
            setattr(x, name, v)
    rate = _opt(sk, SO_MAX_PACING_RATE)
    if rate is not None and rate & 0xFFFFFFFF != 0xFFFFFFFF:
        x.max_pacing_rate = rate
    if on and secs == 0:
        x.linger_zero = True


def _set(sk: socket.socket, opt: int, value: int | bytes, what: str, level: int = SOL_SOCKET) -> None:
    try:
        sk.setsockopt(level, opt, value)
    except OSError as exc:
        raise RestoreError(f"socket option {what}: {exc.strerror}") from exc


def restore_bufs(sk: socket.socket, o: sk_opts_pb2.sk_opts_entry) -> None:
    """Buffer sizes first (queues are refilled into them): the kernel doubles what it is given, and
    the FORCE variants pass the sysctl caps. Locked only if the program had locked them."""
    if sk.getsockopt(SOL_SOCKET, socket.SO_SNDBUF) != o.so_sndbuf:
        _set(sk, SO_SNDBUFFORCE, o.so_sndbuf // 2, "SO_SNDBUFFORCE")
    if sk.getsockopt(SOL_SOCKET, socket.SO_RCVBUF) != o.so_rcvbuf:
        _set(sk, SO_RCVBUFFORCE, o.so_rcvbuf // 2, "SO_RCVBUFFORCE")
    if o.HasField("so_buf_lock") and _opt(sk, SO_BUF_LOCK) != o.so_buf_lock:
        _set(sk, SO_BUF_LOCK, o.so_buf_lock, "SO_BUF_LOCK")


def restore_opts(sk: socket.socket, o: sk_opts_pb2.sk_opts_entry, skip: tuple[str, ...] = ()) -> None:
    """Every option of dump_opts whose value differs on the new socket (buffers: restore_bufs)."""
    restore_bufs(sk, o)
    for name, secs, usecs, opt in (("SO_SNDTIMEO", o.so_snd_tmo_sec, o.so_snd_tmo_usec, SO_SNDTIMEO_OLD),
                                   ("SO_RCVTIMEO", o.so_rcv_tmo_sec, o.so_rcv_tmo_usec, SO_RCVTIMEO_OLD)):
        if _timeval(sk, opt) != (secs, usecs):
            _set(sk, opt, TIMEVAL.pack(secs, usecs), name)
    for name, opt in _INT_OPTS:
        if name in skip or not o.HasField(name):
            continue
        want = int(getattr(o, name))
        have = _opt(sk, opt)
        if have is not None and (have != 0) == (want != 0) and (name == "reuseaddr" or have == want):
            continue
        _set(sk, opt, want, name)
    if o.so_bound_dev:
        _set(sk, socket.SO_BINDTODEVICE, o.so_bound_dev.encode(), "SO_BINDTODEVICE")
    if o.HasField("so_linger") or o.stasis.linger_zero:
        _set(sk, socket.SO_LINGER, LINGER.pack(1, o.so_linger), "SO_LINGER")
    x = o.stasis
    for name, opt in _EXT_OPTS:
        if x.HasField(name) and _opt(sk, opt) != int(getattr(x, name)):
            _set(sk, opt, int(getattr(x, name)), name)
    if x.HasField("max_pacing_rate"):
        _set(sk, SO_MAX_PACING_RATE, x.max_pacing_rate, "SO_MAX_PACING_RATE")
    if o.so_filter:
        try:
            set_filter(sk, list(o.so_filter))
        except OSError as exc:
            raise RestoreError(f"socket filter: {exc.strerror}") from exc
    # last: SO_LOCK_FILTER (in _EXT_OPTS) would refuse a filter set after it
    if x.HasField("peek_off") and _opt(sk, SO_PEEK_OFF) not in (None, x.peek_off & 0xFFFFFFFF):
        _set(sk, SO_PEEK_OFF, x.peek_off, "SO_PEEK_OFF")


def shutdown_of(how: int) -> int:
    """sk_shutdown (READ 1, WRITE 2, BOTH 3) as socket.shutdown() takes it (SHUT_RD 0, WR 1, RDWR 2)."""
    return how - 1


# -- network namespaces and sock_diag --------------------------------------------------------------

def netns_fd(sk: socket.socket) -> int:
    """An fd of the network namespace the socket lives in (SIOCGSKNS)."""
    ret = lib.st_syscall(nr.ioctl, sk.fileno(), SIOCGSKNS, 0, 0, 0, 0)
    if ret == -errno.EPERM and unpriv.ACTIVE:
        raise UnsupportedError("SIOCGSKNS (a socket's network namespace) needs CAP_NET_ADMIN over it: "
                               "sockets cannot be dumped or restored --unprivileged")
    if ret < 0:
        raise OSError(-ret, f"SIOCGSKNS: {os.strerror(-ret)}")
    return ret


def netns_ino(sk: socket.socket) -> int:
    fd = netns_fd(sk)
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


@contextmanager
def in_netns(nsfd: int) -> Iterator[None]:
    """The engine's thread in another network namespace for the sockets it creates meanwhile (a socket
    stays in the namespace it was made in). setns(CLONE_NEWNET) works from a threaded process."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if os.fstat(own).st_ino == os.fstat(nsfd).st_ino:
            yield
            return
        ret = lib.st_syscall(nr.setns, nsfd, CLONE_NEWNET, 0, 0, 0, 0)
        if ret < 0:
            raise OSError(-ret, f"setns(net): {os.strerror(-ret)}")
        try:
            yield
        finally:
            ret = lib.st_syscall(nr.setns, own, CLONE_NEWNET, 0, 0, 0, 0)
            if ret < 0:
                raise OSError(-ret, f"setns back to the engine's network namespace: {os.strerror(-ret)}")
    finally:
        os.close(own)


@record(frozen=True)
class DiagMsg:
    """One answer of a sock_diag dump: the family's fixed header and its attributes by type."""

    head: bytes
    attrs: dict[int, bytes]


def parse_attrs(buf: bytes, off: int) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    while off + NLA.size <= len(buf):
        ln, typ = NLA.unpack_from(buf, off)
        if ln < NLA.size:
            break
        out[typ & 0x3FFF] = buf[off + NLA.size:off + ln]
        off += (ln + 3) & ~3
    return out


def diag_dump(nsfd: int, request: bytes, head_size: int) -> list[DiagMsg]:
    """Every answer to one SOCK_DIAG_BY_FAMILY dump request, asked in the namespace of nsfd (sock_diag
    lists only the sockets of the netlink socket's own namespace)."""
    with in_netns(nsfd):
        nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_SOCK_DIAG)
    try:
        nl.send(NLMSGHDR.pack(NLMSGHDR.size + len(request), 20, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + request)
        out: list[DiagMsg] = []
        while True:
            data = nl.recv(1 << 16)
            off = 0
            while off + NLMSGHDR.size <= len(data):
                ln, typ, _, _, _ = NLMSGHDR.unpack_from(data, off)
                if ln < NLMSGHDR.size:
                    break
                body = data[off + NLMSGHDR.size:off + ln]
                if typ == NLMSG_DONE:
                    return out
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("<i", body)[0]
                    raise OSError(err, f"sock_diag: {os.strerror(err)}")
                out.append(DiagMsg(body[:head_size], parse_attrs(body, (head_size + 3) & ~3)))
                off += (ln + 3) & ~3
    finally:
        nl.close()


@record
class DiagCache:
    """sock_diag answers of one dump, per (netns inode, request), each asked once: a tree with many
    sockets costs one dump per family, not one query per socket."""

    by_key: dict[tuple[int, bytes], dict[int, DiagMsg]] = field(default_factory=dict)

    def lookup(self, sk: socket.socket, request: bytes, head_size: int,
               ino_of: Callable[[bytes], int]) -> dict[int, DiagMsg]:
        nsfd = netns_fd(sk)
        try:
            key = (os.fstat(nsfd).st_ino, request)
            if key not in self.by_key:
                self.by_key[key] = {ino_of(m.head): m for m in diag_dump(nsfd, request, head_size)}
            return self.by_key[key]
        finally:
            os.close(nsfd)


# -- restore ---------------------------------------------------------------------------------------

_restore_netns: int | None = None  # the restored tree's network namespace, when it has its own


def set_restore_netns(nsfd: int | None) -> None:
    """Sockets new_socket() makes from now on are made in the network namespace of nsfd (None: the
    engine's); the fd is the module's to close."""
    global _restore_netns
    if _restore_netns is not None:
        os.close(_restore_netns)
    _restore_netns = nsfd


def new_socket(family: int, type_: int, proto: int, what: str, netns: int | None = None) -> socket.socket:
    """A socket for restore, made by the engine (close-on-exec here; the task's fd flags come from its
    fdinfo). Namespaced restores make it in the task's network namespace (netns, an fd of it; by default
    the restored tree's, see set_restore_netns)."""
    ns = netns if netns is not None else _restore_netns
    try:
        if ns is None:
            return socket.socket(family, type_ | socket.SOCK_CLOEXEC, proto)
        with in_netns(ns):
            return socket.socket(family, type_ | socket.SOCK_CLOEXEC, proto)
    except OSError as exc:
        raise RestoreError(f"{what}: socket({family}, {type_}, {proto}): {exc.strerror}") from exc


def bind_nonlocal(sk: socket.socket, addr: tuple) -> None:
    """bind(), also to an address no interface has when the socket had it by IP_FREEBIND / IPV6_FREEBIND
    cleared since (the option is off now, as dumped: set for the bind only)."""
    try:
        sk.bind(addr)
        return
    except OSError as exc:
        if exc.errno != errno.EADDRNOTAVAIL or sk.family not in (socket.AF_INET, socket.AF_INET6):
            raise
        first = exc
    level, opt = ((socket.IPPROTO_IP, IP_FREEBIND) if sk.family == socket.AF_INET
                  else (socket.IPPROTO_IPV6, IPV6_FREEBIND))
    if sk.getsockopt(level, opt):
        raise first
    sk.setsockopt(level, opt, 1)
    try:
        sk.bind(addr)
    finally:
        sk.setsockopt(level, opt, 0)


def new_socketpair(type_: int, what: str) -> tuple[socket.socket, socket.socket]:
    """An AF_UNIX pair for restore, in the restored tree's network namespace (see new_socket)."""
    try:
        if _restore_netns is None:
            return socket.socketpair(socket.AF_UNIX, type_ | socket.SOCK_CLOEXEC)
        with in_netns(_restore_netns):
            return socket.socketpair(socket.AF_UNIX, type_ | socket.SOCK_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"{what}: socketpair({type_}): {exc.strerror}") from exc


def retry_nomem(send: Callable[[bytes], int], data: bytes) -> None:
    """Queue refills: a big send may fail with ENOMEM (one linear skb), so halve the chunk and go on."""
    chunk = max(len(data), 1)
    pos = 0
    while pos < len(data):
        try:
            n = send(data[pos:pos + chunk])
        except OSError as exc:
            if exc.errno in (errno.ENOMEM, errno.ENOBUFS) and chunk > 4096:
                chunk //= 2
                continue
            raise
        pos += n
