"""Datagram and raw inet sockets: UDP, UDP-Lite, ICMP ping, raw (inet_sk_entry; queues in sk-queues.img).

Everything is read from the engine's copy of the socket (sockets.dup): addresses with getsockname and
getpeername (a connected ping or raw socket has no peer port, so its peer comes from /proc/PID/net/icmp or
raw), options with getsockopt, multicast memberships with MCAST_MSFILTER for each group /proc/PID/net/igmp
lists, and the shutdown state from sock_diag where the socket is listed (bound UDP and UDP-Lite; raw and
ping sockets are not listed on every kernel) else from poll. Options CRIU has no field for are in the
stasis extension (stasis_inet_sk_entry, its `dgram` message), with the socket's owner (inode uid and gid:
the engine makes sockets as root, fchown gives them back).

Receive queues (sk-queues.img, each datagram's sender in the entry's stasis extension): a dump that kills
the tree reads them for real, and queues them again in dump_done if the tree runs on after all; a dump that
leaves it running peeks them (SO_PEEK_OFF 0 and MSG_PEEK, then SO_PEEK_OFF as it was), which UDP allows
and ping sockets do not (refused then). At restore (and in dump_done) each datagram is sent again, in
order, from its sender: a raw IPPROTO_RAW socket of the engine writes it with its IP and UDP (or ICMP
echo reply) header, so it goes through the receiving socket's normal input path and no port has to be free.
The socket's filter is attached after (it had judged them already), shutdown too.
Refused at dump, never lost: a corked datagram being built, queued data on raw sockets (their queue
cannot be read past the first packet without consuming it, and a packet sent again reaches every raw
socket and the stack), ping queues with --leave-running, a peek truncated or behind a pending error.
Not visible from outside, so not kept: IP_MULTICAST_IF given as an interface index (getsockopt returns
the address only), a pending socket error (reading it clears it), a send-only shutdown of a socket
sock_diag does not list, whether a port was chosen by the kernel (restore binds it explicitly).
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import select
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    F_SETFL,
    ICMP_FILTER,
    ICMPV6_FILTER,
    INET_DIAG_SHUTDOWN,
    IP_CHECKSUM,
    IP_FREEBIND,
    IP_HDRINCL,
    IP_MTU_DISCOVER,
    IP_MULTICAST_ALL,
    IP_MULTICAST_IF,
    IP_MULTICAST_LOOP,
    IP_MULTICAST_TTL,
    IP_NODEFRAG,
    IP_OPTIONS,
    IP_PKTINFO,
    IP_RECVERR,
    IP_RECVFRAGSIZE,
    IP_RECVOPTS,
    IP_RECVORIGDSTADDR,
    IP_RECVTOS,
    IP_RECVTTL,
    IP_RETOPTS,
    IP_TOS,
    IP_TRANSPARENT,
    IP_TTL,
    IP_UNICAST_IF,
    IPPROTO_UDPLITE,
    IPV6_AUTOFLOWLABEL,
    IPV6_CHECKSUM,
    IPV6_DONTFRAG,
    IPV6_FREEBIND,
    IPV6_MTU_DISCOVER,
    IPV6_MULTICAST_ALL,
    IPV6_MULTICAST_HOPS,
    IPV6_MULTICAST_IF,
    IPV6_MULTICAST_LOOP,
    IPV6_RECVDSTOPTS,
    IPV6_RECVERR,
    IPV6_RECVHOPLIMIT,
    IPV6_RECVHOPOPTS,
    IPV6_RECVORIGDSTADDR,
    IPV6_RECVPATHMTU,
    IPV6_RECVPKTINFO,
    IPV6_RECVRTHDR,
    IPV6_RECVTCLASS,
    IPV6_TCLASS,
    IPV6_TRANSPARENT,
    IPV6_UNICAST_HOPS,
    IPV6_UNICAST_IF,
    IPV6_V6ONLY,
    MCAST_JOIN_GROUP,
    MCAST_MSFILTER,
    O_NONBLOCK,
    SIOCOUTQ,
    SK_MEMINFO_DROPS,
    SK_MEMINFO_RMEM_ALLOC,
    SO_ATTACH_REUSEPORT_CBPF,
    SO_DETACH_FILTER,
    SO_DETACH_REUSEPORT_BPF,
    SO_MEMINFO,
    SO_PEEK_OFF,
    SOCCR_MARK,
    SOL_RAW,
    UDP_CORK,
    UDP_ENCAP,
    UDP_GRO,
    UDP_NO_CHECK6_RX,
    UDP_NO_CHECK6_TX,
    UDP_SEGMENT,
    UDPLITE_RECV_CSCOV,
    UDPLITE_SEND_CSCOV,
)
from engine.errors import DumpError, RestoreError, UnsupportedError
from engine.images.pb import sk_inet_pb2, sk_opts_pb2, sk_packet_pb2
from engine.native import ffi, lib
from engine.objects.base import KernelObject
from engine.objects.files import skqueue, sockets
from engine.record import field, record

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from engine.context import DumpContext, RestoreContext
    from engine.objects.files.kind import Fd
    from engine.task import Task

AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6
SOL_IP, SOL_IPV6, SOL_UDP = socket.IPPROTO_IP, socket.IPPROTO_IPV6, socket.IPPROTO_UDP
TCP_ESTABLISHED, TCP_CLOSE = 1, 7
MAX_DGRAM = 1 << 16  # an IP datagram's payload never exceeds it (no jumbograms on these sockets)
PEEK_LIMIT = 1 << 20  # datagrams per socket: a bound for a queue that does not end
SETTLE_S = 0.002  # how long a queue must stay unchanged after it was read (softirq delivery in flight)
SETTLE_TRIES = 50
INET_DIAG_REQ = struct.Struct("<BBBBI48x")  # inet_diag_req_v2 with a zero inet_diag_sockid
INET_DIAG_MSG_SIZE = 72  # struct inet_diag_msg; idiag_inode at 68
ALL_STATES = 0xFFFFFFFF

# (where, field, level, option, families, kinds): where is "ip" (ip_opts_entry), "raw" (its
# ip_opts_raw_entry), "x" (stasis_inet_sk_entry) or "d" (its dgram message); kinds: u udp/udplite,
# l udplite, p ping, r raw
_OPTS: tuple[tuple[str, str, int, int, tuple[int, ...], str], ...] = (
    ("ip", "tos", SOL_IP, IP_TOS, (AF_INET,), "upr"),
    ("ip", "ttl", SOL_IP, IP_TTL, (AF_INET,), "upr"),
    ("ip", "pktinfo", SOL_IP, IP_PKTINFO, (AF_INET,), "upr"),
    ("ip", "freebind", SOL_IP, IP_FREEBIND, (AF_INET,), "upr"),
    ("x", "recvtos", SOL_IP, IP_RECVTOS, (AF_INET,), "upr"),
    ("x", "recvttl", SOL_IP, IP_RECVTTL, (AF_INET,), "upr"),
    ("x", "transparent", SOL_IP, IP_TRANSPARENT, (AF_INET,), "upr"),
    ("x", "mtu_discover", SOL_IP, IP_MTU_DISCOVER, (AF_INET,), "upr"),
    ("x", "recverr", SOL_IP, IP_RECVERR, (AF_INET,), "upr"),
    ("x", "mc_ttl", SOL_IP, IP_MULTICAST_TTL, (AF_INET,), "upr"),
    ("x", "mc_loop", SOL_IP, IP_MULTICAST_LOOP, (AF_INET,), "upr"),
    ("d", "recvopts", SOL_IP, IP_RECVOPTS, (AF_INET,), "upr"),
    ("d", "retopts", SOL_IP, IP_RETOPTS, (AF_INET,), "upr"),
    ("d", "recvorigdstaddr", SOL_IP, IP_RECVORIGDSTADDR, (AF_INET,), "upr"),
    ("d", "mc_all", SOL_IP, IP_MULTICAST_ALL, (AF_INET,), "upr"),
    ("d", "recvfragsize", SOL_IP, IP_RECVFRAGSIZE, (AF_INET,), "upr"),
    ("d", "checksum_recv", SOL_IP, IP_CHECKSUM, (AF_INET,), "upr"),
    ("d", "unicast_if", SOL_IP, IP_UNICAST_IF, (AF_INET,), "upr"),
    ("d", "unicast_if6", SOL_IPV6, IPV6_UNICAST_IF, (AF_INET6,), "upr"),
    ("raw", "hdrincl", SOL_IP, IP_HDRINCL, (AF_INET,), "r"),
    ("raw", "nodefrag", SOL_IP, IP_NODEFRAG, (AF_INET,), "r"),
    ("x", "tclass", SOL_IPV6, IPV6_TCLASS, (AF_INET6,), "upr"),
    ("x", "unicast_hops", SOL_IPV6, IPV6_UNICAST_HOPS, (AF_INET6,), "upr"),
    ("x", "recvpktinfo6", SOL_IPV6, IPV6_RECVPKTINFO, (AF_INET6,), "upr"),
    ("d", "mc_hops6", SOL_IPV6, IPV6_MULTICAST_HOPS, (AF_INET6,), "upr"),
    ("d", "mc_loop6", SOL_IPV6, IPV6_MULTICAST_LOOP, (AF_INET6,), "upr"),
    ("d", "mc_if6", SOL_IPV6, IPV6_MULTICAST_IF, (AF_INET6,), "upr"),
    ("d", "recvtclass6", SOL_IPV6, IPV6_RECVTCLASS, (AF_INET6,), "upr"),
    ("d", "recvhoplimit6", SOL_IPV6, IPV6_RECVHOPLIMIT, (AF_INET6,), "upr"),
    ("d", "mtu_discover6", SOL_IPV6, IPV6_MTU_DISCOVER, (AF_INET6,), "upr"),
    ("d", "recverr6", SOL_IPV6, IPV6_RECVERR, (AF_INET6,), "upr"),
    ("d", "freebind6", SOL_IPV6, IPV6_FREEBIND, (AF_INET6,), "upr"),
    ("d", "transparent6", SOL_IPV6, IPV6_TRANSPARENT, (AF_INET6,), "upr"),
    ("d", "mc_all6", SOL_IPV6, IPV6_MULTICAST_ALL, (AF_INET6,), "upr"),
    ("d", "recvorigdstaddr6", SOL_IPV6, IPV6_RECVORIGDSTADDR, (AF_INET6,), "upr"),
    ("d", "autoflowlabel6", SOL_IPV6, IPV6_AUTOFLOWLABEL, (AF_INET6,), "upr"),
    ("d", "dontfrag6", SOL_IPV6, IPV6_DONTFRAG, (AF_INET6,), "upr"),
    ("d", "recvrthdr6", SOL_IPV6, IPV6_RECVRTHDR, (AF_INET6,), "upr"),
    ("d", "recvhopopts6", SOL_IPV6, IPV6_RECVHOPOPTS, (AF_INET6,), "upr"),
    ("d", "recvdstopts6", SOL_IPV6, IPV6_RECVDSTOPTS, (AF_INET6,), "upr"),
    ("d", "recvpathmtu6", SOL_IPV6, IPV6_RECVPATHMTU, (AF_INET6,), "upr"),
    ("d", "checksum6", SOL_IPV6, IPV6_CHECKSUM, (AF_INET6,), "r"),
    ("x", "udp_cork", SOL_UDP, UDP_CORK, (AF_INET, AF_INET6), "u"),
    ("d", "udp_segment", SOL_UDP, UDP_SEGMENT, (AF_INET, AF_INET6), "u"),
    ("d", "udp_gro", SOL_UDP, UDP_GRO, (AF_INET, AF_INET6), "u"),
    ("d", "no_check6_tx", SOL_UDP, UDP_NO_CHECK6_TX, (AF_INET6,), "u"),
    ("d", "no_check6_rx", SOL_UDP, UDP_NO_CHECK6_RX, (AF_INET6,), "u"),
    ("d", "cscov_send", IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, (AF_INET, AF_INET6), "l"),
    ("d", "cscov_recv", IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, (AF_INET, AF_INET6), "l"),
)


def _kind(type_: int, proto: int) -> str:
    """u: UDP, l: UDP-Lite, p: ICMP ping, r: raw; "" for what this module does not know."""
    if type_ == socket.SOCK_DGRAM:
        if proto in (0, socket.IPPROTO_UDP):
            return "u"
        if proto == IPPROTO_UDPLITE:
            return "l"
        if proto in (socket.IPPROTO_ICMP, socket.IPPROTO_ICMPV6):
            return "p"
    if type_ == socket.SOCK_RAW:
        return "r"
    return ""


def _applies(kinds: str, kind: str) -> bool:
    return kind in kinds or (kind == "l" and "u" in kinds)


def _name(kind: str) -> str:
    return {"u": "UDP", "l": "UDP-Lite", "p": "ICMP ping", "r": "raw"}.get(kind, "inet")


# -- addresses -------------------------------------------------------------------------------------


def _addr_words(family: int, host: str) -> list[int]:
    raw = socket.inet_pton(family, host.partition("%")[0])
    return list(struct.unpack(f"<{len(raw) // 4}I", raw))


def _addr_host(family: int, words: list[int]) -> str:
    n = 1 if family == AF_INET else 4
    raw = struct.pack(f"<{n}I", *(list(words) + [0] * n)[:n])
    return socket.inet_ntop(family, raw)


def sockaddr_bytes(family: int, addr: tuple) -> bytes:
    """struct sockaddr_in / sockaddr_in6 of a Python address."""
    if family == AF_INET:
        return (
            struct.pack("<H", AF_INET)
            + struct.pack("!H", addr[1])
            + socket.inet_pton(AF_INET, addr[0])
            + bytes(8)
        )
    host = addr[0].partition("%")[0]
    return (
        struct.pack("<H", AF_INET6)
        + struct.pack("!HI", addr[1], addr[2] if len(addr) > 2 else 0)
        + socket.inet_pton(AF_INET6, host)
        + struct.pack("<I", addr[3] if len(addr) > 3 else 0)
    )


def sockaddr_parse(raw: bytes) -> tuple[int, bytes, int]:
    """(family, address bytes, port) of a struct sockaddr_in / sockaddr_in6."""
    (family,) = struct.unpack_from("<H", raw)
    (port,) = struct.unpack_from("!H", raw, 2)
    if family == AF_INET and len(raw) >= 8:
        return family, raw[4:8], port
    if family == AF_INET6 and len(raw) >= 24:
        return family, raw[8:24], port
    raise ValueError(f"sender address of family {family}, {len(raw)} bytes")


def _name_of(sk: socket.socket, peer: bool) -> tuple | None:
    try:
        return sk.getpeername() if peer else sk.getsockname()
    except OSError as exc:
        if exc.errno == errno.ENOTCONN:
            return None
        raise


def _proc_net(
    pid: int, family: int, kind: str, ino: int
) -> tuple[list[int], int, list[int], int, int] | None:
    """(local words, port, remote words, port, state) of a socket in /proc/PID/net/{raw,icmp}[6]: a
    connected raw or ping socket has no peer port, so getpeername says ENOTCONN although it is connected."""
    name = ("raw" if kind == "r" else "icmp") + ("6" if family == AF_INET6 else "")
    try:
        with open(f"/proc/{pid}/net/{name}") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        w = line.split()
        if len(w) < 10 or w[9] != str(ino):
            continue
        (la, lp), (ra, rp) = (x.split(":") for x in w[1:3])

        def words(h: str) -> list[int]:
            return [int(h[i : i + 8], 16) for i in range(0, len(h), 8)]

        return words(la), int(lp, 16), words(ra), int(rp, 16), int(w[3], 16)
    return None


# -- dump ------------------------------------------------------------------------------------------


@record
class DgramDump:
    diag: sockets.DiagCache = field(default_factory=sockets.DiagCache)
    # queues read for real (a dump that kills the tree): the engine's copy of each socket, its entry,
    # the datagrams (data, sender) and its SO_PEEK_OFF, to be queued again if the tree runs on
    taken: list[tuple[int, sk_inet_pb2.inet_sk_entry, list[tuple[bytes, bytes]], int]] = field(
        default_factory=list
    )


def _opt(sk: socket.socket, level: int, opt: int) -> int | None:
    try:
        return sk.getsockopt(level, opt)
    except OSError:
        return None


def _target(isk: sk_inet_pb2.inet_sk_entry, where: str) -> Message:
    if where == "ip":
        return isk.ip_opts
    if where == "raw":
        return isk.ip_opts.raw
    if where == "x":
        return isk.stasis
    return isk.stasis.dgram


def _put(msg: Message, name: str, value: int) -> None:
    f = msg.DESCRIPTOR.fields_by_name[name]
    if f.type == f.TYPE_BOOL:
        setattr(msg, name, value != 0)
    elif f.type == f.TYPE_BYTES:
        setattr(msg, name, bytes(value))
    elif f.type in (f.TYPE_UINT32, f.TYPE_FIXED32):
        setattr(msg, name, value & 0xFFFFFFFF)
    else:
        setattr(msg, name, value)


def _rmem(sk: socket.socket) -> int:
    """Bytes the receive queue holds (SO_MEMINFO), 0 when it is empty."""
    try:
        buf = sk.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * 9)
    except OSError:
        return 0
    return struct.unpack_from("<I", buf, 4 * SK_MEMINFO_RMEM_ALLOC)[0]


def _outq(sk: socket.socket) -> int:
    return struct.unpack("<i", fcntl.ioctl(sk.fileno(), SIOCOUTQ, b"\0" * 4))[0]


def _diag_shutdown(ctx: DumpContext, sk: socket.socket, family: int, proto: int, ino: int) -> int | None:
    """sk_shutdown from sock_diag (only UDP and UDP-Lite sockets that are hashed, i.e. bound, are
    listed); None when the socket is not listed."""
    req = INET_DIAG_REQ.pack(family, proto, 0, 0, ALL_STATES)
    try:
        found = ctx.files.state(DgramDump).diag.lookup(
            sk, req, INET_DIAG_MSG_SIZE, lambda head: struct.unpack_from("<I", head, 68)[0]
        )
    except OSError:
        return None
    m = found.get(ino)
    if m is None or INET_DIAG_SHUTDOWN not in m.attrs:
        return None
    return m.attrs[INET_DIAG_SHUTDOWN][0] & 3


def _poll_shutdown(sk: socket.socket) -> int:
    """What poll shows of sk_shutdown: RCV_SHUTDOWN (POLLRDHUP), both (POLLHUP). A send shutdown alone
    shows nowhere but in sock_diag."""
    p = select.poll()
    p.register(sk.fileno(), select.POLLIN | select.POLLOUT | select.POLLRDHUP)
    ev = dict(p.poll(0)).get(sk.fileno(), 0)
    if ev & select.POLLHUP:
        return 3
    return 1 if ev & select.POLLRDHUP else 0


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    assert fd.sock is not None
    kind = _kind(fd.sock.type, fd.sock.proto)
    if not kind:
        raise UnsupportedError(
            f"{fd.where}: inet socket of type {fd.sock.type}, protocol {fd.sock.proto} is not supported"
        )
    with sockets.dup(fd) as sk:
        if kind in "ul":
            encap = _opt(sk, SOL_UDP, UDP_ENCAP)
            if encap:
                raise UnsupportedError(
                    f"{fd.where}: UDP socket with UDP_ENCAP {encap} (a tunnel's kernel "
                    "decapsulation) is not supported"
                )
        if fd.sock.family == AF_INET:
            ln, _ = sockets.getsockopt_raw(sk.fileno(), SOL_IP, IP_OPTIONS, 40)
            if ln:
                raise UnsupportedError(
                    f"{fd.where}: {_name(kind)} socket with IP_OPTIONS set is not supported"
                )


def dump(ctx: DumpContext, t: Task, fd: Fd, isk: sk_inet_pb2.inet_sk_entry) -> None:
    assert fd.sock is not None
    kind = _kind(isk.type, isk.proto)
    family = isk.family
    with sockets.dup(fd) as sk:
        sockets.dump_opts(sk, isk.opts)
        local = _name_of(sk, False)
        peer = _name_of(sk, True)
        if family == AF_INET6 and any(len(a) > 3 and a[3] for a in (local, peer) if a):
            raise UnsupportedError(
                f"{fd.where}: {_name(kind)} socket with a scoped (link-local) IPv6 address is not supported"
            )
        if local:
            isk.src_addr.extend(_addr_words(family, local[0]))
            isk.src_port = local[1]
        else:
            isk.src_addr.extend(_addr_words(family, "0.0.0.0" if family == AF_INET else "::"))
            isk.src_port = 0
        if peer:
            isk.dst_addr.extend(_addr_words(family, peer[0]))
            isk.dst_port = peer[1]
            isk.state = TCP_ESTABLISHED
        else:
            isk.dst_addr.extend(_addr_words(family, "0.0.0.0" if family == AF_INET else "::"))
            isk.dst_port = 0
            isk.state = TCP_CLOSE
        isk.backlog = 0
        if kind in "pr" and not peer:
            seen = _proc_net(fd.pid, family, kind, isk.ino)
            if seen is not None and seen[4] == TCP_ESTABLISHED:
                del isk.dst_addr[:]
                isk.dst_addr.extend(seen[2])
                isk.dst_port = seen[3]
                isk.state = TCP_ESTABLISHED
        isk.stasis.dgram.uid, isk.stasis.dgram.gid = fd.stat.st_uid, fd.stat.st_gid
        if kind == "p":
            isk.stasis.dgram.ping_ident = isk.src_port
        if family == AF_INET6:
            v6 = _opt(sk, SOL_IPV6, IPV6_V6ONLY)
            if v6 is not None:
                isk.v6only = v6 != 0
        for where, name, level, opt, fams, kinds in _OPTS:
            if family not in fams or not _applies(kinds, kind):
                continue
            v = _opt(sk, level, opt)
            if v is not None:
                _put(_target(isk, where), name, v)
        if family == AF_INET and kind != "r":
            mif = sk.getsockopt(SOL_IP, IP_MULTICAST_IF, 4)
            if mif != bytes(4):
                isk.stasis.dgram.mc_if = mif
        if kind == "r":
            _dump_icmp_filter(sk, isk)
        if kind in "ulr":
            _dump_memberships(fd, sk, isk)
        shut = (
            _diag_shutdown(ctx, sk, family, isk.proto or socket.IPPROTO_UDP, isk.ino)
            if kind in "ul" and local and local[1]
            else None
        )
        if shut is None:
            shut = _poll_shutdown(sk)
        if shut:
            isk.shutdown = shut  # type: ignore[assignment]
        if kind in "ul":
            _dump_corked(fd, sk, isk)
            _dump_queue(ctx, fd, sk, isk, kind)
        elif (
            kind == "p"
            and _rmem(sk)
            and not (ctx.opts.leave_running or isk.opts.stasis.lock_filter or isk.shutdown & 1)
        ):
            _dump_queue(ctx, fd, sk, isk, kind)  # read for real: no SO_PEEK_OFF on ping sockets
        elif _rmem(sk):
            raise UnsupportedError(
                f"{fd.where}: {_name(kind)} socket with data queued to read: its queue "
                "cannot be read past the first packet without consuming it (no "
                "SO_PEEK_OFF on this socket type)"
                + (", and the tree runs on (--leave-running)" if kind == "p" else "")
            )


GF_HEAD = 144  # struct group_filter up to gf_slist (x86_64: interface, pad, sockaddr_storage, mode, count)
SS_SIZE = 128  # struct sockaddr_storage
GF_SOURCES = 64  # sources read per group (the kernel says how many it has)


def _groups_of(pid: int, family: int) -> list[tuple[int, bytes]]:
    """Every (ifindex, group) some socket of the task's network namespace joined: /proc/PID/net/igmp[6]
    list them per device; which of them a socket is in, MCAST_MSFILTER on that socket tells."""
    out: list[tuple[int, bytes]] = []
    try:
        with open(f"/proc/{pid}/net/{'igmp' if family == AF_INET else 'igmp6'}") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    idx = 0
    for line in lines[1 if family == AF_INET else 0 :]:
        w = line.split()
        if family == AF_INET6 and len(w) >= 3:
            out.append((int(w[0]), bytes.fromhex(w[2])))
        elif family == AF_INET and w and not line[0].isspace():
            idx = int(w[0])
        elif family == AF_INET and w:
            out.append((idx, struct.pack("<I", int(w[0], 16))))
    return out


def _sockaddr_of(family: int, addr: bytes) -> bytes:
    if family == AF_INET:
        return (struct.pack("<HH", AF_INET, 0) + addr).ljust(SS_SIZE, b"\0")
    return (struct.pack("<HHI", AF_INET6, 0, 0) + addr).ljust(SS_SIZE, b"\0")


def _msfilter(sk: socket.socket, family: int, ifindex: int, group: bytes) -> tuple[int, list[bytes]] | None:
    """(filter mode, sources) of the socket's membership of group on ifindex; None if not a member."""
    level = SOL_IP if family == AF_INET else SOL_IPV6
    size = GF_HEAD + SS_SIZE * GF_SOURCES
    head = struct.pack("<Ixxxx", ifindex) + _sockaddr_of(family, group) + struct.pack("<II", 0, GF_SOURCES)
    buf = ffi.new("char[]", head + bytes(size - len(head)))  # gf_numsrc in: room for that many
    ln = ffi.new("unsigned int *", size)
    ret = lib.st_syscall(
        nr.getsockopt,
        sk.fileno(),
        level,
        MCAST_MSFILTER,
        int(ffi.cast("long", buf)),
        int(ffi.cast("long", ln)),
        0,
    )
    if ret == -errno.EADDRNOTAVAIL:  # "must have a prior join": not a member
        return None
    if ret < 0:
        raise OSError(-ret, f"MCAST_MSFILTER: {os.strerror(-ret)}")
    raw = bytes(ffi.buffer(buf, size))
    fmode, count = struct.unpack_from("<II", raw, 136)
    if count > GF_SOURCES:
        raise OSError(0, f"more than {GF_SOURCES} sources in a multicast filter")
    off = 4 if family == AF_INET else 8
    n = 4 if family == AF_INET else 16
    return fmode, [raw[GF_HEAD + i * SS_SIZE + off : GF_HEAD + i * SS_SIZE + off + n] for i in range(count)]


