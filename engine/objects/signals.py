"""Signal dispositions (all 64, process-wide), blocked masks, alternate stacks and queued signals.

A SIGSTOP queued to a stopped task (sent while its group was stopped) stays queued until a SIGCONT
flushes it or a tracer lets the task run. It cannot be blocked, so the return of the first injected
syscall would dequeue it: it is read at the freeze (stops_of) and queued again from outside once the
task is stopped again, after a dump that leaves the tree running and after a restore (send_stops). A
kill or tgkill is sent again as one (its sender is then the engine: pid 0 in a pid namespace of the
tree's own); any other siginfo is queued as it was.
"""

from __future__ import annotations

import os
import signal
import struct
import time
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import ALL_SIGNALS, SS_DISABLE, TASK_STOPPED
from engine.errors import RestoreError
from engine.native import ffi, lib
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

SIGACTION = struct.Struct("<QQQQ")  # handler, flags, restorer, mask (kernel struct sigaction)
STACK_T = struct.Struct("<QIxxxxQ")  # ss_sp, ss_flags (SS_AUTODISARM is bit 31), ss_size
SIGNALS = [s for s in range(1, 65) if s not in (signal.SIGKILL, signal.SIGSTOP)]
SI_USER, SI_TKILL = 0, -6
STOP_WAIT = 5.0


def _signo(info: bytes) -> int:
    return int(struct.unpack_from("<i", info)[0])


def stops_of(th: Thread, shared: bool) -> list[bytes]:
    """The SIGSTOPs queued to a frozen thread (or its process), before anything is injected."""
    return [i for i in th.tracee.peek_siginfo(shared=shared) if _signo(i) == signal.SIGSTOP]


def dump(ctx: DumpContext, t: Task) -> None:
    inj = t.injector
    tc = t.core.tc
    for sig in SIGNALS:
        inj.call(nr.rt_sigaction, sig, 0, inj.scratch, 8, what=f"rt_sigaction({sig})")
        handler, flags, restorer, mask = SIGACTION.unpack(inj.get(0, SIGACTION.size))
        tc.sigactions.add(sigaction=handler, flags=flags, restorer=restorer, mask=mask,
                          compat_sigaction=False)
    tc.signals_s.SetInParent()
    for info in [i for i in t.tracee.peek_siginfo(shared=True) if _signo(i) != signal.SIGSTOP]:
        tc.signals_s.signals.add(siginfo=info)
    for info in t.leader.facts.shared_stops:
        tc.signals_s.signals.add(siginfo=info)


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    inj = th.injector
    core = th.core
    if th is t.leader:
        core.tc.blk_sigset = th.facts.sigmask
    else:
        core.thread_core.blk_sigset = th.facts.sigmask
    inj.call(nr.sigaltstack, 0, inj.scratch, what="sigaltstack")
    sp, flags, size = STACK_T.unpack(inj.get(0, STACK_T.size))
    sas = core.thread_core.sas
    sas.ss_sp, sas.ss_size, sas.ss_flags = sp, size, flags
    core.thread_core.signals_p.SetInParent()
    for info in [i for i in th.tracee.peek_siginfo(shared=False) if _signo(i) != signal.SIGSTOP]:
        core.thread_core.signals_p.signals.add(siginfo=info)
    for info in th.facts.stops:
        core.thread_core.signals_p.signals.add(siginfo=info)


def blocked(t: Task, th: Thread) -> int:
    return t.core.tc.blk_sigset if th is t.leader else th.core.thread_core.blk_sigset


def restore(ctx: RestoreContext, t: Task) -> None:
    inj = t.injector
    tc = t.core.tc
    if len(tc.sigactions) != len(SIGNALS):
        raise RestoreError(f"core-{t.pid}.img: {len(tc.sigactions)} sigactions, expected {len(SIGNALS)}")
    queued = [*tc.signals_s.signals, *(e for th in t.threads for e in th.core.thread_core.signals_p.signals)]
    if t.state != TASK_STOPPED and any(_signo(e.siginfo) == signal.SIGSTOP for e in queued):
        raise RestoreError(f"core-{t.pid}.img: a SIGSTOP queued to a task that is not stopped")
    _flush_helper_signals(t)
    ignored = int(proc.status(t.pid)["SigIgn"], 16)  # the helper's own: all else is SIG_DFL already
    for sig, sa in zip(SIGNALS, tc.sigactions, strict=True):
        if not (sa.sigaction or sa.flags or sa.restorer or sa.mask or ignored & (1 << (sig - 1))):
            continue  # default, as the helper has it: one injected syscall saved per signal
        inj.put(SIGACTION.pack(sa.sigaction, sa.flags, sa.restorer, sa.mask))
        inj.call(nr.rt_sigaction, sig, inj.scratch, 0, 8, what=f"rt_sigaction({sig})")
    # Queued signals go back while every signal is blocked (the injector blocks all of them); a SIGSTOP
    # cannot be blocked: send_stops queues it once the task is stopped again.
    for entry in tc.signals_s.signals:
        signo = _signo(entry.siginfo)
        if signo == signal.SIGSTOP:
            continue
        inj.put(entry.siginfo)
        inj.call(nr.rt_sigqueueinfo, t.own_pid, signo, inj.scratch, what="rt_sigqueueinfo")


