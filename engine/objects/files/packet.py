"""Packet sockets (AF_PACKET, packet_sock_entry): type, protocol, bound interface, PACKET_* options,
memberships and fanout.

The bound interface, memberships, copy threshold, rings and fanout come from packet sock_diag (asked in
the socket's namespace, once per dump); the options also from getsockopt on the engine's copy.
Refused: rings (PACKET_RX_RING/TX_RING: a mapped ring's frames and the task's view of them are not
restored), a fanout group steered by a BPF program, SOCK_PACKET, and frames queued to read (a captured
frame cannot be put back in the queue without sending it on the interface again, which every other
socket would see too).
Restore: socket, bind to the interface (by name, in the engine's namespace of the socket), VERSION,
RESERVE, TIMESTAMP, COPY_THRESH, AUXDATA, ORIGDEV, VNET_HDR, LOSS, memberships, fanout (as CRIU).
"""

from __future__ import annotations

import fcntl
import socket
import struct
from typing import TYPE_CHECKING

from engine.abi.consts import (
    F_SETFL,
    O_NONBLOCK,
    PACKET_ADD_MEMBERSHIP,
    PACKET_AUXDATA,
    PACKET_COPY_THRESH,
    PACKET_DIAG_FANOUT,
    PACKET_DIAG_INFO,
    PACKET_DIAG_MCLIST,
    PACKET_DIAG_RX_RING,
    PACKET_DIAG_TX_RING,
    PACKET_FANOUT,
    PACKET_FANOUT_CBPF,
    PACKET_FANOUT_EBPF,
    PACKET_IGNORE_OUTGOING,
    PACKET_LOSS,
    PACKET_ORIGDEV,
    PACKET_QDISC_BYPASS,
    PACKET_RESERVE,
    PACKET_SHOW_FANOUT,
    PACKET_SHOW_INFO,
    PACKET_SHOW_MCLIST,
    PACKET_SHOW_RING_CFG,
    PACKET_TIMESTAMP,
    PACKET_VERSION,
    PACKET_VNET_HDR,
    PDI_AUXDATA,
    PDI_LOSS,
    PDI_ORIGDEV,
    PDI_VNETHDR,
    SK_MEMINFO_RMEM_ALLOC,
    SO_MEMINFO,
    SOL_PACKET,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files import dgram, sockets
from engine.objects.files.kind import Fd, FdKind
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

SOCK_PACKET = 10
DIAG_REQ = struct.Struct("<BBHIIII")  # packet_diag_req
DIAG_MSG_SIZE = 16  # packet_diag_msg: family, type, num, ino, cookie
DIAG_INFO = struct.Struct("<IIIIII")  # index, version, reserve, copy_thresh, tstamp, flags
DIAG_MCLIST = struct.Struct("<IIHH32s")  # index, count, type, alen, addr
PACKET_MREQ = struct.Struct("<iHH8s")


@record
class PacketDump:
    diag: sockets.DiagCache = field(default_factory=sockets.DiagCache)


def matches(fd: Fd) -> bool:
    return fd.sock is not None and fd.sock.family == socket.AF_PACKET


def _rmem(sk: socket.socket) -> int:
    buf = sk.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * 9)
    return struct.unpack_from("<I", buf, 4 * SK_MEMINFO_RMEM_ALLOC)[0]


