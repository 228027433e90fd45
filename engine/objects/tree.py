"""The process tree: pids, parents, sessions and groups, zombies; its pstree and core images.

Restore forks it top-down from the root helper (injected clone3 with set_tid), each process after
its memory is rebuilt (so its children inherit it), after setsid/setpgid so they inherit those. A
session or group whose leader has exited gets a stand-in: a temporary process at the leader's PID
that creates the session (and forks the members with CLONE_PARENT, so their parent stays right) or
the group, and exits once the members are in. Zombies exit again with their old status.
"""

from __future__ import annotations

import os
import signal
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    CLONE_FILES,
    CLONE_FS,
    CLONE_PARENT,
    CLONE_THREAD,
    P_PID,
    PR_SET_NAME,
    TASK_DEAD,
    WNOHANG,
    WSTOPPED,
)
from engine.compel.inject import Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import Tracee, TraceeGone
from engine.errors import ImageError, RestoreError, UnsupportedError
from engine.images.pb import core_pb2, pstree_pb2
from engine.log import log
from engine.native import ffi, lib
from engine.objects import clone, creds, namespaces, nestedns, pidns, signals, timens
from engine.objects.base import KernelObject
from engine.task import Task, Thread

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.images import ImageDir

RLIMIT_CORE = 4


# -- dump ------------------------------------------------------------------------------------------

def check(ctx: DumpContext, t: Task) -> None:
    """Sessions and groups must be ones restore can build: refused now, while the tree still runs."""
    root = ctx.root
    pids = {x.pid: x for x in ctx.tasks}
    if t is root and root.sid not in pids and not ctx.opts.shell_job:
        raise UnsupportedError(f"pid {root.pid} belongs to session {root.sid}, outside the dumped tree "
                               "(dump the session leader, or use --shell-job)")
    # a session or group whose leader has exited gets a stand-in at restore; a live leader
    # outside the tree cannot be brought along
    for kind, leader, outside_ok in (("session", t.sid, root.sid), ("process group", t.pgid, root.pgid)):
        if leader in pids or leader == outside_ok:
            continue
        if os.path.exists(f"/proc/{leader}"):
            raise UnsupportedError(f"pid {t.pid} is in {kind} {leader}, whose leader is alive outside the "
                                   "dumped tree")
    parent = pids.get(t.ppid)
    if parent is not None and t.sid not in (t.pid, parent.sid) and t.sid in pids:
        raise UnsupportedError(f"pid {t.pid} is in session {t.sid} but its parent {parent.pid} is not "
                               "(reparented across sessions): not supported yet")


def dump(ctx: DumpContext, t: Task) -> None:
    exit_signal = int(t.leader.facts.stat[38])
    if t is not ctx.root and exit_signal != signal.SIGCHLD:
        t.core.tc.stasis.exit_signal = exit_signal


ZOMBIE_CAUGHT = 2  # a zombie's "caught" signals: no handler runs in a zombie, only the set shows


def _zombie_core(ctx: DumpContext, t: Task) -> core_pb2.core_entry:
    """What a zombie still shows: its exit status, name, credentials and signal sets."""
    core = core_pb2.core_entry(mtype=core_pb2.core_entry.X86_64)
    tc = core.tc
    tc.task_state, tc.personality, tc.flags, tc.blk_sigset = TASK_DEAD, 0, 0, 0
    tc.exit_code = t.exit_status
    try:
        tc.comm = proc.stat(t.pid)[2]
        st = proc.status(t.pid)
    except FileNotFoundError:
        tc.comm = ""
        return core
    parent = next((p for p in ctx.tasks if p.pid == t.ppid), None)  # a zombie is in its parent's namespaces
    creds.from_status(st, core.thread_core.creds, namespaces.id_translator(ctx, parent))
    core.thread_core.futex_rla, core.thread_core.futex_rla_len = 0, 0
    tc.blk_sigset = int(st["SigBlk"], 16)
    ign, cgt = int(st["SigIgn"], 16), int(st["SigCgt"], 16)
    for sig in signals.SIGNALS:
        bit = 1 << (sig - 1)
        handler = 1 if ign & bit else ZOMBIE_CAUGHT if cgt & bit else 0
        tc.sigactions.add(sigaction=handler, flags=0, restorer=0, mask=0, compat_sigaction=False)
    return core