def _flush_helper_signals(t: Task) -> None:
    """Building the tree queues signals of its own (SIGCHLD from children made zombies): drop them."""
    inj = t.injector
    inj.put(struct.pack("<Q", ALL_SIGNALS) + struct.pack("<qq", 0, 0))
    while inj.raw(nr.rt_sigtimedwait, inj.scratch, 0, inj.scratch + 8, 8) > 0:  # zero timeout
        pass


def restore_thread(ctx: RestoreContext, t: Task, th: Thread) -> None:
    inj = th.injector
    tcore = th.core.thread_core
    if tcore.HasField("sas") and not tcore.sas.ss_flags & SS_DISABLE:
        # SS_ONSTACK is what the kernel reports while on the stack; it is no flag to set
        inj.put(STACK_T.pack(tcore.sas.ss_sp, tcore.sas.ss_flags & ~1, tcore.sas.ss_size))
        inj.call(nr.sigaltstack, inj.scratch, 0, what="sigaltstack")
    for entry in tcore.signals_p.signals:
        signo = _signo(entry.siginfo)
        if signo == signal.SIGSTOP:
            continue
        inj.put(entry.siginfo)
        inj.call(nr.rt_tgsigqueueinfo, t.own_pid, th.own_tid, signo, inj.scratch,
                 what="rt_tgsigqueueinfo")


def requeue_stops(t: Task) -> None:
    """After a dump that leaves the tree running: the SIGSTOPs the freeze found queued, queued again."""
    if t.state != TASK_STOPPED or t.proc is None:
        return
    todo = [(th.tid, i) for th in t.threads if th.proc is not None for i in th.proc.stops]
    todo += [(0, i) for i in (t.leader.proc.shared_stops if t.leader.proc else [])]
    if todo:
        send_stops(t.pid, [th.tid for th in t.threads], todo)


def restore_stops(t: Task) -> None:
    """After a restore, once the task is stopped again: the SIGSTOPs its images hold queued."""
    todo = [(0, e.siginfo) for e in t.core.tc.signals_s.signals if _signo(e.siginfo) == signal.SIGSTOP]
    for th in t.threads:
        todo += [(th.tid, e.siginfo) for e in th.core.thread_core.signals_p.signals
                 if _signo(e.siginfo) == signal.SIGSTOP]
    if todo:
        send_stops(t.pid, [th.tid for th in t.threads], todo)


def send_stops(pid: int, tids: list[int], todo: list[tuple[int, bytes]]) -> None:
    """Queue SIGSTOPs (tid 0: to the process) from the engine, once every thread is in its stop (a
    thread still on its way there takes the group stop before it dequeues anything)."""
    deadline = time.monotonic() + STOP_WAIT
    while not all(_stopped(pid, tid) for tid in tids):
        if time.monotonic() > deadline:
            raise RestoreError(f"pid {pid}: its threads did not stop again within {STOP_WAIT} s")
        time.sleep(0.001)
    for tid, info in todo:
        _, _, code = struct.unpack_from("<iii", info)
        buf = ffi.new("char[]", info)  # kept alive across the call
        addr = int(ffi.cast("uintptr_t", buf))
        if code >= SI_USER or code == SI_TKILL:  # a kill/tgkill: the kernel will not take a forged one
            ret = (lib.st_syscall(nr.tgkill, pid, tid, signal.SIGSTOP, 0, 0, 0) if tid
                   else lib.st_syscall(nr.kill, pid, signal.SIGSTOP, 0, 0, 0, 0))
        elif tid:
            ret = lib.st_syscall(nr.rt_tgsigqueueinfo, pid, tid, signal.SIGSTOP, addr, 0, 0)
        else:
            ret = lib.st_syscall(nr.rt_sigqueueinfo, pid, signal.SIGSTOP, addr, 0, 0, 0)
        if ret < 0:
            raise RestoreError(f"pid {pid}: cannot queue its SIGSTOP{f' to thread {tid}' if tid else ''} "
                               f"again: {os.strerror(-ret)}")


def _stopped(pid: int, tid: int) -> bool:
    try:
        return proc.stat_of(pid, tid)[3] in ("T", "t")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True  # gone: nothing to wait for


OBJECT = KernelObject(
    "signals",
    dump=dump,
    dump_thread=dump_thread,
    stages=(
        Stage("signals", Phase.PROCESS, restore),
        Stage("thread-signals", Phase.THREAD, restore_thread),
    ),
)
