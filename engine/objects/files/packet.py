"""Packet sockets (AF_PACKET). Not yet: every one is refused."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


def matches(fd: Fd) -> bool:
    return fd.sock is not None and fd.sock.family == socket.AF_PACKET


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    raise UnsupportedError(f"{fd.where}: packet sockets are not supported yet")


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    raise UnsupportedError(f"{fd.where}: packet sockets are not supported yet")


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    raise RestoreError(f"file {e.id}: packet sockets are not supported yet")


KIND = FdKind("packet socket", fdinfo_pb2.PACKETSK, "psk", matches, dump, open_, check=check)
