"""Datagram and raw inet sockets: UDP, UDP-Lite, ICMP ping, raw (inet_sk_entry; queues in sk-queues.img).
Not yet: every one is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import sk_inet_pb2

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.objects.files.kind import Fd
    from engine.task import Task


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    raise UnsupportedError(f"{fd.where}: datagram and raw inet sockets are not supported yet")


def dump(ctx: DumpContext, t: Task, fd: Fd, isk: sk_inet_pb2.inet_sk_entry) -> None:
    raise UnsupportedError(f"{fd.where}: datagram and raw inet sockets are not supported yet")


def open_(ctx: RestoreContext, isk: sk_inet_pb2.inet_sk_entry) -> int:
    raise RestoreError(f"inet socket {isk.id}: datagram and raw inet sockets are not supported yet")
