"""Threads: created again with their TIDs once the address space is whole, and the kernel's per-thread
pointers into it: clear_child_tid, the robust futex list, the rseq area."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    CLONE_FILES,
    CLONE_FS,
    CLONE_SIGHAND,
    CLONE_SYSVSEM,
    CLONE_THREAD,
    CLONE_VM,
    KCMP_FILES,
    KCMP_FS,
    PR_GET_TID_ADDRESS,
)
from engine.compel.inject import Injector
from engine.errors import RestoreError, UnsupportedError
from engine.log import log
from engine.native import check as checked
from engine.native import ffi, lib
from engine.objects import clone, namespaces
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files import paths

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    for th in t.threads[1:]:
        if lib.st_syscall(nr.kcmp, t.pid, th.tid, KCMP_FILES, 0, 0, 0) != 0:
            raise UnsupportedError(f"thread {th.tid} of pid {t.pid} has an fd table of its own "
                                   "(unshare(CLONE_FILES)): not supported yet")
        if _own_fs(t, th):
            for other in t.threads[1:]:
                if other is not th and lib.st_syscall(nr.kcmp, th.tid, other.tid, KCMP_FS, 0, 0, 0) == 0:
                    raise UnsupportedError(f"threads {th.tid} and {other.tid} of pid {t.pid} share fs info "
                                           "other than their process's: not supported yet")
            for what in ("cwd", "root"):
                path = os.readlink(f"/proc/{t.pid}/task/{th.tid}/{what}")
                paths.check_path(t.pid, path, os.stat(f"/proc/{t.pid}/task/{th.tid}/{what}"),
                                 f"thread {th.tid} {what} {path}")
        kids = _children_of(t.pid, th.tid)
        if kids:
            raise UnsupportedError(f"thread {th.tid} of pid {t.pid} is the parent of {kids} (a child of a "
                                   "thread other than the leader is not supported yet)")


def _own_fs(t: Task, th: Thread) -> bool:
    return th is not t.leader and lib.st_syscall(nr.kcmp, t.pid, th.tid, KCMP_FS, 0, 0, 0) != 0


def _children_of(pid: int, tid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def dump_thread(ctx: DumpContext, t: Task, thr: Thread) -> None:
    inj = thr.injector
    th = thr.core.thread_core
    inj.call(nr.prctl, PR_GET_TID_ADDRESS, inj.scratch, what="prctl(PR_GET_TID_ADDRESS)")
    thr.core.thread_info.clear_tid_addr = struct.unpack("<Q", inj.get(0, 8))[0]
    head = ffi.new("uint64_t *")
    size = ffi.new("uint64_t *")
    checked(lib.st_syscall(nr.get_robust_list, thr.tid, int(ffi.cast("uintptr_t", head)),
                           int(ffi.cast("uintptr_t", size)), 0, 0, 0), "get_robust_list")
    th.futex_rla, th.futex_rla_len = int(head[0]), int(size[0])
    if _own_fs(t, thr):
        x = th.stasis
        x.fs_cwd = os.readlink(f"/proc/{t.pid}/task/{thr.tid}/cwd")
        x.fs_root = os.readlink(f"/proc/{t.pid}/task/{thr.tid}/root")
        x.fs_umask = int(thr.facts.status["Umask"], 8)
    conf = thr.tracee.rseq_config()
    if conf is None:  # before 5.13 (`stasis check` rseq_config): a registration cannot be seen
        log.warning("thread %d: rseq registrations cannot be seen on this kernel: not restored", thr.tid)
    elif conf.rseq_abi_pointer:
        th.rseq_entry.rseq_abi_pointer = conf.rseq_abi_pointer
        th.rseq_entry.rseq_abi_size = conf.rseq_abi_size
        th.rseq_entry.signature = conf.signature


def create(ctx: RestoreContext, t: Task) -> None:
    """Threads are cloned by the leader once the address space is whole; each gets its TID back."""
    inj = t.injector
    for th in t.threads[1:]:
        flags = CLONE_VM | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM
        if not th.core.thread_core.stasis.HasField("fs_cwd"):
            flags |= CLONE_FS
        owned, last_pid = namespaces.pid_levels(ctx, t, len(th.set_tid))
        ret = clone.clone3(inj, t.pid, flags, 0, th.set_tid, owned, last_pid, what=f"thread {th.tid}",
                           seen=th.own_tid)
        if ret != th.own_tid:
            err = os.strerror(-ret) if ret < 0 else f"got tid {ret}"
            raise RestoreError(f"cannot create thread {th.tid} in {t.pid}: clone3: {err}")
        th.tracee.wait()
        th.spawned = True
        th.inj = Injector.attach(th.tracee, inj.syscall_ip, inj.mem, scratch=inj.scratch)


def restore_thread(ctx: RestoreContext, t: Task, thr: Thread) -> None:
    inj = thr.injector
    th = thr.core.thread_core
    x = th.stasis
    if x.HasField("fs_cwd"):  # fs info of its own: set in this thread only
        for call, path in ((nr.chroot, x.fs_root), (nr.chdir, x.fs_cwd)):
            if call == nr.chroot and path == "/":
                continue
            inj.put_str(path)
            inj.call(call, inj.scratch, what=f"{'chroot' if call == nr.chroot else 'chdir'}({path})")
        inj.call(nr.umask, x.fs_umask, what="umask")
    inj.call(nr.set_tid_address, thr.core.thread_info.clear_tid_addr, what="set_tid_address")
    if th.futex_rla:
        inj.call(nr.set_robust_list, th.futex_rla, th.futex_rla_len, what="set_robust_list")
    if th.HasField("rseq_entry"):
        r = th.rseq_entry
        inj.call(nr.rseq, r.rseq_abi_pointer, r.rseq_abi_size, 0, r.signature, what="rseq")


OBJECT = KernelObject(
    "threads",
    check=check,
    dump_thread=dump_thread,
    stages=(
        Stage("threads", Phase.THREADS, create),
        Stage("thread", Phase.THREAD, restore_thread),
    ),
)
