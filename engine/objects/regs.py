"""General-purpose registers, FPU/SSE/AVX state (xsave) and GDT TLS slots of a thread."""

from __future__ import annotations

import struct
from functools import cache
from typing import TYPE_CHECKING

from engine.abi.consts import PTRACE_GET_THREAD_AREA, PTRACE_SET_THREAD_AREA
from engine.compel.ptrace import REG_NAMES, ptrace, regs_from_dict, regs_to_dict
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import core_pb2, core_x86_pb2
from engine.native import ffi, lib
from engine.objects.base import KernelObject

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

GDT_TLS_SLOTS = (12, 13, 14)

# xsave components kept in the image: (cpuid 0xD sub-leaf, field, element format, element count)
XSAVE_COMPONENTS = (
    (2, "ymmh_space", "I", 64),
    (3, "bndreg_state", "Q", 8),
    (4, "bndcsr_state", "Q", 8),
    (5, "opmask_reg", "Q", 8),
    (6, "zmm_upper", "Q", 64),
    (7, "hi16_zmm", "Q", 128),
    (9, "pkru", "I", 2),
)
KEPT_COMPONENTS = 0b11 | sum(1 << leaf for leaf, *_ in XSAVE_COMPONENTS)  # x87 and SSE live in fxsave
FXSAVE_HEAD = struct.Struct("<HHBxHQQII")  # cwd swd twd(abridged) fop rip rdp mxcsr mxcsr_mask
XSTATE_BV_OFF = 512
XCR0_OFF = 464


def _component_offsets() -> dict[int, int]:
    out = {}
    regs = ffi.new("uint32_t[4]")
    for leaf, *_ in XSAVE_COMPONENTS:
        lib.st_cpuid(0xD, leaf, regs)
        if regs[0]:
            out[leaf] = int(regs[1])
    return out


@cache
def _offsets() -> dict[int, int]:
    return _component_offsets()


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    """Registers as they were at the freeze (injections save and restore them around themselves)."""
    th.core.mtype = core_pb2.core_entry.X86_64
    ti = th.core.thread_info
    regs = th.facts.regs
    for name, value in regs_to_dict(regs).items():
        setattr(ti.gpregs, name, value)
    ti.gpregs.mode = core_x86_pb2.NATIVE
    _dump_fpu(ti.fpregs, th.tracee.get_xstate())
    for slot in GDT_TLS_SLOTS:
        desc = ffi.new("uint32_t[4]")
        desc[0] = slot
        ptrace(PTRACE_GET_THREAD_AREA, th.tid, slot, int(ffi.cast("uintptr_t", desc)),
               "PTRACE_GET_THREAD_AREA")
        flags = int(desc[3])
        ti.tls.add(entry_number=slot, base_addr=int(desc[1]), limit=int(desc[2]),
                   seg_32bit=bool(flags & 1), contents_h=bool(flags & 4), contents_l=bool(flags & 2),
                   read_exec_only=bool(flags & 8), limit_in_pages=bool(flags & 16),
                   seg_not_present=bool(flags & 32), usable=bool(flags & 64))


def _dump_fpu(fp: core_x86_pb2.user_x86_fpregs_entry, xs: bytes) -> None:
    cwd, swd, twd, fop, rip, rdp, mxcsr, mask = FXSAVE_HEAD.unpack_from(xs, 0)
    fp.cwd, fp.swd, fp.twd, fp.fop, fp.rip, fp.rdp, fp.mxcsr, fp.mxcsr_mask = (
        cwd, swd, twd, fop, rip, rdp, mxcsr, mask)
    fp.st_space.extend(struct.unpack_from("<32I", xs, 32))
    fp.xmm_space.extend(struct.unpack_from("<64I", xs, 160))
    if len(xs) <= XSTATE_BV_OFF:
        return
    xcr0 = struct.unpack_from("<Q", xs, XCR0_OFF)[0]
    fp.xsave.xstate_bv = struct.unpack_from("<Q", xs, XSTATE_BV_OFF)[0]
    lost = fp.xsave.xstate_bv & ~KEPT_COMPONENTS
    if lost:  # e.g. AMX tiles (17, 18): CRIU's core image has no place for them
        raise UnsupportedError(f"xstate components {lost:#x} are in use; the image format cannot hold them")
    for leaf, name, fmt, count in XSAVE_COMPONENTS:
        if xcr0 & (1 << leaf) and leaf in _offsets():
            getattr(fp.xsave, name).extend(struct.unpack_from(f"<{count}{fmt}", xs, _offsets()[leaf]))


