"""Restore: rebuild a process tree from images inside empty helpers started at the old PIDs.

The root helper (engine/helper) is clone3()d with set_tid = the root's PID and stops at exec under
PTRACE_TRACEME. Every other process is forked by its parent's helper (an injected clone3 with
set_tid), before anything is mapped, so parents, sessions and groups come out as they were. Each
process is then turned into its old self by injected syscalls, stage by stage, in the order of
STAGES and THREAD_STAGES. Any failure kills everything this restore created.
"""

from __future__ import annotations

import os
import signal
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from engine import fault, proc
from engine.compel import syscalls as nr
from engine.compel.inject import SCRATCH_DATA, SCRATCH_SIZE, Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import (
    PTRACE_O_EXITKILL,
    PTRACE_O_SUSPEND_SECCOMP,
    PTRACE_O_TRACECLONE,
    PTRACE_O_TRACEFORK,
    PTRACE_O_TRACESYSGOOD,
    Tracee,
    TraceeGone,
)
from engine.errors import ImageError, RestoreError
from engine.images import ImageDir
from engine.images.pb import seccomp_pb2
from engine.log import log
from engine.native import PAGE_SIZE, ffi, lib
from engine.objects import creds, files, fs, mm, process, regs, rlimits, seccomp, signals, thread, timers
from engine.task import TASK_DEAD, TASK_STOPPED, Task, Thread

MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2
MMAP_MIN = 0x10000
HELPER_OPTIONS = (PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP | PTRACE_O_TRACECLONE
                  | PTRACE_O_TRACEFORK)
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_PARENT = 0x8000
CLONE_THREAD, CLONE_SYSVSEM = 0x10000, 0x40000
CLONE_ARGS = struct.Struct("<QQQQQQQQQQQ")  # struct clone_args (v2, 88 bytes)


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
    tasks: list[Task] = field(default_factory=list)
    files: files.FileTable = field(default_factory=files.FileTable)
    broker: files.Broker | None = None
    seccomp: seccomp_pb2.seccomp_entry = field(default_factory=seccomp_pb2.seccomp_entry)
    shmem_owner: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    stand_ins: list[Task] = field(default_factory=list)  # temporary leaders of sessions/groups
    scratch: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


Stage = tuple[str, Callable[[RestoreContext, Task], None]]
ThreadStage = tuple[str, Callable[[RestoreContext, Task, Thread], None]]

# The visible order of restore, per process. Each name is also a fault point (restore:<name>).
STAGES: tuple[Stage, ...] = (
    ("vdso", lambda ctx, t: _move_vdso(t)),
    ("vmas", mm.restore_vmas),
    ("pages", mm.restore_pages),
    ("protections", mm.restore_protections),
    ("mm", mm.restore_mm),
    ("files", files.restore),
    ("fs", fs.restore),
    ("rlimits", rlimits.restore),  # from outside, while the helper has our uid
    ("process", process.restore),  # personality after the mappings, oom/loginuid while privileged
    ("signals", signals.restore),
    ("timers", timers.restore),
    ("threads", lambda ctx, t: _create_threads(t)),
)
MEMORY_STAGES = 4  # the first STAGES: run for each process before it forks its children
THREAD_STAGES: tuple[ThreadStage, ...] = (
    ("sched", process.restore_thread),
    ("thread-signals", signals.restore_thread),
    ("thread", thread.restore_thread),
    ("seccomp", seccomp.restore_thread),  # while privileged: a filter without NNP needs CAP_SYS_ADMIN
    ("creds", creds.restore_thread),
    ("after-creds", process.restore_thread_after_creds),
)
LATE_STAGES: tuple[Stage, ...] = (
    ("engine-fd", files.close_engine_fd),
    ("dumpable", mm.restore_dumpable),  # after the credentials: changing uids resets it
)


def helper_path() -> str:
    return str(resources.files("engine.helper").joinpath("stasis-helper"))


