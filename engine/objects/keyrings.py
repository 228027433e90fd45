"""Keyrings. A process or thread keyring cannot be brought back (their keys die with the tree): refused.

A session keyring other than the one a restored process inherits from the engine (runc gives each
container one of its own, `_ses.<container id>`) is kept when it is empty: no key, no link in it. Its
name, permissions and owner go into core's stasis extension (`stasis_task_entry.session_keyring`, with
its serial at the dump, so the processes that shared it share it again), and the restored process joins a
new keyring of that name (KEYCTL_JOIN_SESSION_KEYRING, as its real uid and gid: the kernel gives a new
keyring the joiner's real ids) with those permissions (KEYCTL_SETPERM), before it forks its children:
they inherit it as they did. The kernel joins an existing keyring of that name when there is one the
process may search: the dumped one itself when something still holds it (the credentials of a file the
tree opened, such as a console master the runtime keeps). A keyring found that way that is not empty or
differs in owner or permissions is a RestoreError. A session keyring with keys in it is refused at dump:
the keys (secrets, often) cannot be read back in general, and a keyring rebuilt without them would lose
them silently.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    KEY_SPEC_PROCESS_KEYRING,
    KEY_SPEC_SESSION_KEYRING,
    KEY_SPEC_THREAD_KEYRING,
    KEY_SPEC_USER_SESSION_KEYRING,
    KEYCTL_DESCRIBE,
    KEYCTL_GET_KEYRING_ID,
    KEYCTL_JOIN_SESSION_KEYRING,
    KEYCTL_READ,
    KEYCTL_SETPERM,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import core_pb2
from engine.log import log
from engine.native import lib
from engine.objects.base import KernelObject, Phase, Stage
from engine.record import field, record

if TYPE_CHECKING:
    from engine.compel.inject import Injector
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread

ENOKEY = 126
DESC_MAX = 4096  # KEYCTL_DESCRIBE's text: type;uid;gid;perm;name
IDS_AT = DESC_MAX + 64  # getresuid/getresgid results in the scratch area


def _mine(which: int) -> int:
    return lib.st_syscall(nr.keyctl, KEYCTL_GET_KEYRING_ID, which, 0, 0, 0, 0)


def _theirs(th: Thread, which: int) -> int:
    return th.injector.raw(nr.keyctl, KEYCTL_GET_KEYRING_ID, which, 0)


def _describe(inj: Injector, serial: int) -> tuple[str, int, int, int, str] | int:
    """(type, uid, gid, perm, name) of a keyring, as the task sees them; a negative errno."""
    buf = inj.put(bytes(DESC_MAX))
    n = inj.raw(nr.keyctl, KEYCTL_DESCRIBE, serial, buf, DESC_MAX)
    if n < 0:
        return n
    if n > DESC_MAX:
        return -36  # ENAMETOOLONG: a name longer than anything a keyring is given
    kind, uid, gid, perm, name = inj.get(0, n).rstrip(b"\0").decode(errors="surrogateescape").split(";", 4)
    return kind, int(uid), int(gid), int(perm, 16), name


def _content(inj: Injector, serial: int) -> int:
    """How many keys and keyrings are linked into it (KEYCTL_READ's size / 4); a negative errno."""
    n = inj.raw(nr.keyctl, KEYCTL_READ, serial, 0, 0)
    return n if n < 0 else n // 4


@record
class KeyringDump:
    names: dict[str, int] = field(default_factory=dict)  # name -> serial, one keyring per name in a tree


def dump(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    leader = t.leader
    if _theirs(leader, KEY_SPEC_PROCESS_KEYRING) != -ENOKEY:
        raise UnsupportedError(f"pid {t.pid} has a process keyring (keyrings are not supported)")
    session = _theirs(leader, KEY_SPEC_SESSION_KEYRING)
    if session < 0:
        return  # no keyrings in this kernel
    fallback = session == _theirs(leader, KEY_SPEC_USER_SESSION_KEYRING)  # no session keyring of its own
    engines = session == _mine(KEY_SPEC_SESSION_KEYRING) or (
        fallback and _mine(KEY_SPEC_SESSION_KEYRING) == _mine(KEY_SPEC_USER_SESSION_KEYRING))
    parent = next((p for p in ctx.tasks if p.pid == t.ppid), None) if t is not ctx.root else None
    if engines:
        if parent is not None and parent.core.tc.stasis.HasField("session_keyring"):
            raise UnsupportedError(f"pid {t.pid} has the engine's session keyring but its parent "
                                   f"{parent.pid} has one of its own "
                                   f"({parent.core.tc.stasis.session_keyring.name!r}): a restored child "
                                   "inherits its parent's and cannot get the engine's back")
        return
    if fallback:
        raise UnsupportedError(f"pid {t.pid} has no session keyring and its user-session keyring ({session}) "
                               "is not the engine's (keyrings of other users are not supported)")
    inj = t.injector
    desc = _describe(inj, session)
    if isinstance(desc, int):
        raise UnsupportedError(f"pid {t.pid}: its session keyring {session} cannot be described "
                               f"(KEYCTL_DESCRIBE: errno {-desc}), so it cannot be made again")
    kind, uid, gid, perm, name = desc
    what = f"pid {t.pid} has a session keyring {name!r} ({session}) other than the engine's"
    count = _content(inj, session)
    if count < 0:
        raise UnsupportedError(f"{what}, and its content cannot be read (KEYCTL_READ: errno {-count})")
    if count:
        raise UnsupportedError(f"{what} with {count} key(s) or keyring(s) linked in it: keys cannot be "
                               "checkpointed (only an empty session keyring is made again)")
    if kind != "keyring" or name.startswith(".") or not name:
        raise UnsupportedError(f"{what}: a {kind} named {name!r} cannot be joined again by its name")
    seen = ctx.files.state(KeyringDump).names
    if seen.setdefault(name, session) != session:
        raise UnsupportedError(f"{what}: another process of the tree has a different keyring of the same "
                               f"name ({seen[name]}), and keyrings are joined again by name")
    t.core.tc.stasis.session_keyring.CopyFrom(core_pb2.stasis_keyring(serial=session, name=name, perm=perm,
                                                                      uid=uid, gid=gid))


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    if _theirs(th, KEY_SPEC_THREAD_KEYRING) != -ENOKEY:
        raise UnsupportedError(f"thread {th.tid} has a thread keyring (keyrings are not supported)")
    leaders = _theirs(t.leader, KEY_SPEC_SESSION_KEYRING)
    if th is not t.leader and _theirs(th, KEY_SPEC_SESSION_KEYRING) != leaders:
        raise UnsupportedError(f"thread {th.tid} has another session keyring than its leader {t.pid} (each "
                               "thread's own session keyring is not supported)")


@record
class KeyringRestore:
    made: dict[int, int] = field(default_factory=dict)  # dumped serial -> the restored keyring's


def _ids(inj: Injector, sysno: int) -> tuple[int, int, int]:
    addr = inj.put(bytes(12), IDS_AT)
    inj.call(sysno, addr, addr + 4, addr + 8, what="getres[ug]id")
    r, e, s = struct.unpack("<3I", inj.get(IDS_AT, 12))
    return r, e, s


def _join(inj: Injector, rec: core_pb2.stasis_keyring) -> int:
    """Join (or make) the keyring named rec.name as uid/gid rec.uid/rec.gid, with rec.perm; its serial."""
    ruid = _ids(inj, nr.getresuid)[0]
    rgid = _ids(inj, nr.getresgid)[0]
    other = (ruid, rgid) != (rec.uid, rec.gid)
    keep = 0xFFFFFFFF
    if other:  # a new keyring is owned by the joiner's real ids, KEYCTL_SETPERM needs its fsuid
        inj.call(nr.setresgid, rec.gid, keep, keep, what=f"setresgid({rec.gid}) for the session keyring")
        inj.call(nr.setresuid, rec.uid, keep, keep, what=f"setresuid({rec.uid}) for the session keyring")
        fsuid = inj.raw(nr.setfsuid, rec.uid)
    try:
        serial = inj.raw(nr.keyctl, KEYCTL_JOIN_SESSION_KEYRING, inj.put_str(rec.name))
        if serial < 0:
            return serial
        ret = inj.raw(nr.keyctl, KEYCTL_SETPERM, serial, rec.perm)
        return serial if ret >= 0 else ret
    finally:
        if other:
            inj.raw(nr.setfsuid, fsuid)
            inj.call(nr.setresuid, ruid, keep, keep, what="setresuid back")
            inj.call(nr.setresgid, rgid, keep, keep, what="setresgid back")


def restore(ctx: RestoreContext, t: Task) -> None:
    if not t.alive or not t.core.tc.stasis.HasField("session_keyring"):
        return
    rec = t.core.tc.stasis.session_keyring
    made = ctx.files.state(KeyringRestore).made
    parent = next((p for p in ctx.tasks if p.pid == t.ppid), None) if t is not ctx.root else None
    inj = t.injector
    what = f"pid {t.pid}: session keyring {rec.name!r}"
    shared = parent is not None and parent.core.tc.stasis.session_keyring.serial == rec.serial
    if shared and rec.serial in made:
        have = inj.raw(nr.keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)
        if have != made[rec.serial]:
            raise RestoreError(f"{what}: inherited {have} from its parent, not the restored "
                               f"{made[rec.serial]}")
        return  # forked from its parent, which has it already
    serial = _join(inj, rec)
    if serial < 0:
        raise RestoreError(f"{what}: KEYCTL_JOIN_SESSION_KEYRING / KEYCTL_SETPERM({rec.perm:#x}) as uid "
                           f"{rec.uid} gid {rec.gid}: errno {-serial}")
    if rec.serial in made and made[rec.serial] != serial:
        raise RestoreError(f"{what}: joined {serial} by name, not {made[rec.serial]} that another process of "
                           "the tree shares (it is not searchable by this process: the dumped permissions "
                           f"{rec.perm:#010x})")
    if rec.serial not in made and serial == rec.serial:
        # still referenced: by the credentials of a file the dumped tree opened (a container's console
        # master, which the runtime holds until it has the new one) or by the dumped tree, left running.
        # The kernel joins a keyring by name: that one it is (empty, as checked below).
        log.info("%s: joined the dumped tree's own keyring %d, still referenced outside", what, serial)
    desc = _describe(inj, serial)
    count = _content(inj, serial)
    if isinstance(desc, int) or desc != ("keyring", rec.uid, rec.gid, rec.perm, rec.name) or count:
        raise RestoreError(f"{what}: joined {serial}, which is {desc} with {count} key(s) linked, not an "
                           f"empty keyring of uid {rec.uid} gid {rec.gid} perm {rec.perm:#010x} (another "
                           "keyring of that name exists)")
    made[rec.serial] = serial


OBJECT = KernelObject("keyrings", dump=dump, dump_thread=dump_thread,
                      stages=(Stage("session-keyring", Phase.MEMORY, restore,
                                    doc="before it forks its children: they inherit it"),))
