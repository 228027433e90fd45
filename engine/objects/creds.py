"""Credentials: uids, gids, groups, capability sets, securebits, no_new_privs."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.compel import syscalls as nr

if TYPE_CHECKING:
    from engine.task import Task, Thread

PR_CAPBSET_DROP = 24
PR_GET_SECUREBITS = 27
PR_SET_SECUREBITS = 28
PR_SET_KEEPCAPS = 8
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_SET_NO_NEW_PRIVS = 38
SECBIT_KEEP_CAPS = 1 << 4
CAP_VERSION_3 = 0x20080522


def _words(hexval: str) -> list[int]:
    v = int(hexval, 16)
    return [v & 0xFFFFFFFF, v >> 32]


def dump_thread(ctx: object, t: Task, th: Thread) -> None:
    st = th.facts["status"]
    c = th.core.thread_core.creds
    c.uid, c.euid, c.suid, c.fsuid = (int(x) for x in st["Uid"].split())
    c.gid, c.egid, c.sgid, c.fsgid = (int(x) for x in st["Gid"].split())
    c.cap_inh.extend(_words(st["CapInh"]))
    c.cap_prm.extend(_words(st["CapPrm"]))
    c.cap_eff.extend(_words(st["CapEff"]))
    c.cap_bnd.extend(_words(st["CapBnd"]))
    c.cap_amb.extend(_words(st["CapAmb"]))
    c.groups.extend(int(g) for g in st["Groups"].split())
    c.secbits = th.injector.call(nr.prctl, PR_GET_SECUREBITS, what="prctl(PR_GET_SECUREBITS)")
    c.no_new_privs = int(st.get("NoNewPrivs", "0"))


def restore_thread(ctx: object, t: Task, th: Thread) -> None:
    """Drop from the helper's root to the thread's credentials; the order is what the kernel allows.

    Credentials are per thread in the kernel (glibc's setuid() broadcasts; a raw syscall does not),
    so every thread runs this itself.
    """
    inj = th.injector
    c = th.core.thread_core.creds
    bnd = c.cap_bnd[0] | c.cap_bnd[1] << 32
    last_cap = int(proc.read_str("/proc/sys/kernel/cap_last_cap"))
    for cap in range(last_cap + 1):
        if not bnd & (1 << cap):
            inj.call(nr.prctl, PR_CAPBSET_DROP, cap, what=f"prctl(PR_CAPBSET_DROP, {cap})")
    # Keep the permitted set across the uid change; KEEP_CAPS is dropped below unless the task had it.
    inj.call(nr.prctl, PR_SET_SECUREBITS, c.secbits | SECBIT_KEEP_CAPS, what="prctl(PR_SET_SECUREBITS)")
    groups = list(c.groups)
    if groups:
        inj.put(struct.pack(f"<{len(groups)}I", *groups))
    inj.call(nr.setgroups, len(groups), inj.scratch if groups else 0, what="setgroups")
    inj.call(nr.setresgid, c.gid, c.egid, c.sgid, what="setresgid")
    inj.raw(nr.setfsgid, c.fsgid)
    inj.call(nr.setresuid, c.uid, c.euid, c.suid, what="setresuid")
    inj.raw(nr.setfsuid, c.fsuid)
    inj.put(struct.pack("<Ii", CAP_VERSION_3, 0) + struct.pack(
        "<6I", c.cap_eff[0], c.cap_prm[0], c.cap_inh[0], c.cap_eff[1], c.cap_prm[1], c.cap_inh[1]))
    inj.call(nr.capset, inj.scratch, inj.scratch + 8, what="capset")
    amb = (c.cap_amb[0] | c.cap_amb[1] << 32) if len(c.cap_amb) == 2 else 0
    for cap in range(last_cap + 1):
        if amb & (1 << cap):
            inj.call(nr.prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0, what="ambient raise")
    if not c.secbits & SECBIT_KEEP_CAPS:
        inj.call(nr.prctl, PR_SET_KEEPCAPS, 0, what="prctl(PR_SET_KEEPCAPS, 0)")
    if c.no_new_privs:
        inj.call(nr.prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, what="prctl(PR_SET_NO_NEW_PRIVS)")
