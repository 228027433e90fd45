"""The process tree of a dump: found from /proc and frozen thread by thread with PTRACE_SEIZE.

Processes keep forking and threads keep cloning until they are frozen, so collection repeats
until a pass finds nothing new: once every thread of a process is stopped, its children and
threads can no longer change.
"""

from __future__ import annotations

import signal
import time

from engine import proc
from engine.compel.ptrace import PTRACE_O_SUSPEND_SECCOMP, PTRACE_O_TRACESYSGOOD, Tracee, TraceeGone
from engine.errors import DumpError
from engine.log import log
from engine.task import TASK_ALIVE, TASK_DEAD, TASK_STOPPED, Task, Thread

SEIZE_OPTIONS = PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP
STOP_SIGNALS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)


def freeze_tree(root: int, timeout: float) -> list[Task]:
    """All processes under root (root included), parents before children, every live thread stopped."""
    tasks: dict[int, Task] = {}
    order: list[int] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            new = _scan(root, tasks, order)
            for th in new:
                _wait_frozen(tasks, th, deadline)
            if not new:
                break
            if time.monotonic() > deadline:
                raise DumpError(f"the tree of {root} did not stop changing within {timeout} s")
    except BaseException:
        release(list(tasks.values()))
        raise
    # pids that vanished between scan and seize were dropped by _scan; keep parent-first order
    return [tasks[p] for p in order if p in tasks]


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
                t.facts["exit_status"] = int(st[52]) if len(st) > 52 else 0
        if t.state != TASK_DEAD:
            known = {th.tid for th in t.threads}
            for tid in proc.threads(pid):
                if tid in known:
                    continue
                th = Thread(tid, Tracee(tid))
                try:
                    th.tracee.seize(SEIZE_OPTIONS)
                except ProcessLookupError:
                    continue
                except OSError as exc:
                    raise DumpError(f"cannot seize thread {tid} of pid {pid}: {exc.strerror}") from exc
                th.tracee.interrupt()
                th.facts["seized"] = True
                t.threads.append(th)
                new.append(th)
            t.threads.sort(key=lambda x: x.tid != pid)  # the leader first
        try:
            kids = proc.children(pid) if t.state != TASK_DEAD else []
        except FileNotFoundError:
            kids = []
        queue += [(k, pid) for k in kids]
    return new


def _wait_frozen(tasks: dict[int, Task], th: Thread, deadline: float) -> None:
    t = th.tracee
    while True:
        try:
            stop = t.wait()
        except TraceeGone:
            th.facts["gone"] = True
            return
        if stop.is_group_or_interrupt:
            if stop.sig in STOP_SIGNALS:
                th.facts["stop_sig"] = stop.sig  # it was (or just became) job-control stopped
            return
        if time.monotonic() > deadline:
            raise DumpError(f"thread {th.tid} did not stop")
        # a signal was being delivered: let it through; the interrupt stays pending
        t.cont(stop.sig)


def mark_states(tasks: list[Task]) -> None:
    for t in tasks:
        t.threads = [th for th in t.threads if not th.facts.get("gone")]
        if t.state == TASK_DEAD:
            continue
        sig = t.leader.facts.get("stop_sig") if t.threads else None
        if sig:
            t.state = TASK_STOPPED
            t.facts["stop_sig"] = sig
        else:
            t.state = TASK_ALIVE


def release(tasks: list[Task], kill: bool = False) -> None:
    """Detach every seized thread (stopped ones stay stopped), or kill the whole tree."""
    for t in tasks:
        for th in t.threads:
            if not th.facts.get("seized") or th.facts.get("gone"):
                continue
            try:
                if kill:
                    import os

                    os.kill(t.pid, signal.SIGKILL)
                else:
                    th.tracee.detach(th.facts.get("stop_sig", 0) if th is t.leader else 0)
            except OSError as exc:
                log.warning("could not release thread %d: %s", th.tid, exc)
    if kill:
        for t in tasks:
            for th in reversed(t.threads):  # non-leaders first: waiting on the leader first can hang
                if th.facts.get("seized"):
                    try:
                        while True:
                            th.tracee.wait()
                    except TraceeGone:
                        pass
