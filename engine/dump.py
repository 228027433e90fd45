"""Checkpoint: freeze a process tree, read its state from outside, write CRIU-format images.

The steps run in the order of STEPS; each object module of the registry takes part through its
hooks (engine.objects.base.KernelObject). Nothing touches a task before every module's check has
accepted every object the tree holds, and whatever fails, every task is resumed exactly as it was
(or, after a successful dump without --leave-running, the whole tree is killed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from engine import fault, freeze, proc, unpriv
from engine.compel import memory
from engine.compel.inject import Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import TraceeGone
from engine.context import DumpContext, DumpOptions
from engine.errors import DumpError, UnsupportedError
from engine.images import ImageDir, digest
from engine.images.pb import inventory_pb2
from engine.log import log
from engine.objects import cgroup, memtrack, mm, namespaces, signals
from engine.objects.files import tcp
from engine.objects.files.netlock import NetnsLock
from engine.objects.files.table import FileTable
from engine.objects.ids import Ids
from engine.objects.mm import MmTree
from engine.objects.registry import OBJECTS
from engine.task import TASK_STOPPED, Task, TaskProc, Thread, ThreadProc

# the fault points of a dump, in order (dump:<step>)
STEPS = ("collect", "freeze", "proc", "inject", "objects", "pages", "images")

__all__ = ["DumpOptions", "dump", "STEPS"]


def dump(opts: DumpOptions) -> None:
    ctx = DumpContext(opts, ImageDir(opts.images_dir), files=FileTable(), ids=Ids(), mm=MmTree())
    if opts.stats is not None:
        ctx.stats = opts.stats
    t0 = time.monotonic()
    fault.point("dump:collect")
    root = opts.tree
    if root == os.getpid():
        raise DumpError("refusing to dump the engine itself")
    if not os.path.exists(f"/proc/{root}"):
        raise DumpError(f"no process {root}")
    if opts.unprivileged:
        unpriv.start("dump")
    if opts.notify and not opts.pre_dump:
        opts.notify("pre-dump", 0)
    t_freeze = time.monotonic()
    ctx.tasks = freeze.freeze_tree(root, opts.timeout)
    t_frozen = time.monotonic()
    ctx.stats.freezing_time = _us(t_frozen - t_freeze)
    ok = False
    net: NetnsLock | None = None
    try:
        ctx.tasks = freeze.mark_states(ctx.tasks)
        if not opts.pre_dump:  # a pre-dump takes pages only: the network goes on (as criu's)
            net = _lock_netns(ctx)
            if opts.notify:  # criu's: the caller may name external resources in its reply (RPC)
                opts.notify("query-ext-files", 0)
        fault.point("dump:freeze")
        ctx.mm.track = memtrack.begin(ctx)  # first: ending a holder drops its registrations (VmFlags)
        for t in ctx.tasks:
            _read_proc(t)
        fault.point("dump:proc")
        use_ioctl, why = memory.scan_path()
        log.info("pages found by %s (%s)", "PAGEMAP_SCAN" if use_ioctl else "reading /proc/PID/pagemap", why)
        if opts.unprivileged:
            unpriv.check_dump(ctx)
        if opts.pre_dump:
            _pre_dump(ctx)
        else:
            _dump(ctx)
        ok = True
    finally:
        kill = ok and not opts.leave_running and not opts.pre_dump
        try:
            if not opts.pre_dump:
                _done(ctx, kill)
        finally:
            memtrack.finish(ctx, ok)
            for t in ctx.tasks:
                if t.mem:
                    t.mem.close()
            try:
                freeze.release(ctx.tasks, kill=kill)
                ctx.stats.frozen_time = _us(time.monotonic() - t_frozen)
                if not kill:
                    for t in ctx.tasks:
                        signals.requeue_stops(t)
            finally:
                if net is not None:
                    _unlock_netns(opts, net, resumed=not kill)
    log.info("%s of %d (%d processes) done in %.3f s: %d pages written",
             "pre-dump" if opts.pre_dump else "dump", root, len(ctx.tasks), time.monotonic() - t0,
             ctx.stats.pages_written)


def _dump(ctx: DumpContext) -> None:
    opts = ctx.opts
    for obj in OBJECTS:  # refuse before touching any task
        if obj.check:
            for t in ctx.tasks:
                obj.check(ctx, t)
    for obj in OBJECTS:
        if obj.dump_tree:
            obj.dump_tree(ctx)
    for t in ctx.tasks:
        if t.alive:
            _dump_objects(ctx, t)
    fault.point("dump:objects")
    t_mem = time.monotonic()
    for t in ctx.tasks:
        if t.alive:
            for obj in OBJECTS:
                if obj.dump_data:
                    obj.dump_data(ctx, t)
    fault.point("dump:pages")
    t_write = time.monotonic()
    ctx.stats.memdump_time = _us(t_write - t_mem)
    _write_images(ctx)
    ctx.stats.memwrite_time = _us(time.monotonic() - t_write)
    fault.point("dump:images")
    if opts.notify:
        opts.notify("post-dump", 0)  # a failure here resumes the tree


def _pre_dump(ctx: DumpContext) -> None:
    """criu's pre-dump: the pages of every process (pagemap, pages) and the inventory; nothing else is
    written, and the tree goes on as it was (with --track-mem its dirty tracking armed). Every module's
    check runs first, as for a dump: what the dump would refuse is refused here already, untouched."""
    log.info("pre-dump (--pre-dump-mode %s: the pages are read while the tree is frozen)",
             ctx.opts.pre_dump_mode)
    _pre_dump_pids(ctx)
    for obj in OBJECTS:  # the dump's own refusals (what the dump could not take, what injection must avoid)
        if obj.check:
            for t in ctx.tasks:
                obj.check(ctx, t)
    for t in ctx.tasks:
        if not t.alive:
            continue
        with _leader_session(t), _reported(t, "memory"):
            mm.dump(ctx, t)
    fault.point("dump:objects")
    for t in ctx.tasks:
        if t.alive:
            mm.dump_pages(ctx, t)
    fault.point("dump:pages")
    inv = inventory_pb2.inventory_entry(img_version=2, fdinfo_per_id=True, ns_per_id=True,
                                        lsmtype=inventory_pb2.NO_LSM)
    inv.root_ids.CopyFrom(ctx.ids.root_ids())
    digest.record(ctx.images.root, inv)
    if ctx.opts.sign_key:
        digest.sign(inv, digest.read_key(ctx.opts.sign_key))
    else:
        digest.seal(inv)
    ctx.images.write("inventory", inv)
    fault.point("dump:images")


def _pre_dump_pids(ctx: DumpContext) -> None:
    """A tree with a pid namespace of its own: the pagemaps are named by the pids it sees, as the dump's."""
    root = ctx.tasks[0].pid
    if os.readlink(f"/proc/{root}/ns/pid") == os.readlink("/proc/self/ns/pid"):
        return

    def nspid(pid: int) -> list[int]:
        for line in proc.read_bytes(f"/proc/{pid}/status").decode().splitlines():
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
        return [pid]

    level = len(nspid(root)) - 1
    for t in ctx.tasks:
        if t.alive:
            ids = nspid(t.pid)
            ctx.images.virtual_pids[t.pid] = ids[level] if level < len(ids) else t.pid


