"""Process-wide flags of the address space and of the FPU: membarrier registrations, the core dump
filter, AMX permission (ARCH_{GET,REQ}_XCOMP_PERM), KSM for the whole mm (PR_SET_MEMORY_MERGE),
mlockall(MCL_FUTURE[|MCL_ONFAULT]) and memory-deny-write-execute (PR_SET_MDWE).

mlockall's future flags are mm->def_flags, shown nowhere: a VMA made after the call carries them, so
the dump reads the VmFlags of the engine's own scratch mapping (mmapped by the task while the dump hooks
run): `lo` is MCL_FUTURE, `lf` MCL_ONFAULT. They go back in the late phase, after every mapping of the
restore (which must not come back locked), as does MDWE (the restore's own protections come first).

PR_SET_MEMORY_MERGE needs no capability (mainline since 6.4; measured on 6.18 by an unprivileged
process); it is set by the restored process itself, in the late phase too.

On a kernel without a query the state cannot exist there, except membarrier registrations before 6.3
(MEMBARRIER_CMD_GET_REGISTRATIONS): they cannot be seen, and a log line says so.
"""

from __future__ import annotations

import errno
import os
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    ARCH_GET_XCOMP_PERM,
    ARCH_REQ_XCOMP_PERM,
    MCL_FUTURE,
    MCL_ONFAULT,
    MEMBARRIER_CMD_GET_REGISTRATIONS,
    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
    PR_GET_MDWE,
    PR_GET_MEMORY_MERGE,
    PR_SET_MDWE,
    PR_SET_MEMORY_MERGE,
)
from engine.compel.inject import Injector
from engine.errors import RestoreError, UnsupportedError
from engine.log import DEBUG, WARNING, log
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

MEMBARRIER_REGISTRATIONS = (
    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
)
UNSUPPORTED = (-errno.EINVAL, -errno.ENOSYS)


def _query(inj: Injector, pid: int, what: str, sysno: int, *args: int) -> int | None:
    """The result of a query, None if this kernel does not have it."""
    ret = inj.raw(sysno, *args)
    if ret in UNSUPPORTED:
        return None
    if ret < 0:
        raise OSError(-ret, f"pid {pid}: {what}: {os.strerror(-ret)}")
    return ret


def xcomp_perm(inj: Injector, pid: int) -> int | None:
    if _query(inj, pid, "arch_prctl(ARCH_GET_XCOMP_PERM)", nr.arch_prctl, ARCH_GET_XCOMP_PERM,
              inj.scratch) is None:
        return None  # before 5.16: no dynamic xstate features
    return struct.unpack("<Q", inj.get(0, 8))[0]


def _vmlck_kb(status: dict[str, str]) -> int:
    return int(status.get("VmLck", "0 kB").split()[0])


def _scratch_vmflags(t: Task) -> set[str]:
    """The VmFlags of the VMA holding the scratch mapping: the kernel may have merged it with a neighbour,
    which then has the same flags. Unless VmLck grew since the freeze (the scratch mapping is locked: a
    whole-mm smaps read costs ~4 ms per GB resident), nothing is locked."""
    if _vmlck_kb(proc.status(t.pid)) == _vmlck_kb(t.leader.facts.status):
        return set()
    scratch = t.injector.scratch
    for v in proc.vmas(t.pid):
        if v.start <= scratch < v.end:
            return v.vmflags
    raise OSError(errno.ENOENT, f"pid {t.pid}: the engine's scratch mapping at {scratch:#x} is not in smaps")