def _dump_memberships(fd: Fd, sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    for ifindex, group in _groups_of(fd.pid, isk.family):
        try:
            got = _msfilter(sk, isk.family, ifindex, group)
        except OSError as exc:
            raise UnsupportedError(f"{fd.where}: multicast group: {exc.strerror}") from exc
        if got is not None:
            isk.stasis.dgram.mc.add(ifindex=ifindex, group=group, fmode=got[0], sources=got[1])


def _restore_memberships(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, what: str) -> None:
    level = SOL_IP if isk.family == AF_INET else SOL_IPV6
    for m in isk.stasis.dgram.mc:
        req = struct.pack("<Ixxxx", m.ifindex) + _sockaddr_of(isk.family, m.group)
        try:
            sk.setsockopt(level, MCAST_JOIN_GROUP, req)
            if m.fmode != 0 or m.sources:  # not a plain join: the filter as it was
                gf = req + struct.pack("<II", m.fmode, len(m.sources))
                gf += b"".join(_sockaddr_of(isk.family, a) for a in m.sources)
                if len(gf) > 1024:
                    raise OSError(errno.E2BIG, "a multicast filter too big to set here")
                sk.setsockopt(level, MCAST_MSFILTER, gf)
        except OSError as exc:
            grp = socket.inet_ntop(isk.family, m.group)
            raise RestoreError(
                f"{what}: joining multicast group {grp} on interface {m.ifindex}: {exc.strerror}"
            ) from exc


def _dump_icmp_filter(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    if isk.proto == socket.IPPROTO_ICMP and isk.family == AF_INET:
        try:
            (mask,) = struct.unpack("<I", sk.getsockopt(SOL_RAW, ICMP_FILTER, 4))
        except OSError:
            return
        if mask:
            isk.ip_opts.raw.icmpv_filter.append(mask)
    elif isk.proto == socket.IPPROTO_ICMPV6 and isk.family == AF_INET6:
        words = struct.unpack("<8I", sk.getsockopt(socket.IPPROTO_ICMPV6, ICMPV6_FILTER, 32))
        if any(words):
            isk.ip_opts.raw.icmpv_filter.extend(words)


def _dump_corked(fd: Fd, sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    """A datagram being built (UDP_CORK or MSG_MORE) is in the socket's write queue, which nothing reads
    back: refused. A datagram just sent is out of the write accounting once delivered: wait for it."""
    for _ in range(SETTLE_TRIES):
        if _outq(sk) == 0:
            return
        time.sleep(SETTLE_S)
    raise UnsupportedError(
        f"{fd.where}: UDP socket with a corked datagram not sent yet (UDP_CORK or MSG_MORE; {_outq(sk)} "
        "bytes of send buffer): its pending data cannot be read back"
    )


def _read_all(fd: Fd, sk: socket.socket, family: int, peek: bool, out: list[tuple[bytes, bytes]]) -> None:
    """Every datagram of the receive queue with its sender's struct sockaddr, added to `out`: peeked
    (SO_PEEK_OFF set) or read."""
    while len(out) < PEEK_LIMIT:
        try:
            data, _, flags, addr = sk.recvmsg(
                MAX_DGRAM, 0, (socket.MSG_PEEK if peek else 0) | socket.MSG_DONTWAIT
            )
        except BlockingIOError:
            return
        except OSError as exc:
            # a pending error (an ICMP error on a connected socket) comes before the data, and reading
            # it clears it: nothing reads it without consuming it
            raise UnsupportedError(
                f"{fd.where}: a pending socket error ({exc.strerror}) came before the "
                "queued datagrams; it cannot be kept"
            ) from exc
        if flags & socket.MSG_TRUNC:
            raise UnsupportedError(f"{fd.where}: a queued datagram is larger than {MAX_DGRAM} bytes")
        if not addr:
            raise UnsupportedError(f"{fd.where}: a queued datagram has no sender address")
        out.append((data, sockaddr_bytes(family, addr)))
    raise UnsupportedError(f"{fd.where}: more than {PEEK_LIMIT} datagrams queued")


def _dump_queue(
    ctx: DumpContext, fd: Fd, sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, kind: str
) -> None:
    """The receive queue, in sk-queues.img. A dump that kills the tree reads it for real (and queues it
    again in dump_done if the tree runs on after all): peeking is exact except for an empty datagram,
    which a peek marks as peeked and a peek with SO_PEEK_OFF then skips, so that a second dump of a tree
    left running, or one whose program had peeked it, would not see it. A dump that leaves the tree
    running, and a socket whose filter is locked or that is shut for reading (where a datagram queued
    again could be judged anew) are peeked."""
    if not _rmem(sk):
        return
    old = isk.opts.stasis.peek_off if isk.opts.stasis.HasField("peek_off") else -1
    # a member of a SO_REUSEPORT group: queued again into the live group, its hash would pick the member
    peek = kind != "p" and bool(
        ctx.opts.leave_running or isk.opts.stasis.lock_filter or isk.shutdown & 1 or isk.opts.so_reuseport
    )
    got: list[tuple[bytes, bytes]] = []
    if not peek:
        ctx.files.state(DgramDump).taken.append((os.dup(sk.fileno()), isk, got, old))
    try:
        if peek:
            sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, 0)
    except OSError as exc:
        raise UnsupportedError(
            f"{fd.where}: {_name(kind)} socket with data queued: SO_PEEK_OFF: {exc.strerror}"
        ) from exc
    try:
        # a datagram the tree sent just before it stopped may still be on its way through the
        # loopback's softirq: read until the queue stays the same
        for _ in range(SETTLE_TRIES):
            before = _rmem(sk)
            if peek:
                got.clear()
            _read_all(fd, sk, isk.family, peek, got)
            time.sleep(SETTLE_S)
            if _rmem(sk) == (before if peek else 0):
                break
            if peek:
                sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, 0)
        else:
            raise UnsupportedError(
                f"{fd.where}: {_name(kind)} socket whose queue keeps growing while the "
                "tree is stopped (a sender outside the tree)"
            )
    finally:
        if peek:
            sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, old)
    q = skqueue.queues(ctx)
    for data, addr in got:
        q.add(isk.id, data).stasis.addr = addr


