"""Interval timers (ITIMER_REAL/VIRTUAL/PROF). POSIX timers are refused for now."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.errors import UnsupportedError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

ITIMERVAL = struct.Struct("<qqqq")  # interval sec/usec, value sec/usec
WHICH = ("real", "virt", "prof")


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    try:
        with open(f"/proc/{t.pid}/timers") as f:
            if f.read().strip():
                raise UnsupportedError(f"pid {t.pid} has POSIX timers (timer_create), not supported yet")
    except FileNotFoundError:
        pass


def dump(ctx: DumpContext, t: Task) -> None:
    inj = t.injector
    timers = t.core.tc.timers
    for which, name in enumerate(WHICH):
        inj.call(nr.getitimer, which, inj.scratch, what="getitimer")
        isec, iusec, vsec, vusec = ITIMERVAL.unpack(inj.get(0, ITIMERVAL.size))
        it = getattr(timers, name)
        it.isec, it.iusec, it.vsec, it.vusec = isec, iusec, vsec, vusec


def restore(ctx: RestoreContext, t: Task) -> None:
    inj = t.injector
    for which, name in enumerate(WHICH):
        it = getattr(t.core.tc.timers, name)
        if not (it.vsec or it.vusec):
            continue
        want = it.vsec * 1_000_000 + it.vusec
        inj.put(ITIMERVAL.pack(it.isec, it.iusec, it.vsec, it.vusec))
        inj.call(nr.setitimer, which, inj.scratch, 0, what="setitimer")
        if which == 0:
            continue
        # CPU-time timers are rounded up by a kernel tick when armed: measure it and arm again.
        inj.call(nr.getitimer, which, inj.scratch, what="getitimer")
        _, _, vsec, vusec = ITIMERVAL.unpack(inj.get(0, ITIMERVAL.size))
        extra = vsec * 1_000_000 + vusec - want
        if 0 < extra < want:
            fixed = want - extra
            inj.put(ITIMERVAL.pack(it.isec, it.iusec, fixed // 1_000_000, fixed % 1_000_000))
            inj.call(nr.setitimer, which, inj.scratch, 0, what="setitimer")


OBJECT = KernelObject("itimers", check=check, dump=dump, stages=(Stage("timers", Phase.PROCESS, restore),))
