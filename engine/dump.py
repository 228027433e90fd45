"""Checkpoint: freeze a process tree, read its state from outside, write CRIU-format images.

Stages run in the order written in dump(). Nothing touches a task before `_check` has accepted
every object the tree holds, and whatever fails, every task is resumed exactly as it was (or,
after a successful dump without --leave-running, the whole tree is killed).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from engine import fault, proc, tree
from engine.compel.inject import Injector
from engine.compel.memory import TaskMemory
from engine.errors import DumpError, UnsupportedError
from engine.images import ImageDir
from engine.images.pb import core_pb2, inventory_pb2, pstree_pb2, seccomp_pb2
from engine.log import log
from engine.objects import creds, files, fs, mm, process, regs, rlimits, seccomp, signals, thread, timers
from engine.objects import ids as kobj_ids
from engine.task import TASK_DEAD, Task

# Object modules, in dump order: process-wide dump(ctx, task), then per-thread dump_thread(ctx, task, thr).
OBJECTS = (process, signals, timers, rlimits, mm, fs, files)
THREAD_OBJECTS = (process, creds, signals, thread, seccomp, regs)


@dataclass
class DumpOptions:
    tree: int
    images_dir: str
    leave_running: bool = False
    shell_job: bool = False
    timeout: float = 10.0


@dataclass
class DumpContext:
    opts: DumpOptions
    images: ImageDir
    tasks: list[Task] = field(default_factory=list)
    files: files.FileTable = field(default_factory=files.FileTable)
    seccomp: seccomp_pb2.seccomp_entry = field(default_factory=seccomp_pb2.seccomp_entry)
    ids: kobj_ids.Ids = field(default_factory=kobj_ids.Ids)
    shmem_seen: set[int] = field(default_factory=set)
    stats: dict[str, Any] = field(default_factory=dict)
    _pages_id: int = 0

    def new_pages_id(self) -> int:
        self._pages_id += 1
        return self._pages_id


def dump(opts: DumpOptions) -> None:
    ctx = DumpContext(opts, ImageDir(opts.images_dir))
    t0 = time.monotonic()
    fault.point("dump:collect")
    root = opts.tree
    if root == os.getpid():
        raise DumpError("refusing to dump the engine itself")
    if not os.path.exists(f"/proc/{root}"):
        raise DumpError(f"no process {root}")
    ctx.tasks = tree.freeze_tree(root, opts.timeout)
    ok = False
    try:
        ctx.tasks = tree.mark_states(ctx.tasks)
        fault.point("dump:freeze")
        for t in ctx.tasks:
            _read_proc(t)
        fault.point("dump:proc")
        _check(ctx)
        kobj_ids.dump(ctx)
        for t in ctx.tasks:
            if t.alive:
                _dump_objects(ctx, t)
        fault.point("dump:objects")
        for t in ctx.tasks:
            if t.alive:
                mm.dump_pages(ctx, t)
        fault.point("dump:pages")
        _write_images(ctx)
        fault.point("dump:images")
        ok = True
    finally:
        for t in ctx.tasks:
            if t.mem:
                t.mem.close()
        tree.release(ctx.tasks, kill=ok and not opts.leave_running)
    log.info("dump of %d (%d processes) done in %.3f s", root, len(ctx.tasks), time.monotonic() - t0)


def _read_proc(t: Task) -> None:
    if t.state == TASK_DEAD:
        return
    pid = t.pid
    t.facts.update(limits=proc.limits(pid), fds=proc.fds(pid), vmas=proc.vmas(pid))
    for th in t.threads:
        th.facts.update(stat=proc.stat_of(pid, th.tid), status=proc.status_of(pid, th.tid),
                        regs=th.tracee.get_regs(), sigmask=th.tracee.get_sigmask())
    t.facts.update(stat=t.leader.facts["stat"], status=t.leader.facts["status"])


def _check(ctx: DumpContext) -> None:
    """Every object must be one we can restore: refuse before touching any task."""
    root = ctx.tasks[0]
    if root.sid not in {t.pid for t in ctx.tasks} and not ctx.opts.shell_job:
        raise UnsupportedError(f"pid {root.pid} belongs to session {root.sid}, outside the dumped tree "
                               "(dump the session leader, or use --shell-job)")
    for t in ctx.tasks:
        if not t.alive:
            continue
        mm.check_supported(ctx, t)
        files.check_supported(ctx, t)
        timers.check_supported(t)
    tree_pids = {t.pid for t in ctx.tasks}
    for t in ctx.tasks:
        # a session or group whose leader has exited gets a stand-in at restore; a live leader
        # outside the tree cannot be brought along
        for kind, leader, outside_ok in (("session", t.sid, root.sid), ("process group", t.pgid, root.pgid)):
            if leader in tree_pids or leader == outside_ok:
                continue
            if os.path.exists(f"/proc/{leader}"):
                raise UnsupportedError(f"pid {t.pid} is in {kind} {leader}, whose leader is alive outside "
                                       "the dumped tree")


def _dump_objects(ctx: DumpContext, t: Task) -> None:
    t.mem = TaskMemory(t.pid)
    ip = _vdso_syscall(t)
    for th in t.threads:
        th.core.mtype = core_pb2.core_entry.X86_64
    with Injector(t.tracee, ip, t.mem) as inj:
        t.leader.inj = inj
        inj.map_scratch()
        try:
            fault.point("dump:inject")
            for module in OBJECTS:
                module.dump(ctx, t)
            for th in t.threads:
                _dump_thread(ctx, t, th, inj)
        finally:
            inj.unmap_scratch()
            t.leader.inj = None
            if inj.held_stop:  # a stop signal that came in meanwhile: given back when the task is let go
                t.leader.facts.setdefault("stop_sig", inj.held_stop)
    log.debug("pid %d: %d threads, %d syscalls injected in the leader", t.pid, len(t.threads), inj.count)


def _dump_thread(ctx: DumpContext, t: Task, th, leader_inj: Injector) -> None:
    if th is t.leader:
        for module in THREAD_OBJECTS:
            module.dump_thread(ctx, t, th)
        return
    with Injector(th.tracee, leader_inj.syscall_ip, leader_inj.mem) as inj:
        inj.scratch = leader_inj.scratch  # one scratch area per address space
        th.inj = inj
        try:
            for module in THREAD_OBJECTS:
                module.dump_thread(ctx, t, th)
        finally:
            inj.scratch = 0
            th.inj = None


def _vdso_syscall(t: Task) -> int:
    """A `syscall` instruction in the task's vDSO (executed only up to the syscall-entry stop)."""
    for v in t.facts["vmas"]:
        if v.path == "[vdso]":
            code = t.mem.read(v.start, v.size)  # type: ignore[union-attr]
            off = code.find(b"\x0f\x05")
            if off >= 0:
                return v.start + off
    raise UnsupportedError(f"pid {t.pid}: no vDSO with a syscall instruction")


