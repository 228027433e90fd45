"""The process tree of a dump: found from /proc and frozen thread by thread with PTRACE_SEIZE.

Processes keep forking and threads keep cloning until they are frozen, so collection repeats
until a pass finds nothing new: once every thread of a process is stopped, its children and
threads can no longer change.
"""

from __future__ import annotations

import os
import signal
import time

from engine import proc, unpriv
from engine.abi.consts import (
    PTRACE_O_SUSPEND_SECCOMP,
    PTRACE_O_TRACESYSGOOD,
    STOP_SIGNALS,
    TASK_ALIVE,
    TASK_DEAD,
    TASK_STOPPED,
)
from engine.compel.ptrace import Tracee, TraceeGone
from engine.errors import DumpError
from engine.log import log
from engine.task import Task, Thread

SEIZE_OPTIONS = PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP
STOP_WAIT = 0.5  # seconds a thread may take to stop before the freeze is retried


def freeze_tree(root: int, timeout: float) -> list[Task]:
    """All processes under root (root included), parents before children, every live thread stopped.

    A thread that does not stop soon is usually a parent waiting in vfork() for a child we froze
    before it could exec: everything is let go for a moment and the freeze starts again.
    """
    deadline = time.monotonic() + timeout
    while True:
        tasks: dict[int, Task] = {}
        order: list[int] = []
        try:
            stuck = _freeze(root, tasks, order, deadline)
        except BaseException:
            release(list(tasks.values()))
            raise
        if not stuck:
            return [tasks[p] for p in order if p in tasks]
        log.debug("threads %s did not stop (vfork?): retrying the freeze", [th.tid for th in stuck])
        release(list(tasks.values()), stuck=stuck, deadline=deadline)
        if time.monotonic() > deadline:
            raise DumpError(f"threads {[th.tid for th in stuck]} of the tree of {root} did not stop "
                            f"within {timeout} s")
        time.sleep(0.02)


def _freeze(root: int, tasks: dict[int, Task], order: list[int], deadline: float) -> list[Thread]:
    while True:
        new = _scan(root, tasks, order)
        stuck = [th for th in new if not _wait_frozen(th, min(deadline, time.monotonic() + STOP_WAIT))]
        if stuck:
            return stuck
        if not new:
            return []
        if time.monotonic() > deadline:
            raise DumpError(f"the tree of {root} did not stop changing")


