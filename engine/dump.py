"""Checkpoint: freeze a process, read its state from outside, write CRIU-format images.

The stages run in the order of STAGES. Nothing touches the task before `check` has accepted
every object it holds, and whatever fails, the task is resumed exactly as it was (or, after a
successful dump without --leave-running, killed).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from engine import fault, proc
from engine.compel.inject import Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import PTRACE_O_SUSPEND_SECCOMP, PTRACE_O_TRACESYSGOOD, Tracee, TraceeGone
from engine.errors import DumpError, StasisError, UnsupportedError
from engine.images import ImageDir
from engine.images.pb import core_pb2, ids_pb2, inventory_pb2, pstree_pb2, seccomp_pb2
from engine.log import log
from engine.objects import creds, files, fs, mm, process, regs, rlimits, seccomp, signals, thread, timers
from engine.task import Task

# Object modules whose dump() runs inside the injection session, in this order.
OBJECTS = (process, creds, signals, thread, timers, rlimits, mm, fs, files, seccomp, regs)


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
    files: files.FileTable = field(default_factory=files.FileTable)
    seccomp: seccomp_pb2.seccomp_entry = field(default_factory=seccomp_pb2.seccomp_entry)
    stats: dict[str, Any] = field(default_factory=dict)
    _pages_id: int = 0

    def new_pages_id(self) -> int:
        self._pages_id += 1
        return self._pages_id


def dump(opts: DumpOptions) -> None:
    ctx = DumpContext(opts, ImageDir(opts.images_dir))
    t0 = time.monotonic()
    fault.point("dump:collect")
    pid = opts.tree
    _collect(pid, opts)
    task = Task(pid, Tracee(pid))
    _freeze(task, opts.timeout)
    ok = False
    try:
        fault.point("dump:freeze")
        _read_proc(task)
        fault.point("dump:proc")
        _check(ctx, task)
        _dump_objects(ctx, task)
        fault.point("dump:objects")
        mm.dump_pages(ctx, task)
        fault.point("dump:pages")
        _write_images(ctx, task)
        fault.point("dump:images")
        ok = True
    finally:
        if task.mem:
            task.mem.close()
        _finish(task, kill=ok and not opts.leave_running)
    log.info("dump of %d done in %.3f s", pid, time.monotonic() - t0)


def _collect(pid: int, opts: DumpOptions) -> None:
    if pid == os.getpid():
        raise DumpError("refusing to dump the engine itself")
    if not os.path.exists(f"/proc/{pid}"):
        raise DumpError(f"no process {pid}")
    threads = proc.threads(pid)
    if len(threads) > 1:
        raise UnsupportedError(f"pid {pid} has {len(threads)} threads (multi-threaded dump: not yet)")
    kids = proc.children(pid)
    if kids:
        raise UnsupportedError(f"pid {pid} has children {kids} (process trees are not supported yet)")
    state = proc.stat(pid)[3]
    if state in ("Z", "X"):
        raise DumpError(f"pid {pid} is a zombie")
    if state in ("T", "t"):
        raise UnsupportedError(f"pid {pid} is stopped (stopped tasks are not supported yet)")


def _freeze(task: Task, timeout: float) -> None:
    t = task.tracee
    try:
        t.seize(PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP)
    except OSError as exc:
        raise DumpError(f"cannot seize pid {task.pid}: {exc.strerror}") from exc
    t.interrupt()
    deadline = time.monotonic() + timeout
    while True:
        stop = t.wait()
        if stop.is_group_or_interrupt:
            break
        if time.monotonic() > deadline:
            t.detach()
            raise DumpError(f"pid {task.pid} did not stop within {timeout} s")
        # A signal was being delivered: let it through; the interrupt stays pending.
        t.cont(stop.sig)
    log.debug("pid %d frozen", task.pid)


def _read_proc(task: Task) -> None:
    pid = task.pid
    task.facts.update(
        stat=proc.stat(pid), status=proc.status(pid), limits=proc.limits(pid), fds=proc.fds(pid),
        vmas=proc.vmas(pid), regs=task.tracee.get_regs(), sigmask=task.tracee.get_sigmask(),
    )


def _check(ctx: DumpContext, task: Task) -> None:
    """Every object must be one we can restore: refuse before touching the task."""
    mm.check_supported(ctx, task)
    files.check_supported(ctx, task)
    timers.check_supported(task)


def _dump_objects(ctx: DumpContext, task: Task) -> None:
    task.mem = TaskMemory(task.pid)
    task.core.mtype = core_pb2.core_entry.X86_64
    ip = _vdso_syscall(task)
    with Injector(task.tracee, ip, task.mem) as inj:
        task.inj = inj
        inj.map_scratch()
        fault.point("dump:inject")
        try:
            for module in OBJECTS:
                module.dump(ctx, task)
        finally:
            inj.unmap_scratch()
            task.inj = None
    log.debug("pid %d: %d syscalls injected", task.pid, inj.count)


def _vdso_syscall(task: Task) -> int:
    """A `syscall` instruction in the task's vDSO (executed only up to the syscall-entry stop)."""
    for v in task.facts["vmas"]:
        if v.path == "[vdso]":
            code = task.mem.read(v.start, v.size)  # type: ignore[union-attr]
            off = code.find(b"\x0f\x05")
            if off >= 0:
                return v.start + off
    raise UnsupportedError(f"pid {task.pid}: no vDSO with a syscall instruction")


def _write_images(ctx: DumpContext, task: Task) -> None:
    pid = task.pid
    img = ctx.images
    st = task.facts["stat"]
    img.write("pstree", pstree_pb2.pstree_entry(pid=pid, ppid=0, pgid=int(st[5]), sid=int(st[6]),
                                                threads=[pid]))
    img.write("core", task.core, tid=pid)
    ids = ids_pb2.task_kobj_ids_entry(vm_id=1, files_id=1, fs_id=1, sighand_id=1)
    img.write("ids", ids, pid=pid)
    img.write("mm", task.images["mm"], pid=pid)
    img.write("fs", task.images["fs"], pid=pid)
    img.write("fdinfo", task.images["fdinfo"], files_id=ids.files_id)
    img.write("files", ctx.files.entries)
    img.write("seccomp", ctx.seccomp)
    inv = inventory_pb2.inventory_entry(img_version=2, fdinfo_per_id=True, ns_per_id=True,
                                        lsmtype=inventory_pb2.NO_LSM, network_lock_method=0)
    inv.root_ids.CopyFrom(ids_pb2.task_kobj_ids_entry(vm_id=0, files_id=0, fs_id=0, sighand_id=0))
    inv.plugins_entry.SetInParent()
    img.write("inventory", inv)  # last: its presence marks a complete dump


def _finish(task: Task, kill: bool) -> None:
    t = task.tracee
    try:
        if kill:
            os.kill(task.pid, signal.SIGKILL)
            try:
                while True:
                    t.wait()
            except TraceeGone:
                pass
            log.debug("pid %d killed", task.pid)
        else:
            t.detach()
            log.debug("pid %d resumed", task.pid)
    except (OSError, StasisError) as exc:
        log.error("could not finish pid %d: %s", task.pid, exc)
