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
from engine.objects import cgroup, namespaces
from engine.objects.files import tcp
from engine.objects.files.table import FileTable
from engine.objects.ids import Ids
from engine.objects.mm import MmTree
from engine.objects.registry import OBJECTS
from engine.task import Task, TaskProc, Thread, ThreadProc

# the fault points of a dump, in order (dump:<step>)
STEPS = ("collect", "freeze", "proc", "inject", "objects", "pages", "images")

__all__ = ["DumpOptions", "dump", "STEPS"]


def dump(opts: DumpOptions) -> None:
    ctx = DumpContext(opts, ImageDir(opts.images_dir), files=FileTable(), ids=Ids(), mm=MmTree())
    t0 = time.monotonic()
    fault.point("dump:collect")
    root = opts.tree
    if root == os.getpid():
        raise DumpError("refusing to dump the engine itself")
    if not os.path.exists(f"/proc/{root}"):
        raise DumpError(f"no process {root}")
    if opts.unprivileged:
        unpriv.start("dump")
    if opts.notify:
        opts.notify("pre-dump", 0)
    ctx.tasks = freeze.freeze_tree(root, opts.timeout)
    ok = False
    try:
        ctx.tasks = freeze.mark_states(ctx.tasks)
        fault.point("dump:freeze")
        for t in ctx.tasks:
            _read_proc(t)
        fault.point("dump:proc")
        use_ioctl, why = memory.scan_path()
        log.info("pages found by %s (%s)", "PAGEMAP_SCAN" if use_ioctl else "reading /proc/PID/pagemap", why)
        if opts.unprivileged:
            unpriv.check_dump(ctx)
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
        for t in ctx.tasks:
            if t.alive:
                for obj in OBJECTS:
                    if obj.dump_data:
                        obj.dump_data(ctx, t)
        fault.point("dump:pages")
        _write_images(ctx)
        fault.point("dump:images")
        if opts.notify:
            opts.notify("post-dump", 0)  # a failure here resumes the tree
        ok = True
    finally:
        kill = ok and not opts.leave_running
        try:
            _done(ctx, kill)
        finally:
            for t in ctx.tasks:
                if t.mem:
                    t.mem.close()
            freeze.release(ctx.tasks, kill=kill)
    log.info("dump of %d (%d processes) done in %.3f s", root, len(ctx.tasks), time.monotonic() - t0)


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


def _dump_objects(ctx: DumpContext, t: Task) -> None:
    t.mem = TaskMemory(t.pid)
    ip = _vdso_syscall(t)
    with Injector.attach(t.tracee, ip, t.mem) as inj:
        t.leader.inj = inj
        inj.map_scratch()
        try:
            fault.point("dump:inject")
            for obj in OBJECTS:
                if obj.dump:
                    with _reported(t, obj.name):
                        obj.dump(ctx, t)
            for th in t.threads:
                _dump_thread(ctx, t, th, inj)
        finally:
            inj.unmap_scratch()
            t.leader.inj = None
            if inj.held_stop and not t.leader.stop_sig:  # a stop signal that came in meanwhile
                t.leader.stop_sig = inj.held_stop  # given back when the task is let go
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
