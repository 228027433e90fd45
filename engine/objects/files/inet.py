"""AF_INET and AF_INET6 sockets (inet_sk_entry): addresses, ports and IP-level options, shared by every
protocol; what a protocol adds lives in its module (tcp.py: TCP; dgram.py: UDP, UDP-Lite, ICMP ping,
raw), which this kind dispatches to by SO_TYPE/SO_PROTOCOL.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from engine.errors import RestoreError
from engine.images.pb import fdinfo_pb2
from engine.objects.files import dgram, tcp
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


def matches(fd: Fd) -> bool:
    return fd.sock is not None and fd.sock.family in (socket.AF_INET, socket.AF_INET6)


def _is_tcp(type_: int, proto: int) -> bool:
    return type_ == socket.SOCK_STREAM and proto in (0, socket.IPPROTO_TCP)


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