def dump(ctx: DumpContext, t: Task) -> None:
    inj = t.injector
    tc = t.core.tc
    s = tc.stasis
    regs = _query(inj, t.pid, "membarrier(GET_REGISTRATIONS)", nr.membarrier,
                  MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0)
    if regs is None:
        log.log(WARNING if t is ctx.tasks[0] else DEBUG,  # once a dump, then quietly
                "pid %d: membarrier registrations cannot be read on this kernel (before 6.3): they are not "
                "restored", t.pid)
    elif regs & ~sum(MEMBARRIER_REGISTRATIONS):
        raise UnsupportedError(f"pid {t.pid}: membarrier registrations {regs:#x} include ones this engine "
                               "does not know")
    elif regs:
        tc.membarrier_registration_mask = regs
    s.coredump_filter = int(proc.read_str(f"/proc/{t.pid}/coredump_filter"), 16)
    perm = xcomp_perm(inj, t.pid)
    if perm is not None:
        s.xcomp_perm = perm
    merge = _query(inj, t.pid, "prctl(PR_GET_MEMORY_MERGE)", nr.prctl, PR_GET_MEMORY_MERGE, 0, 0, 0, 0)
    if merge:  # None before 6.4 or without KSM: no merge-any mm there
        s.memory_merge = True
    flags = _scratch_vmflags(t)
    lock = (MCL_FUTURE if "lo" in flags else 0) | (MCL_ONFAULT if "lf" in flags else 0)
    if lock:
        s.mlockall = lock
    mdwe = _query(inj, t.pid, "prctl(PR_GET_MDWE)", nr.prctl, PR_GET_MDWE, 0, 0, 0, 0)
    if mdwe:  # None before 6.3: no MDWE there
        s.mdwe = mdwe


def _fail(t: Task, what: str, ret: int) -> RestoreError:
    return RestoreError(f"pid {t.pid}: {what}: {os.strerror(-ret)}")


def restore(ctx: RestoreContext, t: Task) -> None:
    """From outside and by injection, at any point once the process exists."""
    s = t.core.tc.stasis
    inj = t.injector
    if s.HasField("coredump_filter"):
        path = f"/proc/{t.pid}/coredump_filter"
        if int(proc.read_str(path), 16) != s.coredump_filter:
            try:
                with open(path, "w") as f:
                    f.write(f"{s.coredump_filter:#x}")
            except OSError as exc:
                raise RestoreError(f"pid {t.pid}: cannot set coredump_filter {s.coredump_filter:#x}: "
                                   f"{exc.strerror}") from exc
    if s.HasField("xcomp_perm"):
        have = xcomp_perm(inj, t.pid) or 0
        for bit in range(64):
            if s.xcomp_perm & ~have & (1 << bit):
                ret = inj.raw(nr.arch_prctl, ARCH_REQ_XCOMP_PERM, bit)
                if ret < 0:
                    raise _fail(t, f"arch_prctl(ARCH_REQ_XCOMP_PERM, {bit}) (permitted at the dump: "
                                f"{s.xcomp_perm:#x})", ret)
    mask = t.core.tc.membarrier_registration_mask
    for cmd in MEMBARRIER_REGISTRATIONS:
        if mask & cmd:
            ret = inj.raw(nr.membarrier, cmd, 0, 0)
            if ret < 0:
                raise _fail(t, f"membarrier(register {cmd:#x}) (registrations at the dump: {mask:#x})", ret)
    if mask & ~sum(MEMBARRIER_REGISTRATIONS):
        raise RestoreError(f"pid {t.pid}: unknown membarrier registrations {mask:#x}")


def restore_merge(ctx: RestoreContext, t: Task) -> None:
    if t.core.tc.stasis.memory_merge:
        ret = t.injector.raw(nr.prctl, PR_SET_MEMORY_MERGE, 1, 0, 0, 0)
        if ret < 0:
            raise _fail(t, "prctl(PR_SET_MEMORY_MERGE, 1)", ret)


def restore_mlockall(ctx: RestoreContext, t: Task) -> None:
    s = t.core.tc.stasis
    if s.mlockall:
        ret = t.injector.raw(nr.mlockall, s.mlockall, 0, 0)
        if ret < 0:
            raise _fail(t, f"mlockall({s.mlockall:#x})", ret)


def restore_mdwe(ctx: RestoreContext, t: Task) -> None:
    s = t.core.tc.stasis
    if s.mdwe:
        ret = t.injector.raw(nr.prctl, PR_SET_MDWE, s.mdwe, 0, 0, 0)
        if ret < 0:
            raise _fail(t, f"prctl(PR_SET_MDWE, {s.mdwe:#x})", ret)


OBJECT = KernelObject(
    "mm flags",
    dump=dump,
    stages=(
        Stage("mm-flags", Phase.PROCESS, restore),
        Stage("memory-merge", Phase.LATE, restore_merge, after=("dumpable", "engine-fd")),
        Stage("mlockall", Phase.LATE, restore_mlockall, doc="after every mapping: they must not be locked"),
        Stage("mdwe", Phase.LATE, restore_mdwe, doc="after every mapping and protection of the restore"),
    ),
)