def _scan(root: int, tasks: dict[int, Task], order: list[int]) -> list[Thread]:
    new: list[Thread] = []
    queue = [(root, 0)]
    while queue:
        pid, ppid = queue.pop(0)
        try:
            st = proc.stat(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        t = tasks.get(pid)
        if t is None:
            t = Task(pid, ppid=ppid if pid != root else 0, pgid=int(st[5]), sid=int(st[6]))
            tasks[pid] = t
            order.append(pid)
            if st[3] in ("Z", "X"):
                t.state = TASK_DEAD
                t.threads.append(Thread(pid, Tracee(pid)))
                t.exit_status = int(st[52]) if len(st) > 52 else 0
                t.start_time = int(st[22])
            elif st[3] == "T" and len(st) > 52:
                # exit_code holds the stop signal until the parent collects the stop with wait(WUNTRACED)
                t.stop_reported = int(st[52]) == 0
        if t.state != TASK_DEAD:
            known = {th.tid for th in t.threads}
            try:
                tids = proc.threads(pid)
            except FileNotFoundError:
                tids = []  # reaped by its parent meanwhile: forgotten when the freeze ends
            for tid in tids:
                if tid in known:
                    continue
                th = Thread(tid, Tracee(tid))
                try:
                    th.tracee.seize(unpriv.ptrace_options(SEIZE_OPTIONS))
                except ProcessLookupError:
                    continue
                except PermissionError as exc:
                    if _exiting(pid, tid):
                        continue  # it is dying: seen as a zombie (or gone) when the freeze ends
                    raise DumpError(f"cannot seize thread {tid} of pid {pid}: {exc.strerror}") from exc
                th.tracee.interrupt()
                th.seized = True
                t.threads.append(th)
                new.append(th)
            t.threads.sort(key=lambda x: x.tid != pid)  # the leader first
        try:
            kids = proc.children(pid) if t.state != TASK_DEAD else []
        except FileNotFoundError:
            kids = []
        queue += [(k, pid) for k in kids]
    return new


def _exiting(pid: int, tid: int) -> bool:
    try:
        return proc.stat_of(pid, tid)[3] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True


def _wait_frozen(th: Thread, until: float) -> bool:
    """False if the thread did not stop by `until`."""
    t = th.tracee
    while True:
        try:
            stop = t.poll(max(0.0, until - time.monotonic()))
        except TraceeGone:
            th.gone = True
            return True
        if stop is None:
            return False
        if stop.is_group_or_interrupt:
            if stop.sig in STOP_SIGNALS:
                th.stop_sig = stop.sig  # it was (or just became) job-control stopped
            return True
        # a signal was being delivered: let it through; the interrupt stays pending
        t.cont(stop.sig)


def mark_states(tasks: list[Task]) -> list[Task]:
    """Live, stopped or zombie, once frozen; processes that died while we froze them are zombies now
    (their parents are frozen and cannot reap them), or gone if something else reaped them."""
    out: list[Task] = []
    for t in tasks:
        if t.state == TASK_DEAD and t.start_time and not _still_zombie(t):
            # its parent reaped it before the parent stopped (the parent's wait returned it): it must not
            # come back as a child nobody waits for
            log.debug("zombie %d was reaped while the tree froze", t.pid)
            continue
        if t.state != TASK_DEAD:
            t.threads = [th for th in t.threads if not th.gone]
            if not t.threads or t.leader.tid != t.pid:
                try:
                    st = proc.stat(t.pid)
                except FileNotFoundError:
                    continue
                if st[3] not in ("Z", "X"):
                    raise DumpError(f"pid {t.pid}: its leader thread exited while other threads live "
                                    "(not supported yet)")
                t.state = TASK_DEAD
                t.exit_status = int(st[52]) if len(st) > 52 else 0
                t.threads = [Thread(t.pid, Tracee(t.pid))]
            else:
                sig = t.leader.stop_sig
                t.state = TASK_STOPPED if sig else TASK_ALIVE
                t.stop_sig = sig
        out.append(t)
    return out


def _still_zombie(t: Task) -> bool:
    try:
        st = proc.stat(t.pid)
    except (FileNotFoundError, ProcessLookupError):
        return False
    return st[3] in ("Z", "X") and int(st[22]) == t.start_time


def release(tasks: list[Task], kill: bool = False, stuck: list[Thread] | None = None,
            deadline: float = 0.0) -> None:
    """Detach every seized thread (stopped ones stay stopped), or kill the whole tree.

    Threads that never stopped (`stuck`) can only be detached from a stop: they are waited for,
    after everything else is let go, until `deadline`.
    """
    stuck = stuck or []
    for t in tasks:
        for th in t.threads:
            if not th.seized or th.gone or th in stuck:
                continue
            try:
                if kill:
                    os.kill(t.pid, signal.SIGKILL)
                else:
                    # a group stop in effect at the freeze is taken up again by the kernel at detach (a
                    # signal given as well would stay pending); a stop held back meanwhile is sent again
                    th.tracee.detach(th.stop_sig if th is t.leader and th.stop_held else 0)
            except OSError as exc:
                log.warning("could not release thread %d: %s", th.tid, exc)
    for th in stuck:
        try:
            if _wait_frozen(th, deadline) and not th.gone:
                th.tracee.detach()
        except OSError as exc:
            log.warning("could not release thread %d: %s", th.tid, exc)
    # After SIGKILL nothing is waited for: tearing down a large address space takes long, and the
    # dying tasks leave our tracing when the engine exits (their parents reap them).
