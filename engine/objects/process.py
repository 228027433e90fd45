"""Process attributes: comm, personality, oom_score_adj, subreaper, pdeathsig, scheduling, session."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.compel import syscalls as nr
from engine.errors import RestoreError

if TYPE_CHECKING:
    from engine.task import Task

PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
PR_SET_NAME = 15
PR_SET_TIMERSLACK, PR_GET_TIMERSLACK = 29, 30
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
TASK_ALIVE = 1
SCHED_FIFO, SCHED_RR = 1, 2


def dump(ctx: object, t: Task) -> None:
    inj = t.injector
    tc, th = t.core.tc, t.core.thread_core
    st = t.facts["stat"]
    tc.task_state = TASK_ALIVE
    tc.exit_code = 0
    tc.comm = st[2]
    tc.flags = int(st[9])
    tc.personality = int(proc.read_str(f"/proc/{t.pid}/personality"), 16)
    tc.oom_score_adj = int(proc.read_str(f"/proc/{t.pid}/oom_score_adj"))
    try:
        tc.loginuid = int(proc.read_str(f"/proc/{t.pid}/loginuid"))
    except (FileNotFoundError, ValueError):
        pass
    inj.call(nr.prctl, PR_GET_CHILD_SUBREAPER, inj.scratch, what="prctl(PR_GET_CHILD_SUBREAPER)")
    tc.child_subreaper = bool(struct.unpack("<i", inj.get(0, 4))[0])
    inj.call(nr.prctl, PR_GET_PDEATHSIG, inj.scratch, what="prctl(PR_GET_PDEATHSIG)")
    pdeath = struct.unpack("<i", inj.get(0, 4))[0]
    if pdeath:
        th.pdeath_sig = pdeath
    th.sched_nice = int(st[19])
    th.sched_policy = int(st[41])
    if th.sched_policy & 0xF in (SCHED_FIFO, SCHED_RR):
        th.sched_prio = int(st[40])
    tc.timerslack_ns = inj.call(nr.prctl, PR_GET_TIMERSLACK, what="prctl(PR_GET_TIMERSLACK)")
    th.comm = tc.comm


def restore_session(ctx: object, t: Task) -> None:
    """Session and group first: they need the helper not to lead a group yet."""
    sid, pgid = t.images["pstree"].sid, t.images["pstree"].pgid
    inj = t.injector
    if sid == t.pid:
        inj.call(nr.setsid, what="setsid")
    elif pgid == t.pid:
        inj.call(nr.setpgid, 0, 0, what="setpgid")


def restore(ctx: object, t: Task) -> None:
    """Attributes that need privilege (nice, oom) go before the credentials are dropped."""
    inj = t.injector
    tc, th = t.core.tc, t.core.thread_core
    inj.call(nr.personality, tc.personality, what="personality")
    if th.HasField("sched_nice"):
        inj.call(nr.setpriority, 0, 0, th.sched_nice, what="setpriority")
    if th.sched_policy:  # SCHED_OTHER is what the helper has already
        prio = th.sched_prio if th.sched_policy & 0xF in (SCHED_FIFO, SCHED_RR) else 0
        inj.put(struct.pack("<i", prio))
        inj.call(nr.sched_setscheduler, 0, th.sched_policy, inj.scratch, what="sched_setscheduler")
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


def restore_after_creds(ctx: object, t: Task) -> None:
    """A credential change clears pdeathsig, so it goes back last; comm too (it is cheap)."""
    inj = t.injector
    th = t.core.thread_core
    if th.HasField("pdeath_sig"):
        inj.call(nr.prctl, PR_SET_PDEATHSIG, th.pdeath_sig, what="prctl(PR_SET_PDEATHSIG)")
    inj.put(t.core.tc.comm.encode()[:15] + b"\0")
    inj.call(nr.prctl, PR_SET_NAME, inj.scratch, what="prctl(PR_SET_NAME)")




def _loginuid(pid: int) -> int | None:
    try:
        return int(proc.read_str(f"/proc/{pid}/loginuid"))
    except (OSError, ValueError):
        return None


def _write_own_proc(t: Task, path: str, data: bytes) -> None:
    inj = t.injector
    inj.put(path.encode() + b"\0")
    fd = inj.raw(nr.openat, -100, inj.scratch, 1, 0)  # O_WRONLY
    if fd < 0:
        raise RestoreError(f"pid {t.pid}: cannot open {path}: {os.strerror(-fd)}")
    try:
        inj.put(data)
        ret = inj.raw(nr.write, fd, inj.scratch, len(data))
        if ret != len(data):
            err = os.strerror(-ret) if ret < 0 else "short write"
            raise RestoreError(f"pid {t.pid}: cannot write {path}: {err}")
    finally:
        inj.raw(nr.close, fd)
