"""TCP_REPAIR: an established connection read from outside (on the engine's dup of the task's socket) and
rebuilt at restore (sockets-namespaces.md §3.2, §3.5).

Dump: repair on (the socket stops sending; the owner, frozen, would see send EINVAL/recv EPERM), TCP_INFO,
queue lengths, MSS, timestamp, window; each queue read with MSG_PEEK under its TCP_REPAIR_QUEUE, then no
queue selected again (a selected RECV queue would take the owner's sends as received data).
Half-closed: a FIN takes a sequence number but no byte. Our FIN (FIN_WAIT1/2, CLOSING, LAST_ACK) is in
write_seq and, while unacknowledged, in SIOCOUTQ (and in SIOCOUTQNSD while unsent): the image's outq_len
and unsq_len count bytes only, outq_seq keeps it, as CRIU writes them. The peer's FIN (CLOSE_WAIT,
LAST_ACK, CLOSING) is in rcv_nxt = inq_seq. At restore both are taken off the sequence numbers, the
connection is rebuilt ESTABLISHED and the FINs come again: ours by shutdown(SHUT_WR) after the tail, the
peer's by the peer when it is restored with us, else by a segment made as the peer's (peer_fin), as
libsoccr does.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from functools import cache
from typing import TYPE_CHECKING

from engine.abi.consts import (
    SIOCINQ,
    SIOCOUTQ,
    SIOCOUTQNSD,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_FIN_WAIT1,
    TCP_FIN_WAIT2,
    TCP_LAST_ACK,
    TCP_NO_QUEUE,
    TCP_QUEUE_SEQ,
    TCP_RECV_QUEUE,
    TCP_REPAIR,
    TCP_REPAIR_OPTIONS,
    TCP_REPAIR_QUEUE,
    TCP_REPAIR_WINDOW,
    TCP_SEND_QUEUE,
    TCP_SYN_SENT,
    TCP_TIMESTAMP,
    TCPI_OPT_SACK,
    TCPI_OPT_TIMESTAMPS,
    TCPI_OPT_WSCALE,
    TCPOPT_MAXSEG,
    TCPOPT_SACK_PERM,
    TCPOPT_TIMESTAMP,
    TCPOPT_WINDOW,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import sk_inet_pb2, sk_opts_pb2, tcp_stream_pb2
from engine.objects.files import inet, sockets
from engine.record import record

if TYPE_CHECKING:
    from engine.objects.files.kind import Fd

SOL_TCP = socket.IPPROTO_TCP
OUR_FIN_STATES = (TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSING, TCP_LAST_ACK)
OUR_FIN_UNACKED = (TCP_FIN_WAIT1, TCP_CLOSING, TCP_LAST_ACK)
PEER_FIN_STATES = (TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING)
WINDOW = struct.Struct("<5I")  # struct tcp_repair_window
REPAIR_OPT = struct.Struct("<II")  # struct tcp_repair_opt { u32 opt_code; u32 opt_val; }
# tcp_info: state .. options, wscales, .., rto, ato, snd_mss, rcv_mss, unacked, sacked
TCPI_HEAD = struct.Struct("<8BIIIIII")
BIG_BUF = 4 << 20  # buffers while the queues are refilled (the dumped sizes come back in restore_done)


@record(frozen=True)
class TcpInfo:
    state: int
    options: int
    snd_wscale: int
    rcv_wscale: int
    unacked: int  # a listener: connections in its accept queue
    sacked: int  # a listener: its backlog


def tcp_info(sk: socket.socket) -> TcpInfo:
    raw = sk.getsockopt(SOL_TCP, socket.TCP_INFO, 104)
    f = TCPI_HEAD.unpack_from(raw)
    return TcpInfo(f[0], f[5], f[6] & 0xF, f[6] >> 4, f[12], f[13])


@cache
def has_repair() -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(SOL_TCP, TCP_REPAIR, 1)
            s.setsockopt(SOL_TCP, TCP_REPAIR, 0)
        return True
    except OSError:
        return False


@cache
def has_repair_window() -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(SOL_TCP, TCP_REPAIR, 1)
            s.getsockopt(SOL_TCP, TCP_REPAIR_WINDOW, WINDOW.size)
        return True
    except OSError:
        return False


def check_kernel(where: str) -> None:
    if not has_repair():
        raise UnsupportedError(f"{where}: TCP connection: the kernel refuses TCP_REPAIR (CONFIG_CHECKPOINT_"
                               "RESTORE, or CAP_NET_ADMIN over the socket's network namespace, is missing)")


def _ioctl_int(sk: socket.socket, req: int) -> int:
    return struct.unpack("<i", fcntl.ioctl(sk.fileno(), req, b"\0\0\0\0"))[0]


def _u32(v: int) -> int:
    return v & 0xFFFFFFFF


def _b32(v: int) -> bytes:
    """A u32 option value (Python's setsockopt takes a C int only)."""
    return struct.pack("<I", _u32(v))


# -- dump ------------------------------------------------------------------------------------------

@record
class Repaired:
    """The engine's dup of a socket it put in repair mode, and what leaving repair resets."""

    sk: socket.socket
    reuseaddr: int
    where: str


def repair_on(fd: Fd) -> Repaired:
    sk = socket.socket(fileno=getfd(fd.pid, fd.num))
    try:
        reuse = sk.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        sk.setsockopt(SOL_TCP, TCP_REPAIR, 1)
    except OSError as exc:
        sk.close()
        raise UnsupportedError(f"{fd.where}: TCP_REPAIR: {exc.strerror}") from exc
    return Repaired(sk, reuse, fd.where)


def repair_off(rep: Repaired) -> None:
    """The socket as the tree left it: no queue selected, repair off (a window probe goes out), the
    SO_REUSEADDR that leaving repair resets."""
    sk = rep.sk
    sk.setsockopt(SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE)
    sk.setsockopt(SOL_TCP, TCP_REPAIR, 0)
    if sk.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != rep.reuseaddr:
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, rep.reuseaddr)