def restore_final(th: Thread) -> None:
    """Set the thread's final registers and xstate; called at the last syscall-exit stop."""
    ti = th.core.thread_info
    t = th
    values = {name: getattr(ti.gpregs, name) for name in REG_NAMES}
    t.tracee.set_regs(regs_from_dict(fixup_restart(values)))
    t.tracee.set_xstate(_build_xstate(ti.fpregs, t.tracee.get_xstate()))
    for desc in ti.tls:
        if desc.seg_not_present and desc.read_exec_only and not desc.base_addr:
            continue  # an empty slot: the fresh helper has it empty too
        raw = ffi.new("uint32_t[4]")
        raw[0], raw[1], raw[2] = desc.entry_number, desc.base_addr, desc.limit
        raw[3] = (desc.seg_32bit | desc.contents_l << 1 | desc.contents_h << 2 | desc.read_exec_only << 3
                  | desc.limit_in_pages << 4 | desc.seg_not_present << 5 | desc.usable << 6)
        ptrace(PTRACE_SET_THREAD_AREA, t.tracee.tid, desc.entry_number, int(ffi.cast("uintptr_t", raw)),
               "PTRACE_SET_THREAD_AREA")


ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK = 512, 513, 514, 516
EINTR = 4


def fixup_restart(regs: dict[str, int]) -> dict[str, int]:
    """A thread frozen inside a syscall resumes as the kernel would after a signal without handler."""
    regs = dict(regs)
    orig = regs["orig_ax"]
    if orig < (1 << 63):  # frozen in a syscall
        ret = regs["ax"] - (1 << 64) if regs["ax"] >= (1 << 63) else regs["ax"]
        if -ret in (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND):
            regs["ip"] -= 2
            regs["ax"] = orig
        elif -ret == ERESTART_RESTARTBLOCK:
            # the kernel's restart_block is gone with the old task: report EINTR, as CRIU does
            regs["ax"] = (-EINTR) & 0xFFFFFFFFFFFFFFFF
    regs["orig_ax"] = 0xFFFFFFFFFFFFFFFF
    return regs


def _build_xstate(fp: core_x86_pb2.user_x86_fpregs_entry, template: bytes) -> bytes:
    xs = bytearray(template)
    if len(fp.st_space) != 32 or len(fp.xmm_space) != 64:
        raise RestoreError("core image: fpregs st_space/xmm_space have the wrong length")
    FXSAVE_HEAD.pack_into(xs, 0, fp.cwd, fp.swd, fp.twd & 0xFF, fp.fop, fp.rip, fp.rdp, fp.mxcsr,
                          fp.mxcsr_mask)
    struct.pack_into("<32I", xs, 32, *fp.st_space)
    struct.pack_into("<64I", xs, 160, *fp.xmm_space)
    if fp.HasField("xsave") and len(xs) > XSTATE_BV_OFF:
        xcr0 = struct.unpack_from("<Q", xs, XCR0_OFF)[0]
        if fp.xsave.xstate_bv & ~xcr0:
            missing = fp.xsave.xstate_bv & ~xcr0
            raise RestoreError(f"xstate components {missing:#x} are not enabled on this CPU")
        struct.pack_into("<Q", xs, XSTATE_BV_OFF, fp.xsave.xstate_bv)
        for leaf, name, fmt, count in XSAVE_COMPONENTS:
            values = getattr(fp.xsave, name)
            if not values:
                continue
            if len(values) != count or leaf not in _offsets():
                raise RestoreError(f"xsave component {name} does not fit this CPU")
            struct.pack_into(f"<{count}{fmt}", xs, _offsets()[leaf], *values)
    return bytes(xs)


# the final registers are set by restore's last step (restore_final), when the thread is let go
# EFLAGS bits a task's own code may hold (CF..OF, IOPL, NT, RF, AC, VIF, VIP, ID; bit 1 is always set): the
# trap flag (a single-step: no traced task is dumped) and virtual-8086 mode are no dumped task's
EFLAGS_TF, EFLAGS_VM, EFLAGS_ALL = 1 << 8, 1 << 17, (1 << 22) - 1


def load_images(ctx: RestoreContext) -> None:
    """Registers a dumped task cannot have are refused before any process is made."""
    for t in ctx.tasks:
        for th in t.threads if t.alive else []:
            flags = th.core.thread_info.gpregs.flags
            if flags & ~EFLAGS_ALL or flags & (EFLAGS_TF | EFLAGS_VM):
                raise RestoreError(f"core-{th.inner_tid}.img: thread_info.gpregs.flags {flags:#x} is no "
                                   "user task's EFLAGS")


OBJECT = KernelObject("registers", dump_thread=dump_thread, load_images=load_images)