def dump_done(ctx: DumpContext, kill: bool) -> None:
    """The queues read for real go back into their sockets if the tree runs on (from their senders, as
    at restore, the filter set aside meanwhile: they passed it once), with SO_PEEK_OFF as it was."""
    st = ctx.files.state(DgramDump)
    taken, st.taken = st.taken, []
    first: Exception | None = None
    for dupfd, isk, got, peek_off in taken:
        sk = socket.socket(fileno=dupfd)
        try:
            if kill or not got:
                continue
            packets = []
            for data, addr in got:
                e = sk_packet_pb2.sk_packet_entry(id_for=isk.id, length=len(data))
                e.stasis.addr = addr
                packets.append(skqueue.Packet(e, data))
            if isk.opts.so_filter:
                sk.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
            try:
                drops = _drops(sk)
                _refill(sk, isk, packets)
                _delivered(sk, isk, packets, drops)
            finally:
                if isk.opts.so_filter:
                    sockets.set_filter(sk, list(isk.opts.so_filter))
                if _kind(isk.type, isk.proto) in "ul":
                    sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, peek_off)
        except Exception as exc:  # noqa: BLE001 - every other socket still gets its queue back
            first = first or exc
        finally:
            sk.close()
    if first is not None:
        raise DumpError(f"queueing the datagrams read by the dump again: {first}") from first