def _peek(sk: socket.socket, queue: int, length: int, where: str, what: str) -> tuple[int, bytes]:
    sk.setsockopt(SOL_TCP, TCP_REPAIR_QUEUE, queue)
    try:
        seq = _u32(sk.getsockopt(SOL_TCP, TCP_QUEUE_SEQ))
        data = b""
        if length:
            data = sk.recv(length + 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        if len(data) != length:
            raise UnsupportedError(f"{where}: TCP {what} queue: read {len(data)} bytes, expected {length}")
        return seq, data
    finally:
        sk.setsockopt(SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE)


def read_stream(sk: socket.socket, state: int, where: str) -> tuple[tcp_stream_pb2.tcp_stream_entry, bytes]:
    """The connection's tcp_stream_entry and its queues (receive queue, then send queue)."""
    try:
        info = tcp_info(sk)
        inq = _ioctl_int(sk, SIOCINQ)
        outq = _ioctl_int(sk, SIOCOUTQ)
        unsq = _ioctl_int(sk, SIOCOUTQNSD)
        if state == TCP_SYN_SENT and outq > 0:
            outq -= 1  # our SYN, not a byte
        if state in OUR_FIN_UNACKED and outq > 0:
            outq -= 1  # our FIN, not a byte
            if unsq > 0:
                unsq -= 1
        e = tcp_stream_pb2.tcp_stream_entry(inq_len=inq, outq_len=outq, unsq_len=unsq, opt_mask=info.options,
                                            snd_wscale=info.snd_wscale, rcv_wscale=info.rcv_wscale)
        e.mss_clamp = sk.getsockopt(SOL_TCP, socket.TCP_MAXSEG)
        if info.options & TCPI_OPT_TIMESTAMPS:
            e.timestamp = _u32(sk.getsockopt(SOL_TCP, TCP_TIMESTAMP))
        if has_repair_window() and state != TCP_SYN_SENT:
            e.snd_wl1, e.snd_wnd, e.max_window, e.rcv_wnd, e.rcv_wup = WINDOW.unpack(
                sk.getsockopt(SOL_TCP, TCP_REPAIR_WINDOW, WINDOW.size))
        e.inq_seq, rq = _peek(sk, TCP_RECV_QUEUE, inq, where, "receive")
        e.outq_seq, sq = _peek(sk, TCP_SEND_QUEUE, outq, where, "send")
    except OSError as exc:
        raise UnsupportedError(f"{where}: reading the TCP connection in repair mode: {exc.strerror}") from exc
    return e, rq + sq


# -- restore ---------------------------------------------------------------------------------------

def _set(sk: socket.socket, opt: int, value: int | bytes, what: str, level: int = SOL_TCP) -> None:
    try:
        sk.setsockopt(level, opt, value)
    except OSError as exc:
        raise RestoreError(f"{what}: {exc.strerror}") from exc


def restore_stream(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, e: tcp_stream_pb2.tcp_stream_entry,
                   data: bytes, what: str) -> bytes:
    """The connection rebuilt in repair mode (left on: restore_done turns it off); returns the tail of
    the send queue that had never been sent, for restore_done to send."""
    if len(data) != e.inq_len + e.outq_len:
        raise RestoreError(f"{what}: the stream image holds {len(data)} bytes, its entry says "
                           f"{e.inq_len} + {e.outq_len}")
    if e.unsq_len > e.outq_len:
        raise RestoreError(f"{what}: {e.unsq_len} unsent bytes of a {e.outq_len} byte send queue")
    our_fin = isk.state in OUR_FIN_STATES
    peer_fin = isk.state in PEER_FIN_STATES
    rq, sq = data[:e.inq_len], data[e.inq_len:]
    _set(sk, TCP_REPAIR, 1, "TCP_REPAIR")
    # the dumped buffer sizes before connect: the kernel derives the windows it offers (rcv_ssthresh,
    # window_clamp) from the receive buffer then; a send buffer too small for the queue is made bigger
    # (restore_done sets the dumped size again)
    sockets.restore_bufs(sk, isk.opts)
    if len(sq) * 2 + 65536 > isk.opts.so_sndbuf:
        _set(sk, sockets.SO_SNDBUFFORCE, max(BIG_BUF, len(sq) * 4), "SO_SNDBUFFORCE", socket.SOL_SOCKET)
    freebind = sk.family == socket.AF_INET6 and not isk.ip_opts.freebind
    if freebind:  # an IPv6 address still in DAD could not be bound
        _set(sk, 78, 1, "IPV6_FREEBIND", socket.IPPROTO_IPV6)
    inet.bind_inet(sk, isk, what)
    if freebind:
        _set(sk, 78, 0, "IPV6_FREEBIND", socket.IPPROTO_IPV6)
    _set(sk, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE")
    _set(sk, TCP_QUEUE_SEQ, _b32(e.inq_seq - peer_fin - e.inq_len), "TCP_QUEUE_SEQ (receive)")
    _set(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE")
    _set(sk, TCP_QUEUE_SEQ, _b32(e.outq_seq - our_fin - e.outq_len), "TCP_QUEUE_SEQ (send)")
    dst = inet.entry_to_sockaddr(isk, src=False)
    try:
        sk.connect(dst)
    except OSError as exc:
        raise RestoreError(f"{what}: connect in repair mode to {dst[0]} port {dst[1]}: "
                           f"{exc.strerror}") from exc
    opts = b""
    if e.opt_mask & TCPI_OPT_SACK:
        opts += REPAIR_OPT.pack(TCPOPT_SACK_PERM, 0)
    if e.opt_mask & TCPI_OPT_WSCALE:
        opts += REPAIR_OPT.pack(TCPOPT_WINDOW, e.snd_wscale | e.rcv_wscale << 16)
    if e.opt_mask & TCPI_OPT_TIMESTAMPS:
        opts += REPAIR_OPT.pack(TCPOPT_TIMESTAMP, 0)
    opts += REPAIR_OPT.pack(TCPOPT_MAXSEG, e.mss_clamp)
    _set(sk, TCP_REPAIR_OPTIONS, opts, "TCP_REPAIR_OPTIONS")
    if e.opt_mask & TCPI_OPT_TIMESTAMPS:
        _set(sk, TCP_TIMESTAMP, _b32(e.timestamp), "TCP_TIMESTAMP")
    sent = e.outq_len - e.unsq_len
    try:
        _set(sk, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE")
        if rq:
            sockets.retry_nomem(lambda b: sk.send(b, socket.MSG_DONTWAIT), rq)
        _set(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE")
        if sent:
            sockets.retry_nomem(lambda b: sk.send(b, socket.MSG_DONTWAIT), sq[:sent])
    except OSError as exc:
        raise RestoreError(f"{what}: refilling its queues ({e.inq_len} received, {sent} sent bytes): "
                           f"{exc.strerror}") from exc
    _set(sk, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, "TCP_REPAIR_QUEUE")
    if e.HasField("snd_wnd"):
        rcv_wup, rcv_wnd = e.rcv_wup, e.rcv_wnd
        if peer_fin:
            rcv_wup, rcv_wnd = _u32(rcv_wup - 1), rcv_wnd + 1
        # As dumped. The segment size (mss_cache) stays the one fixed at connect (536-byte default, before
        # TCP_REPAIR_OPTIONS gave the MSS) until an ACK opens the window past max_window, as with criu:
        # lowering snd_wnd/max_window to force that broke connections whose window was closed (stalls)
        _set(sk, TCP_REPAIR_WINDOW, WINDOW.pack(e.snd_wl1, e.snd_wnd, e.max_window, rcv_wnd, rcv_wup),
             "TCP_REPAIR_WINDOW")
    return sq[sent:]


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def peer_fin(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, e: tcp_stream_pb2.tcp_stream_entry,
             what: str) -> None:
    """The FIN the peer had sent, made again for a connection whose peer is not dumped (CLOSE_WAIT, LAST_ACK,
    CLOSING): one hand-built segment from the peer's address and port through a raw socket, at the
    sequence number the restored socket expects (its rcv_nxt is the FIN's), acknowledging what the peer
    had acknowledged; with a timestamp option of value 0 where timestamps are on (it passes PAWS and
    leaves ts_recent unset, so the peer's real timestamps are taken afterwards). Marked SOCCR_MARK, which
    the network lock lets through. The peer already has its FIN acknowledged: the restored socket's ACK of
    it is a duplicate it ignores."""
    from engine.abi.consts import SOCCR_MARK

    local = inet.entry_to_sockaddr(isk)
    peer = inet.entry_to_sockaddr(isk, src=False)
    fin_seq = _u32(e.inq_seq - 1)
    # what the peer acknowledges: the restored socket's snd_una (our own FIN, if any, is not sent yet)
    ack = _u32(e.outq_seq - (isk.state in OUR_FIN_STATES) - e.outq_len)
    opts = b""
    if e.opt_mask & TCPI_OPT_TIMESTAMPS:
        opts = struct.pack("!BBBBII", 1, 1, 8, 10, 0, e.timestamp)
    win = min(e.snd_wnd >> e.snd_wscale, 0xFFFF) if e.HasField("snd_wnd") else 0xFFFF
    hlen = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", peer[1], local[1], fin_seq, ack, (hlen // 4) << 4, 0x11, win, 0, 0) + opts
    fam, lhost, phost = isk.family, local[0], peer[0]
    if fam == socket.AF_INET6 and lhost.lower().startswith("::ffff:") and "." in lhost:
        fam, lhost, phost = socket.AF_INET, lhost[7:], phost[7:]  # IPv4-mapped: IPv4 on the wire
    src, dst = socket.inet_pton(fam, phost), socket.inet_pton(fam, lhost)
    if fam == socket.AF_INET:
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(tcp), socket.IPPROTO_TCP)
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
    try:
        if fam == socket.AF_INET:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, socket.IPPROTO_TCP, 0,
                             src, dst)
            pkt = ip + tcp
            raw = socket.socket(socket.AF_INET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.IPPROTO_RAW)
        else:
            pkt = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), socket.IPPROTO_TCP, 64, src, dst) + tcp
            raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.IPPROTO_RAW)
        with raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, SOCCR_MARK)
            raw.sendto(pkt, (lhost, 0))
    except OSError as exc:
        raise RestoreError(f"{what}: the peer's FIN (raw socket): {exc.strerror}") from exc


