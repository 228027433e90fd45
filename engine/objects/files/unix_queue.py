"""A unix socket's receive queue, read without consuming it (dump) and written again (restore).

The queue is peeked from offset 0 with SO_PEEK_OFF (the program's own offset is put back after): a
stream queue comes as chunks (a peek glues skbs up to one that carries fds or other credentials), a
datagram or seqpacket queue one message per peek, so boundaries are exact. The control buffer is 4 KiB
(253 fds fit) and a truncated one is a refusal, never fds silently dropped.
"""

from __future__ import annotations

import array
import os
import socket
import struct
from typing import TYPE_CHECKING

from engine.abi.consts import SO_PEEK_OFF
from engine.errors import UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files import skqueue, unix_diag
from engine.objects.files.unix_diag import UnixDiag

if TYPE_CHECKING:
    from engine.context import DumpContext

MSG_CMSG_CLOEXEC = 0x40000000
CMSG_SIZE = 4096
UCRED = struct.Struct("<iII")  # struct ucred { pid_t pid; uid_t uid; gid_t gid; }
PEEK_MIN = 1 << 16
PEEK_MAX = 1 << 26


def _set_peek_off(sk: socket.socket, off: int) -> None:
    sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, off)


def _peek_off(sk: socket.socket) -> int:
    v = sk.getsockopt(socket.SOL_SOCKET, SO_PEEK_OFF)
    return v if v < 1 << 31 else v - (1 << 32)


def _close_fds(anc: list[tuple[int, int, bytes]]) -> int:
    n = 0
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
                n += 1
    return n


def dump_queue(ctx: DumpContext, sk: socket.socket, d: UnixDiag, e: fdinfo_pb2.file_entry, where: str) -> None:
    """Every packet of the socket's receive queue into sk-queues.img, in order, none consumed."""
    stream = d.type == socket.SOCK_STREAM
    if stream and not d.rqueue:
        return  # stream: rqueue is the byte count (dgram: only the first datagram's size)
    if d.type != socket.SOCK_DGRAM and d.state != unix_diag.TCP_ESTABLISHED:
        return  # not connected: no queue (recv says ENOTCONN)
    q = skqueue.queues(ctx)
    orig = _peek_off(sk)
    size = max(PEEK_MIN, d.rqueue + 1)
    off = 0
    flags = socket.MSG_PEEK | socket.MSG_DONTWAIT | MSG_CMSG_CLOEXEC
    try:
        _set_peek_off(sk, 0)
        while True:
            try:
                data, anc, mflags, addr = sk.recvmsg(size, CMSG_SIZE, flags)
            except BlockingIOError:
                break
            nfds = _close_fds(anc)
            if mflags & socket.MSG_CTRUNC:
                raise UnsupportedError(f"{where}: a message in the queue has more control data than "
                                       f"{CMSG_SIZE} bytes (not supported)")
            if mflags & socket.MSG_TRUNC and not stream:
                if size >= PEEK_MAX:
                    raise UnsupportedError(f"{where}: a message of more than {PEEK_MAX} bytes in the queue "
                                           "(not supported)")
                size *= 4
                _set_peek_off(sk, off)
                continue
            if nfds:
                raise UnsupportedError(f"{where}: file descriptors in flight (SCM_RIGHTS) in the queue of "
                                       f"unix socket {unix_diag.show(d.name) or d.ino} (not supported yet)")
            if not data:
                if stream or d.shutdown & 1:
                    break  # end of file (a zero-length datagram after a shutdown would look alike)
                raise UnsupportedError(f"{where}: a zero-length message in the queue of a unix socket "
                                       "(not supported)")
            p = q.add(e.id, data)
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid, uid, gid = UCRED.unpack_from(cdata)
                    p.stasis.ucred.pid, p.stasis.ucred.uid, p.stasis.ucred.gid = pid, uid, gid
                elif level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    pass
                else:
                    raise UnsupportedError(f"{where}: control message (level {level}, type {typ}) in the "
                                           "queue of a unix socket (not supported)")
            if d.type == socket.SOCK_DGRAM and addr:
                p.stasis.addr = unix_diag.sockaddr_name(addr)
            off += len(data)
    finally:
        _set_peek_off(sk, orig)