# -- restore ---------------------------------------------------------------------------------------


@record
class DgramRestore:
    """Sockets whose queue and filter are set in restore_done: (file id, engine fd, entry)."""

    pending: list[tuple[int, int, sk_inet_pb2.inet_sk_entry]] = field(default_factory=list)
    # SO_REUSEPORT groups by (family, protocol, address, port): their members' fds in the order they were
    # bound, which is their order in the kernel's group (a reuseport program's index)
    groups: dict[tuple[int, int, str, int], list[int]] = field(default_factory=dict)

    def group_of(self, fd: int) -> list[int]:
        return next((g for g in self.groups.values() if fd in g), [])


def _set(sk: socket.socket, level: int, opt: int, value: int | bytes, what: str, isk_id: int) -> None:
    try:
        sk.setsockopt(level, opt, value)
    except OSError as exc:
        raise RestoreError(f"inet socket {isk_id}: {what}: {exc.strerror}") from exc


def _restore_ip_opts(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, kind: str) -> None:
    for where, name, level, opt, fams, kinds in _OPTS:
        if isk.family not in fams or not _applies(kinds, kind):
            continue
        msg = _target(isk, where)
        if (
            where == "ip"
            and not isk.HasField("ip_opts")
            or where == "raw"
            and not isk.ip_opts.HasField("raw")
        ):
            continue
        if where == "x" and not isk.HasField("stasis") or where == "d" and not isk.stasis.HasField("dgram"):
            continue
        if not msg.HasField(name):
            continue
        want = int(getattr(msg, name))
        have = _opt(sk, level, opt)
        if have is not None and (have & 0xFFFFFFFF) == (want & 0xFFFFFFFF):
            continue
        if name == "udp_cork":
            continue  # last, once the socket is bound and connected
        _set(sk, level, opt, want if want < 1 << 31 else want - (1 << 32), name, isk.id)
    d = isk.stasis.dgram
    if d.HasField("mc_if"):
        _set(sk, SOL_IP, IP_MULTICAST_IF, d.mc_if, "IP_MULTICAST_IF", isk.id)
    raw = isk.ip_opts.raw
    if raw.icmpv_filter:
        if isk.family == AF_INET:
            _set(sk, SOL_RAW, ICMP_FILTER, struct.pack("<I", raw.icmpv_filter[0]), "ICMP_FILTER", isk.id)
        else:
            words = (list(raw.icmpv_filter) + [0] * 8)[:8]
            _set(
                sk, socket.IPPROTO_ICMPV6, ICMPV6_FILTER, struct.pack("<8I", *words), "ICMPV6_FILTER", isk.id
            )


