"""Signal dispositions (all 64), blocked mask, alternate stack and queued signals."""

from __future__ import annotations

import signal
import struct
from typing import TYPE_CHECKING

from engine.compel import syscalls as nr

if TYPE_CHECKING:
    from engine.task import Task

SIGACTION = struct.Struct("<QQQQ")  # handler, flags, restorer, mask (kernel struct sigaction)
STACK_T = struct.Struct("<QixxxxQ")  # ss_sp, ss_flags, ss_size
SIGNALS = [s for s in range(1, 65) if s not in (signal.SIGKILL, signal.SIGSTOP)]


def dump(ctx: object, t: Task) -> None:
    inj = t.injector
    tc, th = t.core.tc, t.core.thread_core
    for sig in SIGNALS:
        inj.call(nr.rt_sigaction, sig, 0, inj.scratch, 8, what=f"rt_sigaction({sig})")
        handler, flags, restorer, mask = SIGACTION.unpack(inj.get(0, SIGACTION.size))
        tc.sigactions.add(sigaction=handler, flags=flags, restorer=restorer, mask=mask,
                          compat_sigaction=False)
    tc.blk_sigset = t.facts["sigmask"]
    inj.call(nr.sigaltstack, 0, inj.scratch, what="sigaltstack")
    sp, flags, size = STACK_T.unpack(inj.get(0, STACK_T.size))
    th.sas.ss_sp, th.sas.ss_size, th.sas.ss_flags = sp, size, flags
    tc.signals_s.SetInParent()
    for info in t.tracee.peek_siginfo(shared=True):
        tc.signals_s.signals.add(siginfo=info)
    th.signals_p.SetInParent()
    for info in t.tracee.peek_siginfo(shared=False):
        th.signals_p.signals.add(siginfo=info)


def restore(ctx: object, t: Task) -> None:
    inj = t.injector
    tc, th = t.core.tc, t.core.thread_core
    if len(tc.sigactions) != len(SIGNALS):
        from engine.errors import RestoreError

        raise RestoreError(f"core-{t.pid}.img: {len(tc.sigactions)} sigactions, expected {len(SIGNALS)}")
    for sig, sa in zip(SIGNALS, tc.sigactions, strict=True):
        inj.put(SIGACTION.pack(sa.sigaction, sa.flags, sa.restorer, sa.mask))
        inj.call(nr.rt_sigaction, sig, inj.scratch, 0, 8, what=f"rt_sigaction({sig})")
    if th.HasField("sas") and not th.sas.ss_flags & 2:  # SS_DISABLE: nothing to set
        inj.put(STACK_T.pack(th.sas.ss_sp, th.sas.ss_flags & ~0x80000000, th.sas.ss_size))
        inj.call(nr.sigaltstack, inj.scratch, 0, what="sigaltstack")
    # Queued signals go back while every signal is blocked (the injector blocks all of them).
    for entry in tc.signals_s.signals:
        inj.put(entry.siginfo)
        signo = struct.unpack_from("<i", entry.siginfo)[0]
        inj.call(nr.rt_sigqueueinfo, t.pid, signo, inj.scratch, what="rt_sigqueueinfo")
    for entry in th.signals_p.signals:
        inj.put(entry.siginfo)
        signo = struct.unpack_from("<i", entry.siginfo)[0]
        inj.call(nr.rt_tgsigqueueinfo, t.pid, t.tracee.tid, signo, inj.scratch, what="rt_tgsigqueueinfo")
