"""Credentials: uids, gids, groups, capability sets, securebits, no_new_privs.

Credentials are per thread in the kernel (glibc's setuid() broadcasts; a raw syscall does not), so
every thread runs the restore itself, from the helper's root down to its own set.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine import proc, unpriv
from engine.abi import nr
from engine.abi.consts import (
    CAP_SETPCAP,
    CAP_VERSION_3,
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    PR_GET_SECUREBITS,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_SECUREBITS,
    SECBIT_NO_SETUID_FIXUP,
)
from engine.errors import UnsupportedError
from engine.images.pb import creds_pb2
from engine.objects import namespaces, nestedns
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.compel.inject import Injector
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread


def _words(hexval: str) -> list[int]:
    v = int(hexval, 16)
    return [v & 0xFFFFFFFF, v >> 32]


def check(ctx: DumpContext, t: Task) -> None:
    """Restore can give a thread only capabilities the engine has itself; in a user namespace of the
    tree's own, every one (its creator has them all there, whatever its bounding set outside)."""
    if not t.alive:
        return
    mine = proc.status("self")
    have = int(mine["CapEff"], 16) & int(mine["CapBnd"], 16)
    inside = namespaces.id_translator(ctx, t)
    if inside is not None:
        have = (1 << (int(proc.read_str("/proc/sys/kernel/cap_last_cap")) + 1)) - 1
    nested = nestedns.user_of(ctx, t)
    if nested is not None and nested.stasis.setgroups_deny:  # its groups are the ones it was made with
        up = namespaces.id_translator(ctx) or (lambda kind, v: v)
        for th in t.threads:
            theirs = [up("gid", int(g)) for g in th.facts.status["Groups"].split()]
            if theirs != list(nested.stasis.groups):
                raise UnsupportedError(f"thread {th.tid}: its groups {theirs} are not the ones its user "
                                       f"namespace was made with ({list(nested.stasis.groups)}), and it "
                                       "denies setgroups: restore could not give them back")
    deny = namespaces.state(ctx).userns
    if nested is None and deny is not None and deny.stasis.setgroups_deny:
        assert inside is not None
        mine_groups = sorted(inside("gid", g) for g in os.getgroups())
        for th in t.threads:
            theirs = sorted(inside("gid", int(g)) for g in th.facts.status["Groups"].split())
            if theirs != mine_groups:
                raise UnsupportedError(f"thread {th.tid}: its groups {theirs} differ from the engine's "
                                       f"{mine_groups}, and its user namespace denies setgroups: restore "
                                       "could not give them back")
    for th in t.threads:
        st = th.facts.status
        for name in ("CapPrm", "CapInh", "CapBnd", "CapAmb"):
            want = int(st[name], 16)
            if unpriv.ACTIVE and name == "CapBnd":  # kept as it is: the caller's own (unpriv.check_creds)
                continue
            if want & ~have:
                raise UnsupportedError(f"thread {th.tid}: {name} has capabilities {want & ~have:#x} that "
                                       "this "
                                       "engine does not have, so restore could not give them back")


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    from_status(th.facts.status, th.core.thread_core.creds, namespaces.id_translator(ctx, t))
    secbits = th.injector.call(nr.prctl, PR_GET_SECUREBITS, what="prctl(PR_GET_SECUREBITS)")
    th.core.thread_core.creds.secbits = secbits


def from_status(st: dict[str, str], c: creds_pb2.creds_entry,
                inside: Callable[[str, int], int] | None = None) -> None:
    """The ids, groups and capability sets /proc/PID/status shows (a zombie's too); `inside` translates
    the ids to the process's own user namespace (the capability sets are its own already)."""
    def ids(kind: str, text: str) -> list[int]:
        return [inside(kind, int(x)) if inside else int(x) for x in text.split()]

    c.uid, c.euid, c.suid, c.fsuid = ids("uid", st["Uid"])
    c.gid, c.egid, c.sgid, c.fsgid = ids("gid", st["Gid"])
    c.cap_inh.extend(_words(st["CapInh"]))
    c.cap_prm.extend(_words(st["CapPrm"]))
    c.cap_eff.extend(_words(st["CapEff"]))
    c.cap_bnd.extend(_words(st["CapBnd"]))
    c.cap_amb.extend(_words(st["CapAmb"]))
    c.groups.extend(ids("gid", st["Groups"]))
    c.secbits = 0
    c.no_new_privs = int(st.get("NoNewPrivs", "0"))


def _capset(inj: Injector, eff: int, prm: int, inh: int) -> None:
    words = [eff & 0xFFFFFFFF, prm & 0xFFFFFFFF, inh & 0xFFFFFFFF, eff >> 32, prm >> 32, inh >> 32]
    inj.put(struct.pack("<Ii", CAP_VERSION_3, 0) + struct.pack("<6I", *words))
    inj.call(nr.capset, inj.scratch, inj.scratch + 8, what="capset")


