"""Mount namespaces nested in the tree's: a process that unshare(CLONE_NEWNS)d and changed its copy (mounted
a tmpfs or proc, bound a directory, unmounted something, made mounts private or slaves).

Dump. Its mount list (mountpoints-<id>.img, every mount as in CRIU's image) is compared with the one of the
process it was forked by: a mount both show (same mount point, superblock and root) is a copy
(stasis.copied), whose flags and propagation restore sets as they are (private, a slave of the parent's
peer group, unbindable, or still a peer of the parent's); every other mount it has must be one restore can
make there: proc, sysfs, devpts, mqueue or a tmpfs (with its content) mounted fresh, or a bind of what it
sees (stasis.bind_path) — private, as a mount only it shows is. The root must be the parent's (no chroot or
pivot_root into something else). Since restore opens files by the paths the tree root sees, every file,
directory and mapping its processes hold must be the same file there (checked by inode); unix sockets
bound to a path are refused.

Restore. The first process of it unshares right after its clone3 (after entering a user namespace of its
own, so that the mount namespace is owned by it) and turns its copy into the dumped list: propagation of the
copies first (so that no change reaches the parent's namespace), then what is not in the list is unmounted,
what is missing is made, flags are set. Others in it enter it (nestedns.enter).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWNS,
    MNT_DETACH,
    MS_BIND,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_UNBINDABLE,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import mnt_pb2
from engine.log import log
from engine.objects import mounts, userns
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


def _key(m: mounts.Mount) -> tuple[str, tuple[int, int], str]:
    return (m.point, m.dev, m.root)


# -- dump ------------------------------------------------------------------------------------------

@record
class MntNested:
    entries: dict[int, list[mnt_pb2.mnt_entry]] = field(default_factory=dict)  # inode -> its mounts
    archives: dict[int, bytes] = field(default_factory=dict)  # root_dev -> tar.gz


def _dstate(ctx: DumpContext) -> MntNested:
    return ctx.files.state(MntNested)


def dump(ctx: DumpContext, s: Any, ino: int, first: Task) -> None:
    """The nested mount namespace `ino`, whose first process of the tree is `first` (`s`: namespaces' dump
    state, with its held fds)."""
    by_pid = {t.pid: t for t in ctx.tasks}
    parent = by_pid.get(first.ppid)
    where = f"pid {first.pid}: its own mount namespace"
    if parent is None or s.of.get(parent.pid, {}).get("mnt") != s.root.get("mnt"):
        raise UnsupportedError(f"{where}: its parent is not in the tree's mount namespace (nested more than "
                               "one level): not supported")
    with open(f"/proc/{first.pid}/mountinfo") as f:
        mine = mounts._source_order(mounts._tree_order(mounts.parse(f.read())))
    with open(f"/proc/{parent.pid}/mountinfo") as f:
        base = mounts.parse(f.read())
    tops = [m for m in mine if m.point == "/"]
    btops = [m for m in base if m.point == "/"]
    if not tops or not btops or _key(tops[-1]) != _key(btops[-1]):
        raise UnsupportedError(f"{where} has another root than its parent's (pivot_root or chroot): not "
                               "supported")
    left = list(base)
    groups = {m.tag("shared") for m in base} - {0}
    out: list[mnt_pb2.mnt_entry] = []
    copy_of: dict[int, mounts.Mount] = {}  # a parent's mount id -> its copy here
    d = _dstate(ctx)
    points = [m.point for m in mine]
    for idx, m in enumerate(mine):
        name = f"{where}: mount {m.id} at {m.point} ({m.fstype} {m.source}, root {m.root})"
        e = mounts.entry(m)
        shared, master = m.tag("shared"), m.tag("master")
        twin = next((b for b in left if _key(b) == _key(m)), None)
        if twin is not None:
            left.remove(twin)
            copy_of[twin.id] = m
            e.stasis.copied = True
            if shared and shared != twin.tag("shared"):
                raise UnsupportedError(f"{name} is in a peer group of its own (made shared again): not "
                                       "supported")
            if master and master not in (twin.tag("shared"), twin.tag("master")):
                raise UnsupportedError(f"{name} is a slave of another group than its parent's copy: not "
                                       "supported")
        else:
            if shared or master:
                raise UnsupportedError(f"{name}: a mount only it shows with propagation: not supported")
            hidden = m.point in points[idx + 1:]
            if hidden:
                raise UnsupportedError(f"{name} is over-mounted: not supported yet")
            src = next((x for x in mine[:idx] if x.dev == m.dev and (
                m.root == x.root or m.root.startswith(x.root.rstrip("/") + "/"))), None)
            if src is not None:
                e.stasis.bind_path = mounts._join(src.point, m.root[len(src.root.rstrip("/")):])
            elif m.fstype in mounts.FRESH and m.root == "/":
                if m.fstype == "tmpfs":
                    got = mounts._archive_clone(first.pid, m.point, name, 0, "unbindable" in m.tags)
                    d.archives[e.root_dev] = got if got is not None else \
                        mounts._archive(f"/proc/{first.pid}/root{m.point}", name)
            else:
                raise UnsupportedError(f"{name}: restore could not make it there (only proc, sysfs, devpts, "
                                       "mqueue, tmpfs and binds of what it sees): not supported")
        if shared:
            e.flags |= MS_SHARED
            e.shared_id = shared
        if master:
            e.flags |= MS_SLAVE
            e.master_id = master
        if "unbindable" in m.tags:
            e.stasis.unbindable = True
        out.append(e)
    for b in left:  # unmounted in it: not where that would have reached the parent's (a peer's child)
        pm = copy_of.get(b.parent)
        if pm is not None and pm.tag("shared") in groups:
            raise UnsupportedError(f"{where}: mount {b.id} at {b.point} of its parent's is not in it, under "
                                   "a mount that is still a peer of its parent's: not supported")
    d.entries[ino] = out
    log.debug("%s: %d mounts, %d of them copies of its parent's", where, len(out),
              sum(e.stasis.copied for e in out))


def check_paths(ctx: DumpContext, t: Task, root: Task) -> None:
    """Every path-based object of t (in a nested mount namespace) is the same file as the tree root sees
    at that path: restore opens them there."""
    def same(obj: str, path: str, what: str) -> None:
        try:
            a = os.stat(obj)
        except OSError:
            return  # gone meanwhile, or deleted: its content travels, not its path
        try:
            b = os.stat(f"/proc/{root.pid}/root{path}")
        except OSError:
            b = None
        if b is None or (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino):
            raise UnsupportedError(f"pid {t.pid} (in a mount namespace of its own): its {what} {path} is "
                                   "not the file the tree's root sees at that path: not supported")

    for what, link in (("cwd", "cwd"), ("root", "root"), ("exe", "exe")):
        try:
            target = os.readlink(f"/proc/{t.pid}/{link}")
        except OSError:
            continue
        if target.startswith("/") and not target.endswith(" (deleted)"):
            same(f"/proc/{t.pid}/{link}", target, what)
    for fd in os.listdir(f"/proc/{t.pid}/fd"):
        try:
            target = os.readlink(f"/proc/{t.pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/") and not target.endswith(" (deleted)"):
            same(f"/proc/{t.pid}/fd/{fd}", target, f"fd {fd}")
        elif target.startswith("socket:"):
            _no_unix_path(t, int(target[8:-1]), fd)
    for v in t.facts.vmas:
        path = getattr(v, "path", "") or ""
        if path.startswith("/") and not path.endswith(" (deleted)"):
            same(f"/proc/{t.pid}/map_files/{v.start:x}-{v.end:x}", path, f"mapping at {v.start:#x}")


def _no_unix_path(t: Task, ino: int, fd: str) -> None:
    for line in proc.read_str(f"/proc/{t.pid}/net/unix").splitlines()[1:]:
        w = line.split()
        if len(w) >= 8 and w[6] == str(ino) and w[7].startswith("/"):
            raise UnsupportedError(f"pid {t.pid} (in a mount namespace of its own): fd {fd} is a unix socket "
                                   f"bound to {w[7]}: not supported")


def write_images(ctx: DumpContext, ids: dict[tuple[str, int], int]) -> None:
    d = _dstate(ctx)
    for ino, entries in d.entries.items():
        ctx.images.write("mountpoints", entries, ns_id=ids[("mnt", ino)])
    for dev, data in d.archives.items():
        with ctx.images.open_raw("tmpfs-dev", "wb", dev=dev) as f:
            f.write(data)


# -- restore ---------------------------------------------------------------------------------------

def _inside(ctx: RestoreContext, t: Task) -> Callable[[str, int], int] | None:
    from engine.objects import namespaces, nestedns

    return userns.chain([namespaces.rstate(ctx).userns, nestedns.user_entry(ctx, t)])


def restore(ctx: RestoreContext, t: Task, ns_id: int) -> None:
    """In t, right after its clone (and its user namespace): a copy of its parent's mounts made into the
    dumped ones."""
    entries = list(ctx.images.read("mountpoints", ns_id=ns_id))
    inj = t.injector
    call, mount = mounts.syscalls(t)

    inj.call(nr.unshare, CLONE_NEWNS, what="unshare(CLONE_NEWNS)")
    with open(f"/proc/{t.pid}/mountinfo") as f:
        now = mounts.parse(f.read())
    left = list(now)
    twins: dict[int, mounts.Mount] = {}  # entry index -> the copy it is
    for i, e in enumerate(entries):
        if not e.stasis.copied:
            continue
        fs = mounts.NAMES.get(e.fstype, e.fsname)
        twin = next((m for m in left if (m.point, m.root, m.fstype) == (e.mountpoint, e.root, fs)), None)
        if twin is None:
            raise RestoreError(f"pid {t.pid}: mount {e.mnt_id} at {e.mountpoint} ({fs}) of its mount "
                               "namespace is not in the one it was made from")
        left.remove(twin)
        twins[i] = twin
    for i, e in enumerate(entries):  # propagation first: nothing done below may reach the parent's
        if i not in twins:
            continue
        cur = twins[i]
        if not e.shared_id and not e.master_id and (cur.tag("shared") or cur.tag("master")):
            mount(0, e.mountpoint, 0, MS_PRIVATE, 0, "private")
        elif e.master_id and not cur.tag("master"):
            mount(0, e.mountpoint, 0, MS_SLAVE, 0, "slave")
    for m in reversed(mounts._tree_order(now)):  # deepest first
        if m in left:
            call(nr.umount2, m.point, MNT_DETACH, what=f"umount2({m.point})")
    for i, e in enumerate(entries):
        tgt = e.mountpoint
        mflags = e.flags & mounts.PER_MOUNT
        if i in twins:
            have = mounts.entry(twins[i]).flags & mounts.PER_MOUNT
            if have != mflags:
                mount(0, tgt, 0, MS_BIND | MS_REMOUNT | mflags, 0, f"flags {mflags:#x}")
        elif e.stasis.bind_path:
            mount(e.stasis.bind_path, tgt, 0, MS_BIND, 0, f"bind of {e.stasis.bind_path}")
            mount(0, tgt, 0, MS_BIND | MS_REMOUNT | mflags, 0, f"flags {mflags:#x}")
        else:
            fs = mounts.NAMES.get(e.fstype, e.fsname)
            opts = userns.inner_options(e.options, _inside(ctx, t))
            if fs == "devpts" and "newinstance" not in opts.split(","):
                opts = ",".join(x for x in ("newinstance", opts) if x)
            ro = (mflags | e.sb_flags) & MS_RDONLY
            mount(e.source or fs, tgt, fs, (mflags | e.sb_flags) & ~MS_RDONLY, opts, fs)
            if fs == "tmpfs" and ctx.images.exists("tmpfs-dev", dev=e.root_dev):
                mounts._extract(ctx, t, e, tgt)
            if ro:
                mount(0, tgt, 0, MS_REMOUNT | MS_BIND | mflags, 0, "read-only")
        if e.stasis.unbindable:
            mount(0, tgt, 0, MS_UNBINDABLE, 0, "unbindable")
    log.debug("pid %d: a mount namespace of its own (id %d, %d mounts, %d unmounted)", t.pid, ns_id,
              len(entries), len(left))
