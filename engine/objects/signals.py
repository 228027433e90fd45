"""Signal dispositions (all 64, process-wide), blocked masks, alternate stacks and queued signals."""

from __future__ import annotations

import signal
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import ALL_SIGNALS, SS_DISABLE
from engine.errors import RestoreError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

SIGACTION = struct.Struct("<QQQQ")  # handler, flags, restorer, mask (kernel struct sigaction)
STACK_T = struct.Struct("<QIxxxxQ")  # ss_sp, ss_flags (SS_AUTODISARM is bit 31), ss_size
SIGNALS = [s for s in range(1, 65) if s not in (signal.SIGKILL, signal.SIGSTOP)]


def dump(ctx: DumpContext, t: Task) -> None:
    inj = t.injector
    tc = t.core.tc
    for sig in SIGNALS:
        inj.call(nr.rt_sigaction, sig, 0, inj.scratch, 8, what=f"rt_sigaction({sig})")
        handler, flags, restorer, mask = SIGACTION.unpack(inj.get(0, SIGACTION.size))
        tc.sigactions.add(sigaction=handler, flags=flags, restorer=restorer, mask=mask,
                          compat_sigaction=False)
    tc.signals_s.SetInParent()
    for info in t.tracee.peek_siginfo(shared=True):
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
    for info in th.tracee.peek_siginfo(shared=False):
        core.thread_core.signals_p.signals.add(siginfo=info)


def blocked(t: Task, th: Thread) -> int:
    return t.core.tc.blk_sigset if th is t.leader else th.core.thread_core.blk_sigset


def restore(ctx: RestoreContext, t: Task) -> None:
    inj = t.injector
    tc = t.core.tc
    if len(tc.sigactions) != len(SIGNALS):
        raise RestoreError(f"core-{t.pid}.img: {len(tc.sigactions)} sigactions, expected {len(SIGNALS)}")
    _flush_helper_signals(t)
    ignored = int(proc.status(t.pid)["SigIgn"], 16)  # the helper's own: all else is SIG_DFL already
    for sig, sa in zip(SIGNALS, tc.sigactions, strict=True):
        if not (sa.sigaction or sa.flags or sa.restorer or sa.mask or ignored & (1 << (sig - 1))):
            continue  # default, as the helper has it: one injected syscall saved per signal
        inj.put(SIGACTION.pack(sa.sigaction, sa.flags, sa.restorer, sa.mask))
        inj.call(nr.rt_sigaction, sig, inj.scratch, 0, 8, what=f"rt_sigaction({sig})")
    # Queued signals go back while every signal is blocked (the injector blocks all of them).
    for entry in tc.signals_s.signals:
        inj.put(entry.siginfo)
        signo = struct.unpack_from("<i", entry.siginfo)[0]
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
        inj.put(entry.siginfo)
        signo = struct.unpack_from("<i", entry.siginfo)[0]
        inj.call(nr.rt_tgsigqueueinfo, t.own_pid, th.own_tid, signo, inj.scratch,
                 what="rt_tgsigqueueinfo")


OBJECT = KernelObject(
    "signals",
    dump=dump,
    dump_thread=dump_thread,
    stages=(
        Stage("signals", Phase.PROCESS, restore),
        Stage("thread-signals", Phase.THREAD, restore_thread),
    ),
)