def restore(opts: RestoreOptions) -> int:
    """Returns the exit status to leave with (the root's, when not detached)."""
    ctx = RestoreContext(opts, ImageDir(opts.images_dir))
    t0 = time.monotonic()
    _load(ctx)
    if opts.pidfile and os.path.lexists(opts.pidfile):
        raise RestoreError(f"pidfile {opts.pidfile} already exists")
    fault.point("restore:images")
    root = ctx.tasks[0]
    ctx.broker = files.Broker(ctx.files, _pipe_data(ctx))
    engine_pidfd = _engine_pidfd()
    try:
        _spawn(root, engine_pidfd)
    finally:
        os.close(engine_pidfd)
    try:
        fault.point("restore:spawn")
        _build(ctx)
        if opts.pidfile:
            _write_pidfile(opts.pidfile, root.pid)
    except BaseException:
        _kill_all(ctx)
        raise
    finally:
        ctx.broker.close()
    log.info("restore of %d (%d processes) done in %.3f s", root.pid, len(ctx.tasks), time.monotonic() - t0)
    if opts.detached:
        return 0
    _, status = os.waitpid(root.pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


# -- images ----------------------------------------------------------------------------------------

def _load(ctx: RestoreContext) -> None:
    img = ctx.images
    inv = img.read_one("inventory")
    if inv.img_version != 2 or not inv.fdinfo_per_id:
        raise ImageError(img.path("inventory"), f"unsupported image version {inv.img_version}")
    entries = img.read("pstree")
    if not entries or entries[0].ppid != 0:
        raise ImageError(img.path("pstree"), "the first entry must be the root (ppid 0)")
    seen_pids: set[int] = set()
    files_tables: set[int] = set()
    for e in entries:
        if e.ppid and e.ppid not in seen_pids:
            raise ImageError(img.path("pstree"), f"pid {e.pid} comes before its parent {e.ppid}")
        seen_pids.add(e.pid)
        t = Task(e.pid, ppid=e.ppid, pgid=e.pgid, sid=e.sid)
        tids = list(e.threads) or [e.pid]
        for tid in tids:
            th = Thread(tid, Tracee(tid))
            th.core = img.read_one("core", tid=tid)
            t.threads.append(th)
        if not t.core.HasField("tc"):
            raise ImageError(img.path("core", tid=t.pid), "no task state (tc) in the leader's core")
        t.state = t.core.tc.task_state
        t.images["ids"] = ids = img.read_one("ids", pid=t.pid)
        if t.state != TASK_DEAD:
            for th in t.threads:
                if not th.core.HasField("thread_info"):
                    raise ImageError(img.path("core", tid=th.tid), "no registers (thread_info)")
            t.images["mm"] = img.read_one("mm", pid=t.pid)
            t.images["fs"] = img.read_one("fs", pid=t.pid)
            if ids.files_id not in files_tables:
                files_tables.add(ids.files_id)
                t.facts["own_files_table"] = True
                t.images["fdinfo"] = img.read("fdinfo", missing_ok=True, files_id=ids.files_id)
        ctx.tasks.append(t)
    ctx.files.entries.extend(img.read("files", missing_ok=True))
    if img.exists("seccomp"):
        ctx.seccomp = img.read_one("seccomp")
    for t in ctx.tasks:
        for th in t.threads:
            if os.path.exists(f"/proc/{th.tid}"):
                raise RestoreError(f"pid {th.tid} is in use (a live process or a zombie not yet reaped)")


def _pipe_data(ctx: RestoreContext) -> dict[int, tuple[int, bytes]]:
    out = {}
    for entry in ctx.images.read_entries("pipes-data", missing_ok=True):
        e = entry.message
        out[e.pipe_id] = (e.size if e.HasField("size") else 0, bytes(entry.extra or b""))
    return out


# -- the process tree ------------------------------------------------------------------------------

def _engine_pidfd() -> int:
    """A pidfd on the engine, inherited by the helpers: their way to take fds from the broker."""
    pidfd = lib.st_syscall(nr.pidfd_open, os.getpid(), 0, 0, 0, 0, 0)
    if pidfd < 0:
        raise RestoreError(f"pidfd_open: {os.strerror(-pidfd)}")
    os.set_inheritable(pidfd, True)  # pidfds are born close-on-exec; the helper must keep it
    return pidfd


def _spawn(root: Task, engine_pidfd: int) -> None:
    path = helper_path()
    tid = ffi.new("pid_t[1]", [root.pid])
    ret = lib.st_spawn_helper(root.pid, path.encode(), 1, tid)
    if ret < 0:
        raise RestoreError(f"cannot create a process with pid {root.pid}: clone3: {os.strerror(-ret)}")
    stop = root.tracee.wait()
    if stop.sig != signal.SIGTRAP:
        _kill(root.pid)
        raise RestoreError(f"restore helper for pid {root.pid}: unexpected {stop}")
    root.tracee.set_options(HELPER_OPTIONS)
    root.facts["engine_pidfd"] = engine_pidfd
    root.facts["spawned"] = True
    log.debug("helper started at pid %d", root.pid)


def _build(ctx: RestoreContext) -> None:
    root = ctx.tasks[0]
    root.mem = TaskMemory(root.pid)
    root.leader.inj = Injector(root.tracee, _helper_syscall(root), root.mem).__enter__()
    ctx.scratch = _scratch_address(ctx, proc.vmas(root.pid))
    _prepare_root(ctx, root)
    fault.point("restore:address-space")
    # A process's memory is rebuilt before it forks its children: what they still shared
    # copy-on-write at the dump is inherited, and stays shared (mm.restore_vmas keeps it).
    _fork_tree(ctx, lambda t: _run_stages(ctx, t, STAGES[:MEMORY_STAGES]))
    fault.point("restore:tree")
    for t in ctx.tasks:
        if t.state == TASK_DEAD:
            continue
        _run_stages(ctx, t, STAGES[MEMORY_STAGES:])
        for th in t.threads:
            for name, tstep in THREAD_STAGES:
                tstep(ctx, t, th)
                fault.point(f"restore:{name}")
        for name, step in LATE_STAGES:
            step(ctx, t)
            fault.point(f"restore:{name}")
    fault.point("restore:final")
    _finish(ctx)


def _run_stages(ctx: RestoreContext, t: Task, stages: tuple[Stage, ...]) -> None:
    if t.state == TASK_DEAD:
        return
    for name, step in stages:
        log.debug("pid %d: %s", t.pid, name)
        step(ctx, t)
        fault.point(f"restore:{name}")


def _prepare_root(ctx: RestoreContext, root: Task) -> None:
    """Scratch area with a syscall instruction; the helper's own mappings and fds gone."""
    inj = root.injector
    helper_vmas = proc.vmas(root.pid)
    inj.map_scratch(ctx.scratch, exec_=True)
    root.mem.write(ctx.scratch + SCRATCH_DATA, b"\x0f\x05")  # type: ignore[union-attr]
    inj.syscall_ip = ctx.scratch + SCRATCH_DATA
    keep = root.facts["engine_pidfd"]
    if keep > 0:
        inj.call(nr.close_range, 0, keep - 1, 0, what="close_range")  # fds the helper inherited
    inj.call(nr.close_range, keep + 1, 0xFFFFFFFF, 0, what="close_range")
    for v in helper_vmas:
        if v.path in ("[vsyscall]", "[vvar]", "[vvar_vclock]", "[vdso]"):
            continue
        inj.call(nr.munmap, v.start, v.size, what=f"munmap helper {v.path}")


def _fork_tree(ctx: RestoreContext, created: Callable[[Task], None]) -> None:
    """Each process forks its children: sessions and groups first, so children inherit them.

    A session or group whose leader has exited gets a stand-in: a temporary process at the
    leader's PID that creates the session (and forks the members with CLONE_PARENT, so their
    parent stays right) or the group, and exits once the members are in.
    """
    by_pid = {t.pid: t for t in ctx.tasks}
    root = ctx.tasks[0]
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
        elif t.images["ids"].files_id == parent.images["ids"].files_id and t.alive:
            flags |= CLONE_FILES
        if creator is parent and t.images["ids"].fs_id == parent.images["ids"].fs_id and t.alive:
            flags |= CLONE_FS
        if t.pgid != t.pid and t.pgid not in by_pid and t.pgid != t.sid and t.pgid != root.pgid:
            _stand_in(ctx, creator, t.pgid, session=False)
        _clone(creator, t, flags)
        t.facts["engine_pidfd"] = parent.facts["engine_pidfd"]
        t.facts["inherited"] = True  # it starts as a copy of its creator's rebuilt address space
        _set_session(ctx, t, root)
        created(t)
    leaders = by_pid | {h.pid: h for h in ctx.stand_ins}
    for t in ctx.tasks:  # groups whose leader is another process, now that every process exists
        if t.pgid != t.pid and t.pgid in leaders:
            cur = t.injector.call(nr.getpgid, 0, what="getpgid")
            if cur != t.pgid:
                t.injector.call(nr.setpgid, 0, t.pgid, what=f"setpgid({t.pgid})")
    for h in reversed(ctx.stand_ins):  # their work is done: they exit and their parents reap them
        _exit_stand_in(ctx, h)
    for t in reversed(ctx.tasks):  # zombies die now; their parents' signals are restored later
        if t.state == TASK_DEAD:
            _make_zombie(t)


def _stand_in(ctx: RestoreContext, creator: Task, pid: int, session: bool) -> Task:
    for h in ctx.stand_ins:
        if h.pid == pid:
            return h
    if os.path.exists(f"/proc/{pid}"):
        kind = "session" if session else "group"
        raise RestoreError(f"pid {pid} (the exited leader of a {kind}) is in use")
    h = Task(pid, threads=[Thread(pid, Tracee(pid))], ppid=creator.pid, pgid=pid, sid=pid if session else 0)
    h.facts["parent"] = creator
    h.images["ids"] = creator.images["ids"]
    _clone(creator, h, 0)
    h.injector.call(nr.setsid if session else nr.setpgid, *(() if session else (0, 0)),
                    what="setsid" if session else "setpgid")
    ctx.stand_ins.append(h)
    log.debug("pid %d stands in for an exited %s leader", pid, "session" if session else "group")
    return h


def _exit_stand_in(ctx: RestoreContext, h: Task) -> None:
    try:
        h.injector.raw(231, 0)  # exit_group
    except TraceeGone:
        pass
    h.leader.inj = None
    if h.mem:
        h.mem.close()
    parent: Task = h.facts["parent"]
    ret = parent.injector.raw(61, h.pid, 0, 0, 0)  # wait4: reap it, so nothing shows it existed
    if ret != h.pid:
        raise RestoreError(f"cannot reap the stand-in {h.pid}: {os.strerror(-ret) if ret < 0 else ret}")
    h.facts["spawned"] = False


def _set_session(ctx: RestoreContext, t: Task, root: Task) -> None:
    inj = t.injector
    if t.sid == t.pid:
        inj.call(nr.setsid, what="setsid")
    elif t.pgid == t.pid:
        inj.call(nr.setpgid, 0, 0, what="setpgid")
    elif t is root and not ctx.opts.shell_job:
        raise RestoreError(f"pid {t.pid} was in session {t.sid} outside the dump: restore with --shell-job")


def _clone(parent: Task, child: Task, flags: int) -> None:
    """An injected clone3(set_tid) in the parent's helper; the child stops at its first instruction."""
    inj = parent.injector
    tid_addr = SCRATCH_DATA - 64
    inj.put(struct.pack("<i", child.pid), tid_addr)
    # with CLONE_PARENT the child inherits the creator's exit signal; clone3 wants 0 here
    exit_signal = 0 if flags & (CLONE_THREAD | CLONE_PARENT) else signal.SIGCHLD
    args = CLONE_ARGS.pack(flags, 0, 0, 0, exit_signal, 0, 0, 0, inj.scratch + tid_addr, 1, 0)
    inj.put(args, 0)
    ret = inj.raw(nr.clone3, inj.scratch, CLONE_ARGS.size)
    if ret != child.pid:
        err = os.strerror(-ret) if ret < 0 else f"got pid {ret}"
        raise RestoreError(f"cannot create pid {child.pid} in {parent.pid}: clone3: {err}")
    child.tracee.wait()  # auto-attached: its first stop
    child.facts["spawned"] = True
    child.mem = TaskMemory(child.pid)
    child.leader.inj = Injector(child.tracee, inj.syscall_ip, child.mem).__enter__()
    child.leader.inj.scratch = inj.scratch
    log.debug("pid %d forked by %d (flags %#x)", child.pid, parent.pid, flags)


def _make_zombie(t: Task) -> None:
    status = t.core.tc.exit_code
    inj = t.injector
    inj.put(t.core.tc.comm.encode()[:15] + b"\0")
    inj.call(nr.prctl, process.PR_SET_NAME, inj.scratch, what="prctl(PR_SET_NAME)")
    if os.WIFSIGNALED(status):
        # die by the same signal: unblocked, default action, no core file
        sig = os.WTERMSIG(status)
        lib.st_syscall(nr.prlimit64, t.pid, 4, int(ffi.cast("uintptr_t", ffi.new("uint64_t[2]", [0, 0]))),
                       0, 0, 0)
        if sig != signal.SIGKILL:  # SIGKILL has no disposition to set
            inj.put(struct.pack("<QQQQ", 0, 0, 0, 0))
            inj.call(nr.rt_sigaction, sig, inj.scratch, 0, 8, what="rt_sigaction")
        t.tracee.set_sigmask(0)
        inj.saved_regs = None
        t.tracee.detach(sig)
        try:
            while True:  # the tracer sees the death first; the zombie then waits for its parent
                t.tracee.wait()
        except TraceeGone:
            pass
    else:
        try:
            inj.raw(231, os.WEXITSTATUS(status))  # exit_group: the tracer sees the exit, no return
        except TraceeGone:
            pass
        else:
            raise RestoreError(f"pid {t.pid}: exit_group returned")
    t.leader.inj = None
    log.debug("pid %d is a zombie again (status %#x)", t.pid, status)


def _create_threads(t: Task) -> None:
    """Threads are cloned by the leader once the address space is whole; each gets its TID back."""
    for th in t.threads[1:]:
        flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM
        inj = t.injector
        tid_addr = SCRATCH_DATA - 64
        inj.put(struct.pack("<i", th.tid), tid_addr)
        inj.put(CLONE_ARGS.pack(flags, 0, 0, 0, 0, 0, 0, 0, inj.scratch + tid_addr, 1, 0), 0)
        ret = inj.raw(nr.clone3, inj.scratch, CLONE_ARGS.size)
        if ret != th.tid:
            err = os.strerror(-ret) if ret < 0 else f"got tid {ret}"
            raise RestoreError(f"cannot create thread {th.tid} in {t.pid}: clone3: {err}")
        th.tracee.wait()
        th.facts["spawned"] = True
        th.inj = Injector(th.tracee, inj.syscall_ip, inj.mem).__enter__()
        th.inj.scratch = inj.scratch


def _helper_syscall(task: Task) -> int:
    for v in proc.vmas(task.pid):
        if "x" in v.perms and v.path and not v.path.startswith("["):
            off = task.mem.read(v.start, v.size).find(b"\x0f\x05")  # type: ignore[union-attr]
            if off >= 0:
                return v.start + off
    raise RestoreError("restore helper: no syscall instruction found")


def _move_vdso(t: Task) -> None:
    """vDSO and vvar go where they were: the same kernel lays them out the same way, so one move."""
    inj = t.injector
    special = [v for v in proc.vmas(t.pid) if v.path in ("[vvar]", "[vvar_vclock]", "[vdso]")]
    wanted = sorted((v for v in t.images["mm"].vmas if v.status & (mm.VMA_AREA_VDSO | mm.VMA_AREA_VVAR)),
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
    if not delta:
        return
    for v in sorted(special, key=lambda v: v.start, reverse=delta > 0):
        ret = inj.raw(nr.mremap, v.start, v.size, v.size, MREMAP_MAYMOVE | MREMAP_FIXED, v.start + delta)
        if ret != v.start + delta:
            raise RestoreError(f"cannot move {v.path} to {v.start + delta:#x}: {os.strerror(-ret)}")


def _scratch_address(ctx: RestoreContext, helper_vmas: list[proc.Vma]) -> int:
    """One free range, away from every VMA of every process and of the helper: children inherit it."""
    taken = [(v.start, v.end) for v in helper_vmas]
    for t in ctx.tasks:
        if "mm" in t.images:
            taken += [(v.start, v.end) for v in t.images["mm"].vmas]
    pos = MMAP_MIN + PAGE_SIZE
    for s, e in sorted(taken):
        if s - pos >= SCRATCH_SIZE + PAGE_SIZE:
            return pos
        pos = max(pos, e + PAGE_SIZE)
    return pos


# -- the end ---------------------------------------------------------------------------------------

def _finish(ctx: RestoreContext) -> None:
    """Unmap the scratch area (the last injected syscall), install final registers, let go.

    Children are released before their parents, so no parent runs and waits on a child that is
    still being built.
    """
    for t in reversed(ctx.tasks):
        if t.state == TASK_DEAD:
            continue
        for th in t.threads[1:]:
            th.injector.saved_regs = None  # they stay at their last syscall-exit stop
        inj = t.injector
        inj.last(nr.munmap, ctx.scratch, SCRATCH_SIZE)
        for th in t.threads:
            regs.restore_final(th)
            th.tracee.set_sigmask(signals.blocked(t, th))
        for th in t.threads:
            th.tracee.detach()
            th.inj = None
        if t.state == TASK_STOPPED:
            os.kill(t.pid, t.core.tc.stop_signo or signal.SIGSTOP)
        t.facts["released"] = True
        if t.mem:
            t.mem.close()
        log.debug("pid %d: released (%s)", t.pid, "stopped" if t.state == TASK_STOPPED else "running")


def _kill_all(ctx: RestoreContext) -> None:
    """A failed restore leaves nothing behind: every process it made is killed and reaped."""
    for t in ctx.stand_ins + ctx.tasks:
        if t.facts.get("spawned"):
            try:
                os.kill(t.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for t in reversed(ctx.tasks):
        for th in reversed(t.threads):
            if th.facts.get("spawned") or (th is t.leader and t.facts.get("spawned")):
                try:
                    while True:
                        th.tracee.wait()
                except TraceeGone:
                    pass
    root = ctx.tasks[0] if ctx.tasks else None
    if root and root.facts.get("spawned"):
        _kill(root.pid)
    log.debug("every process of the failed restore killed")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0x40000000)
    except (ProcessLookupError, ChildProcessError):
        pass


def _write_pidfile(path: str, pid: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise RestoreError(f"cannot create pidfile {path}: {exc.strerror}") from exc
    try:
        os.write(fd, str(pid).encode())
    finally:
        os.close(fd)


