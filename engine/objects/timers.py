"""Timers of a process: interval timers (ITIMER_REAL/VIRTUAL/PROF) and POSIX timers (timer_create).

POSIX timers come back with their ids (PR_TIMER_CREATE_RESTORE_IDS where the kernel has it, else by
creating them in id order from a fresh counter), clock, notification (signal, value, thread), interval
and remaining time. They are created per process once its threads exist (a SIGEV_THREAD_ID target must)
and before the credentials drop (an *_ALARM clock needs CAP_WAKE_ALARM to be created)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    PR_TIMER_CREATE_RESTORE_IDS,
    PR_TIMER_CREATE_RESTORE_IDS_OFF,
    PR_TIMER_CREATE_RESTORE_IDS_ON,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
)
from engine.errors import RestoreError, UnsupportedError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

ITIMERVAL = struct.Struct("<qqqq")  # interval sec/usec, value sec/usec
WHICH = ("real", "virt", "prof")


ITIMERSPEC = struct.Struct("<qqqq")  # it_interval sec/nsec, it_value sec/nsec
SIGEVENT = struct.Struct("<Qii48x")  # sigev_value, sigev_signo, sigev_notify, then the tid (offset 16)
NOTIFY = {"signal": SIGEV_SIGNAL, "none": SIGEV_NONE, "thread": SIGEV_THREAD}
CLOCKS = {0: "REALTIME", 1: "MONOTONIC", 2: "PROCESS_CPUTIME_ID", 3: "THREAD_CPUTIME_ID", 7: "BOOTTIME",
          8: "REALTIME_ALARM", 9: "BOOTTIME_ALARM", 11: "TAI"}
MAX_ID_GAP = 4096  # without PR_TIMER_CREATE_RESTORE_IDS, ids are reached by creating timers up to them


def _posix_timers(pid: int) -> list[dict[str, str]]:
    """/proc/PID/timers: blocks of `ID:`, `signal: SIGNO/VALUE`, `notify: KIND/pid.N|tid.N`, `ClockID:`."""
    out: list[dict[str, str]] = []
    try:
        with open(f"/proc/{pid}/timers") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == "ID":
                    out.append({})
                out[-1][key] = value.strip()
    except FileNotFoundError:
        pass
    return out


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    for tm in _posix_timers(t.pid):
        clock = int(tm["ClockID"])
        if clock not in CLOCKS or CLOCKS[clock].endswith("CPUTIME_ID") and clock != 2:
            raise UnsupportedError(f"pid {t.pid}: POSIX timer {tm['ID']} on clock {clock} (another task's "
                                   "CPU clock, or one this engine does not know): not supported")


def dump(ctx: DumpContext, t: Task) -> None:
    inj = t.injector
    timers = t.core.tc.timers
    for which, name in enumerate(WHICH):
        inj.call(nr.getitimer, which, inj.scratch, what="getitimer")
        isec, iusec, vsec, vusec = ITIMERVAL.unpack(inj.get(0, ITIMERVAL.size))
        it = getattr(timers, name)
        it.isec, it.iusec, it.vsec, it.vusec = isec, iusec, vsec, vusec


def dump_posix(ctx: DumpContext, t: Task) -> None:
    inj = t.injector
    for tm in _posix_timers(t.pid):
        tid = int(tm["ID"])
        signo, _, value = tm["signal"].partition("/")
        kind, _, target = tm["notify"].partition("/")
        notify = NOTIFY[kind] | (SIGEV_THREAD_ID if target.startswith("tid.") else 0)
        inj.call(nr.timer_gettime, tid, inj.scratch, what=f"timer_gettime({tid})")
        isec, insec, vsec, vnsec = ITIMERSPEC.unpack(inj.get(0, ITIMERSPEC.size))
        overrun = inj.call(nr.timer_getoverrun, tid, what=f"timer_getoverrun({tid})")
        if overrun:
            raise UnsupportedError(f"pid {t.pid}: POSIX timer {tid} has an overrun count ({overrun}) that "
                                   "cannot be set again")
        e = t.core.tc.timers.posix.add(it_id=tid, clock_id=int(tm["ClockID"]), si_signo=int(signo),
                                       it_sigev_notify=notify, sival_ptr=int(value, 16), overrun=0,
                                       isec=isec, insec=insec, vsec=vsec, vnsec=vnsec)
        if notify & SIGEV_THREAD_ID:
            host = int(target.split(".", 1)[1])  # as the engine's /proc shows it; the task's own tid
            e.notify_thread_id = next((th.inner_tid for th in t.threads if th.tid == host), host)


def restore_posix(ctx: RestoreContext, t: Task, th: Thread) -> None:
    """Once per process, in its leader, once every thread exists and while it is still privileged."""
    timers = sorted(t.core.tc.timers.posix, key=lambda e: e.it_id)
    if th is not t.leader or not timers:
        return
    inj = th.injector
    by_id = inj.raw(nr.prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0) == 0
    placeholders: list[int] = []
    try:
        for e in timers:
            # without RESTORE_IDS the kernel hands out ids from a counter (a fresh process's starts at
            # 0): placeholders take the ids in between, and go once every timer has its own
            while not by_id and len(placeholders) + sum(x.it_id < e.it_id for x in timers) < e.it_id:
                if len(placeholders) > MAX_ID_GAP:
                    raise RestoreError(f"pid {t.pid}: POSIX timer id {e.it_id} cannot be reached on this "
                                       "kernel")
                placeholders.append(_create(t, 1, SIGEVENT.pack(0, 0, SIGEV_NONE), 0))
            tid = e.notify_thread_id if e.HasField("notify_thread_id") else 0
            tid = next((x.own_tid for x in t.threads if x.inner_tid == tid), tid)  # as the process sees it
            got = _create(t, e.clock_id, SIGEVENT.pack(e.sival_ptr, e.si_signo, e.it_sigev_notify), tid,
                          e.it_id)
            if got != e.it_id:
                raise RestoreError(f"pid {t.pid}: POSIX timer {e.it_id} came back as timer {got}")
            if e.vsec or e.vnsec:
                inj.put(ITIMERSPEC.pack(e.isec, e.insec, e.vsec, e.vnsec), 192)
                inj.call(nr.timer_settime, e.it_id, 0, inj.scratch + 192, 0, what=f"timer_settime({e.it_id})")
    finally:
        for tid in placeholders:
            inj.raw(nr.timer_delete, tid)
        if by_id:
            inj.raw(nr.prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0)


def _create(t: Task, clock: int, sigevent: bytes, notify_tid: int, want: int = 0) -> int:
    """timer_create in the task; with RESTORE_IDS on, the kernel takes the id from the output slot."""
    inj = t.injector
    inj.put(sigevent)
    inj.put(struct.pack("<i", notify_tid), 16)
    inj.put(struct.pack("<i", want), 128)
    inj.call(nr.timer_create, clock, inj.scratch, inj.scratch + 128, what=f"timer_create(clock {clock})")
    return int(struct.unpack("<i", inj.get(128, 4))[0])


def restore(ctx: RestoreContext, t: Task) -> None:
    inj = t.injector
    for which, name in enumerate(WHICH):
        it = getattr(t.core.tc.timers, name)
        vsec, vusec = it.vsec, it.vusec
        if not (vsec or vusec):
            if which != 0 or not (it.isec or it.iusec):
                continue
            # A periodic ITIMER_REAL that expired in a stopped task is idle until its SIGALRM (pending, and
            # restored as such) is taken, which is when the kernel arms it again: getitimer gave value 0 and
            # the interval. Armed one interval on, so that the interval is not lost.
            vsec, vusec = it.isec, it.iusec
        want = vsec * 1_000_000 + vusec
        inj.put(ITIMERVAL.pack(it.isec, it.iusec, vsec, vusec))
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


def dump_all(ctx: DumpContext, t: Task) -> None:
    dump(ctx, t)
    dump_posix(ctx, t)


OBJECT = KernelObject(
    "timers",
    check=check,
    dump=dump_all,
    stages=(
        Stage("timers", Phase.PROCESS, restore),
        Stage("posix-timers", Phase.THREAD, restore_posix, doc="once its threads exist (SIGEV_THREAD_ID), "
              "before the credentials drop (*_ALARM clocks)"),
    ),
)
