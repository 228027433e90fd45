"""NUMA memory policies: each thread's own (set_mempolicy) and each VMA's (mbind).

The thread policies are read and set by injected get/set_mempolicy in the thread itself. A VMA's policy
shows in /proc/PID/numa_maps ("default" when it has none); for those that have one, an injected
get_mempolicy(MPOL_F_ADDR) gives the exact mode, mode flags and nodemask, and an injected mbind sets
it once the VMA exists again. Without NUMA in the kernel (ENOSYS, no numa_maps) there is nothing to keep.
"""

from __future__ import annotations

import errno
import os
import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import MPOL_DEFAULT, MPOL_F_ADDR
from engine.errors import RestoreError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.compel.inject import Injector
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

MAXNODE = 1024  # bits: MAX_NUMNODES is at most 1 << 10 on x86_64
MASK_BYTES = MAXNODE // 8
MASK_OFF = 64  # the nodemask's place in the scratch area (the mode is at 0)


def _get(inj: Injector, addr: int, who: str) -> tuple[int, bytes] | None:
    """(mode with its flags, nodemask trimmed to whole longs) or None without NUMA."""
    flags = MPOL_F_ADDR if addr else 0
    ret = inj.raw(nr.get_mempolicy, inj.scratch, inj.scratch + MASK_OFF, MAXNODE, addr, flags)
    if ret == -errno.ENOSYS:
        return None
    if ret < 0:
        raise OSError(-ret, f"{who}: get_mempolicy: {os.strerror(-ret)}")
    mode = struct.unpack("<i", inj.get(0, 4))[0]
    mask = inj.get(MASK_OFF, MASK_BYTES)
    n = len(mask.rstrip(b"\0"))
    return mode, mask[:(n + 7) // 8 * 8]


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    pol = _get(th.injector, 0, f"thread {th.tid}")
    if pol is not None and pol[0] != MPOL_DEFAULT:
        s = th.core.thread_core.stasis
        s.mempolicy_mode, s.mempolicy_nodes = pol


def _policied_starts(pid: int) -> list[int]:
    """Start addresses of the VMAs numa_maps shows with a policy of their own."""
    try:
        with open(f"/proc/{pid}/numa_maps") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:  # a kernel without NUMA
        return []
    out = []
    for line in lines:
        words = line.split(maxsplit=2)
        if len(words) >= 2 and words[1] != "default":
            out.append(int(words[0], 16))
    return out


def dump(ctx: DumpContext, t: Task) -> None:
    starts = set(_policied_starts(t.pid))
    if not starts:
        return
    tc = t.core.tc.stasis
    for v in t.facts.vmas:  # the engine's scratch VMA is not among them
        if v.start not in starts:
            continue
        pol = _get(t.injector, v.start, f"pid {t.pid}, VMA {v.start:#x}-{v.end:#x}")
        if pol is not None and pol[0] != MPOL_DEFAULT:
            tc.vma_policies.add(start=v.start, end=v.end, mode=pol[0], nodes=pol[1])


def _maxnode(nodes: bytes) -> int:
    return len(nodes) * 8 + 1 if nodes else 0  # the kernel reads maxnode - 1 bits


def restore_thread(ctx: RestoreContext, t: Task, th: Thread) -> None:
    s = th.core.thread_core.stasis
    if not s.HasField("mempolicy_mode"):
        return
    inj = th.injector
    nodes = s.mempolicy_nodes
    addr = inj.put(nodes) if nodes else 0
    ret = inj.raw(nr.set_mempolicy, s.mempolicy_mode, addr, _maxnode(nodes))
    if ret < 0:
        raise RestoreError(f"thread {th.tid}: set_mempolicy(mode {s.mempolicy_mode:#x}, nodes "
                           f"{nodes.hex() or 'none'}): {os.strerror(-ret)}")


def restore_vmas(ctx: RestoreContext, t: Task) -> None:
    inj = t.injector
    for p in t.core.tc.stasis.vma_policies:
        addr = inj.put(p.nodes) if p.nodes else 0
        ret = inj.raw(nr.mbind, p.start, p.end - p.start, p.mode, addr, _maxnode(p.nodes), 0)
        if ret < 0:
            raise RestoreError(f"pid {t.pid}: mbind({p.start:#x}-{p.end:#x}, mode {p.mode:#x}, nodes "
                               f"{p.nodes.hex() or 'none'}): {os.strerror(-ret)}")


OBJECT = KernelObject(
    "numa",
    dump=dump,
    dump_thread=dump_thread,
    stages=(
        Stage("vma-mempolicy", Phase.PROCESS, restore_vmas, after=("mm",), doc="once every VMA is in place"),
        Stage("mempolicy", Phase.THREAD, restore_thread),
    ),
)
