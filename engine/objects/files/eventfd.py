"""eventfd: the counter, EFD_SEMAPHORE and the file flags (O_NONBLOCK), all in fdinfo.

The tree is frozen while fdinfo is read, so the counter cannot move under us. Older kernels (6.1,
5.15) do not show eventfd-semaphore: the mode is then found by reading the eventfd through a copy of it
(probe_semaphore: a semaphore read takes 1, a plain one the whole counter) and writing back what was
read, so the counter ends as it was (checked again in fdinfo; only a reader outside the tree sharing the
eventfd could race with that, and the dump then refuses). At restore the engine makes
the eventfd with a zero counter and writes the counter to it: eventfd2() takes only 32 bits, the counter
has 64 (up to 0xfffffffffffffffe). An eventfd shared by several fds or processes is one description,
restored once (the generic fd code finds the sharing with kcmp). eventfd-id is the kernel's number of
the object: a new one at restore, as for any recreated object.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.abi.consts import EFD_SEMAPHORE, O_CLOEXEC, O_NONBLOCK
from engine.compel import pidfd
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


def probe_semaphore(pid: int, num: int, counter: int) -> bool:
    """Whether fd `num` of `pid` (an eventfd whose counter is `counter`) is in semaphore mode, by a read
    through the engine's copy; what the read took is written back. Reads never block (the counter is at
    least 2 when read) and writes never overflow (they give back at most what was there)."""
    mine = pidfd.getfd(pid, num)
    try:
        if counter < 2:
            os.eventfd_write(mine, 2)
        got = os.eventfd_read(mine)
        semaphore = got == 1
        if counter >= 2:
            os.eventfd_write(mine, got)
        elif semaphore:
            os.eventfd_read(mine)  # the other 1 of the 2 added
        elif counter:
            os.eventfd_write(mine, counter)
        return semaphore
    finally:
        os.close(mine)


def shown_counter(pid: int, num: int) -> int:
    """eventfd-count of fd `num` of `pid` as fdinfo shows it now (-1: not shown)."""
    with open(f"/proc/{pid}/fdinfo/{num}") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "eventfd-count":
                return int(value.strip(), 16)
    return -1


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    count = _counter(fd)
    if "eventfd-semaphore" in fd.info.extra:
        return
    # older kernels do not show it (nothing else does): read the mode, and put the counter back
    try:
        semaphore = probe_semaphore(t.pid, fd.num, count)
        after = shown_counter(t.pid, fd.num)
    except OSError as exc:
        raise UnsupportedError(f"{fd.where}: its semaphore mode cannot be read on this kernel (fdinfo has "
                               f"no eventfd-semaphore, and reading it failed: {exc.strerror})") from exc
    if after != count:
        raise UnsupportedError(f"{fd.where}: its counter moved from {count:#x} to {after:#x} while its "
                               "semaphore mode was read (a process outside the tree shares it?)")
    fd.info.extra["eventfd-semaphore"] = "1" if semaphore else "0"


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
