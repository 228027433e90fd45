"""Namespaces of processes of the tree other than the root's: a user, mount, UTS, IPC or network namespace
that a process made for itself (unshare) and its descendants, e.g. a child with a hostname, SysV objects,
links or mounts of its own, or an unprivileged child's own user namespace (pid and time namespaces nested in
the tree's are pidns.py and timens.py).

Dump. Each such namespace gets its own id (ids-<pid>.img) and its state in the images of that id
(userns-<id>.img, mountpoints-<id>.img, utsns-<id>.img, ipcns-var-<id>.img and the SysV images,
netns/netdev/ifaddr/route images), read by a worker in it as the root's are. A user namespace must be a
child of the tree's (userns.dump_nested: maps and owner in its parent's view); every other one must be owned
by the user namespace of its first process, and no process outside the tree may share it. Sockets in a
nested network namespace are refused (they are made in the tree's); what nestedmnt.py cannot rebuild of a
mount namespace is refused there. A cgroup namespace's root is in cgroup.img (engine/objects/cgroup.py).

Restore. A process whose namespace of a kind differs from the one of the process it is forked by gets it
right after its clone3, before anything else is rebuilt in it, its user namespace first (the others are
then owned by it): the first process of that namespace makes it (an injected unshare; the engine, or a
worker in the parent user namespace, writes a new user namespace's maps; a cgroup namespace is made
after the engine moved it into the namespace's root cgroups) and gives it its state; the next
ones enter it (setns on an fd of the first one's, handed over by the engine).
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any

from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    O_RDONLY,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import ipc_var_pb2, userns_pb2, utsns_pb2
from engine.log import log
from engine.objects import nestedmnt, netns, nsworker, sysvipc, userns
from engine.objects.intask import open_by_engine
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

# a user namespace first: at restore the others are made inside it (so owned by it)
NESTABLE = {"user": CLONE_NEWUSER, "mnt": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC,
            "net": CLONE_NEWNET, "cgroup": CLONE_NEWCGROUP}
FIELD = {"user": "user_ns_id", "mnt": "mnt_ns_id", "uts": "uts_ns_id", "ipc": "ipc_ns_id", "net": "net_ns_id",
         "cgroup": "cgroup_ns_id"}


# -- dump ------------------------------------------------------------------------------------------

@record
class NestedDump:
    found: dict[tuple[str, int], int] = field(default_factory=dict)  # (kind, inode) -> first pid in it
    uts: dict[int, utsns_pb2.utsns_entry] = field(default_factory=dict)  # inode -> names
    ipc: dict[int, tuple[ipc_var_pb2.ipc_var_entry, dict[str, list[Any]]]] = field(default_factory=dict)
    net: dict[int, netns.NetDump] = field(default_factory=dict)
    user: dict[int, userns_pb2.userns_entry] = field(default_factory=dict)  # inode -> maps, owner


def state(ctx: DumpContext) -> NestedDump:
    return ctx.files.state(NestedDump)


def check(ctx: DumpContext, t: Task, kind: str, ino: int) -> None:
    """t is in a namespace of `kind` other than the root's (namespaces.check found it)."""
    if kind not in NESTABLE:
        raise UnsupportedError(f"pid {t.pid} is in another {kind} namespace than the tree's root "
                               f"{ctx.root.pid}: nested {kind} namespaces are not supported yet (only "
                               "user, mount, UTS, IPC, network and cgroup namespaces of a process of the "
                               "tree's own are)")
    s = state(ctx)
    s.found.setdefault((kind, ino), t.pid)
    if kind == "user" and ino not in s.user:  # now: the credentials are read through its maps
        from engine.objects import namespaces

        ns = namespaces.state(ctx)
        groups = [int(g) for g in t.leader.facts.status["Groups"].split()]
        s.user[ino] = userns.dump_nested(t.pid, ns.fds[("user", ino)], ns.root.get("user"), ns.userns,
                                         groups)


def user_of(ctx: DumpContext, t: Task) -> userns_pb2.userns_entry | None:
    """t's user namespace when it is one nested below the tree's."""
    from engine.objects import namespaces

    ino = namespaces.state(ctx).of.get(t.pid, {}).get("user")
    return state(ctx).user.get(ino) if ino is not None else None