def open_(ctx: RestoreContext, isk: sk_inet_pb2.inet_sk_entry) -> int:
    kind = _kind(isk.type, isk.proto)
    if not kind:
        raise RestoreError(f"inet socket {isk.id}: type {isk.type}, protocol {isk.proto} is not supported")
    what = f"{_name(kind)} socket {isk.id}"
    sk = _new_ping(isk, what) if kind == "p" else sockets.new_socket(isk.family, isk.type, isk.proto, what)
    try:
        _open(ctx, sk, isk, kind, what)
        fcntl.fcntl(sk.fileno(), F_SETFL, isk.flags & O_NONBLOCK)
    except BaseException:
        sk.close()
        raise
    fd = sk.detach()
    queued = skqueue.queues(ctx).of(isk.id)
    if queued or isk.opts.so_filter or isk.opts.stasis.lock_filter or isk.stasis.udp_cork:
        ctx.files.state(DgramRestore).pending.append((isk.id, fd, isk))
    return fd


def _open(
    ctx: RestoreContext, sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, kind: str, what: str
) -> None:
    d = isk.stasis.dgram
    if d.HasField("uid"):
        owner(sk, d.uid, d.gid, what)
    opts = sk_opts_pb2.sk_opts_entry()
    opts.CopyFrom(isk.opts)
    del opts.so_filter[:]  # the filter and its lock once the queue is refilled (restore_done)
    opts.stasis.ClearField("lock_filter")
    try:
        sockets.restore_opts(sk, opts)
    except RestoreError as exc:
        raise RestoreError(f"{what}: {exc}") from exc
    fam = isk.family
    if fam == AF_INET6 and isk.HasField("v6only") and bool(_opt(sk, SOL_IPV6, IPV6_V6ONLY)) != isk.v6only:
        _set(sk, SOL_IPV6, IPV6_V6ONLY, int(isk.v6only), "IPV6_V6ONLY", isk.id)
    _restore_ip_opts(sk, isk, kind)
    _restore_memberships(sk, isk, what)
    # IP_TOS and IPV6_TCLASS set the priority too: the program's SO_PRIORITY, if it set one after them
    if (
        isk.opts.HasField("so_priority")
        and _opt(sk, socket.SOL_SOCKET, socket.SO_PRIORITY) != isk.opts.so_priority
    ):
        _set(sk, socket.SOL_SOCKET, socket.SO_PRIORITY, isk.opts.so_priority, "SO_PRIORITY", isk.id)
    src = _addr_host(fam, list(isk.src_addr))
    port = isk.src_port if kind != "r" else 0
    if port or ipaddress.ip_address(src) != ipaddress.ip_address("0.0.0.0" if fam == AF_INET else "::"):
        try:
            sockets.bind_nonlocal(sk, (src, port))
        except OSError as exc:
            raise RestoreError(f"{what}: bind to {src} port {port}: {exc.strerror}") from exc
        if isk.opts.so_reuseport and kind in "ul":
            key = (fam, isk.proto, src, port)
            ctx.files.state(DgramRestore).groups.setdefault(key, []).append(sk.fileno())
    if isk.state == TCP_ESTABLISHED:
        dst = _addr_host(fam, list(isk.dst_addr))
        try:
            sk.connect((dst, isk.dst_port))
        except OSError as exc:
            raise RestoreError(f"{what}: connect to {dst} port {isk.dst_port}: {exc.strerror}") from exc
    local = _name_of(sk, False)
    if (isk.src_port or isk.state == TCP_ESTABLISHED) and kind != "r" and local is not None:
        have = (_addr_words(fam, local[0]), local[1])
        if have != (list(isk.src_addr), isk.src_port):
            raise RestoreError(
                f"{what}: bound to {local[0]} port {local[1]} instead of {src} port {isk.src_port}"
            )
    if not skqueue.queues(ctx).of(isk.id):  # else once the queue is refilled
        _shutdown(sk, isk, what)


