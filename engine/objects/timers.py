"""Interval timers (ITIMER_REAL/VIRTUAL/PROF). POSIX timers are refused for now."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from engine.compel import syscalls as nr
from engine.errors import UnsupportedError

if TYPE_CHECKING:
    from engine.task import Task

ITIMERVAL = struct.Struct("<qqqq")  # interval sec/usec, value sec/usec
WHICH = ("real", "virt", "prof")


def check_supported(t: Task) -> None:
    path = f"/proc/{t.pid}/timers"
    if os.path.exists(path) and os.path.getsize(path) == 0:
        with open(path) as f:
            if f.read().strip():
                raise UnsupportedError(f"pid {t.pid} has POSIX timers (timer_create), not supported yet")


def dump(ctx: object, t: Task) -> None:
    inj = t.injector
    timers = t.core.tc.timers
    for which, name in enumerate(WHICH):
        inj.call(nr.getitimer, which, inj.scratch, what="getitimer")
        isec, iusec, vsec, vusec = ITIMERVAL.unpack(inj.get(0, ITIMERVAL.size))
        it = getattr(timers, name)
        it.isec, it.iusec, it.vsec, it.vusec = isec, iusec, vsec, vusec


def restore(ctx: object, t: Task) -> None:
    inj = t.injector
    for which, name in enumerate(WHICH):
        it = getattr(t.core.tc.timers, name)
        if it.vsec or it.vusec:
            inj.put(ITIMERVAL.pack(it.isec, it.iusec, it.vsec, it.vusec))
            inj.call(nr.setitimer, which, inj.scratch, 0, what="setitimer")
