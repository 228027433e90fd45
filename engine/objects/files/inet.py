"""AF_INET and AF_INET6 sockets (inet_sk_entry): addresses, ports and IP-level options, shared by every
protocol; what a protocol adds lives in its module (tcp.py: TCP; dgram.py: UDP, UDP-Lite, ICMP ping,
raw), which this kind dispatches to by SO_TYPE/SO_PROTOCOL.

Helpers every inet protocol uses (UDP too):
- `addr_to_entry(family, host)` / `entry_to_host(family, words)`: an address as inet_sk_entry keeps it
  (the raw address bytes as little-endian u32 words: 1 for IPv4, 4 for IPv6, as CRIU memcpy's them);
- `dump_addrs(sk, isk)`: src/dst address and port from getsockname/getpeername, `ifname` of a
  link-local IPv6 scope; `entry_to_sockaddr(isk, src=True)`: the Python sockaddr tuple back;
- `dump_ip_opts(sk, isk)` / `restore_ip_opts(sk, isk)`: IPV6_V6ONLY, ip_opts_entry (freebind, pktinfo,
  tos, ttl) and the Stasis extension's IP options (recvtos, recvttl, transparent, mtu_discover, recverr,
  multicast ttl/loop, IPv6 tclass/unicast hops);
- `bind_inet(sk, isk, what)`: bind to the dumped address and port if the socket was bound;
- `new_inet_socket(isk, what)`: the socket for restore, owned by the dumped uid (fchown on a socket sets
  the uid /proc/net/* shows), with its file status flags set by `set_file_flags(fd, flags)`.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from typing import TYPE_CHECKING

from engine.abi.consts import (
    IP_FREEBIND,
    IP_MTU_DISCOVER,
    IP_MULTICAST_LOOP,
    IP_MULTICAST_TTL,
    IP_PKTINFO,
    IP_RECVERR,
    IP_RECVTOS,
    IP_RECVTTL,
    IP_TOS,
    IP_TRANSPARENT,
    IP_TTL,
    IPV6_FREEBIND,
    IPV6_RECVPKTINFO,
    IPV6_TCLASS,
    IPV6_UNICAST_HOPS,
    IPV6_V6ONLY,
    O_ASYNC,
)
from engine.errors import RestoreError
from engine.images.pb import fdinfo_pb2, sk_inet_pb2
from engine.objects.files import dgram, sockets, tcp
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

SOL_IP, SOL_IPV6 = socket.IPPROTO_IP, socket.IPPROTO_IPV6


def matches(fd: Fd) -> bool:
    return fd.sock is not None and fd.sock.family in (socket.AF_INET, socket.AF_INET6)


def _is_tcp(type_: int, proto: int) -> bool:
    return type_ == socket.SOCK_STREAM and proto in (0, socket.IPPROTO_TCP)


# -- addresses -------------------------------------------------------------------------------------

def addr_to_entry(family: int, host: str) -> list[int]:
    """inet_sk_entry's src_addr/dst_addr words of an address ("127.0.0.1", "::1", "fe80::1%lo")."""
    raw = socket.inet_pton(family, host.split("%", 1)[0])
    return list(struct.unpack(f"<{len(raw) // 4}I", raw))


def entry_to_host(family: int, words: list[int] | tuple[int, ...]) -> str:
    n = 1 if family == socket.AF_INET else 4
    if not words:
        words = [0] * n
    if len(words) != n:
        raise RestoreError(f"inet address of family {family} with {len(words)} words")
    return socket.inet_ntop(family, struct.pack(f"<{n}I", *words))