def write_images(ctx: DumpContext) -> None:
    """pstree.img names every process as the tree sees it (its own pid namespace, if it has one); the
    engine's pids stay in the cores' Stasis extension (restore puts the processes back at both)."""
    entries = []
    virt = {t.pid: t.inner_pid for t in ctx.tasks}
    for t in ctx.tasks:
        entries.append(pstree_pb2.pstree_entry(pid=t.inner_pid, ppid=virt.get(t.ppid, 0) if t is not ctx.root
                                               else 0, pgid=t.vpgid or t.pgid, sid=t.vsid or t.sid,
                                               threads=[th.inner_tid for th in t.threads]))
        if t.vpid:
            for th in t.threads:
                th.core.thread_core.stasis.outer_tid = th.tid
        if not t.alive:
            core = _zombie_core(ctx, t)
            if t.vpid:
                core.thread_core.stasis.outer_tid = t.pid
            pidns.write_core(t, core, t.leader.deeper)
            ctx.images.write("core", core, tid=t.pid)
            continue
        for th in t.threads:
            pidns.write_core(t, th.core, th.deeper)
        if t.stop_sig and t.stop_reported:
            t.core.tc.stasis.stop_reported = True
        for th in t.threads:
            ctx.images.write("core", th.core, tid=th.tid)
    ctx.images.write("pstree", entries)


# -- restore ---------------------------------------------------------------------------------------

def load_images(ctx: RestoreContext) -> None:
    img = ctx.images
    entries = img.read("pstree")
    if not entries or entries[0].ppid != 0:
        raise ImageError(img.path("pstree"), "the first entry must be the root (ppid 0)")
    seen: set[int] = set()
    host: dict[int, int] = {}  # the tree's pids -> the engine's, for a tree with its own pid namespace
    for e in entries:
        if e.ppid and e.ppid not in seen:
            raise ImageError(img.path("pstree"), f"pid {e.pid} comes before its parent {e.ppid}")
        seen.add(e.pid)
        cores = [(tid, img.read_one("core", tid=tid)) for tid in list(e.threads) or [e.pid]]
        outer = [c.thread_core.stasis.outer_tid if c.HasField("thread_core") else 0 for _, c in cores]
        if any(outer) and not all(outer):
            raise ImageError(img.path("core", tid=e.pid), "outer tids of only some threads")
        for (tid, _), out in zip(cores, outer, strict=True):
            if out:
                host[tid] = out
        if outer[0]:
            for leader in (e.pgid, e.sid):
                if leader not in host and leader not in seen:
                    # an exited leader's stand-in: at its pid inside, at a free pid outside
                    host[leader] = _free_pid(img, host, entries)
        t = Task(host.get(e.pid, e.pid), ppid=host.get(e.ppid, e.ppid), pgid=host.get(e.pgid, e.pgid),
                 sid=host.get(e.sid, e.sid))
        if outer[0]:
            t.vpid, t.vpgid, t.vsid = e.pid, e.pgid, e.sid
        for (tid, core), out in zip(cores, outer, strict=True):
            th = Thread(out or tid, Tracee(out or tid), vtid=tid if out else 0)
            th.core = core
            t.threads.append(th)
        if not t.core.HasField("tc"):
            raise ImageError(img.path("core", tid=t.inner_pid), "no task state (tc) in the leader's core")
        t.state = t.core.tc.task_state
        pidns.load(t)
        if t.alive:
            for th in t.threads:
                if not th.core.HasField("thread_info"):
                    raise ImageError(img.path("core", tid=th.inner_tid), "no registers (thread_info)")
        ctx.tasks.append(t)
    if host and not all(t.vpid for t in ctx.tasks):
        raise ImageError(img.path("pstree"), "outer pids recorded for only some processes")
    img.virtual_pids = {h: v for v, h in host.items()}


def _free_pid(img: ImageDir, host: dict[int, int], entries: list[pstree_pb2.pstree_entry]) -> int:
    """A pid of the engine's namespace that no process has and no process of the images needs."""
    taken = set(host.values())
    for e in entries:
        for th in e.threads or [e.pid]:
            taken.add(th)
    for pid in range(300, 1 << 22):
        if pid not in taken and not os.path.exists(f"/proc/{pid}"):
            return pid
    raise ImageError(img.path("pstree"), "no free pid for a stand-in")


def check_pids_free(ctx: RestoreContext) -> None:
    for t in ctx.tasks:
        for th in t.threads:
            if os.path.exists(f"/proc/{th.tid}"):
                try:
                    st = proc.stat(th.tid)
                    who = f": {st[2]}, state {st[3]}, parent {st[4]}"
                except (OSError, IndexError):
                    who = ""
                raise RestoreError(f"pid {th.tid} is in use (a live process or a zombie not yet reaped{who})")


