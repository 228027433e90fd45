"""Restore: rebuild a process tree from images inside empty helpers started at the old PIDs.

The root helper (engine/helper) is clone3()d with set_tid = the root's PID and stops at exec. Every
other process is forked by its parent's helper (an injected clone3 with set_tid), so parents,
sessions and groups come out as they were. Each process is then turned into its old self by
injected syscalls, stage by stage: the stages of the registry's modules, in the order
engine.objects.registry derives (each also a fault point restore:<stage>). Any failure kills
everything this restore created.
"""

from __future__ import annotations

import os
import signal
import time

from engine import fault, proc, unpriv
from engine.abi import nr
from engine.abi.consts import (
    CLONE_PARENT,
    PR_SET_CHILD_SUBREAPER,
    PTRACE_EVENT_EXEC,
    PTRACE_O_EXITKILL,
    PTRACE_O_SUSPEND_SECCOMP,
    PTRACE_O_TRACECLONE,
    PTRACE_O_TRACEEXEC,
    PTRACE_O_TRACEFORK,
    PTRACE_O_TRACESYSGOOD,
    TASK_STOPPED,
    WALL,
)
from engine.compel.inject import SCRATCH_DATA, SCRATCH_SIZE, Injector
from engine.compel.memory import TaskMemory
from engine.compel.pidfd import open_pidfd
from engine.compel.ptrace import TraceeGone
from engine.context import RestoreContext, RestoreOptions
from engine.errors import ImageError, RestoreError
from engine.images import ImageDir, digest
from engine.log import log
from engine.native import PAGE_SIZE, ffi, lib
from engine.objects import joinns, namespaces, regs, signals, tree
from engine.objects.base import Phase
from engine.objects.files.netlock import NetnsLock
from engine.objects.files.table import Broker, FileTable
from engine.objects.mm import MmTree
from engine.objects.registry import OBJECTS, stages
from engine.task import Task

MMAP_MIN = 0x10000
HELPER_OPTIONS = (PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP | PTRACE_O_TRACECLONE
                  | PTRACE_O_TRACEFORK)
# fault points of the orchestration itself; every stage adds restore:<stage>
FIXED_POINTS = ("images", "spawn", "address-space", "tree", "final")
STOP_WAIT = 5.0  # seconds a released task may take to enter its job-control stop

__all__ = ["RestoreOptions", "restore", "points"]


def points() -> list[str]:
    """Every restore fault point, in the order a restore passes them."""
    order = ["images", "spawn", "address-space", *(s.name for s in stages(Phase.MEMORY)), "tree",
             *(s.name for p in Phase if p != Phase.MEMORY for s in stages(p)), "final"]
    return [f"restore:{n}" for n in order]


def helper_path() -> str:
    # next to engine/helper/__init__.py (never zipped: the helper must be executable); importlib.resources
    # would cost pathlib, tempfile, zipfile at every restore
    import engine.helper

    return os.path.join(os.path.dirname(engine.helper.__file__), "stasis-helper")


