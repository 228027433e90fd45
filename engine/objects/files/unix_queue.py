"""A unix socket's receive queue, read without consuming it (dump) and written again (restore).

The queue is peeked from offset 0 with SO_PEEK_OFF (the program's own offset is put back after): a
stream queue comes as chunks (a peek glues skbs up to one that carries fds or other credentials), a
datagram or seqpacket queue one message per peek, so boundaries are exact. The control buffer is 4 KiB
(253 fds fit) and a truncated one is a refusal, never fds silently dropped.

Fds in flight (SCM_RIGHTS) land in the engine with each peek (the queue keeps its references); each is
dumped as a file description (table.dump_held), and sent again with its message at restore. In a
stream queue a peek glues the skbs before one with fds to it, and the kernel gives no way to find where
the fds' skb starts (a peek of any size walks on to the next skb with fds), so such a chunk is written
back as one message with the fds on it: a reader that reads it whole (as the kernel hands it out: up to
and with the fds) sees exactly what it would have; one that reads fewer bytes gets the fds earlier.
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


def _fds(anc: list[tuple[int, int, bytes]]) -> list[int]:
    out: list[int] = []
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            out.extend(fds)
    return out


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _rights(ctx: DumpContext, fds: list[int], where: str) -> list[int]:
    """The file ids of fds in flight (each installed in the engine by the peek)."""
    from engine.objects.files import table, unix

    st = unix.state(ctx)
    ids: list[int] = []
    for i, fd in enumerate(fds):
        try:
            s = os.fstat(fd)
            if s.st_ino in st.fids and unix.is_unix(fd):
                ids.append(st.fids[s.st_ino])  # a unix socket dumped already (or being dumped: a cycle)
                os.close(fd)
                continue
            fid = table.dump_held(ctx, fd, where)
        except BaseException:
            _close(fds[i:])
            raise
        ids.append(fid)
        if fd not in ctx.files.held:
            os.close(fd)
    return ids


def dump_queue(ctx: DumpContext, sk: socket.socket, d: UnixDiag, e: fdinfo_pb2.file_entry,
               where: str) -> None:
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
            fds = _fds(anc)
            if mflags & (socket.MSG_CTRUNC | socket.MSG_TRUNC) and fds:
                _close(fds)
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
            if not data and fds:
                _close(fds)
                raise UnsupportedError(f"{where}: file descriptors in flight with no data (not supported)")
            if not data:
                if stream or d.shutdown & 1:
                    break  # end of file (a zero-length datagram after a shutdown would look alike)
                raise UnsupportedError(f"{where}: a zero-length message in the queue of a unix socket "
                                       "(not supported)")
            cred = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    cred = UCRED.unpack_from(cdata)
                elif not (level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS):
                    _close(fds)
                    raise UnsupportedError(f"{where}: control message (level {level}, type {typ}) in the "
                                           "queue of a unix socket (not supported)")
            if cred is not None and cred[0] and not any(t.pid == cred[0] for t in ctx.tasks) \
                    and not os.path.exists(f"/proc/{cred[0]}"):
                _close(fds)
                raise UnsupportedError(f"{where}: a queued message with the credentials of pid {cred[0]}, "
                                       "which is gone (they cannot be given again)")
            p = q.add(e.id, data)
            if cred is not None:
                p.stasis.ucred.pid, p.stasis.ucred.uid, p.stasis.ucred.gid = cred
            if d.type == socket.SOCK_DGRAM and addr:
                p.stasis.addr = unix_diag.sockaddr_name(addr)
            if fds:
                p.scm.add(type=1, rights=_rights(ctx, fds, where))
            off += len(data)
    finally:
        _set_peek_off(sk, orig)
