"""Restore: rebuild each process from images inside an empty helper started at its PID.

The helper (engine/helper) is clone3()d with set_tid = the old PID, stops at exec under
PTRACE_TRACEME, and is then turned into the task by injected syscalls, stage by stage, in the
order of STAGES. Any failure kills everything this restore created.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from engine import fault, proc
from engine.compel import syscalls as nr
from engine.compel.inject import SCRATCH_DATA, SCRATCH_SIZE, Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import PTRACE_O_EXITKILL, PTRACE_O_SUSPEND_SECCOMP, PTRACE_O_TRACESYSGOOD, Tracee
from engine.errors import ImageError, RestoreError
from engine.images import ImageDir
from engine.images.pb import seccomp_pb2
from engine.log import log
from engine.native import PAGE_SIZE, ffi, lib
from engine.objects import creds, files, fs, mm, process, regs, rlimits, seccomp, signals, thread, timers
from engine.task import Task

MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2
MMAP_MIN = 0x10000


@dataclass
class RestoreOptions:
    images_dir: str
    pidfile: str | None = None
    detached: bool = False
    shell_job: bool = False


@dataclass
class RestoreContext:
    opts: RestoreOptions
    images: ImageDir
    files: files.FileTable = field(default_factory=files.FileTable)
    seccomp: seccomp_pb2.seccomp_entry = field(default_factory=seccomp_pb2.seccomp_entry)
    stats: dict[str, Any] = field(default_factory=dict)


Stage = tuple[str, Callable[[RestoreContext, Task], None]]

# The visible order of restore. Each entry is (fault point / log name, step).
STAGES: tuple[Stage, ...] = (
    ("session", process.restore_session),
    ("vmas", mm.restore_vmas),
    ("pages", mm.restore_pages),
    ("protections", mm.restore_protections),
    ("mm", mm.restore_mm),
    ("files", files.restore),
    ("fs", fs.restore),
    ("rlimits", rlimits.restore),  # from outside, while the helper has our uid
    ("process", process.restore),  # personality after the mappings, nice/oom while privileged
    ("signals", signals.restore),
    ("timers", timers.restore),
    ("thread", thread.restore),
    ("seccomp", seccomp.restore),  # while privileged: a filter without NNP needs CAP_SYS_ADMIN
    ("creds", creds.restore),
    ("after-creds", process.restore_after_creds),
    ("dumpable", mm.restore_dumpable),
)


def helper_path() -> str:
    return str(resources.files("engine.helper").joinpath("stasis-helper"))


def restore(opts: RestoreOptions) -> int:
    """Returns the exit status to leave with (the task's, when not detached)."""
    ctx = RestoreContext(opts, ImageDir(opts.images_dir))
    t0 = time.monotonic()
    task = _load(ctx)
    if opts.pidfile and os.path.lexists(opts.pidfile):
        raise RestoreError(f"pidfile {opts.pidfile} already exists")
    fault.point("restore:images")
    _spawn(task)
    try:
        fault.point("restore:spawn")
        _rebuild(ctx, task)
        if opts.pidfile:
            _write_pidfile(opts.pidfile, task.pid)
    except BaseException:
        _kill(task)
        raise
    log.info("restore of %d done in %.3f s", task.pid, time.monotonic() - t0)
    if opts.detached:
        return 0
    _, status = os.waitpid(task.pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _load(ctx: RestoreContext) -> Task:
    img = ctx.images
    inv = img.read_one("inventory")
    if inv.img_version != 2 or not inv.fdinfo_per_id:
        raise ImageError(img.path("inventory"), f"unsupported image version {inv.img_version}")
    tree = img.read("pstree")
    if len(tree) != 1 or list(tree[0].threads) not in ([tree[0].pid], []):
        raise RestoreError("only single-process, single-thread dumps can be restored yet")
    entry = tree[0]
    pid = entry.pid
    task = Task(pid, Tracee(pid))
    task.core = img.read_one("core", tid=pid)
    if not task.core.HasField("tc") or not task.core.HasField("thread_info"):
        raise ImageError(img.path("core", tid=pid), "no task state (tc/thread_info) in the core entry")
    task.images["pstree"] = entry
    ids = img.read_one("ids", pid=pid)
    task.images["mm"] = img.read_one("mm", pid=pid)
    task.images["fs"] = img.read_one("fs", pid=pid)
    task.images["fdinfo"] = img.read("fdinfo", missing_ok=True, files_id=ids.files_id)
    ctx.files.entries.extend(img.read("files", missing_ok=True))
    if img.exists("seccomp"):
        ctx.seccomp = img.read_one("seccomp")
    if os.path.exists(f"/proc/{pid}"):
        raise RestoreError(f"pid {pid} is in use (a live process or a zombie not yet reaped)")
    return task


def _spawn(task: Task) -> None:
    path = helper_path()
    tid = ffi.new("pid_t[1]", [task.pid])
    ret = lib.st_spawn_helper(task.pid, path.encode(), 1, tid)
    if ret < 0:
        raise RestoreError(f"cannot create a process with pid {task.pid}: clone3: {os.strerror(-ret)}")
    stop = task.tracee.wait()
    if stop.sig != signal.SIGTRAP:
        _kill(task)
        raise RestoreError(f"restore helper for pid {task.pid}: unexpected {stop}")
    task.tracee.set_options(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP)
    log.debug("helper started at pid %d", task.pid)


def _rebuild(ctx: RestoreContext, task: Task) -> None:
    task.mem = TaskMemory(task.pid)
    try:
        with Injector(task.tracee, _helper_syscall(task), task.mem) as inj:
            task.inj = inj
            _prepare_address_space(ctx, task)
            fault.point("restore:address-space")
            for name, step in STAGES:
                log.debug("pid %d: %s", task.pid, name)
                step(ctx, task)
                fault.point(f"restore:{name}")
            fault.point("restore:final")
            # The last injected syscall unmaps the scratch area; at its exit stop the task gets
            # its own registers back and is let go.
            scratch, inj.scratch = inj.scratch, 0
            inj.last(nr.munmap, scratch, SCRATCH_SIZE)
            regs.restore_final(task, task.core)
            task.tracee.set_sigmask(task.core.tc.blk_sigset)
            task.tracee.detach()
            log.debug("pid %d: %d syscalls injected", task.pid, inj.count)
    finally:
        task.mem.close()
        task.inj = None


def _helper_syscall(task: Task) -> int:
    for v in proc.vmas(task.pid):
        if "x" in v.perms and v.path and not v.path.startswith("["):
            off = task.mem.read(v.start, v.size).find(b"\x0f\x05")  # type: ignore[union-attr]
            if off >= 0:
                return v.start + off
    raise RestoreError("restore helper: no syscall instruction found")


def _prepare_address_space(ctx: RestoreContext, task: Task) -> None:
    """Scratch area with a syscall instruction, helper unmapped, vDSO/vvar moved to their old place."""
    inj = task.injector
    helper_vmas = proc.vmas(task.pid)
    mm_img = task.images["mm"]
    addr = _scratch_address(mm_img, helper_vmas)
    inj.map_scratch(addr, exec_=True)
    task.mem.write(addr + SCRATCH_DATA, b"\x0f\x05")  # type: ignore[union-attr]
    inj.syscall_ip = addr + SCRATCH_DATA
    inj.call(nr.close_range, 0, 0xFFFFFFFF, 0, what="close_range")  # fds the helper inherited from us
    special = [v for v in helper_vmas if v.path in ("[vvar]", "[vvar_vclock]", "[vdso]")]
    for v in helper_vmas:
        if v.path == "[vsyscall]" or v in special:
            continue
        inj.call(nr.munmap, v.start, v.size, what=f"munmap helper {v.path}")
    wanted = sorted((v for v in mm_img.vmas if v.status & (mm.VMA_AREA_VDSO | mm.VMA_AREA_VVAR)),
                    key=lambda v: v.start)
    if not wanted:
        for v in special:
            inj.call(nr.munmap, v.start, v.size, what="munmap vdso")
        return
    if [w.end - w.start for w in wanted] != [v.size for v in special]:
        raise RestoreError("the vDSO/vvar layout differs from this kernel's (a dump from another kernel "
                           "needs vDSO proxying, not supported yet)")
    delta = wanted[0].start - special[0].start
    if any(w.start - v.start != delta for w, v in zip(wanted, special, strict=True)):
        raise RestoreError("the vDSO/vvar areas are laid out differently on this kernel")
    order = sorted(special, key=lambda v: v.start, reverse=delta > 0)
    for v in order:
        if delta:
            ret = inj.raw(nr.mremap, v.start, v.size, v.size, MREMAP_MAYMOVE | MREMAP_FIXED, v.start + delta)
            if ret != v.start + delta:
                raise RestoreError(f"cannot move {v.path} to {v.start + delta:#x}: {os.strerror(-ret)}")


def _scratch_address(mm_img, helper_vmas: list[proc.Vma]) -> int:
    """A free range, away from every VMA of the task and of the helper."""
    taken = sorted([(v.start, v.end) for v in mm_img.vmas] + [(v.start, v.end) for v in helper_vmas])
    pos = MMAP_MIN + PAGE_SIZE
    for s, e in taken:
        if s - pos >= SCRATCH_SIZE + PAGE_SIZE:
            return pos
        pos = max(pos, e + PAGE_SIZE)
    return pos


def _kill(task: Task) -> None:
    try:
        os.kill(task.pid, signal.SIGKILL)
        os.waitpid(task.pid, 0x40000000)
    except (ProcessLookupError, ChildProcessError):
        pass
    log.debug("helper %d killed", task.pid)


def _write_pidfile(path: str, pid: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise RestoreError(f"cannot create pidfile {path}: {exc.strerror}") from exc
    try:
        os.write(fd, str(pid).encode())
    finally:
        os.close(fd)