def _shutdown(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, what: str) -> None:
    if isk.HasField("shutdown") and isk.shutdown:
        try:
            sk.shutdown(sockets.shutdown_of(isk.shutdown))
        except OSError as exc:
            if exc.errno != errno.ENOTCONN:  # an unconnected socket is shut down all the same
                raise RestoreError(f"{what}: shutdown: {exc.strerror}") from exc


@contextmanager
def _egid(gid: int) -> Iterator[None]:
    """This thread's effective gid (a raw setresgid: libc's would change every thread of the engine)."""
    old = os.getegid()
    ret = lib.st_syscall(nr.setresgid, -1, gid, -1, 0, 0, 0)
    if ret < 0:
        raise OSError(-ret, f"setresgid(-1, {gid}, -1): {os.strerror(-ret)}")
    try:
        yield
    finally:
        lib.st_syscall(nr.setresgid, -1, old, -1, 0, 0, 0)


def _new_ping(isk: sk_inet_pb2.inet_sk_entry, what: str) -> socket.socket:
    """A ping socket: net.ipv4.ping_group_range must hold the creator's group. The engine's (root's) may
    not be in it where the program's is: then made with the program's group (the socket's gid)."""
    try:
        return sockets.new_socket(isk.family, isk.type, isk.proto, what)
    except RestoreError as exc:
        d = isk.stasis.dgram
        if not isinstance(exc.__cause__, PermissionError) or not d.HasField("gid") or d.gid == os.getegid():
            raise
    try:
        with _egid(d.gid):
            return sockets.new_socket(isk.family, isk.type, isk.proto, what)
    except OSError as exc:
        raise RestoreError(f"{what}: {exc.strerror}") from exc


