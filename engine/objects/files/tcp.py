"""TCP sockets (inet_sk_entry + tcp-stream-<ino>.img). Not yet: every TCP socket is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import sk_inet_pb2

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.objects.files.kind import Fd
    from engine.task import Task


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    raise UnsupportedError(f"{fd.where}: TCP sockets are not supported yet")


def dump(ctx: DumpContext, t: Task, fd: Fd, isk: sk_inet_pb2.inet_sk_entry) -> None:
    raise UnsupportedError(f"{fd.where}: TCP sockets are not supported yet")


def open_(ctx: RestoreContext, isk: sk_inet_pb2.inet_sk_entry) -> int:
    raise RestoreError(f"inet socket {isk.id}: TCP sockets are not supported yet")


def write_images(ctx: DumpContext) -> None:
    pass


def load_images(ctx: RestoreContext) -> None:
    pass
