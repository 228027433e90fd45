"""Per-thread kernel pointers: clear_child_tid, robust futex list, rseq area."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from engine.compel import syscalls as nr
from engine.native import check, ffi, lib

if TYPE_CHECKING:
    from engine.task import Task, Thread

PR_GET_TID_ADDRESS = 40


def dump_thread(ctx: object, t: Task, thr: Thread) -> None:
    inj = thr.injector
    th = thr.core.thread_core
    inj.call(nr.prctl, PR_GET_TID_ADDRESS, inj.scratch, what="prctl(PR_GET_TID_ADDRESS)")
    thr.core.thread_info.clear_tid_addr = struct.unpack("<Q", inj.get(0, 8))[0]
    head = ffi.new("uint64_t *")
    size = ffi.new("uint64_t *")
    check(lib.st_syscall(nr.get_robust_list, thr.tid, int(ffi.cast("uintptr_t", head)),
                         int(ffi.cast("uintptr_t", size)), 0, 0, 0), "get_robust_list")
    th.futex_rla, th.futex_rla_len = int(head[0]), int(size[0])
    conf = thr.tracee.rseq_config()
    if conf.rseq_abi_pointer:
        th.rseq_entry.rseq_abi_pointer = conf.rseq_abi_pointer
        th.rseq_entry.rseq_abi_size = conf.rseq_abi_size
        th.rseq_entry.signature = conf.signature


def restore_thread(ctx: object, t: Task, thr: Thread) -> None:
    inj = thr.injector
    th = thr.core.thread_core
    inj.call(nr.set_tid_address, thr.core.thread_info.clear_tid_addr, what="set_tid_address")
    if th.futex_rla:
        inj.call(nr.set_robust_list, th.futex_rla, th.futex_rla_len, what="set_robust_list")
    if th.HasField("rseq_entry"):
        r = th.rseq_entry
        inj.call(nr.rseq, r.rseq_abi_pointer, r.rseq_abi_size, 0, r.signature, what="rseq")