def _diag(ctx: DumpContext, fd: Fd, sk: socket.socket) -> sockets.DiagMsg:
    assert fd.sock is not None
    req = DIAG_REQ.pack(
        socket.AF_PACKET,
        0,
        0,
        0,
        PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT,
        0,
        0,
    )
    try:
        found = ctx.files.state(PacketDump).diag.lookup(
            sk, req, DIAG_MSG_SIZE, lambda h: struct.unpack_from("<I", h, 4)[0]
        )
    except OSError as exc:
        raise UnsupportedError(f"{fd.where}: packet sock_diag: {exc.strerror}") from exc
    m = found.get(fd.sock.ino)
    if m is None:
        raise UnsupportedError(f"{fd.where}: packet socket not listed by sock_diag")
    return m


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    assert fd.sock is not None
    if fd.sock.type == SOCK_PACKET:
        raise UnsupportedError(f"{fd.where}: SOCK_PACKET (obsolete) packet sockets are not supported")
    with sockets.dup(fd) as sk:
        m = _diag(ctx, fd, sk)
        for attr, ring in ((PACKET_DIAG_RX_RING, "receive"), (PACKET_DIAG_TX_RING, "transmit")):
            if attr in m.attrs:
                raise UnsupportedError(
                    f"{fd.where}: packet socket with a {ring} ring (PACKET_*_RING): mapped "
                    "rings are not supported"
                )


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    assert fd.sock is not None
    p = e.psk
    p.type = fd.sock.type
    with sockets.dup(fd) as sk:
        m = _diag(ctx, fd, sk)
        (num,) = struct.unpack_from("<H", m.head, 2)  # pdiag_num: the bound protocol, host order
        p.protocol = socket.htons(num)
        sockets.dump_opts(sk, p.opts)
        p.stasis.uid, p.stasis.gid = fd.stat.st_uid, fd.stat.st_gid
        if PACKET_DIAG_INFO not in m.attrs:
            raise UnsupportedError(f"{fd.where}: packet sock_diag gave no PACKET_DIAG_INFO")
        index, version, reserve, copy_thresh, tstamp, flags = DIAG_INFO.unpack_from(m.attrs[PACKET_DIAG_INFO])
        p.ifindex, p.version, p.reserve, p.copy_thresh, p.timestamp = (
            index,
            version,
            reserve,
            copy_thresh,
            tstamp,
        )
        p.aux_data, p.orig_dev = bool(flags & PDI_AUXDATA), bool(flags & PDI_ORIGDEV)
        p.vnet_hdr, p.loss = bool(flags & PDI_VNETHDR), bool(flags & PDI_LOSS)
        mcl = m.attrs.get(PACKET_DIAG_MCLIST, b"")
        for off in range(0, len(mcl) - DIAG_MCLIST.size + 1, DIAG_MCLIST.size):
            mi, count, typ, alen, addr = DIAG_MCLIST.unpack_from(mcl, off)
            for _ in range(count):
                p.mclist.add(index=mi, type=typ, addr=addr[:alen])
        if PACKET_DIAG_FANOUT in m.attrs:
            (fan,) = struct.unpack_from("<I", m.attrs[PACKET_DIAG_FANOUT])
            if fan >> 16 & 0xFF in (PACKET_FANOUT_CBPF, PACKET_FANOUT_EBPF):
                raise UnsupportedError(f"{fd.where}: packet fanout steered by a BPF program is not supported")
            p.fanout = fan
        for name, opt in (("qdisc_bypass", PACKET_QDISC_BYPASS), ("ignore_outgoing", PACKET_IGNORE_OUTGOING)):
            try:
                v = sk.getsockopt(SOL_PACKET, opt)
            except OSError:
                continue
            if v:
                setattr(p.stasis, name, v if name == "ignore_outgoing" else True)
        if _rmem(sk):
            raise UnsupportedError(
                f"{fd.where}: packet socket with frames queued to read: a captured frame "
                "cannot be queued again without sending it on the interface"
            )


def _set(sk: socket.socket, opt: int, value: int | bytes, what: str) -> None:
    try:
        sk.setsockopt(SOL_PACKET, opt, value)
    except OSError as exc:
        raise RestoreError(f"{what}: {exc.strerror}") from exc


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    p = e.psk
    what = f"packet socket {e.id}"
    sk = sockets.new_socket(socket.AF_PACKET, p.type, p.protocol, what)
    try:
        if p.stasis.HasField("uid"):
            dgram.owner(sk, p.stasis.uid, p.stasis.gid, what)
        try:
            sockets.restore_opts(sk, p.opts)
        except RestoreError as exc:
            raise RestoreError(f"{what}: {exc}") from exc
        if p.ifindex:
            try:
                name = socket.if_indextoname(p.ifindex)
                sk.bind((name, socket.ntohs(p.protocol)))
            except OSError as exc:
                raise RestoreError(f"{what}: bind to interface {p.ifindex}: {exc.strerror}") from exc
        for opt, have, want, name in (
            (PACKET_VERSION, 0, p.version, "PACKET_VERSION"),
            (PACKET_RESERVE, 0, p.reserve, "PACKET_RESERVE"),
            (PACKET_TIMESTAMP, 0, p.timestamp, "PACKET_TIMESTAMP"),
            (PACKET_COPY_THRESH, 0, p.copy_thresh, "PACKET_COPY_THRESH"),
            (PACKET_AUXDATA, 0, int(p.aux_data), "PACKET_AUXDATA"),
            (PACKET_ORIGDEV, 0, int(p.orig_dev), "PACKET_ORIGDEV"),
            (PACKET_VNET_HDR, 0, int(p.vnet_hdr), "PACKET_VNET_HDR"),
            (PACKET_LOSS, 0, int(p.loss), "PACKET_LOSS"),
        ):
            if want != have:
                _set(sk, opt, want, f"{what}: {name}")
        for mc in p.mclist:
            _set(
                sk,
                PACKET_ADD_MEMBERSHIP,
                PACKET_MREQ.pack(mc.index, mc.type, len(mc.addr), mc.addr[:8]),
                f"{what}: PACKET_ADD_MEMBERSHIP",
            )
        if p.stasis.qdisc_bypass:
            _set(sk, PACKET_QDISC_BYPASS, 1, f"{what}: PACKET_QDISC_BYPASS")
        if p.stasis.ignore_outgoing:
            _set(sk, PACKET_IGNORE_OUTGOING, p.stasis.ignore_outgoing, f"{what}: PACKET_IGNORE_OUTGOING")
        if p.HasField("fanout") and p.fanout != 0xFFFFFFFF:
            _set(sk, PACKET_FANOUT, p.fanout, f"{what}: PACKET_FANOUT")
        fcntl.fcntl(sk.fileno(), F_SETFL, p.flags & O_NONBLOCK)
    except BaseException:
        sk.close()
        raise
    return sk.detach()


KIND = FdKind("packet socket", fdinfo_pb2.PACKETSK, "psk", matches, dump, open_, check=check)