def owner(sk: socket.socket, uid: int, gid: int, what: str) -> None:
    """The socket's owner as it was (the engine makes every socket as root): its inode's uid and gid, and
    with the uid the socket's own (sk_uid: /proc/net tables, SO_REUSEPORT groups, uid routing rules)."""
    st = os.fstat(sk.fileno())
    if (st.st_uid, st.st_gid) != (uid, gid):
        try:
            os.fchown(sk.fileno(), uid, gid)
        except OSError as exc:
            raise RestoreError(f"{what}: owner {uid}:{gid}: {exc.strerror}") from exc


# -- refilling receive queues ----------------------------------------------------------------------


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _udp_packet(
    family: int, proto: int, src: bytes, sport: int, dst: bytes, dport: int, data: bytes
) -> bytes:
    """The whole IP packet of one datagram: IP header, UDP (or UDP-Lite, full coverage) header, data."""
    ln = 8 + len(data)
    if family == AF_INET:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, ln)
    else:
        pseudo = src + dst + struct.pack("!IxxxB", ln, proto)
    head = struct.pack("!HHHH", sport, dport, ln if proto == socket.IPPROTO_UDP else 0, 0)
    c = _csum(pseudo + head + data) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, ln if proto == socket.IPPROTO_UDP else 0, c) + data
    if family == AF_INET:
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, proto, 0, src, dst) + udp
    return struct.pack("!IHBB16s16s", 6 << 28, len(udp), proto, 64, src, dst) + udp


def _icmp_packet(family: int, src: bytes, dst: bytes, msg: bytes) -> bytes:
    """The whole IP packet of an ICMP (ICMPv6) message as a ping socket received it (its header with the
    socket's echo id, then the data), its checksum made for this source and destination."""
    if len(msg) < 8:
        raise RestoreError(f"a queued ICMP message of {len(msg)} bytes")
    body = msg[:2] + b"\0\0" + msg[4:]
    if family == AF_INET:
        c = _csum(body)
        icmp = body[:2] + struct.pack("!H", c) + body[4:]
        return (
            struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, socket.IPPROTO_ICMP, 0, src, dst)
            + icmp
        )
    c = _csum(src + dst + struct.pack("!IxxxB", len(body), socket.IPPROTO_ICMPV6) + body)
    icmp = body[:2] + struct.pack("!H", c) + body[4:]
    return struct.pack("!IHBB16s16s", 6 << 28, len(icmp), socket.IPPROTO_ICMPV6, 64, src, dst) + icmp


def _mapped_v4(addr: bytes) -> bytes | None:
    return addr[12:] if addr[:12] == bytes(10) + b"\xff\xff" else None


