"""seccomp: strict mode or a stack of BPF filters, read with PTRACE_SECCOMP_GET_FILTER.

Both sides run with PTRACE_O_SUSPEND_SECCOMP, so filters never see injected syscalls; restored
filters take effect when the task is let go. --unprivileged cannot suspend them (CAP_SYS_ADMIN): a dump
refuses a thread with seccomp, a restore installs the filters after every other stage.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from engine import unpriv
from engine.abi import nr
from engine.abi.consts import PTRACE_SECCOMP_GET_METADATA
from engine.compel.ptrace import ptrace
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import core_pb2, seccomp_pb2
from engine.native import ffi
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

SECCOMP_SET_MODE_STRICT, SECCOMP_SET_MODE_FILTER = 0, 1
SOCK_FPROG = struct.Struct("<HxxxxxxQ")


def check(ctx: DumpContext, t: Task) -> None:
    """--unprivileged: the filters cannot be read (PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN) nor
    suspended while the engine's syscalls run."""
    if not unpriv.ACTIVE or not t.alive:
        return
    for thr in t.threads:
        mode = int(thr.facts.status.get("Seccomp", "0"))
        if mode:
            raise UnsupportedError(f"thread {thr.tid}: seccomp ({'strict' if mode == 1 else 'filter'} mode) "
                                   "cannot be dumped --unprivileged: reading filters needs CAP_SYS_ADMIN")


def dump_thread(ctx: DumpContext, t: Task, thr: Thread) -> None:
    th = thr.core.thread_core
    mode = int(thr.facts.status.get("Seccomp", "0"))
    th.seccomp_mode = mode  # type: ignore[assignment]  # the enum value itself
    if mode != core_pb2.filter:
        return
    filters = thr.tracee.seccomp_filters()  # oldest first
    if not filters:
        raise UnsupportedError(f"thread {thr.tid}: seccomp filter mode but no filter could be read")
    entry: seccomp_pb2.seccomp_entry = ctx.seccomp
    base = len(entry.seccomp_filters)
    for i, prog in enumerate(filters):
        f = entry.seccomp_filters.add(filter=prog)
        if i:
            f.prev = base + i - 1
        flags = _filter_flags(thr, len(filters) - 1 - i)
        if flags:
            f.flags = flags
    th.seccomp_filter = base + len(filters) - 1


def _filter_flags(thr: Thread, newest_index: int) -> int:
    meta = ffi.new("uint64_t[2]", [newest_index, 0])
    ptrace(PTRACE_SECCOMP_GET_METADATA, thr.tid, ffi.sizeof("uint64_t[2]"),
           int(ffi.cast("uintptr_t", meta)), "PTRACE_SECCOMP_GET_METADATA")
    return int(meta[1])


def restore_thread(ctx: RestoreContext, t: Task, thr: Thread) -> None:
    """Installed while the helper is still privileged (no NNP needed); active from the detach on. An
    unprivileged restore cannot suspend filters: they are installed last of all (`restore_last`)."""
    if unpriv.ACTIVE:
        return
    install(ctx, thr)


def restore_last(ctx: RestoreContext, t: Task) -> None:
    """--unprivileged: after no_new_privs is set (the caller has no CAP_SYS_ADMIN) and after every injected
    syscall but the last munmap, which the filter sees."""
    if unpriv.ACTIVE:
        for thr in t.threads:
            install(ctx, thr)


def install(ctx: RestoreContext, thr: Thread) -> None:
    th = thr.core.thread_core
    inj = thr.injector
    if th.seccomp_mode == core_pb2.strict:
        inj.call(nr.seccomp, SECCOMP_SET_MODE_STRICT, 0, 0, what="seccomp(strict)")
        return
    if th.seccomp_mode != core_pb2.filter:
        return
    chain: list[seccomp_pb2.seccomp_filter] = []
    idx: int | None = th.seccomp_filter
    filters = ctx.seccomp.seccomp_filters
    seen: set[int] = set()
    while idx is not None:
        if not 0 <= idx < len(filters) or idx in seen:
            why = "a cycle" if idx in seen else f"filter {idx} of {len(filters)}"
            raise RestoreError(f"image {ctx.images.path('seccomp')}: thread {thr.tid}: its filter chain "
                               f"names {why}")
        seen.add(idx)
        f = filters[idx]
        chain.append(f)
        idx = f.prev if f.HasField("prev") else None
    for f in reversed(chain):  # oldest first
        prog = bytes(f.filter)
        inj.put(SOCK_FPROG.pack(len(prog) // 8, inj.scratch + SOCK_FPROG.size) + prog)
        inj.call(nr.seccomp, SECCOMP_SET_MODE_FILTER, f.flags if f.HasField("flags") else 0, inj.scratch,
                 what="seccomp(filter)")


def write_images(ctx: DumpContext) -> None:
    ctx.images.write("seccomp", ctx.seccomp)


def load_images(ctx: RestoreContext) -> None:
    if ctx.images.exists("seccomp"):
        ctx.seccomp = ctx.images.read_one("seccomp")


OBJECT = KernelObject("seccomp", check=check, dump_thread=dump_thread, write_images=write_images,
                      load_images=load_images,
                      stages=(Stage("seccomp", Phase.THREAD, restore_thread, doc="while privileged: a filter "
                                    "without NNP needs CAP_SYS_ADMIN"),
                              Stage("seccomp-last", Phase.LATE, restore_last, after=("sud",),
                                    doc="--unprivileged: filters last (they cannot be suspended)")))