def restore(opts: RestoreOptions) -> int:
    """Returns the exit status to leave with (the root's, when not detached)."""
    ctx = RestoreContext(opts, ImageDir(opts.images_dir), files=FileTable(), mm=MmTree())
    if opts.stats is not None:
        ctx.stats = opts.stats
    t0 = time.monotonic()
    if opts.notify:
        opts.notify("pre-restore", 0)
    try:
        if opts.unprivileged:
            unpriv.start("restore")
        _load(ctx)
        if opts.unprivileged:  # before anything is made: the images get no more than the caller has
            unpriv.check_images(ctx)
        if opts.pidfile and os.path.lexists(opts.pidfile):
            raise RestoreError(f"pidfile {opts.pidfile} already exists")
        fault.point("restore:images")
    except BaseException:
        joinns.done(ctx)  # the namespaces it holds to join
        raise
    root = ctx.root
    ctx.broker = Broker(ctx)
    # in a user namespace of its own the tree may not take fds from the engine: they are sent to it
    userns = namespaces.in_userns(ctx)
    ctx.engine_pidfd = ctx.broker.passing_socket() if userns else _engine_pidfd()
    for t in ctx.tasks:
        if t.files is not None:
            t.files.engine_pidfd = ctx.engine_pidfd
    try:
        _spawn(ctx, root)
    except BaseException as exc:
        if root.spawned:  # a helper that got its pid but not as far as injection: it must not stay
            _kill(root.pid)
        ctx.fd_broker.close()
        joinns.done(ctx)
        if isinstance(exc, OSError):  # a ptrace request the kernel refused (one line, not a traceback)
            raise RestoreError(f"restore helper for pid {root.pid}: {exc}") from exc
        raise
    finally:
        if not userns:  # the socket's end stays the broker's until the end
            os.close(ctx.engine_pidfd)
    try:
        fault.point("restore:spawn")
        _build(ctx)
        if opts.pidfile:
            _write_pidfile(opts.pidfile, root.pid)
    except BaseException:
        _kill_all(ctx)
        _abort(ctx)
        raise
    finally:
        ctx.fd_broker.close()
    ctx.stats.restore_time = min(int((time.monotonic() - t0) * 1e6), 0xFFFFFFFF)
    log.info("restore of %d (%d processes) done in %.3f s", root.pid, len(ctx.tasks), time.monotonic() - t0)
    _hook(ctx, "post-resume", root.pid, must=False)
    if opts.detached:
        return 0
    _, status = os.waitpid(root.pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _load(ctx: RestoreContext) -> None:
    img = ctx.images
    inv = img.read_one("inventory")
    if inv.img_version != 2 or not inv.fdinfo_per_id:
        raise ImageError(img.path("inventory"), f"unsupported image version {inv.img_version}")
    key = digest.read_key(ctx.opts.verify_key) if ctx.opts.verify_key else None
    log.info("images: %s", digest.verify(img.root, inv, key))
    parent, depth = img.root / "parent", 0
    while parent.exists() and depth < 64:  # pages of PE_PARENT entries come from there: checked the same way
        parent = parent.resolve()
        pinv = ImageDir(parent).read_one("inventory")
        log.info("parent images %s: %s", parent, digest.verify(parent, pinv, key))
        parent, depth = parent / "parent", depth + 1
    if key is None and not ctx.opts.unprivileged:
        log.info("images: no --verify-key: the credentials, capabilities and files they name are restored as "
                 "they are (a root restore trusts its images, as criu does)")
    for obj in OBJECTS:
        if obj.load_images:
            obj.load_images(ctx)
    tree.check_pids_free(ctx)


# -- the root helper -------------------------------------------------------------------------------

def _engine_pidfd() -> int:
    """A pidfd on the engine, inherited by the helpers: their way to take fds from the broker."""
    try:
        pidfd = open_pidfd(os.getpid())
    except OSError as exc:
        raise RestoreError(str(exc)) from exc
    os.set_inheritable(pidfd, True)  # pidfds are born close-on-exec; the helper must keep it
    return pidfd


def _spawn(ctx: RestoreContext, root: Task) -> None:
    """The root helper at the root's pid, a child of the engine. Detached (-d) with a parent-death
    signal, it is an orphan from the start instead, as it would be once the engine exits: else that
    signal would be tied to the engine, and come when the engine exits. (An orphan killed by a failed
    restore is reaped by the caller's reaper, not by the engine.)"""
    path = helper_path()
    tid = ffi.new("pid_t[1]", [root.pid])
    orphan = ctx.opts.detached and any(th.core.thread_core.pdeath_sig for th in root.threads)
    go = ffi.new("int *")
    flags = namespaces.clone_flags(ctx)
    join_fds, join_flags, exec_fd = joinns.spawn_args(ctx)  # --join-ns: namespaces it enters before exec
    if flags and ctx.opts.sibling:  # criu's rst_sibling into new namespaces: CLONE_PARENT with them
        tids = ffi.new("pid_t[2]", [root.vpid, root.pid] if root.vpid else [root.pid, 0])
        ret = lib.st_spawn_ns_helper(path.encode(), flags | CLONE_PARENT, 2 if root.vpid else 1, tids, go,
                                     ffi.new("int[]", join_fds or [0]),
                                     ffi.new("unsigned long[]", join_flags or [0]), len(join_fds), exec_fd)
        if ret < 0:
            raise RestoreError(f"cannot create a process with pid {root.pid} in new namespaces ({flags:#x}) "
                               f"as the caller's child (rst_sibling): clone3: {os.strerror(-ret)}")
        if ret != root.pid:
            _kill(ret)
            raise RestoreError(f"the restore helper got pid {ret}, not {root.pid}")
        root.spawned = True
        try:  # seized like an orphan; with a user namespace its maps, then it goes on
            root.tracee.seize(unpriv.ptrace_options(HELPER_OPTIONS | PTRACE_O_TRACEEXEC))
            namespaces.spawned(ctx, ret, go[0], release=True)
        except BaseException:
            _kill(ret)
            raise
        try:
            _wait_exec(root)
        except TraceeGone as exc:  # it exits 100 + i when it cannot enter the i-th namespace to join
            raise RestoreError(f"restore helper for pid {root.pid}: {joinns.helper_died(ctx, exc)}") from None
        return
    # new namespaces (or joined ones, unless as a sibling or an orphan): pid 1 inside (set_tid is innermost
    # first), its old pid outside
    if flags or (join_fds and not ctx.opts.sibling and not orphan):
        orphan = False  # the engine's child (it stops at exec for the engine: PTRACE_TRACEME)
        tids = ffi.new("pid_t[2]", [root.vpid, root.pid] if root.vpid else [root.pid, 0])
        ret = lib.st_spawn_ns_helper(path.encode(), flags, 2 if root.vpid else 1, tids, go,
                                     ffi.new("int[]", join_fds or [0]),
                                     ffi.new("unsigned long[]", join_flags or [0]), len(join_fds), exec_fd)
        if ret < 0:
            raise RestoreError(f"cannot create a process with pid {root.pid} in new namespaces ({flags:#x}): "
                               f"clone3: {os.strerror(-ret)}")
        try:
            namespaces.spawned(ctx, ret, go[0])  # with a user namespace: its maps, then it goes on
        except BaseException:
            _kill(ret)
            raise
    elif ctx.opts.sibling:  # a child of the engine's parent (criu's rst_sibling): seized like an orphan
        ret = lib.st_spawn_sibling_helper(path.encode(), tid, go, ffi.new("int[]", join_fds or [0]),
                                          ffi.new("unsigned long[]", join_flags or [0]), len(join_fds),
                                          exec_fd)
        orphan = True
    elif orphan:
        ret = lib.st_spawn_orphan_helper(path.encode(), tid, go, ffi.new("int[]", join_fds or [0]),
                                         ffi.new("unsigned long[]", join_flags or [0]), len(join_fds),
                                         exec_fd)
    else:
        ret = lib.st_spawn_helper(root.pid, path.encode(), 1, tid)
    if ret != root.pid and ret >= 0:
        _kill(ret)
        raise RestoreError(f"the restore helper got pid {ret}, not {root.pid}")
    if ret < 0:
        raise RestoreError(f"cannot create a process with pid {root.pid}: clone3: {os.strerror(-ret)}")
    root.spawned = True
    if orphan:
        try:
            root.tracee.seize(unpriv.ptrace_options(HELPER_OPTIONS | PTRACE_O_TRACEEXEC))
            os.write(go[0], b"g")
        except OSError:
            _kill(root.pid)
            raise
        finally:
            os.close(go[0])
        try:
            _wait_exec(root)
        except TraceeGone as exc:  # it exits 100 + i when it cannot enter the i-th namespace to join
            raise RestoreError(f"restore helper for pid {root.pid}: {joinns.helper_died(ctx, exc)}") from None
        return
    try:
        stop = root.tracee.wait()
    except TraceeGone as exc:  # it exits 100 + i when it cannot enter the i-th namespace to join
        raise RestoreError(f"restore helper for pid {root.pid}: {joinns.helper_died(ctx, exc)}") from None
    if stop.sig != signal.SIGTRAP:
        _kill(root.pid)
        raise RestoreError(f"restore helper for pid {root.pid}: unexpected {stop}")
    root.tracee.set_options(unpriv.ptrace_options(HELPER_OPTIONS))
    log.debug("helper started at pid %d", root.pid)


def _wait_exec(root: Task) -> None:
    """The exec event stop, then execve's own syscall-exit stop: from there injection can start."""
    while True:
        stop = root.tracee.wait()
        if stop.event == PTRACE_EVENT_EXEC:
            root.tracee.syscall_step()
            stop = root.tracee.wait()
            if stop.is_syscall:
                log.debug("helper started at pid %d", root.pid)
                return
        elif stop.sig == signal.SIGTRAP or stop.is_group_or_interrupt:
            root.tracee.cont()
            continue
        _kill(root.pid)
        raise RestoreError(f"restore helper for pid {root.pid}: unexpected {stop}")


def _helper_syscall(task: Task) -> int:
    for v in proc.vmas(task.pid):
        if "x" in v.perms and v.path and not v.path.startswith("["):
            off = task.memory.read(v.start, v.size).find(b"\x0f\x05")
            if off >= 0:
                return v.start + off
    raise RestoreError("restore helper: no syscall instruction found")


def _scratch_address(ctx: RestoreContext, helper_vmas: list[proc.Vma]) -> int:
    """One free range, away from every VMA of every process and of the helper: children inherit it."""
    taken = [(v.start, v.end) for v in helper_vmas]
    for t in ctx.tasks:
        if t.mm is not None:
            taken += [(v.start, v.end) for v in t.mm.img.vmas]
    pos = MMAP_MIN + PAGE_SIZE
    for s, e in sorted(taken):
        if s - pos >= SCRATCH_SIZE + PAGE_SIZE:
            return pos
        pos = max(pos, e + PAGE_SIZE)
    return pos


def _prepare_root(ctx: RestoreContext, root: Task) -> None:
    """Scratch area with a syscall instruction; the helper's own mappings and fds gone."""
    inj = root.injector
    helper_vmas = proc.vmas(root.pid)
    inj.map_scratch(ctx.scratch, exec_=True)
    root.memory.write(ctx.scratch + SCRATCH_DATA, b"\x0f\x05")
    inj.syscall_ip = ctx.scratch + SCRATCH_DATA
    keep = ctx.engine_pidfd
    if keep > 0:
        inj.call(nr.close_range, 0, keep - 1, 0, what="close_range")  # fds the helper inherited
    inj.call(nr.close_range, keep + 1, 0xFFFFFFFF, 0, what="close_range")
    for v in helper_vmas:
        if v.path in ("[vsyscall]", "[vvar]", "[vvar_vclock]", "[vdso]"):
            continue
        inj.call(nr.munmap, v.start, v.size, what=f"munmap helper {v.path}")


# -- the stages ------------------------------------------------------------------------------------

def _build(ctx: RestoreContext) -> None:
    root = ctx.root
    root.mem = TaskMemory(root.pid)
    root.leader.inj = Injector.attach(root.tracee, _helper_syscall(root), root.mem)
    ctx.scratch = _scratch_address(ctx, proc.vmas(root.pid))
    _prepare_root(ctx, root)
    own_ns = bool(namespaces.rstate(ctx).new)
    if own_ns:  # as criu: the root exists in its new namespaces (maps written), nothing restored in them
        _hook(ctx, "setup-namespaces", root.pid, must=True)
    try:  # time, names, sysctls, the mount tree: before anything is rebuilt
        namespaces.restore_root(ctx, root)
    except OSError as exc:  # an injected syscall that failed: one line, with where
        raise RestoreError(f"pid {root.pid}: its namespaces: {exc}") from exc
    net = _lock_netns(ctx)
    try:
        if own_ns:
            _hook(ctx, "post-setup-namespaces", root.pid, must=True)
        _rebuild(ctx, root, net)
    finally:
        if net is not None:
            net.close()
    _hook(ctx, "pre-resume", root.pid, must=False)
    try:
        _finish(ctx)
    except OSError as exc:
        raise RestoreError(f"letting the restored tree go: {exc}") from exc


def _rebuild(ctx: RestoreContext, root: Task, net: NetnsLock | None) -> None:
    """The processes and every stage; the network unlocked before the teardown (restore_done: the engine's
    own last traffic, a FIN replayed, a tail never sent, a SYN in flight, needs it), post-restore, then
    criu's network-unlock hook (the caller's own network set-up)."""
    fault.point("restore:address-space")
    # A process's memory is rebuilt before it forks its children: what they still shared
    # copy-on-write at the dump is inherited, and stays shared (mm.restore_vmas keeps it).
    try:
        t_fork = time.monotonic()
        tree.fork_all(ctx, lambda t: _run(ctx, t, Phase.MEMORY))
        ctx.stats.forking_time = min(int((time.monotonic() - t_fork) * 1e6), 0xFFFFFFFF)
    except OSError as exc:
        raise RestoreError(f"building the process tree: {exc}") from exc
    fault.point("restore:tree")
    for t in ctx.tasks:
        if not t.alive:
            continue
        for phase in (Phase.PROCESS, Phase.THREADS, Phase.THREAD, Phase.LATE):
            _run(ctx, t, phase)
    if net is not None:
        try:
            net.unlock()
        except OSError as exc:
            raise RestoreError(f"pid {root.pid}: unlocking its network namespace: {exc}") from exc
    for obj in reversed(OBJECTS):  # in teardown order: what was set up first (namespaces) ends last
        if obj.restore_done:
            obj.restore_done(ctx)
    fault.point("restore:final")
    _hook(ctx, "post-restore", root.pid, must=True)
    if net is not None:
        _hook(ctx, "network-unlock", root.pid, must=False)


def _lock_netns(ctx: RestoreContext) -> NetnsLock | None:
    """The tree's new network namespace, rebuilt: locked (as criu's restored one is) while its processes
    and files are made, until the teardown."""
    from engine.objects import namespaces

    if ctx.opts.network_lock == "skip" or "net" not in namespaces.rstate(ctx).new:
        return None
    net = NetnsLock(ctx.root.pid)
    try:
        net.lock()
    except OSError as exc:
        net.close()
        raise RestoreError(f"pid {ctx.root.pid}: cannot lock its network namespace: {exc}") from exc
    return net


def _hook(ctx: RestoreContext, name: str, pid: int, must: bool) -> None:
    """A hook of the caller's (RPC notify); only the ones before the release may fail the restore."""
    if ctx.opts.notify is None:
        return
    try:
        ctx.opts.notify(name, pid)
    except Exception as exc:
        if must:
            raise
        log.error("%s hook failed (the restore goes on): %s", name, exc)


def _run(ctx: RestoreContext, t: Task, phase: Phase) -> None:
    if not t.alive:
        return
    for stage in stages(phase):
        try:
            if phase == Phase.THREAD:
                for th in t.threads:
                    stage.run(ctx, t, th)
            else:
                log.debug("pid %d: %s", t.pid, stage.name)
                stage.run(ctx, t)
        except TraceeGone as exc:
            raise RestoreError(f"pid {t.pid} died in restore stage {stage.name}: {exc}") from exc
        except OSError as exc:  # an injected syscall or a /proc write that failed: one line, with where
            import traceback

            log.debug("pid %d: restore stage %s failed:\n%s", t.pid, stage.name, traceback.format_exc())
            raise RestoreError(f"pid {t.pid}: restore stage {stage.name}: {exc}") from exc
        fault.point(f"restore:{stage.name}")


def _finish(ctx: RestoreContext) -> None:
    """Unmap the scratch area (the last injected syscall), install final registers, let go.

    Children are released before their parents, so no parent runs and waits on a child that is
    still being built; a stopped child is stopped again before its parent runs.
    """
    by_pid = {t.pid: t for t in ctx.tasks}
    for t in reversed(ctx.tasks):
        if not t.alive:
            continue
        for th in t.threads[1:]:
            th.injector.hand_over()  # they stay at their last syscall-exit stop
        t.injector.last(nr.munmap, ctx.scratch, SCRATCH_SIZE)
        for th in t.threads:
            regs.restore_final(th)
            th.tracee.set_sigmask(signals.blocked(t, th))
        if t.state == TASK_STOPPED:
            # queued while it is still traced: on its way out of the last injected syscall it takes the
            # stop before running a single instruction of its own (sent after the detach, the task ran
            # on for a moment: it finished a clone, or undid pthread_create's blocking of signals)
            os.kill(t.pid, t.core.tc.stop_signo or signal.SIGSTOP)
        for th in t.threads:
            th.tracee.detach()
            th.inj = None
        if t.state == TASK_STOPPED:
            _wait_stopped(t.pid)
            signals.restore_stops(t)
            tree.stopped_again(ctx, t, by_pid.get(t.ppid))
        if t.mem:
            t.mem.close()
        log.debug("pid %d: released (%s)", t.pid, "stopped" if t.state == TASK_STOPPED else "running")


def _wait_stopped(pid: int) -> None:
    """Until the task is in its job-control stop: its parent must find it stopped from the start."""
    deadline = time.monotonic() + STOP_WAIT
    while proc.stat(pid)[3] != "T":
        if time.monotonic() > deadline:
            raise RestoreError(f"pid {pid} did not stop again within {STOP_WAIT} s")
        time.sleep(0.001)


def _kill_all(ctx: RestoreContext) -> None:
    """A failed restore leaves nothing behind: every process it made is killed and reaped. The engine
    becomes a subreaper first, so that a killed process's children come to it (not to the caller) and
    their zombies are reaped here too."""
    lib.st_syscall(nr.prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0, 0)
    for t in ctx.stand_ins + ctx.tasks:
        if t.spawned:
            try:
                os.kill(t.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for t in reversed(ctx.tasks):
        for th in reversed(t.threads):
            if th.spawned or (th is t.leader and t.spawned):
                try:
                    while True:
                        th.tracee.wait()
                except TraceeGone:
                    pass
    if ctx.tasks and ctx.root.spawned:
        _kill(ctx.root.pid)
    _reap_orphans(ctx)
    log.debug("every process of the failed restore killed")


def _reap_orphans(ctx: RestoreContext) -> None:
    """Zombies of the restore that came to the engine (their parent was killed first)."""
    pids = {t.pid for t in ctx.stand_ins + ctx.tasks if t.spawned}
    pids |= {th.tid for t in ctx.tasks for th in t.threads if th.spawned}
    deadline = time.monotonic() + STOP_WAIT
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG | WALL)
        except ChildProcessError:
            return
        if pid:
            continue
        left = [p for p in pids if os.path.exists(f"/proc/{p}") and _parent(p) == os.getpid()]
        if not left:
            return
        time.sleep(0.005)


def _parent(pid: int) -> int:
    try:
        return int(proc.stat(pid)[4])
    except (OSError, IndexError, ValueError):
        return 0


def _abort(ctx: RestoreContext) -> None:
    """What the failed restore added outside the tree is taken away (each module even if another fails)."""
    for obj in reversed(OBJECTS):
        if obj.restore_abort:
            try:
                obj.restore_abort(ctx)
            except Exception as exc:  # noqa: BLE001 - the others must still undo theirs
                log.error("%s: %s", obj.name, exc)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, WALL)
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
