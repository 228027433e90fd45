"""Netlink sockets (AF_NETLINK, netlink_sk_entry): protocol, port id, multicast groups, connected
destination and options.

Read from the engine's copy of the socket: getsockname (port id; 0 = never bound), getpeername (the
connected destination, 0/0 when unconnected), NETLINK_LIST_MEMBERSHIPS (every group, also above 32:
CRIU keeps only the first 32), the SOL_NETLINK options. CRIU's `groups` gets the bitmap words as CRIU
writes them; every group is also in the stasis extension, which restore prefers.

A socket with data to read is refused: what the kernel queued (replies, notifications) cannot be queued
again as the kernel's (an injected message would come from the engine's port id, not 0).
Restore binds the old port id (a process's first socket has its pid: the restored task has the same),
joins every group with NETLINK_ADD_MEMBERSHIP, connects, and sets the options.
"""

from __future__ import annotations

import fcntl
import socket
import struct
from typing import TYPE_CHECKING

from engine.abi.consts import (
    F_SETFL,
    NETLINK_ADD_MEMBERSHIP,
    NETLINK_BROADCAST_ERROR,
    NETLINK_CAP_ACK,
    NETLINK_CONNECTED,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
    NETLINK_LIST_MEMBERSHIPS,
    NETLINK_LISTEN_ALL_NSID,
    NETLINK_NO_ENOBUFS,
    NETLINK_PKTINFO,
    O_NONBLOCK,
    SK_MEMINFO_RMEM_ALLOC,
    SO_MEMINFO,
    SOL_NETLINK,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files import dgram, sockets
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

MAX_GROUP_WORDS = 64  # 2048 groups; NETLINK_LIST_MEMBERSHIPS says how many words it needs
# (field of stasis_netlink_sk_entry, option)
_OPTS: tuple[tuple[str, int], ...] = (
    ("pktinfo", NETLINK_PKTINFO),
    ("broadcast_error", NETLINK_BROADCAST_ERROR),
    ("no_enobufs", NETLINK_NO_ENOBUFS),
    ("listen_all_nsid", NETLINK_LISTEN_ALL_NSID),
    ("cap_ack", NETLINK_CAP_ACK),
    ("ext_ack", NETLINK_EXT_ACK),
    ("get_strict_chk", NETLINK_GET_STRICT_CHK),
)


def matches(fd: Fd) -> bool:
    return fd.sock is not None and fd.sock.family == socket.AF_NETLINK


def _rmem(sk: socket.socket) -> int:
    buf = sk.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * 9)
    return struct.unpack_from("<I", buf, 4 * SK_MEMINFO_RMEM_ALLOC)[0]


def memberships(sk: socket.socket) -> list[int]:
    """Every multicast group the socket is in (groups are numbered from 1)."""
    need, buf = sockets.getsockopt_raw(
        sk.fileno(), SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, 4 * MAX_GROUP_WORDS
    )
    words = struct.unpack(f"<{MAX_GROUP_WORDS}I", buf)[: min(need, 4 * MAX_GROUP_WORDS) // 4]
    if need > 4 * MAX_GROUP_WORDS and any(words[-1:]):
        raise OSError(0, f"more than {32 * MAX_GROUP_WORDS} netlink groups")
    return [i * 32 + b + 1 for i, w in enumerate(words) for b in range(32) if w >> b & 1]


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    with sockets.dup(fd) as sk:
        if sk.type not in (socket.SOCK_RAW, socket.SOCK_DGRAM):
            raise UnsupportedError(f"{fd.where}: netlink socket of type {sk.type} is not supported")
        if _rmem(sk):
            raise UnsupportedError(
                f"{fd.where}: netlink socket (protocol {fd.sock.proto if fd.sock else '?'}) "
                "with messages queued to read: the kernel's messages cannot be queued "
                "again as coming from the kernel"
            )


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    assert fd.sock is not None
    nl = e.nlsk
    nl.ino = fd.sock.ino
    nl.protocol = fd.sock.proto
    with sockets.dup(fd) as sk:
        sockets.dump_opts(sk, nl.opts)
        nl.stasis.uid, nl.stasis.gid = fd.stat.st_uid, fd.stat.st_gid
        if sk.type != socket.SOCK_RAW:
            nl.stasis.type = sk.type
        portid, _ = sk.getsockname()
        dst_portid, dst_group = sk.getpeername()
        nl.portid = portid
        nl.dst_portid, nl.dst_group = dst_portid, dst_group
        nl.state = NETLINK_CONNECTED if dst_portid or dst_group else 0
        try:
            groups = memberships(sk)
        except OSError as exc:
            raise UnsupportedError(f"{fd.where}: netlink groups: {exc.strerror}") from exc
        words = [0] * ((max(groups, default=0) + 31) // 32)
        for g in groups:
            words[(g - 1) // 32] |= 1 << ((g - 1) % 32)
        nl.groups.extend(words)
        nl.stasis.memberships.extend(groups)
        for name, opt in _OPTS:
            try:
                v = sk.getsockopt(SOL_NETLINK, opt)
            except OSError:
                continue
            if v:
                setattr(nl.stasis, name, True)
        if _rmem(sk):  # again, now that the tree is stopped
            raise UnsupportedError(
                f"{fd.where}: netlink socket with messages queued to read: the kernel's "
                "messages cannot be queued again as coming from the kernel"
            )


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    nl = e.nlsk
    what = f"netlink socket {e.id} (protocol {nl.protocol})"
    type_ = nl.stasis.type if nl.stasis.HasField("type") else socket.SOCK_RAW
    sk = sockets.new_socket(socket.AF_NETLINK, type_, nl.protocol, what)
    try:
        if nl.stasis.HasField("uid"):
            dgram.owner(sk, nl.stasis.uid, nl.stasis.gid, what)
        try:
            sockets.restore_opts(sk, nl.opts)
        except RestoreError as exc:
            raise RestoreError(f"{what}: {exc}") from exc
        if nl.portid:
            try:
                sk.bind((nl.portid, 0))
            except OSError as exc:
                raise RestoreError(f"{what}: bind to port id {nl.portid}: {exc.strerror}") from exc
        groups = list(nl.stasis.memberships) or [
            i * 32 + b + 1 for i, w in enumerate(nl.groups) for b in range(32) if w >> b & 1
        ]
        for g in groups:
            try:
                sk.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g)
            except OSError as exc:
                raise RestoreError(f"{what}: joining group {g}: {exc.strerror}") from exc
        if nl.state == NETLINK_CONNECTED:
            try:
                sk.connect((nl.dst_portid, nl.dst_group))
            except OSError as exc:
                raise RestoreError(
                    f"{what}: connect to {nl.dst_portid}/{nl.dst_group}: {exc.strerror}"
                ) from exc
        for name, opt in _OPTS:
            if getattr(nl.stasis, name):
                try:
                    sk.setsockopt(SOL_NETLINK, opt, 1)
                except OSError as exc:
                    raise RestoreError(f"{what}: option {name}: {exc.strerror}") from exc
        if nl.portid and sk.getsockname()[0] != nl.portid:
            raise RestoreError(f"{what}: port id {sk.getsockname()[0]} instead of {nl.portid}")
        fcntl.fcntl(sk.fileno(), F_SETFL, nl.flags & O_NONBLOCK)
    except BaseException:
        sk.close()
        raise
    return sk.detach()


KIND = FdKind("netlink socket", fdinfo_pb2.NETLINKSK, "nlsk", matches, dump, open_, check=check)
