"""Resource limits: read from /proc/PID/limits, set on the helper from outside with prlimit."""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import CAP_SYS_RESOURCE
from engine.errors import RestoreError, UnsupportedError
from engine.native import ffi, lib
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

NAMES = ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS",
         "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")


def _sys_resource() -> bool:

    return proc.own_cap(CAP_SYS_RESOURCE)


def check(ctx: DumpContext, t: Task) -> None:
    """A hard limit above the engine's own cannot be set again without CAP_SYS_RESOURCE: refuse now,
    while the tree still runs, rather than fail the restore after it was killed."""
    if not t.alive or _sys_resource():
        return
    mine = [(0, 0)] * len(NAMES)
    old = ffi.new("uint64_t[2]")
    for res in range(len(NAMES)):
        lib.st_syscall(nr.prlimit64, 0, res, 0, int(ffi.cast("uintptr_t", old)), 0, 0)
        mine[res] = (int(old[0]), int(old[1]))
    for res, (_, hard) in enumerate(t.facts.limits):
        if hard > mine[res][1]:
            raise UnsupportedError(f"pid {t.pid}: its hard RLIMIT_{NAMES[res]} {hard} is above this engine's "
                                   f"({mine[res][1]}): raising it at restore needs CAP_SYS_RESOURCE")


def dump(ctx: DumpContext, t: Task) -> None:
    rl = t.core.tc.rlimits
    for soft, hard in t.facts.limits:
        rl.rlimits.add(cur=soft, max=hard)


def restore(ctx: RestoreContext, t: Task) -> None:
    """Runs while the helper still has the engine's uid: prlimit on another uid needs CAP_SYS_RESOURCE."""
    new = ffi.new("uint64_t[2]")
    for res, lim in enumerate(t.core.tc.rlimits.rlimits):
        new[0], new[1] = lim.cur, lim.max
        ret = lib.st_syscall(nr.prlimit64, t.pid, res, int(ffi.cast("uintptr_t", new)), 0, 0, 0)
        if ret == -errno.EPERM:  # a process that became another uid (a nested user namespace's owner)
            t.injector.put(struct.pack("<QQ", lim.cur, lim.max))
            ret = t.injector.raw(nr.prlimit64, 0, res, t.injector.scratch, 0)
        if ret < 0:
            old = ffi.new("uint64_t[2]")
            lib.st_syscall(nr.prlimit64, t.pid, res, 0, int(ffi.cast("uintptr_t", old)), 0, 0)
            raise RestoreError(
                f"pid {t.pid}: cannot set RLIMIT_{NAMES[res]} to {lim.cur}/{lim.max} (this engine's hard "
                f"limit is {old[1]}; raising a hard limit needs CAP_SYS_RESOURCE)")


OBJECT = KernelObject("rlimits", check=check, dump=dump,
                      stages=(Stage("rlimits", Phase.PROCESS, restore, doc="from outside, while the helper "
                                    "still has the engine's uid"),))