def restore_syn_sent(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, e: tcp_stream_pb2.tcp_stream_entry,
                     what: str) -> None:
    """A connect() in progress: bound where it was, its first sequence number (the SYN's, one below
    write_seq) set in repair mode; start_connect sends the SYN again once the network is unlocked."""
    _set(sk, TCP_REPAIR, 1, "TCP_REPAIR")
    inet.bind_inet(sk, isk, what)
    _set(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE")
    _set(sk, TCP_QUEUE_SEQ, _b32(e.outq_seq - 1), "TCP_QUEUE_SEQ (send)")
    _set(sk, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, "TCP_REPAIR_QUEUE")
    _set(sk, TCP_REPAIR, 0, "TCP_REPAIR off")


def start_connect(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, what: str) -> None:
    """The SYN, as a non-blocking connect() (a task blocked in connect() waits on in its restarted call)."""
    import errno

    sk.setblocking(False)
    dst = inet.entry_to_sockaddr(isk, src=False)
    err = sk.connect_ex(dst)
    if err not in (0, errno.EINPROGRESS):
        raise RestoreError(f"{what}: connect to {dst[0]} port {dst[1]}: {os.strerror(err)}")


def leave_repair(sk: socket.socket, what: str) -> None:
    _set(sk, TCP_REPAIR, 0, "TCP_REPAIR off")


def finish(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, tail: bytes, what: str) -> None:
    """After repair: the never-sent tail on the normal path (the buffers are still big enough for it),
    our FIN after it, a read shutdown."""
    if tail:
        try:
            sockets.retry_nomem(lambda b: sk.send(b, socket.MSG_DONTWAIT), tail)
        except OSError as exc:
            raise RestoreError(f"{what}: sending its {len(tail)} unsent bytes: {exc.strerror}") from exc
    how = isk.shutdown if isk.HasField("shutdown") else 0
    for bit, arg in ((sk_opts_pb2.WRITE, socket.SHUT_WR), (sk_opts_pb2.READ, socket.SHUT_RD)):
        if how & bit or (bit == sk_opts_pb2.WRITE and isk.state in OUR_FIN_STATES):
            try:
                sk.shutdown(arg)
            except OSError as exc:
                raise RestoreError(f"{what}: shutdown: {exc.strerror}") from exc