def restore_thread(ctx: RestoreContext, t: Task, th: Thread) -> None:
    apply(th.injector, th.core.thread_core.creds, namespaces.groups_settable(ctx, t))


def apply_unprivileged(inj: Injector, c: creds_pb2.creds_entry) -> None:
    """Without CAP_SETUID/SETGID/SETPCAP: ids among the helper's own (the caller's), groups, bounding set and
    securebits left as they are (checked equal), capabilities only lowered, no_new_privs set last."""
    prm = c.cap_prm[0] | c.cap_prm[1] << 32
    eff = c.cap_eff[0] | c.cap_eff[1] << 32
    inh = c.cap_inh[0] | c.cap_inh[1] << 32
    amb = (c.cap_amb[0] | c.cap_amb[1] << 32) if len(c.cap_amb) == 2 else 0
    last_cap = int(proc.read_str("/proc/sys/kernel/cap_last_cap"))
    inj.call(nr.setresgid, c.gid, c.egid, c.sgid, what="setresgid")
    inj.raw(nr.setfsgid, c.fsgid)
    inj.call(nr.setresuid, c.uid, c.euid, c.suid, what="setresuid")
    inj.raw(nr.setfsuid, c.fsuid)
    _capset(inj, eff, prm, inh)  # lowering the permitted set also drops ambient ones beyond it
    inj.call(nr.prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, what="ambient clear")
    for cap in range(last_cap + 1):
        if amb & (1 << cap):
            inj.call(nr.prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0, what="ambient raise")
    if c.no_new_privs:
        inj.call(nr.prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, what="prctl(PR_SET_NO_NEW_PRIVS)")


def apply(inj: Injector, c: creds_pb2.creds_entry, set_groups: bool = True) -> None:
    """(--unprivileged: apply_unprivileged.)

    The order is what the kernel allows, and it works for locked securebits too: ids change with
    NO_SETUID_FIXUP (capabilities stay), CAP_SETPCAP is kept until the final securebits are set, and
    ambient capabilities are raised before a NO_CAP_AMBIENT_RAISE lock could forbid it."""
    if unpriv.ACTIVE:  # zombies (tree.py) come here too
        apply_unprivileged(inj, c)
        return
    bnd = c.cap_bnd[0] | c.cap_bnd[1] << 32
    prm = c.cap_prm[0] | c.cap_prm[1] << 32
    eff = c.cap_eff[0] | c.cap_eff[1] << 32
    inh = c.cap_inh[0] | c.cap_inh[1] << 32
    amb = (c.cap_amb[0] | c.cap_amb[1] << 32) if len(c.cap_amb) == 2 else 0
    last_cap = int(proc.read_str("/proc/sys/kernel/cap_last_cap"))
    inj.call(nr.prctl, PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, what="prctl(PR_SET_SECUREBITS)")
    groups = list(c.groups)
    if groups and set_groups:
        inj.put(struct.pack(f"<{len(groups)}I", *groups))
    if set_groups:  # else setgroups is denied in its user namespace: they are the helper's (checked at dump)
        inj.call(nr.setgroups, len(groups), inj.scratch if groups else 0, what="setgroups")
    inj.call(nr.setresgid, c.gid, c.egid, c.sgid, what="setresgid")
    inj.raw(nr.setfsgid, c.fsgid)
    inj.call(nr.setresuid, c.uid, c.euid, c.suid, what="setresuid")
    inj.raw(nr.setfsuid, c.fsuid)
    setpcap = 1 << CAP_SETPCAP
    _capset(inj, eff | setpcap, prm | setpcap, inh)  # inheritable first: it may not exceed the bounding set
    for cap in range(last_cap + 1):
        if not bnd & (1 << cap):
            inj.call(nr.prctl, PR_CAPBSET_DROP, cap, what=f"prctl(PR_CAPBSET_DROP, {cap})")
    for cap in range(last_cap + 1):
        if amb & (1 << cap):
            inj.call(nr.prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0, what="ambient raise")
    inj.call(nr.prctl, PR_SET_SECUREBITS, c.secbits, what=f"prctl(PR_SET_SECUREBITS, {c.secbits:#x})")
    if (eff, prm) != (eff | setpcap, prm | setpcap):
        _capset(inj, eff, prm, inh)
    if c.no_new_privs:
        inj.call(nr.prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, what="prctl(PR_SET_NO_NEW_PRIVS)")


OBJECT = KernelObject("creds", check=check, dump_thread=dump_thread,
                      stages=(Stage("creds", Phase.THREAD, restore_thread),))
