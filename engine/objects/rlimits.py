"""Resource limits: read from /proc/PID/limits, set on the helper from outside with prlimit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import RestoreError
from engine.native import ffi, lib

if TYPE_CHECKING:
    from engine.task import Task

PRLIMIT64 = 302
NAMES = ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS",
         "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")


def dump(ctx: object, t: Task) -> None:
    rl = t.core.tc.rlimits
    for soft, hard in t.facts["limits"]:
        rl.rlimits.add(cur=soft, max=hard)


def restore(ctx: object, t: Task) -> None:
    """Runs while the helper still has the engine's uid: prlimit on another uid needs CAP_SYS_RESOURCE."""
    new = ffi.new("uint64_t[2]")
    for res, lim in enumerate(t.core.tc.rlimits.rlimits):
        new[0], new[1] = lim.cur, lim.max
        ret = lib.st_syscall(PRLIMIT64, t.pid, res, int(ffi.cast("uintptr_t", new)), 0, 0, 0)
        if ret < 0:
            old = ffi.new("uint64_t[2]")
            lib.st_syscall(PRLIMIT64, t.pid, res, 0, int(ffi.cast("uintptr_t", old)), 0, 0)
            raise RestoreError(
                f"pid {t.pid}: cannot set RLIMIT_{NAMES[res]} to {lim.cur}/{lim.max} (this engine's hard "
                f"limit is {old[1]}; raising a hard limit needs CAP_SYS_RESOURCE)")


