"""signalfd: its signal mask and file flags (O_NONBLOCK).

A signalfd holds no signals of its own: a read takes them from the reading thread's pending queues,
which signals.py restores. So the engine makes a new signalfd with the mask and the task takes it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import O_CLOEXEC, O_NONBLOCK
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.native import ffi, lib
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

SIGSET_SIZE = 8


def matches(fd: Fd) -> bool:
    return fd.target == "anon_inode:[signalfd]"


def _mask(fd: Fd) -> int:
    try:
        return int(fd.info.extra["sigmask"], 16)
    except (KeyError, ValueError) as exc:
        raise UnsupportedError(f"{fd.where}: fdinfo shows no sigmask") from exc


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    _mask(fd)


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    e.sgfd.sigmask = _mask(fd)


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    mask = ffi.new("uint64_t *", e.sgfd.sigmask)
    fd = lib.st_syscall(nr.signalfd4, -1, int(ffi.cast("uintptr_t", mask)), SIGSET_SIZE,
                        O_CLOEXEC | (e.sgfd.flags & O_NONBLOCK), 0, 0)
    if fd < 0:
        raise RestoreError(f"signalfd {e.id}: signalfd4(mask {e.sgfd.sigmask:#x}) failed: "
                           f"{os.strerror(-fd)}")
    return fd


KIND = FdKind("signalfd", fdinfo_pb2.SIGNALFD, "sgfd", matches, dump, open_, check=check)