def _us(seconds: float) -> int:
    return min(int(seconds * 1e6), 0xFFFFFFFF)


def _lock_netns(ctx: DumpContext) -> NetnsLock | None:
    """A tree with a network namespace of its own (dumped, not external): locked as criu locks it, after
    the caller's network-lock hook. None when there is nothing to lock (or --network-lock skip)."""
    root = ctx.root.pid
    ino = os.stat(f"/proc/{root}/ns/net").st_ino
    if ctx.opts.network_lock == "skip" or ino == os.stat("/proc/self/ns/net").st_ino or \
            ino in dict(ctx.opts.ext_netns):
        return None
    if ctx.opts.notify:
        ctx.opts.notify("network-lock", 0)
    net = NetnsLock(root)
    try:
        net.lock()
    except OSError as exc:
        net.close()
        raise DumpError(f"pid {root}: cannot lock its network namespace: {exc}") from exc
    log.info("pid %d: its network namespace locked (nftables table %s)", root, net.table)
    return net


def _unlock_netns(opts: DumpOptions, net: NetnsLock, resumed: bool) -> None:
    """The lock gone; the caller's network-unlock hook first when the tree runs on (criu's rule: a killed
    tree's namespace is unlocked by the restore). A failed hook is only logged."""
    try:
        if resumed and opts.notify:
            try:
                opts.notify("network-unlock", 0)
            except Exception as exc:  # noqa: BLE001 - the tree is let go all the same
                log.error("network-unlock hook failed: %s", exc)
        net.unlock()
    except OSError as exc:
        log.error("pid %d: unlocking its network namespace: %s", net.pid, exc)
    finally:
        net.close()


def _done(ctx: DumpContext, kill: bool) -> None:
    """Every module's dump_done, each one even when another failed (the first error is raised)."""
    first: BaseException | None = None
    for obj in OBJECTS:
        if obj.dump_done:
            try:
                obj.dump_done(ctx, kill)
            except Exception as exc:  # noqa: BLE001 - the others must still undo theirs
                log.error("%s: %s", obj.name, exc)
                first = first or exc
    if first is not None:
        raise first