def dump(ctx: DumpContext, ns: Any) -> None:
    """The state of every nested namespace; `ns` is namespaces' dump state (its held fds and owners)."""
    from engine.objects import namespaces

    s = state(ctx)
    if not s.found:
        return
    tree = {t.pid for t in ctx.tasks}
    user = ns.root.get("user")
    for (kind, ino), pid in s.found.items():
        where = f"pid {pid}: its own {kind} namespace"
        if kind != "user":  # owned by the user namespace its first process is in
            namespaces.check_owner(ns, kind, ino, ns.of[pid].get("user", user), where)
        namespaces.check_outsiders(ctx, kind, ino, where)
        fd = ns.fds[(kind, ino)]
        if kind == "user":
            continue  # read by check()
        if kind == "mnt":
            first = next(t for t in ctx.tasks if t.pid == pid)
            nestedmnt.dump(ctx, ns, ino, first)
            for t in ctx.tasks:
                if t.alive and ns.of.get(t.pid, {}).get("mnt") == ino:
                    nestedmnt.check_paths(ctx, t, ctx.root)
            continue
        if kind == "cgroup":
            continue  # its root is each member's cgns_prefix in cgroup.img (engine/objects/cgroup.py)
        if kind == "uts":
            s.uts[ino] = namespaces.dump_uts(fd, where)
        elif kind == "net":
            _no_sockets(ctx, ns, ino, where)
            s.net[ino] = netns.dump(ctx, fd, next(t for t in ctx.tasks if t.pid == pid))
        else:
            var, objs = namespaces.dump_ipc(ns, fd, where, tree)
            sysvipc.check_nested(ctx, objs, where)
            if any(seg["nattch"] for seg in objs.get("shm", [])) or var.stasis.mqueues:
                raise UnsupportedError(f"{where} has attached SysV segments or POSIX message queues: in a "
                                       "nested IPC namespace these are not supported yet")
            s.ipc[ino] = (var, objs)


def _no_sockets(ctx: DumpContext, ns: Any, ino: int, where: str) -> None:
    """Sockets are made in the tree's network namespace at restore: one in a nested one is refused."""
    for t in ctx.tasks:
        if ns.of.get(t.pid, {}).get("net") != ino:
            continue
        for fd in os.listdir(f"/proc/{t.pid}/fd"):
            try:
                link = os.readlink(f"/proc/{t.pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:"):
                raise UnsupportedError(f"{where}: pid {t.pid} holds a socket (fd {fd}) there: sockets in a "
                                       "nested network namespace are not supported yet")


def write_images(ctx: DumpContext, ids: dict[tuple[str, int], int]) -> None:
    s = state(ctx)
    nestedmnt.write_images(ctx, ids)
    for ino, e in s.user.items():
        ctx.images.write("userns", e, ns_id=ids[("user", ino)])
    for ino, net in s.net.items():
        netns.write_images(ctx.images, net, ids[("net", ino)])
    for ino, e in s.uts.items():
        ctx.images.write("utsns", e, ns_id=ids[("uts", ino)])
    for ino, (var, objs) in s.ipc.items():
        nid = ids[("ipc", ino)]
        ctx.images.write("ipcns-var", var, ns_id=nid)
        sysvipc.write_images(ctx.images, nid, objs)


# -- restore ---------------------------------------------------------------------------------------

@record
class NestedRestore:
    holders: dict[tuple[str, int], Task] = field(default_factory=dict)  # (kind, id) -> its first process
    sysv: dict[int, dict[str, list[Any]]] = field(default_factory=dict)  # IPC namespace id -> its objects


def rstate(ctx: RestoreContext) -> NestedRestore:
    return ctx.files.state(NestedRestore)