def dump_addrs(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    """The bound and the connected address (no peer: dst stays empty, port 0)."""
    family = sk.family
    name = sk.getsockname()
    isk.src_addr.extend(addr_to_entry(family, name[0]))
    isk.src_port = name[1]
    if family == socket.AF_INET6 and name[3]:
        try:
            isk.ifname = socket.if_indextoname(name[3])
        except OSError:
            pass
    try:
        peer = sk.getpeername()
    except OSError:
        peer = None
    if peer is not None:
        isk.dst_addr.extend(addr_to_entry(family, peer[0]))
        isk.dst_port = peer[1]
    else:
        isk.dst_port = 0


SockAddr = tuple[str, int] | tuple[str, int, int, int]


def entry_to_sockaddr(isk: sk_inet_pb2.inet_sk_entry, src: bool = True) -> SockAddr:
    """The Python sockaddr of the entry's source (or destination) address and port."""
    host = entry_to_host(isk.family, list(isk.src_addr if src else isk.dst_addr))
    port = isk.src_port if src else isk.dst_port
    if isk.family == socket.AF_INET:
        return (host, port)
    scope = 0
    if isk.ifname and host.lower().startswith("fe80"):
        try:
            scope = socket.if_nametoindex(isk.ifname)
        except OSError as exc:
            raise RestoreError(f"inet socket {isk.id}: no interface {isk.ifname} for {host}") from exc
    return (host, port, 0, scope)


def is_bound(isk: sk_inet_pb2.inet_sk_entry) -> bool:
    return bool(isk.src_port) or any(isk.src_addr)


def bind_inet(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, what: str) -> None:
    """bind() to the dumped source, if the socket had one (a port 0 bind was given a port: that one)."""
    if not is_bound(isk):
        return
    addr = entry_to_sockaddr(isk)
    try:
        sockets.bind_nonlocal(sk, addr)
    except OSError as exc:
        raise RestoreError(f"{what}: bind to {addr[0]} port {addr[1]}: {exc.strerror}") from exc


# -- IP-level options ------------------------------------------------------------------------------

# (level, option, field of stasis_inet_sk_entry, families)
_EXT_IP_OPTS: tuple[tuple[int, int, str, tuple[int, ...]], ...] = (
    (SOL_IP, IP_RECVTOS, "recvtos", (socket.AF_INET,)),
    (SOL_IP, IP_RECVTTL, "recvttl", (socket.AF_INET,)),
    (SOL_IP, IP_TRANSPARENT, "transparent", (socket.AF_INET, socket.AF_INET6)),
    (SOL_IP, IP_MTU_DISCOVER, "mtu_discover", (socket.AF_INET,)),
    (SOL_IP, IP_RECVERR, "recverr", (socket.AF_INET,)),
    (SOL_IP, IP_MULTICAST_TTL, "mc_ttl", (socket.AF_INET,)),
    (SOL_IP, IP_MULTICAST_LOOP, "mc_loop", (socket.AF_INET,)),
    (SOL_IPV6, IPV6_TCLASS, "tclass", (socket.AF_INET6,)),
    (SOL_IPV6, IPV6_UNICAST_HOPS, "unicast_hops", (socket.AF_INET6,)),
)
_BOOL_EXT = ("recvtos", "recvttl", "transparent", "recverr", "mc_loop")
_NOT_STREAM = ("mc_ttl", "mc_loop")  # multicast options: a stream socket refuses them (EINVAL)


def _ip_table(family: int) -> tuple[tuple[int, int, str], ...]:
    """(level, option, field of ip_opts_entry) for the family."""
    if family == socket.AF_INET6:
        return ((SOL_IPV6, IPV6_FREEBIND, "freebind"), (SOL_IPV6, IPV6_RECVPKTINFO, "pktinfo"))
    return ((SOL_IP, IP_FREEBIND, "freebind"), (SOL_IP, IP_PKTINFO, "pktinfo"), (SOL_IP, IP_TOS, "tos"),
            (SOL_IP, IP_TTL, "ttl"))


def _get(sk: socket.socket, level: int, opt: int) -> int | None:
    try:
        return sk.getsockopt(level, opt)
    except OSError:
        return None


def dump_ip_opts(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    if sk.family == socket.AF_INET6:
        v6only = _get(sk, SOL_IPV6, IPV6_V6ONLY)
        if v6only is not None:
            isk.v6only = bool(v6only)
    io = isk.ip_opts
    for level, opt, name in _ip_table(sk.family):
        v = _get(sk, level, opt)
        if v is not None:
            setattr(io, name, bool(v) if name in ("freebind", "pktinfo") else v)
    x = isk.stasis
    for level, opt, name, fams in _EXT_IP_OPTS:
        if sk.family in fams and not (name in _NOT_STREAM and sk.type == socket.SOCK_STREAM):
            v = _get(sk, level, opt)
            if v is not None:
                setattr(x, name, bool(v) if name in _BOOL_EXT else v)


def _put(sk: socket.socket, level: int, opt: int, value: int, what: str) -> None:
    if _get(sk, level, opt) == value:
        return
    try:
        sk.setsockopt(level, opt, value)
    except OSError as exc:
        raise RestoreError(f"{what}: {exc.strerror}") from exc


def restore_v6only(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    """Before bind: it decides which ports a wildcard IPv6 bind takes."""
    if sk.family == socket.AF_INET6 and isk.HasField("v6only"):
        _put(sk, SOL_IPV6, IPV6_V6ONLY, int(isk.v6only), "IPV6_V6ONLY")


def restore_ip_opts(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    """Every IP option whose value differs on the new socket (freebind first: bind may need it)."""
    io = isk.ip_opts
    for level, opt, name in _ip_table(sk.family):
        if isk.HasField("ip_opts") and io.HasField(name):
            _put(sk, level, opt, int(getattr(io, name)), name.upper())
    x = isk.stasis
    for level, opt, name, fams in _EXT_IP_OPTS:
        stream_only_refuses = name in _NOT_STREAM and isk.type == socket.SOCK_STREAM
        if sk.family in fams and x.HasField(name) and not stream_only_refuses:
            _put(sk, level, opt, int(getattr(x, name)), name.upper())


# -- the socket at restore -------------------------------------------------------------------------

def new_inet_socket(isk: sk_inet_pb2.inet_sk_entry, what: str) -> socket.socket:
    from engine.objects.files.sockets import new_socket

    sk = new_socket(isk.family, isk.type, isk.proto, what)
    if isk.stasis.HasField("uid"):
        try:
            os.fchown(sk.fileno(), isk.stasis.uid, -1)
        except OSError as exc:
            sk.close()
            raise RestoreError(f"{what}: fchown to uid {isk.stasis.uid}: {exc.strerror}") from exc
    return sk


def set_file_flags(fd: int, flags: int) -> None:
    """The description's status flags (O_NONBLOCK); O_ASYNC is the task's to set (table.py)."""
    want = flags & ~O_ASYNC & (os.O_NONBLOCK | os.O_APPEND)
    have = fcntl.fcntl(fd, fcntl.F_GETFL)
    if have & (os.O_NONBLOCK | os.O_APPEND) != want:
        fcntl.fcntl(fd, fcntl.F_SETFL, (have & ~(os.O_NONBLOCK | os.O_APPEND)) | want)


# -- the kind --------------------------------------------------------------------------------------

def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    assert fd.sock is not None
    if _is_tcp(fd.sock.type, fd.sock.proto):
        tcp.check(ctx, t, fd)
    else:
        dgram.check(ctx, t, fd)


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    assert fd.sock is not None
    e.isk.ino = fd.sock.ino
    e.isk.family, e.isk.type, e.isk.proto = fd.sock.family, fd.sock.type, fd.sock.proto
    e.isk.stasis.uid = fd.stat.st_uid
    if _is_tcp(fd.sock.type, fd.sock.proto):
        tcp.dump(ctx, t, fd, e.isk)
    else:
        dgram.dump(ctx, t, fd, e.isk)


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    if e.isk.family not in (socket.AF_INET, socket.AF_INET6):
        raise RestoreError(f"files.img: inet socket {e.id} has family {e.isk.family}")
    if _is_tcp(e.isk.type, e.isk.proto):
        return tcp.open_(ctx, e.isk)
    return dgram.open_(ctx, e.isk)


def write_images(ctx: DumpContext) -> None:
    tcp.write_images(ctx)


def load_images(ctx: RestoreContext) -> None:
    tcp.load_images(ctx)


KIND = FdKind("inet socket", fdinfo_pb2.INETSK, "isk", matches, dump, open_, check=check,
              write_images=write_images, load_images=load_images)
