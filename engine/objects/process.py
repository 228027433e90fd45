"""Process and thread attributes: comm, personality, oom_score_adj, loginuid, subreaper, timer slack,
scheduling, pdeathsig."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.compel import syscalls as nr
from engine.errors import RestoreError
from engine.objects.files import open_in_task

if TYPE_CHECKING:
    from engine.task import Task, Thread

PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
PR_SET_NAME = 15
PR_SET_TIMERSLACK, PR_GET_TIMERSLACK = 29, 30
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
SCHED_FIFO, SCHED_RR = 1, 2


def dump(ctx: object, t: Task) -> None:
    inj = t.injector
    tc = t.core.tc
    st = t.leader.facts["stat"]
    tc.task_state = t.state
    tc.exit_code = 0
    tc.comm = st[2]
    tc.flags = int(st[9])
    tc.personality = int(proc.read_str(f"/proc/{t.pid}/personality"), 16)
    tc.oom_score_adj = int(proc.read_str(f"/proc/{t.pid}/oom_score_adj"))
    loginuid = _loginuid(t.pid)
    if loginuid is not None:
        tc.loginuid = loginuid
    inj.call(nr.prctl, PR_GET_CHILD_SUBREAPER, inj.scratch, what="prctl(PR_GET_CHILD_SUBREAPER)")
    tc.child_subreaper = bool(struct.unpack("<i", inj.get(0, 4))[0])
    tc.timerslack_ns = inj.call(nr.prctl, PR_GET_TIMERSLACK, what="prctl(PR_GET_TIMERSLACK)")
    if "stop_sig" in t.facts:
        tc.stop_signo = t.facts["stop_sig"]


def dump_thread(ctx: object, t: Task, th: Thread) -> None:
    inj = th.injector
    tcore = th.core.thread_core
    st = th.facts["stat"]
    inj.call(nr.prctl, PR_GET_PDEATHSIG, inj.scratch, what="prctl(PR_GET_PDEATHSIG)")
    pdeath = struct.unpack("<i", inj.get(0, 4))[0]
    if pdeath:
        tcore.pdeath_sig = pdeath
    tcore.sched_nice = int(st[19])
    tcore.sched_policy = int(st[41])
    if tcore.sched_policy & 0xF in (SCHED_FIFO, SCHED_RR):
        tcore.sched_prio = int(st[40])
    tcore.comm = st[2]


def restore(ctx: object, t: Task) -> None:
    """Process-wide attributes that need privilege (oom, loginuid) go before the credentials."""
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
    if tc.HasField("loginuid") and tc.loginuid != _loginuid(t.pid):
        # only the task itself may write its loginuid (and it needs CAP_AUDIT_CONTROL: still root here)
        _write_own_proc(t, "/proc/self/loginuid", str(tc.loginuid).encode())
    if tc.child_subreaper:
        inj.call(nr.prctl, PR_SET_CHILD_SUBREAPER, 1, what="prctl(PR_SET_CHILD_SUBREAPER)")
    if tc.HasField("timerslack_ns"):
        inj.call(nr.prctl, PR_SET_TIMERSLACK, tc.timerslack_ns, what="prctl(PR_SET_TIMERSLACK)")


def restore_thread(ctx: object, t: Task, th: Thread) -> None:
    inj = th.injector
    tcore = th.core.thread_core
    if tcore.HasField("sched_nice"):
        inj.call(nr.setpriority, 0, 0, tcore.sched_nice, what="setpriority")
    if tcore.sched_policy:  # SCHED_OTHER is what the helper has already
        prio = tcore.sched_prio if tcore.sched_policy & 0xF in (SCHED_FIFO, SCHED_RR) else 0
        inj.put(struct.pack("<i", prio))
        inj.call(nr.sched_setscheduler, 0, tcore.sched_policy, inj.scratch, what="sched_setscheduler")


def restore_thread_after_creds(ctx: object, t: Task, th: Thread) -> None:
    """A credential change clears pdeathsig, so it goes back after them; the name too (it is cheap)."""
    inj = th.injector
    tcore = th.core.thread_core
    if tcore.HasField("pdeath_sig"):
        inj.call(nr.prctl, PR_SET_PDEATHSIG, tcore.pdeath_sig, what="prctl(PR_SET_PDEATHSIG)")
    comm = tcore.comm if tcore.HasField("comm") else t.core.tc.comm
    inj.put(comm.encode()[:15] + b"\0")
    inj.call(nr.prctl, PR_SET_NAME, inj.scratch, what="prctl(PR_SET_NAME)")


def _loginuid(pid: int) -> int | None:
    try:
        return int(proc.read_str(f"/proc/{pid}/loginuid"))
    except (OSError, ValueError):
        return None


def _write_own_proc(t: Task, path: str, data: bytes) -> None:
    inj = t.injector
    fd = open_in_task(t, path, os.O_WRONLY)
    try:
        inj.put(data)
        ret = inj.raw(nr.write, fd, inj.scratch, len(data))
        if ret != len(data):
            err = os.strerror(-ret) if ret < 0 else "short write"
            raise RestoreError(f"pid {t.pid}: cannot write {path}: {err}")
    finally:
        inj.raw(nr.close, fd)