def enter(ctx: RestoreContext, t: Task, creator: Task) -> None:
    """Right after t's clone3 by `creator`: the namespaces t has other than the ones it inherited."""
    if not t.alive:
        return  # a zombie keeps no namespaces
    from engine.objects import namespaces

    s = rstate(ctx)
    for kind, flag in NESTABLE.items():
        mine = getattr(t.ids, FIELD[kind])
        if mine == getattr(creator.ids, FIELD[kind]):
            continue
        holder = s.holders.get((kind, mine))
        if holder is None and mine == getattr(ctx.root.ids, FIELD[kind]):
            holder = ctx.root  # back in the root's (its parent had one of its own)
        if holder is not None:
            fd = open_by_engine(ctx, t, f"/proc/{holder.pid}/ns/{kind}", O_RDONLY)
            try:
                t.injector.call(nr.setns, fd, flag, what=f"setns({kind} of pid {holder.pid})")
            finally:
                t.injector.call(nr.close, fd, what="close")
            log.debug("pid %d: in the %s namespace of pid %d", t.pid, kind, holder.pid)
            continue
        img = ctx.images
        if kind == "user":
            _new_user(ctx, t, mine)
            s.holders[(kind, mine)] = t
            continue
        if kind == "mnt":
            nestedmnt.restore(ctx, t, mine)
            s.holders[(kind, mine)] = t
            continue
        if kind == "cgroup":  # made where its root is: t enters those cgroups first
            from engine.objects import cgroup

            cgroup.enter_prefix(ctx, t)
        t.injector.call(nr.unshare, flag, what=f"unshare({kind})")
        if kind == "uts":
            namespaces.restore_uts(t, img.read_one("utsns", ns_id=mine))
        elif kind == "net":
            netns.restore(ctx, t, netns.load_images(img, mine), sockets_here=False)
        elif kind == "ipc":
            s.sysv[mine] = sysvipc.load_images(img, mine)
            namespaces.restore_ipc(t, img.read_one("ipcns-var", ns_id=mine), s.sysv[mine],
                                   namespaces.rstate(ctx).userns is not None)
        s.holders[(kind, mine)] = t
        log.debug("pid %d: a %s namespace of its own (id %d)", t.pid, kind, mine)


def _new_user(ctx: RestoreContext, t: Task, ns_id: int) -> None:
    """t makes its user namespace as its owner (the uid it had then, in the tree's namespace), then the
    maps are written from the parent namespace: by the engine, or by a worker as the tree's root."""
    from engine.objects import namespaces

    img = ctx.images
    e = img.read_one("userns", ns_id=ns_id)
    userns.check_image(str(img.path("userns", ns_id=ns_id)), e, need_root=False)
    owner = e.stasis.owner_uid
    if e.stasis.setgroups_deny and namespaces.groups_settable(ctx):  # they cannot change inside
        groups = list(e.stasis.groups)
        inj = t.injector
        if groups:
            inj.put(struct.pack(f"<{len(groups)}I", *groups))
        inj.call(nr.setgroups, len(groups), inj.scratch if groups else 0, what="setgroups")
    if owner:
        t.injector.call(nr.setresuid, owner, owner, owner, what=f"setresuid({owner}): its namespace's owner")
    t.injector.call(nr.unshare, CLONE_NEWUSER, what="unshare(user)")
    tree = namespaces.rstate(ctx).userns
    try:
        if tree is None:
            userns.write_maps(t.pid, e)
        else:
            nsworker.run_in(ctx.root.pid, ["user"], lambda: userns.write_maps(t.pid, e),
                            f"pid {t.pid}: its user namespace's maps", as_root=True)
    except (OSError, RuntimeError) as exc:
        raise RestoreError(str(exc)) from exc
    log.debug("pid %d: a user namespace of its own (id %d, owner %d)", t.pid, ns_id, owner)


def user_entry(ctx: RestoreContext, t: Task) -> userns_pb2.userns_entry | None:
    """At restore: t's user namespace when it is nested below the tree's (read again: small)."""
    if t.ids.user_ns_id == ctx.root.ids.user_ns_id or not t.ids.HasField("user_ns_id"):
        return None
    return ctx.images.read_one("userns", ns_id=t.ids.user_ns_id)


def sysv_of(ctx: RestoreContext, t: Task) -> dict[str, list[Any]] | None:
    """The SysV objects of t's IPC namespace when it is a nested one (None: the root's)."""
    return rstate(ctx).sysv.get(t.ids.ipc_ns_id)


def nestable(kind: str) -> bool:
    return kind in NESTABLE
