"""Process and thread attributes: comm, personality, oom_score_adj, subreaper, pdeathsig."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    CAP_SYS_RESOURCE,
    PR_GET_CHILD_SUBREAPER,
    PR_GET_PDEATHSIG,
    PR_SET_CHILD_SUBREAPER,
    PR_SET_NAME,
    PR_SET_PDEATHSIG,
)
from engine.errors import RestoreError, UnsupportedError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread


def check(ctx: DumpContext, t: Task) -> None:
    """Lowering oom_score_adj below the engine's needs CAP_SYS_RESOURCE: refuse now rather than at restore."""
    if not t.alive:
        return

    theirs = int(proc.read_str(f"/proc/{t.pid}/oom_score_adj"))
    mine = int(proc.read_str("/proc/self/oom_score_adj"))
    if theirs < mine and not proc.own_cap(CAP_SYS_RESOURCE):
        raise UnsupportedError(f"pid {t.pid}: oom_score_adj {theirs} is below the engine's ({mine}); "
                               "setting it "
                               "at restore needs CAP_SYS_RESOURCE")


def dump(ctx: DumpContext, t: Task) -> None:
    inj = t.injector
    tc = t.core.tc
    st = t.leader.facts.stat
    tc.task_state = t.state
    tc.exit_code = 0
    tc.comm = st[2]
    tc.flags = int(st[9])
    tc.personality = int(proc.read_str(f"/proc/{t.pid}/personality"), 16)
    tc.oom_score_adj = int(proc.read_str(f"/proc/{t.pid}/oom_score_adj"))
    inj.call(nr.prctl, PR_GET_CHILD_SUBREAPER, inj.scratch, what="prctl(PR_GET_CHILD_SUBREAPER)")
    tc.child_subreaper = bool(struct.unpack("<i", inj.get(0, 4))[0])
    if t.stop_sig:
        tc.stop_signo = t.stop_sig


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    inj = th.injector
    tcore = th.core.thread_core
    inj.call(nr.prctl, PR_GET_PDEATHSIG, inj.scratch, what="prctl(PR_GET_PDEATHSIG)")
    pdeath = struct.unpack("<i", inj.get(0, 4))[0]
    if pdeath:
        tcore.pdeath_sig = pdeath
    tcore.comm = th.facts.stat[2]


def restore(ctx: RestoreContext, t: Task) -> None:
    """Process-wide attributes that need privilege (oom) go before the credentials."""
    inj = t.injector
    tc = t.core.tc
    inj.call(nr.personality, tc.personality, what="personality")
    if tc.HasField("oom_score_adj"):
        try:
            with open(f"/proc/{t.pid}/oom_score_adj", "w") as f:
                f.write(str(tc.oom_score_adj))
        except PermissionError as exc:
            raise RestoreError(f"pid {t.pid}: cannot set oom_score_adj {tc.oom_score_adj} "
                               "(lowering it needs CAP_SYS_RESOURCE)") from exc
    if tc.child_subreaper:
        inj.call(nr.prctl, PR_SET_CHILD_SUBREAPER, 1, what="prctl(PR_SET_CHILD_SUBREAPER)")


def restore_thread_after_creds(ctx: RestoreContext, t: Task, th: Thread) -> None:
    """A credential change clears pdeathsig, so it goes back after them; the name too (it is cheap)."""
    inj = th.injector
    tcore = th.core.thread_core
    if tcore.HasField("pdeath_sig"):
        inj.call(nr.prctl, PR_SET_PDEATHSIG, tcore.pdeath_sig, what="prctl(PR_SET_PDEATHSIG)")
    comm = tcore.comm if tcore.HasField("comm") else t.core.tc.comm
    inj.put(comm.encode()[:15] + b"\0")
    inj.call(nr.prctl, PR_SET_NAME, inj.scratch, what="prctl(PR_SET_NAME)")


OBJECT = KernelObject(
    "process",
    check=check,
    dump=dump,
    dump_thread=dump_thread,
    stages=(
        Stage("process", Phase.PROCESS, restore, doc="personality after the mappings, oom while privileged"),
        Stage("after-creds", Phase.THREAD, restore_thread_after_creds, after=("creds",),
              doc="a credential change clears pdeathsig"),
    ),
)
