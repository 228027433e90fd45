"""Per-thread prctl state: the memory-corruption kill policy (PR_MCE_KILL), the TSC mode (PR_SET_TSC) and
syscall user dispatch (read and set from outside with PTRACE_{GET,SET}_SYSCALL_USER_DISPATCH_CONFIG).

Syscall user dispatch sends every syscall made outside an allowed code range to SIGSYS while the
thread's selector byte says BLOCK. The engine's injected syscalls run outside that range, so a thread
whose selector blocks them at the dump is refused, and the configuration goes back last of all (its
selector byte in memory says ALLOW by then, as it did at the dump).
"""

from __future__ import annotations

import errno
import os
import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    PR_GET_TSC,
    PR_MCE_KILL,
    PR_MCE_KILL_DEFAULT,
    PR_MCE_KILL_GET,
    PR_MCE_KILL_SET,
    PR_SET_TSC,
    PR_SYS_DISPATCH_OFF,
    PR_TSC_ENABLE,
    PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG,
    PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG,
    SYSCALL_DISPATCH_FILTER_ALLOW,
)
from engine.compel.memory import TaskMemory
from engine.errors import RestoreError, UnsupportedError
from engine.log import DEBUG, WARNING, log
from engine.native import ffi, lib
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

SUD_CONFIG = struct.Struct("<QQQQ")  # struct ptrace_sud_config: mode, selector, offset, len


def sud_config(tid: int) -> tuple[int, int, int, int] | None:
    """(mode, selector, offset, len) of a ptrace-stopped thread; None on a kernel that cannot tell (< 6.2)."""
    buf = ffi.new("char[]", SUD_CONFIG.size)
    ret = lib.st_ptrace(PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG, tid, SUD_CONFIG.size,
                        int(ffi.cast("uintptr_t", buf)))
    if ret in (-errno.EIO, -errno.EINVAL):  # an unknown ptrace request is EIO
        return None
    if ret < 0:
        raise OSError(-ret, f"thread {tid}: PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG: {os.strerror(-ret)}")
    mode, selector, offset, length = SUD_CONFIG.unpack(bytes(ffi.buffer(buf, SUD_CONFIG.size)))
    return mode, selector, offset, length


def check(ctx: DumpContext, t: Task) -> None:
    """Refuse a thread whose syscall user dispatch would send the engine's injected syscalls to SIGSYS."""
    if not t.alive:
        return
    unseen = []
    for th in t.threads:
        cfg = sud_config(th.tid)
        if cfg is None:
            unseen.append(th.tid)
            continue
        mode, selector, _, _ = cfg
        if mode == PR_SYS_DISPATCH_OFF:
            continue
        if not selector:
            raise UnsupportedError(f"thread {th.tid}: syscall user dispatch without a selector dispatches "
                                   "every syscall outside its range, the engine's too")
        mem = TaskMemory(t.pid)
        try:
            state = mem.read(selector, 1)[0]
        except OSError as exc:
            raise UnsupportedError(f"thread {th.tid}: the syscall user dispatch selector at {selector:#x} "
                                   f"cannot be read: {exc.strerror}") from exc
        finally:
            mem.close()
        if state != SYSCALL_DISPATCH_FILTER_ALLOW:
            raise UnsupportedError(f"thread {th.tid}: its syscall user dispatch selector ({state}) blocks "
                                   "syscalls right now: the engine's own would be sent to SIGSYS")
    if unseen:
        log.log(WARNING if t is ctx.tasks[0] else DEBUG,
                "pid %d: this kernel (< 6.2) cannot show syscall user dispatch from outside; threads %s lose "
                "it if they use it", t.pid, unseen)


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    inj = th.injector
    s = th.core.thread_core.stasis
    mce = inj.raw(nr.prctl, PR_MCE_KILL_GET, 0, 0, 0, 0)
    if mce >= 0:  # EINVAL: a kernel without memory-failure handling, no policy to keep
        if mce != PR_MCE_KILL_DEFAULT:
            s.mce_kill = mce
    elif mce != -errno.EINVAL:
        raise OSError(-mce, f"thread {th.tid}: prctl(PR_MCE_KILL_GET): {os.strerror(-mce)}")
    ret = inj.raw(nr.prctl, PR_GET_TSC, inj.scratch, 0, 0, 0)
    if ret == 0:
        tsc = struct.unpack("<i", inj.get(0, 4))[0]
        if tsc != PR_TSC_ENABLE:
            s.tsc = tsc
    elif ret != -errno.EINVAL:  # EINVAL: an architecture without it
        raise OSError(-ret, f"thread {th.tid}: prctl(PR_GET_TSC): {os.strerror(-ret)}")
    cfg = sud_config(th.tid)
    if cfg is not None and cfg[0] != PR_SYS_DISPATCH_OFF:
        s.sud_mode, s.sud_selector, s.sud_offset, s.sud_len = cfg


def restore_thread(ctx: RestoreContext, t: Task, th: Thread) -> None:
    inj = th.injector
    s = th.core.thread_core.stasis
    if s.HasField("mce_kill"):
        ret = inj.raw(nr.prctl, PR_MCE_KILL, PR_MCE_KILL_SET, s.mce_kill, 0, 0)
        if ret < 0:
            raise RestoreError(f"thread {th.tid}: prctl(PR_MCE_KILL, SET, {s.mce_kill}): {os.strerror(-ret)}")
    if s.HasField("tsc"):
        ret = inj.raw(nr.prctl, PR_SET_TSC, s.tsc, 0, 0, 0)
        if ret < 0:
            raise RestoreError(f"thread {th.tid}: prctl(PR_SET_TSC, {s.tsc}): {os.strerror(-ret)}")


def restore_sud(ctx: RestoreContext, t: Task) -> None:
    """Last: once it is on, a syscall outside the allowed range depends on the selector byte."""
    for th in t.threads:
        s = th.core.thread_core.stasis
        if not s.HasField("sud_mode"):
            continue
        buf = ffi.new("char[]", SUD_CONFIG.pack(s.sud_mode, s.sud_selector, s.sud_offset, s.sud_len))
        ret = lib.st_ptrace(PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG, th.tid, SUD_CONFIG.size,
                            int(ffi.cast("uintptr_t", buf)))
        if ret < 0:
            raise RestoreError(f"thread {th.tid}: PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG (mode "
                               f"{s.sud_mode}, selector {s.sud_selector:#x}, range {s.sud_offset:#x}"
                               f"+{s.sud_len:#x}): {os.strerror(-ret)}")


OBJECT = KernelObject(
    "prctls",
    check=check,
    dump_thread=dump_thread,
    stages=(
        Stage("prctls", Phase.THREAD, restore_thread),
        Stage("sud", Phase.LATE, restore_sud, after=("mdwe", "mlockall", "memory-merge", "dumpable",
                                                      "engine-fd"),
              doc="after every injected syscall of the process but the last munmap (the selector allows it)"),
    ),
)
