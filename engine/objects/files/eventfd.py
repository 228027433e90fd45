"""eventfd: the counter, EFD_SEMAPHORE and the file flags (O_NONBLOCK), all in fdinfo.

The tree is frozen while fdinfo is read, so the counter cannot move under us. At restore the engine makes
the eventfd with a zero counter and writes the counter to it: eventfd2() takes only 32 bits, the counter
has 64 (up to 0xfffffffffffffffe). An eventfd shared by several fds or processes is one description,
restored once (the generic fd code finds the sharing with kcmp). eventfd-id is the kernel's number of
the object: a new one at restore, as for any recreated object.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.abi.consts import EFD_SEMAPHORE, O_CLOEXEC, O_NONBLOCK
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

COUNTER_MAX = (1 << 64) - 2


def semaphore_shown() -> bool:
    """fdinfo of an eventfd has the eventfd-semaphore line (without it every eventfd is refused)."""
    fd = os.eventfd(0, O_CLOEXEC)
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            return any(line.startswith("eventfd-semaphore:") for line in f)
    finally:
        os.close(fd)


def matches(fd: Fd) -> bool:
    return fd.target == "anon_inode:[eventfd]"


def _counter(fd: Fd) -> int:
    try:
        return int(fd.info.extra["eventfd-count"], 16)
    except (KeyError, ValueError) as exc:
        raise UnsupportedError(f"{fd.where}: fdinfo shows no eventfd-count") from exc


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    _counter(fd)
    if "eventfd-semaphore" not in fd.info.extra:  # older kernels do not show it (nothing else does)
        raise UnsupportedError(f"{fd.where}: this kernel's fdinfo does not show whether the eventfd is in "
                               "semaphore mode (no eventfd-semaphore line), so its reads could not be "
                               "restored exactly")


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    e.efd.counter = _counter(fd)
    if fd.info.extra.get("eventfd-semaphore", "0").strip() == "1":
        e.efd.stasis.semaphore = True


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    efd = e.efd
    if efd.counter > COUNTER_MAX:
        raise RestoreError(f"files.img: eventfd {e.id} has counter {efd.counter:#x}, above the kernel's "
                           f"maximum {COUNTER_MAX:#x}")
    flags = O_CLOEXEC | (efd.flags & O_NONBLOCK)
    if efd.HasField("stasis") and efd.stasis.semaphore:
        flags |= EFD_SEMAPHORE
    fd = os.eventfd(0, flags)
    try:
        if efd.counter:
            os.eventfd_write(fd, efd.counter)
    except OSError as exc:
        os.close(fd)
        raise RestoreError(f"eventfd {e.id}: cannot set its counter to {efd.counter:#x}: {exc.strerror}") \
            from exc
    return fd


KIND = FdKind("eventfd", fdinfo_pb2.EVENTFD, "efd", matches, dump, open_, check=check)
