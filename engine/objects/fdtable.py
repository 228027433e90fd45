"""The size of a process's fd table (FDSize in /proc/PID/status): it only grows, to hold the highest fd
the process ever had, and a program can see it. A table above the kernel's first 64 slots is grown again
at restore by a dup to its last slot, closed at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.abi import nr
from engine.errors import RestoreError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

NR_OPEN_DEFAULT = 64
F_DUPFD = 0


def dump(ctx: DumpContext, t: Task) -> None:
    size = int(t.leader.facts.status.get("FDSize", NR_OPEN_DEFAULT))
    if size > NR_OPEN_DEFAULT:
        t.core.tc.stasis.fd_table_size = size


def restore(ctx: RestoreContext, t: Task) -> None:
    ext = t.core.tc.stasis
    if not ext.HasField("fd_table_size") or t.files is None:
        return
    inj = t.injector
    fd = inj.raw(nr.fcntl, t.files.engine_pidfd, F_DUPFD, ext.fd_table_size - 1)
    if fd < 0:
        raise RestoreError(f"pid {t.pid}: cannot grow its fd table to {ext.fd_table_size}: fcntl(F_DUPFD)")
    inj.call(nr.close, fd, what="close")


OBJECT = KernelObject("fd table", dump=dump, stages=(
    Stage("fd-table", Phase.PROCESS, restore, after=("files",), doc="an fd table as big as it was"),))