def _refill(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, packets: list[skqueue.Packet]) -> None:
    """Send every datagram again from its sender to the socket, through the engine's raw sockets."""
    what = f"{_name(_kind(isk.type, isk.proto))} socket {isk.id}"
    local = sk.getsockname()
    lfam, laddr = isk.family, socket.inet_pton(isk.family, local[0].partition("%")[0])
    proto = isk.proto or socket.IPPROTO_UDP
    raws: dict[int, socket.socket] = {}
    nsfd = sockets.netns_fd(sk)
    try:
        for p in packets:
            if not p.entry.stasis.HasField("addr"):
                raise RestoreError(f"{what}: a queued datagram has no sender address in sk-queues.img")
            try:
                sfam, saddr, sport = sockaddr_parse(p.entry.stasis.addr)
            except ValueError as exc:
                raise RestoreError(f"{what}: {exc}") from exc
            fam, daddr = lfam, laddr
            if sfam == AF_INET6 and lfam == AF_INET6:
                v4 = _mapped_v4(saddr)
                if v4 is not None:  # came over IPv4 to a dual-stack socket
                    fam, saddr = AF_INET, v4
                    daddr = _mapped_v4(laddr) or bytes(4)
            if fam == AF_INET and daddr == bytes(4):
                daddr = socket.inet_pton(AF_INET, "127.0.0.1")
            if fam == AF_INET6 and daddr == bytes(16):
                daddr = socket.inet_pton(AF_INET6, "::1")
            if fam not in raws:
                with sockets.in_netns(nsfd):
                    raws[fam] = sockets.new_socket(
                        fam, socket.SOCK_RAW, socket.IPPROTO_RAW, f"{what}: the socket refilling its queue"
                    )
                    raws[fam].setsockopt(socket.SOL_SOCKET, socket.SO_MARK, SOCCR_MARK)  # through the lock
            if isk.type == socket.SOCK_DGRAM and proto in (socket.IPPROTO_ICMP, socket.IPPROTO_ICMPV6):
                pkt = _icmp_packet(fam, saddr, daddr, p.data)
            else:
                pkt = _udp_packet(fam, proto, saddr, sport, daddr, local[1], p.data)
            try:
                raws[fam].sendto(pkt, (socket.inet_ntop(fam, daddr), 0))
            except OSError as exc:
                raise RestoreError(f"{what}: sending a queued datagram again: {exc.strerror}") from exc
    finally:
        for r in raws.values():
            r.close()
        os.close(nsfd)


def _count(sk: socket.socket, limit: int) -> int:
    old = _opt(sk, socket.SOL_SOCKET, SO_PEEK_OFF)
    sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, 0)
    n = 0
    try:
        while n <= limit:
            try:
                sk.recv(MAX_DGRAM, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            n += 1
    finally:
        sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, old if old is not None and old < 1 << 31 else -1)
    return n


def _drops(sk: socket.socket) -> int:
    buf = sk.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * 9)
    return struct.unpack_from("<I", buf, 4 * SK_MEMINFO_DROPS)[0]


def _delivered(
    sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, packets: list[skqueue.Packet], drops: int
) -> None:
    """Every datagram sent again is in the queue (loopback delivery finishes in a softirq). Counted by
    peeking, unless a datagram is empty: peeking marks an empty datagram as peeked, and a peek with
    SO_PEEK_OFF skips a peeked empty datagram (the next dump would not see it); then the queue must
    stop growing without a drop."""
    what = f"inet socket {isk.id}"
    n, last = 0, -1
    exact = _kind(isk.type, isk.proto) in "ul" and all(p.data for p in packets)
    for _ in range(500):
        if exact:
            n = _count(sk, len(packets))
            if n >= len(packets):
                break
        else:
            now = _rmem(sk)
            if now == last and now:
                break
            last = now
        time.sleep(0.002)
    if _drops(sk) != drops:
        raise RestoreError(
            f"{what}: {_drops(sk) - drops} of the queued datagrams were dropped when sent again"
        )
    if not exact and not _rmem(sk):
        raise RestoreError(f"{what}: none of the {len(packets)} queued datagrams arrived when sent again")
    if exact and n != len(packets):
        raise RestoreError(
            f"{what}: {n} of {len(packets)} queued datagrams arrived when they were sent again"
        )


def _steer(sk: socket.socket, index: int, isk: sk_inet_pb2.inet_sk_entry) -> None:
    """A classic BPF reuseport program on the socket's group that gives every datagram to member `index`
    (a program the tree had attached there cannot be read back, so none is restored)."""
    prog = sockets.SOCK_FILTER.pack(0x06, 0, 0, index)  # BPF_RET | BPF_K, index
    buf = ffi.new("char[]", prog)
    fprog = ffi.new("char[16]", struct.pack("<HxxxxxxQ", 1, int(ffi.cast("long", buf))))
    ret = lib.st_syscall(
        nr.setsockopt,
        sk.fileno(),
        socket.SOL_SOCKET,
        SO_ATTACH_REUSEPORT_CBPF,
        int(ffi.cast("long", fprog)),
        16,
        0,
    )
    if ret < 0:
        raise RestoreError(f"inet socket {isk.id}: SO_ATTACH_REUSEPORT_CBPF: {os.strerror(-ret)}")


def restore_done(ctx: RestoreContext) -> None:
    st = ctx.files.state(DgramRestore)
    for fid, fd, isk in st.pending:
        sk = socket.socket(fileno=fd)
        try:
            packets = skqueue.queues(ctx).of(fid)
            if packets:
                drops = _drops(sk)
                group = st.group_of(fd)
                if len(group) > 1:  # the group's hash would pick a member: a program picks this one
                    _steer(sk, group.index(fd), isk)
                try:
                    _refill(sk, isk, packets)
                    _delivered(sk, isk, packets, drops)
                finally:
                    if len(group) > 1:
                        _set(sk, socket.SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0, "reuseport program", isk.id)
            if packets:
                _shutdown(sk, isk, f"inet socket {isk.id}")
            if isk.opts.so_filter:
                try:
                    sockets.set_filter(sk, list(isk.opts.so_filter))
                except OSError as exc:
                    raise RestoreError(f"inet socket {isk.id}: socket filter: {exc.strerror}") from exc
            if isk.opts.stasis.lock_filter:
                _set(sk, socket.SOL_SOCKET, sockets.SO_LOCK_FILTER, 1, "SO_LOCK_FILTER", isk.id)
            if isk.stasis.udp_cork:
                _set(sk, SOL_UDP, UDP_CORK, 1, "UDP_CORK", isk.id)
        finally:
            sk.detach()
    st.pending.clear()


OBJECT = KernelObject("dgram sockets", dump_done=dump_done, restore_done=restore_done)