def fork_all(ctx: RestoreContext, created: Callable[[Task], None]) -> None:
    """Each process forks its children: sessions and groups first, so children inherit them;
    `created(task)` runs as soon as a process exists (its memory is rebuilt there)."""
    by_pid = {t.pid: t for t in ctx.tasks}
    root = ctx.root
    _set_session(ctx, root, root)
    created(root)
    for t in ctx.tasks[1:]:
        parent = by_pid[t.ppid]
        creator, flags = parent, 0
        if t.sid != t.pid and t.sid != parent.sid:
            if t.sid in by_pid:
                raise RestoreError(f"pid {t.pid} is in session {t.sid} but its parent {parent.pid} is not: "
                                   "not supported yet")
            creator = _stand_in(ctx, parent, t.sid, session=True)
            flags |= CLONE_PARENT
        elif t.ids.files_id == parent.ids.files_id and t.alive:
            flags |= CLONE_FILES
        if creator is parent and t.ids.fs_id == parent.ids.fs_id and t.alive:
            flags |= CLONE_FS
        if t.pgid != t.pid and t.pgid not in by_pid and t.pgid != t.sid and t.pgid != root.pgid:
            _stand_in(ctx, creator, t.pgid, session=False)
        ext = t.core.tc.stasis
        exit_signal = ext.exit_signal if ext.HasField("exit_signal") else signal.SIGCHLD
        flags |= pidns.before_clone(ctx, creator, t)
        timens.before_clone(ctx, creator, t)
        _clone(ctx, creator, t, flags, exit_signal)
        pidns.after_clone(ctx, t, flags)
        nestedns.enter(ctx, t, creator)  # namespaces of its own, before anything is rebuilt in it
        timens.after_clone(ctx, creator, t)
        t.inherited = True  # it starts as a copy of its creator's rebuilt address space
        _set_session(ctx, t, root)
        created(t)
    leaders = by_pid | {h.pid: h for h in ctx.stand_ins}
    pidns.restore_pfc(ctx)
    timens.restore_tfc(ctx)
    for t in ctx.tasks:  # groups whose leader is another process, now that every process exists
        if t.pgid != t.pid and t.pgid in leaders:
            want = t.own_pgid if t.leader.deeper else t.vpgid or t.pgid  # as it sees the group
            cur = t.injector.call(nr.getpgid, 0, what="getpgid")
            if want and cur != want:
                t.injector.call(nr.setpgid, 0, want, what=f"setpgid({want})")
    for h in reversed(ctx.stand_ins):  # their work is done: they exit and their parents reap them
        _exit_stand_in(h)
    for t in reversed(ctx.tasks):  # zombies die now; their parents' signals are restored later
        if not t.alive:
            _make_zombie(t, namespaces.groups_settable(ctx, by_pid.get(t.ppid)))


def _stand_in(ctx: RestoreContext, creator: Task, pid: int, session: bool) -> Task:
    for h in ctx.stand_ins:
        if h.pid == pid:
            return h
    if os.path.exists(f"/proc/{pid}"):
        kind = "session" if session else "group"
        raise RestoreError(f"pid {pid} (the exited leader of a {kind}) is in use")
    vpid = ctx.images.virtual_pids.get(pid, 0)  # in a pid namespace of the tree's own
    h = Task(pid, threads=[Thread(pid, Tracee(pid), vtid=vpid)], ppid=creator.pid, pgid=pid,
             sid=pid if session else 0, vpid=vpid)
    h.creator = creator
    h.ids = creator.ids
    pidns.before_clone(ctx, creator, h)  # the creator's children in its own pid namespace again
    _clone(ctx, creator, h, 0, signal.SIGCHLD)
    h.injector.call(nr.setsid if session else nr.setpgid, *(() if session else (0, 0)),
                    what="setsid" if session else "setpgid")
    ctx.stand_ins.append(h)
    log.debug("pid %d stands in for an exited %s leader", pid, "session" if session else "group")
    return h


def _exit_stand_in(h: Task) -> None:
    try:
        h.injector.raw(nr.exit_group, 0)
    except TraceeGone:
        pass
    h.leader.inj = None
    if h.mem:
        h.mem.close()
    assert h.creator is not None
    ret = h.creator.injector.raw(nr.wait4, h.inner_pid, 0, 0, 0)  # reap it, so nothing shows it existed
    if ret != h.inner_pid:
        raise RestoreError(f"cannot reap the stand-in {h.pid}: {os.strerror(-ret) if ret < 0 else ret}")
    h.spawned = False


def _set_session(ctx: RestoreContext, t: Task, root: Task) -> None:
    inj = t.injector
    if t.sid == t.pid:
        inj.call(nr.setsid, what="setsid")
    elif t.pgid == t.pid:
        inj.call(nr.setpgid, 0, 0, what="setpgid")
    elif t is root and not ctx.opts.shell_job:
        raise RestoreError(f"pid {t.pid} was in session {t.sid} outside the dump: restore with --shell-job")