def _read_proc(t: Task) -> None:
    if not t.alive:
        return
    pid = t.pid
    t.proc = TaskProc(limits=proc.limits(pid), fds=proc.fds(pid), vmas=proc.vmas(pid))
    for th in t.threads:
        th.proc = ThreadProc(stat=proc.stat_of(pid, th.tid), status=proc.status_of(pid, th.tid),
                             regs=th.tracee.get_regs(), sigmask=th.tracee.get_sigmask())
        if t.state == TASK_STOPPED:
            th.proc.stops = signals.stops_of(th, shared=False)
            if th is t.leader:
                th.proc.shared_stops = signals.stops_of(th, shared=True)


@contextmanager
def _leader_session(t: Task) -> Iterator[Injector]:
    """An injection session on the leader with a scratch area, for the objects' dump hooks."""
    t.mem = TaskMemory(t.pid)
    with Injector.attach(t.tracee, _vdso_syscall(t), t.mem) as inj:
        t.leader.inj = inj
        inj.map_scratch()
        try:
            yield inj
        finally:
            inj.unmap_scratch()
            t.leader.inj = None
            _keep_held_stop(t, inj)


def _keep_held_stop(t: Task, inj: Injector) -> None:
    """A stop signal a thread took during its injection (held back there) is the group's: given back
    through the leader when the task is let go."""
    if inj.held_stop and not t.leader.stop_sig:
        t.leader.stop_sig = inj.held_stop
        t.leader.stop_held = True


def _dump_objects(ctx: DumpContext, t: Task) -> None:
    with _leader_session(t) as inj:
        fault.point("dump:inject")
        for obj in OBJECTS:
            if obj.dump:
                with _reported(t, obj.name):
                    obj.dump(ctx, t)
        for th in t.threads:
            _dump_thread(ctx, t, th, inj)
    log.debug("pid %d: %d threads, %d syscalls injected in the leader", t.pid, len(t.threads), inj.count)


def _dump_thread(ctx: DumpContext, t: Task, th: Thread, leader_inj: Injector) -> None:
    def run() -> None:
        for obj in OBJECTS:
            if obj.dump_thread:
                with _reported(t, obj.name, th.tid):
                    obj.dump_thread(ctx, t, th)

    if th is t.leader:
        run()
        return
    with Injector.attach(th.tracee, leader_inj.syscall_ip, leader_inj.mem, scratch=leader_inj.scratch) as inj:
        th.inj = inj
        try:
            run()
        finally:
            inj.forget_scratch()  # one scratch area per address space: the leader's session unmaps it
            th.inj = None
            _keep_held_stop(t, inj)


@contextmanager
def _reported(t: Task, what: str, tid: int = 0) -> Iterator[None]:
    """An injected syscall or a /proc read that fails: one line naming the process, thread and object."""
    try:
        yield
    except TraceeGone as exc:
        raise DumpError(f"pid {t.pid} died while its {what} were read: {exc}") from exc
    except OSError as exc:
        where = f"pid {t.pid}" + (f" thread {tid}" if tid and tid != t.pid else "")
        raise DumpError(f"{where}: reading its {what}: {exc}") from exc


def _vdso_syscall(t: Task) -> int:
    """A `syscall` instruction in the task's vDSO (executed only up to the syscall-entry stop)."""
    for v in t.facts.vmas:
        if v.path == "[vdso]":
            code = t.memory.read(v.start, v.size)
            off = code.find(b"\x0f\x05")
            if off >= 0:
                return v.start + off
    raise UnsupportedError(f"pid {t.pid}: no vDSO with a syscall instruction")


def _write_images(ctx: DumpContext) -> None:
    for obj in OBJECTS:
        if obj.write_images:
            obj.write_images(ctx)
    tcp_close, lock_method = tcp.inventory(ctx.opts)
    inv = inventory_pb2.inventory_entry(img_version=2, fdinfo_per_id=True, ns_per_id=True,
                                        lsmtype=inventory_pb2.NO_LSM, network_lock_method=lock_method)
    if tcp_close:
        inv.tcp_close = True
    inv.root_ids.CopyFrom(ctx.ids.root_ids())
    inv.root_cg_set = cgroup.root_set(ctx)
    for name, value in namespaces.root_ids(ctx).items():
        setattr(inv.root_ids, name, value)
    inv.plugins_entry.SetInParent()
    digest.record(ctx.images.root, inv)  # every other image is complete now
    if ctx.opts.sign_key:
        digest.sign(inv, digest.read_key(ctx.opts.sign_key))
    else:
        digest.seal(inv)
    ctx.images.write("inventory", inv)  # last: its presence marks a complete dump