def _write_images(ctx: DumpContext) -> None:
    img = ctx.images
    entries = []
    for t in ctx.tasks:
        entries.append(pstree_pb2.pstree_entry(pid=t.pid, ppid=t.ppid, pgid=t.pgid, sid=t.sid,
                                               threads=[th.tid for th in t.threads]))
        ids = t.images["ids"]
        img.write("ids", ids, pid=t.pid)
        if not t.alive:
            img.write("core", _zombie_core(t), tid=t.pid)
            continue
        for th in t.threads:
            img.write("core", th.core, tid=th.tid)
        img.write("mm", t.images["mm"], pid=t.pid)
        img.write("fs", t.images["fs"], pid=t.pid)
        if "fdinfo" in t.images:  # once per shared fd table
            img.write("fdinfo", t.images["fdinfo"], files_id=ids.files_id)
    img.write("pstree", entries)
    img.write("files", ctx.files.entries)
    img.write("seccomp", ctx.seccomp)
    files.write_pipe_data(ctx)
    inv = inventory_pb2.inventory_entry(img_version=2, fdinfo_per_id=True, ns_per_id=True,
                                        lsmtype=inventory_pb2.NO_LSM, network_lock_method=0)
    inv.root_ids.CopyFrom(ctx.ids.root_ids())
    inv.plugins_entry.SetInParent()
    img.write("inventory", inv)  # last: its presence marks a complete dump


def _zombie_core(t: Task) -> core_pb2.core_entry:
    core = core_pb2.core_entry(mtype=core_pb2.core_entry.X86_64)
    tc = core.tc
    tc.task_state, tc.exit_code, tc.personality, tc.flags, tc.blk_sigset = TASK_DEAD, 0, 0, 0, 0
    tc.exit_code = t.facts.get("exit_status", 0)
    try:
        tc.comm = proc.stat(t.pid)[2]
    except FileNotFoundError:
        tc.comm = ""
    return core


