"""Scheduling, per thread: the whole sched_attr (policy incl. SCHED_DEADLINE and its parameters,
reset-on-fork, nice, RT priority, utilization clamps), CPU affinity, I/O priority, timer slack; and
per session the autogroup's nice. Read and set from outside where the kernel allows it."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    IOPRIO_CLASS_SHIFT,
    IOPRIO_WHO_PROCESS,
    PR_GET_TIMERSLACK,
    PR_SET_TIMERSLACK,
    SCHED_DEADLINE,
    SCHED_FIFO,
    SCHED_RR,
)
from engine.errors import RestoreError, UnsupportedError
from engine.native import ffi, lib
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

SCHED_ATTR = struct.Struct("<IIQiIQQQII")  # size policy flags nice priority runtime deadline period umin umax
CPUSET_BYTES = 128
SCHED_FLAG_UTIL_CLAMP = 0x20 | 0x40


def _syscall(num: int, *args: int) -> int:
    a = list(args) + [0] * (6 - len(args))
    return lib.st_syscall(num, *a)


def _getattr(tid: int) -> tuple[int, ...]:
    buf = ffi.new("char[]", SCHED_ATTR.size)
    ret = _syscall(nr.sched_getattr, tid, int(ffi.cast("uintptr_t", buf)), SCHED_ATTR.size, 0)
    if ret < 0:
        raise OSError(-ret, f"sched_getattr({tid}): {os.strerror(-ret)}")
    return SCHED_ATTR.unpack(bytes(ffi.buffer(buf, SCHED_ATTR.size)))


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    for th in t.threads:
        policy = _getattr(th.tid)[1]
        if policy in (SCHED_FIFO, SCHED_RR, SCHED_DEADLINE) and os.geteuid() != 0:
            raise UnsupportedError(f"thread {th.tid}: a real-time policy ({policy}) needs a privileged "
                                       "engine to be "
                                   "restored")


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    s = th.core.thread_core.stasis
    _, policy, flags, nice, prio, runtime, deadline, period, umin, umax = _getattr(th.tid)
    s.sched_policy, s.sched_flags, s.sched_nice, s.sched_priority = policy, flags, nice, prio
    if policy == SCHED_DEADLINE:
        s.sched_runtime, s.sched_deadline, s.sched_period = runtime, deadline, period
    if flags & SCHED_FLAG_UTIL_CLAMP:
        s.sched_util_min, s.sched_util_max = umin, umax
    tcore = th.core.thread_core  # CRIU's own fields, for crit and for other tools
    tcore.sched_nice, tcore.sched_policy = nice, policy
    if policy in (SCHED_FIFO, SCHED_RR):
        tcore.sched_prio = prio
    mask = ffi.new("char[]", CPUSET_BYTES)
    n = _syscall(nr.sched_getaffinity, th.tid, CPUSET_BYTES, int(ffi.cast("uintptr_t", mask)))
    if n < 0:
        raise OSError(-n, f"sched_getaffinity({th.tid}): {os.strerror(-n)}")
    s.affinity = bytes(ffi.buffer(mask, n))
    io = _syscall(nr.ioprio_get, IOPRIO_WHO_PROCESS, th.tid)
    if io < 0:
        raise OSError(-io, f"ioprio_get({th.tid}): {os.strerror(-io)}")
    s.ioprio = io
    s.timerslack_ns = th.injector.call(nr.prctl, PR_GET_TIMERSLACK, what="prctl(PR_GET_TIMERSLACK)")


def dump(ctx: DumpContext, t: Task) -> None:
    nice = _autogroup_nice(t.pid)
    if nice is not None and t.sid == t.pid:  # one autogroup per session: its leader carries it
        t.core.tc.stasis.autogroup_nice = nice


def _autogroup_nice(pid: int) -> int | None:
    try:
        words = proc.read_str(f"/proc/{pid}/autogroup").split()
    except OSError:
        return None
    return int(words[-1]) if len(words) >= 3 and words[-2] == "nice" else None


def restore(ctx: RestoreContext, t: Task) -> None:
    s = t.core.tc.stasis
    if s.HasField("autogroup_nice") and s.autogroup_nice != _autogroup_nice(t.pid):
        try:
            with open(f"/proc/{t.pid}/autogroup", "w") as f:
                f.write(str(s.autogroup_nice))
        except OSError as exc:
            raise RestoreError(f"pid {t.pid}: cannot set its autogroup's nice {s.autogroup_nice}: "
                               f"{exc.strerror}") from exc


def restore_thread(ctx: RestoreContext, t: Task, th: Thread) -> None:
    """Affinity before the policy: a SCHED_DEADLINE thread may not change its affinity any more."""
    s = th.core.thread_core.stasis
    tid = th.tid
    if not s.HasField("sched_policy"):  # an image of another tool: CRIU's fields only
        _restore_criu_fields(th)
        return
    if s.affinity:
        mask = ffi.new("char[]", s.affinity)
        ret = _syscall(nr.sched_setaffinity, tid, len(s.affinity), int(ffi.cast("uintptr_t", mask)))
        if ret < 0:
            raise RestoreError(f"thread {tid}: sched_setaffinity: {os.strerror(-ret)}")
    # class NONE (0) follows the nice value, as a new thread's does: nothing to set. Older kernels (5.10)
    # show the derived level as its data, which ioprio_set refuses with class NONE (EINVAL), and after
    # an explicit NONE/0 they would show data 0
    if s.ioprio >> IOPRIO_CLASS_SHIFT:
        io = _syscall(nr.ioprio_set, IOPRIO_WHO_PROCESS, tid, s.ioprio)
        if io < 0:
            raise RestoreError(f"thread {tid}: ioprio_set({s.ioprio:#x}): {os.strerror(-io)}")
    attr = SCHED_ATTR.pack(SCHED_ATTR.size, s.sched_policy, s.sched_flags, s.sched_nice, s.sched_priority,
                           s.sched_runtime, s.sched_deadline, s.sched_period, s.sched_util_min,
                           s.sched_util_max or (1024 if s.sched_flags & SCHED_FLAG_UTIL_CLAMP else 0))
    buf = ffi.new("char[]", attr)
    ret = _syscall(nr.sched_setattr, tid, int(ffi.cast("uintptr_t", buf)), 0)
    if ret < 0:
        raise RestoreError(f"thread {tid}: sched_setattr(policy {s.sched_policy}, flags {s.sched_flags:#x}): "
                           f"{os.strerror(-ret)}")
    if s.HasField("timerslack_ns"):
        th.injector.call(nr.prctl, PR_SET_TIMERSLACK, s.timerslack_ns, what="prctl(PR_SET_TIMERSLACK)")


def _restore_criu_fields(th: Thread) -> None:
    tcore = th.core.thread_core
    inj = th.injector
    if tcore.HasField("sched_nice"):
        inj.call(nr.setpriority, 0, 0, tcore.sched_nice, what="setpriority")
    if tcore.sched_policy:
        prio = tcore.sched_prio if tcore.sched_policy & 0xF in (SCHED_FIFO, SCHED_RR) else 0
        inj.put(struct.pack("<i", prio))
        inj.call(nr.sched_setscheduler, 0, tcore.sched_policy, inj.scratch, what="sched_setscheduler")


OBJECT = KernelObject(
    "scheduling",
    check=check,
    dump=dump,
    dump_thread=dump_thread,
    stages=(
        Stage("autogroup", Phase.PROCESS, restore, doc="after setsid: each session has its own autogroup"),
        Stage("sched", Phase.THREAD, restore_thread, doc="after the threads exist (a deadline task "
              "cannot fork)"),
    ),
)