def _clone(ctx: RestoreContext, parent: Task, child: Task, flags: int, exit_signal: int) -> None:
    """An injected clone3(set_tid) in the parent's helper; the child stops at its first instruction."""
    inj = parent.injector
    tids = child.leader.set_tid  # its pid on every level, innermost first
    # with CLONE_PARENT the child inherits the creator's exit signal; clone3 wants 0 here
    if flags & (CLONE_THREAD | CLONE_PARENT):
        exit_signal = 0
    seen = child.pid_at(parent.depth)  # as the parent sees it
    owned, last_pid = namespaces.pid_levels(ctx, parent, len(tids))
    ret = clone.clone3(inj, parent.pid, flags, exit_signal, tids, owned, last_pid, what=f"pid {child.pid}",
                       seen=seen)
    if ret != seen:
        err = os.strerror(-ret) if ret < 0 else f"got pid {ret}"
        raise RestoreError(f"cannot create pid {child.pid} in {parent.pid}: clone3: {err}")
    child.tracee.wait()  # auto-attached: its first stop
    child.spawned = True
    child.mem = TaskMemory(child.pid)
    child.leader.inj = Injector.attach(child.tracee, inj.syscall_ip, child.mem, scratch=inj.scratch)
    log.debug("pid %d forked by %d (flags %#x)", child.pid, parent.pid, flags)


def _make_zombie(t: Task, set_groups: bool) -> None:
    """Exit again as it did, with what a zombie still shows (name, credentials, signal sets) in place."""
    tc = t.core.tc
    status = tc.exit_code
    inj = t.injector
    inj.put_str(tc.comm[:15])
    inj.call(nr.prctl, PR_SET_NAME, inj.scratch, what="prctl(PR_SET_NAME)")
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    for signo, sa in zip(signals.SIGNALS, tc.sigactions, strict=False):
        if signo != sig:  # the killing signal keeps its default action
            inj.put(struct.pack("<QQQQ", sa.sigaction, 0, 0, 0))
            inj.call(nr.rt_sigaction, signo, inj.scratch, 0, 8, what=f"rt_sigaction({signo})")
    if sig:  # no core file: set from outside while the uids still allow it
        no_core = ffi.new("uint64_t[2]", [0, 0])
        lib.st_syscall(nr.prlimit64, t.pid, RLIMIT_CORE, int(ffi.cast("uintptr_t", no_core)), 0, 0, 0)
    if t.core.HasField("thread_core") and t.core.thread_core.HasField("creds"):
        creds.apply(inj, t.core.thread_core.creds, set_groups)
    mask = tc.blk_sigset & ~(1 << (sig - 1) if sig else 0)  # the mask it leaves with
    if sig:
        t.tracee.set_sigmask(mask)
        inj.hand_over()
        t.tracee.detach(sig)
        try:
            while True:  # the tracer sees the death first; the zombie then waits for its parent
                t.tracee.wait()
        except TraceeGone:
            pass
    else:
        t.tracee.set_sigmask(mask)
        try:
            inj.raw(nr.exit_group, os.WEXITSTATUS(status))  # the tracer sees the exit, no return
        except TraceeGone:
            pass
        else:
            raise RestoreError(f"pid {t.pid}: exit_group returned")
    t.leader.inj = None
    log.debug("pid %d is a zombie again (status %#x)", t.pid, status)


def stopped_again(ctx: RestoreContext, t: Task, parent: Task | None) -> None:
    """A stop its parent had collected already (wait WUNTRACED) is collected again by the parent, in
    the parent, so the parent does not see it twice; the SIGCHLD of the new stop goes with it unless
    one was pending at the dump."""
    if parent is None or not parent.alive or not t.core.tc.stasis.stop_reported:
        return
    inj = parent.injector
    ret = inj.raw(nr.waitid, P_PID, t.inner_pid, inj.scratch, WSTOPPED | WNOHANG, 0)
    if ret < 0:
        raise RestoreError(f"pid {parent.pid}: cannot collect the stop of {t.pid} again: {os.strerror(-ret)}")
    pending = any(struct.unpack_from("<i", e.siginfo)[0] == signal.SIGCHLD
                  for e in parent.core.tc.signals_s.signals)
    if not pending:
        inj.put(struct.pack("<Q", 1 << (signal.SIGCHLD - 1)) + struct.pack("<qq", 0, 0), 0)
        inj.raw(nr.rt_sigtimedwait, inj.scratch, 0, inj.scratch + 8, 8)


OBJECT = KernelObject("process tree", check=check, dump=dump, write_images=write_images,
                      load_images=load_images)
