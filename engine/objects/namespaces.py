"""Namespaces: which ones the tree has of its own, their ids (ids-<pid>.img, inventory.root_ids) and the
state of each kind the engine rebuilds (CRIU's images: utsns, ipcns-var, timens, netns/netdev; the mount
tree is engine/objects/mounts.py).

Dump. A kind is dumped when the tree's root has a namespace of it other than the engine's (as CRIU decides).
Every namespace seen is held by an fd for the whole dump (inode numbers are reused once a namespace is
freed). What restore cannot rebuild is refused while the tree runs on, naming the process and the kind:
processes of the tree in different namespaces of one kind (but the nested user, mount, UTS, IPC, network,
cgroup namespaces of nestedns.py, the nested pid and time ones of pidns.py, timens.py), a tree-root pid
namespace without its init as the root, a process that unshared a pid or time namespace for its children
with none in it, a user namespace of the tree's owned by another uid or without a pid namespace
(userns.py), a namespace shared with a process outside the tree, and what netns.py cannot rebuild of a
network namespace (it names the device, address, route or rule).

Restore. The root helper is created in the new pid, mount, uts, ipc and net (and user) namespaces by one
clone3 (set_tid = {its pid inside, its old pid outside}); a new time namespace gets the offsets that make both
clocks continue from their dumped values before the helper enters it; then the names, the IPC and network
sysctls, lo, and the mount tree. Every other process is forked inside and inherits them.

--join-ns KIND:{PID|FILE} (criu's; engine/objects/joinns.py) puts the tree into a namespace the caller
prepared instead: load_images takes the joined kinds out of `new` (checked and held by joinns.prepare), so
clone_flags has no CLONE_NEW* for them and nothing of their dumped state is read or written (each drop is
logged); the helper setns()s into them before its exec (engine/native st_spawn_ns_helper), and restore_root
points the tree's paths (mnt) and sockets (net) at them. net, uts, ipc, time and mnt can be joined; pid and
user cannot (refused), nor can a tree with a user namespace of its own join anything.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWTIME,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    O_CLOEXEC,
    O_RDONLY,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import ipc_var_pb2, timens_pb2, userns_pb2, utsns_pb2
from engine.log import log
from engine.native import lib
from engine.objects import clone, joinns, nestedns, netns, nsworker, pidns, sysvipc, timens, userns
from engine.objects.base import KernelObject
from engine.objects.files import mqueue
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

# kind (/proc/PID/ns name), its field in task_kobj_ids_entry, its clone flag
KINDS = (
    ("pid", "pid_ns_id", CLONE_NEWPID),
    ("net", "net_ns_id", CLONE_NEWNET),
    ("ipc", "ipc_ns_id", CLONE_NEWIPC),
    ("uts", "uts_ns_id", CLONE_NEWUTS),
    ("mnt", "mnt_ns_id", CLONE_NEWNS),
    ("user", "user_ns_id", CLONE_NEWUSER),
    ("cgroup", "cgroup_ns_id", CLONE_NEWCGROUP),
    ("time", "time_ns_id", CLONE_NEWTIME),
)
FLAG = {k: f for k, _, f in KINDS}
FIELD = {k: f for k, f, _ in KINDS}
# the kinds restore can make new
BUILT = ("pid", "net", "ipc", "uts", "mnt", "time", "user", "cgroup")

CLOCK_MONOTONIC, CLOCK_BOOTTIME = 1, 7
NSEC = 1_000_000_000

# ipc_var_entry field -> sysctl under /proc/sys (kernel.sem is the four values of sem_ctls)
IPC_SYSCTLS = (
    ("msg_ctlmax", "kernel/msgmax"), ("msg_ctlmnb", "kernel/msgmnb"), ("msg_ctlmni", "kernel/msgmni"),
    ("auto_msgmni", "kernel/auto_msgmni"), ("shm_ctlmax", "kernel/shmmax"), ("shm_ctlall", "kernel/shmall"),
    ("shm_ctlmni", "kernel/shmmni"), ("shm_rmid_forced", "kernel/shm_rmid_forced"),
    ("mq_queues_max", "fs/mqueue/queues_max"), ("mq_msg_max", "fs/mqueue/msg_max"),
    ("mq_msgsize_max", "fs/mqueue/msgsize_max"), ("mq_msg_default", "fs/mqueue/msg_default"),
    ("mq_msgsize_default", "fs/mqueue/msgsize_default"), ("msg_next_id", "kernel/msg_next_id"),
    ("sem_next_id", "kernel/sem_next_id"), ("shm_next_id", "kernel/shm_next_id"),
)


# -- dump ------------------------------------------------------------------------------------------

@record
class NsDump:
    own: dict[str, int] = field(default_factory=dict)  # the engine's namespaces: kind -> inode
    root: dict[str, int] = field(default_factory=dict)  # the tree root's
    of: dict[int, dict[str, int]] = field(default_factory=dict)  # pid -> kind -> inode
    fds: dict[tuple[str, int], int] = field(default_factory=dict)  # held for the whole dump
    ids: dict[tuple[str, int], int] = field(default_factory=dict)  # CRIU's small ids
    dumped: list[str] = field(default_factory=list)  # kinds the tree has of its own
    uts: utsns_pb2.utsns_entry | None = None
    ipc: ipc_var_pb2.ipc_var_entry | None = None
    net: netns.NetDump | None = None
    timens: timens_pb2.timens_entry | None = None
    sysv: dict[str, list[Any]] = field(default_factory=dict)  # SysV objects (engine/objects/sysvipc.py)
    userns: userns_pb2.userns_entry | None = None

    def id_of(self, kind: str, ino: int) -> int:
        key = (kind, ino)
        if key not in self.ids:
            self.ids[key] = len(self.ids) + 1
        return self.ids[key]


def state(ctx: DumpContext) -> NsDump:
    return ctx.files.state(NsDump)


def _inode(pid: int | str, kind: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except FileNotFoundError:
        return None  # a kernel without this kind


def _hold(s: NsDump, pid: int | str, kind: str) -> int | None:
    """The namespace's inode, with an fd on it held (so the number cannot be reused meanwhile)."""
    try:
        fd = os.open(f"/proc/{pid}/ns/{kind}", O_RDONLY | O_CLOEXEC)
    except FileNotFoundError:
        return None
    ino = os.fstat(fd).st_ino
    if (kind, ino) in s.fds:
        os.close(fd)
    else:
        s.fds[(kind, ino)] = fd
    return ino


def check(ctx: DumpContext, t: Task) -> None:
    s = state(ctx)
    if not s.own:
        for kind, _, _ in KINDS:
            ino = _hold(s, "self", kind)
            if ino is not None:
                s.own[kind] = ino
    if not t.alive:
        _pids(ctx, s, t)  # a zombie keeps no namespaces (it is restored in its parent's), only its pids
        return
    mine: dict[str, int] = {}
    for kind in (*FLAG, "pid_for_children", "time_for_children"):
        ino = _hold(s, t.pid, kind)
        if ino is not None:
            mine[kind] = ino
    if "pid_for_children" not in mine and "pid_for_children" in os.listdir(f"/proc/{t.pid}/ns"):
        # listed but not there: a pid namespace unshared for children without its init yet
        raise UnsupportedError(f"pid {t.pid} made a pid namespace for its children (unshare(CLONE_NEWPID)) "
                               "that no process is in yet: not supported (it is restored only with its init)")
    s.of[t.pid] = mine
    if t is ctx.root:
        s.root = mine
        s.dumped = [k for k in FLAG if k in mine and mine[k] != s.own.get(k)]
    for kind in FLAG:
        if kind in mine and mine[kind] != s.root.get(kind) and kind not in ("pid", "time"):
            nestedns.check(ctx, t, kind, mine[kind])  # one of its own: refused unless it is of a kind done
    if t is ctx.root:
        if "user" in s.dumped and "pid" not in s.dumped:
            raise UnsupportedError(f"pid {t.pid} has a user namespace of its own but not a pid namespace: "
                                   "not supported yet (its processes could not get their pids back from "
                                   "inside it)")
        if "user" in s.dumped:  # before the credentials are read: they are translated through its maps
            owned = {k: _nsfd(s, k) for k in s.dumped if k != "user"}
            s.userns = userns.dump(t.pid, _nsfd(s, "user"), s.own["user"], owned)
    _pids(ctx, s, t)


def _pids(ctx: DumpContext, s: NsDump, t: Task) -> None:
    pidns.levels(ctx, s, t)


def dump_tree(ctx: DumpContext) -> None:
    s = state(ctx)
    pidns.check_tree(ctx, s)
    timens.check_tree(ctx, s)
    for kind, _, _ in KINDS:  # the engine's own namespaces first, as CRIU numbers them
        if kind in s.own:
            s.id_of(kind, s.own[kind])
    for t in ctx.tasks:
        mine = s.of.get(t.pid, s.root)
        for kind, name, _ in KINDS:
            if kind in mine:
                setattr(t.ids, name, s.id_of(kind, mine[kind]))
    pidns.number(ctx, s)
    timens.number(ctx, s)
    if "pid" in s.dumped:
        for t in ctx.tasks:
            ctx.images.virtual_pids[t.pid] = t.inner_pid
            for th in t.threads:
                ctx.images.virtual_pids[th.tid] = th.inner_tid
    if not s.dumped:
        nestedns.dump(ctx, s)
        return
    log.info("the tree has namespaces of its own: %s", ", ".join(s.dumped))
    # criu's --external net[INODE]:KEY: that namespace is the caller's, not dumped (joinns.py)
    ext_net = joinns.dump_external(ctx, "net", s.root["net"]) if "net" in s.dumped else None
    _outsiders(ctx, s, {"net"} if ext_net else set())
    root = ctx.root
    where = f"pid {root.pid}: its"
    if "uts" in s.dumped:
        s.uts = dump_uts(_nsfd(s, "uts"), f"{where} uts namespace")
    if "ipc" in s.dumped:
        s.ipc, s.sysv = dump_ipc(s, _nsfd(s, "ipc"), f"{where} IPC namespace", {t.pid for t in ctx.tasks})
    if "net" in s.dumped:
        s.net = netns.external(ext_net) if ext_net else netns.dump(ctx, _nsfd(s, "net"), root)
    if "time" in s.dumped:
        s.timens = dump_time(root.pid)
    nestedns.dump(ctx, s)


def _outsiders(ctx: DumpContext, s: NsDump, external: set[str]) -> None:
    """A namespace of the tree that a process outside it shares could not be given back to that process
    (unless it is external: the caller gives it back)."""
    for kind in s.dumped:
        if kind != "pid" and kind not in external:  # a pid ns holds only the init's descendants
            check_outsiders(ctx, kind, s.root[kind], f"the tree's {kind} namespace")


def check_outsiders(ctx: DumpContext, kind: str, ino: int, what: str) -> None:
    tree = {t.pid for t in ctx.tasks}
    for ent in os.scandir("/proc"):
        if not ent.name.isdigit() or int(ent.name) in tree or int(ent.name) == os.getpid():
            continue
        if os.path.exists(f"/proc/{ent.name}/ns/{kind}") and _inode(ent.name, kind) == ino:
            raise UnsupportedError(f"{what} is shared with pid {ent.name}, which is not in the dumped tree")


def check_owner(s: NsDump, kind: str, ino: int, user_ino: int | None, what: str) -> None:
    """A nested namespace must be owned by the tree's user namespace (the engine's, if it has none)."""
    owner = userns.owner_of(s.fds[(kind, ino)])
    want = user_ino if user_ino is not None else s.own.get("user")
    if owner != want:
        raise UnsupportedError(f"{what} is owned by another user namespace than the tree's: it could not be "
                               "made again with the same owner")


def _nsfd(s: NsDump, kind: str) -> int:
    return s.fds[(kind, s.root[kind])]


def dump_uts(fd: int, what: str) -> utsns_pb2.utsns_entry:
    """The names of the UTS namespace held by fd (the kernel takes any bytes: criu's image keeps strings)."""
    def read() -> list[str]:  # undecodable bytes as surrogates
        u = os.uname()
        return [u.nodename, os.fsdecode(_domainname())]

    node, domain = nsworker.run([(fd, CLONE_NEWUTS)], read, what)
    for kind, name in (("host", node), ("domain", domain)):
        try:
            name.encode()
        except UnicodeEncodeError:
            raise UnsupportedError(f"{what}: its {kind} name {os.fsencode(name)!r} is not UTF-8 "
                                   "(criu's utsns image keeps it as a string): not supported") from None
    return utsns_pb2.utsns_entry(nodename=node, domainname=domain)


def _domainname() -> bytes:
    try:
        with open("/proc/sys/kernel/domainname", "rb") as f:
            return f.read().strip()
    except FileNotFoundError:
        return b""


def dump_ipc(s: NsDump, fd: int, what: str, tree: set[int]) -> tuple[ipc_var_pb2.ipc_var_entry,
                                                                      dict[str, list[Any]]]:
    """The sysctls and SysV objects of the IPC namespace held by fd."""
    def read() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, path in IPC_SYSCTLS:
            out[name] = nsworker.read_text(f"/proc/sys/{path}")
        out["sem"] = nsworker.read_text("/proc/sys/kernel/sem")
        objs = {}
        for kind in ("shm", "msg", "sem"):
            text = nsworker.read_text(f"/proc/sysvipc/{kind}") or ""
            objs[kind] = max(len(text.splitlines()) - 1, 0)
        out["objects"] = objs
        out["sysv"] = sysvipc.read_objects()
        if user:  # its mount namespace of its own, owned by that user namespace: the mqueue mount needs one
            lib.st_syscall(nr.unshare, CLONE_NEWNS, 0, 0, 0, 0, 0)
        out["mq"] = mqueue.read_queues()
        return out

    # inside the tree's user namespace, if it has one: the objects' ids as its processes see them (criu's)
    user = [(_nsfd(s, "user"), CLONE_NEWUSER)] if "user" in s.dumped else []
    got = nsworker.run([*user, (fd, CLONE_NEWIPC)], read, what)
    found = {k: len(v) for k, v in got["sysv"].items()}
    if found != got["objects"]:  # /proc/sysvipc and the *_STAT walk must agree
        raise UnsupportedError(f"{what}: its objects changed while they were read "
                               f"({got['objects']} listed, {found} read)")
    e = ipc_var_pb2.ipc_var_entry()
    mqueue.to_entry(e, got["mq"], what)
    e.sem_ctls.extend(int(x) for x in got["sem"].split())
    for name, _ in IPC_SYSCTLS:
        text = got[name]
        if text is None:
            if name in ("mq_msg_default", "mq_msgsize_default") or name.endswith("_next_id"):
                continue
            text = "0"  # auto_msgmni, gone from newer kernels
        value = int(text.split()[0])
        if value < 0:  # *_next_id = -1: the kernel picks (and -1 cannot be written back)
            continue
        setattr(e, name, value)
    return e, got["sysv"]


def _clock(clk: int) -> int:
    return time.clock_gettime_ns(clk)


def _offsets(pid: int | str) -> dict[int, int]:
    out = {CLOCK_MONOTONIC: 0, CLOCK_BOOTTIME: 0}
    text = nsworker.read_text(f"/proc/{pid}/timens_offsets") or ""
    for line in text.splitlines():
        name, sec, nsec = line.split()
        clk = CLOCK_MONOTONIC if name == "monotonic" else CLOCK_BOOTTIME if name == "boottime" else int(name)
        out[clk] = int(sec) * NSEC + int(nsec)
    return out


def _ts(ns: int) -> timens_pb2.timespec:
    return timens_pb2.timespec(tv_sec=ns // NSEC, tv_nsec=ns % NSEC)


def dump_time(pid: int) -> timens_pb2.timens_entry:
    """The clocks as the processes of pid's time_for_children read them (CRIU records values, not
    offsets)."""
    theirs, mine = _offsets(pid), _offsets("self")
    now = {clk: _clock(clk) + theirs[clk] - mine[clk] for clk in (CLOCK_MONOTONIC, CLOCK_BOOTTIME)}
    e = timens_pb2.timens_entry(monotonic=_ts(now[CLOCK_MONOTONIC]), boottime=_ts(now[CLOCK_BOOTTIME]))
    e.stasis.boot_id = _boot_id()
    e.stasis.monotonic_offset = theirs[CLOCK_MONOTONIC] - mine[CLOCK_MONOTONIC]
    e.stasis.boottime_offset = theirs[CLOCK_BOOTTIME] - mine[CLOCK_BOOTTIME]
    return e


def _boot_id() -> str:
    return (nsworker.read_text("/proc/sys/kernel/random/boot_id") or "").strip()


def write_images(ctx: DumpContext) -> None:
    s = state(ctx)
    root = ctx.root.ids
    if s.uts is not None:
        ctx.images.write("utsns", s.uts, ns_id=root.uts_ns_id)
    if s.ipc is not None:
        ctx.images.write("ipcns-var", s.ipc, ns_id=root.ipc_ns_id)
        sysvipc.write_images(ctx.images, root.ipc_ns_id, s.sysv)
    if s.net is not None:
        netns.write_images(ctx.images, s.net, root.net_ns_id)
    if s.timens is not None:
        ctx.images.write("timens", s.timens, ns_id=root.time_ns_id)
    if s.userns is not None:
        ctx.images.write("userns", s.userns, ns_id=root.user_ns_id)
    nestedns.write_images(ctx, s.ids)
    timens.write_images(ctx, s.ids)


def id_translator(ctx: DumpContext, t: Task | None = None) -> Callable[[str, int], int] | None:
    """For the credentials: ids as the tree's processes see them, or as t sees them when it is in a user
    namespace nested in the tree's (None when they see the engine's)."""
    return userns.chain([state(ctx).userns, nestedns.user_of(ctx, t) if t is not None else None])


def root_ids(ctx: DumpContext) -> dict[str, int]:
    """The engine's own namespace ids, for the inventory's root_ids."""
    s = state(ctx)
    return {FIELD[k]: s.id_of(k, ino) for k, ino in s.own.items()}


def dump_done(ctx: DumpContext, kill: bool) -> None:
    s = state(ctx)
    for fd in s.fds.values():
        os.close(fd)
    s.fds.clear()


# -- restore ---------------------------------------------------------------------------------------

@record
class NsRestore:
    new: list[str] = field(default_factory=list)  # kinds the root helper gets new
    uts: utsns_pb2.utsns_entry | None = None
    ipc: ipc_var_pb2.ipc_var_entry | None = None
    net: netns.NetRestore | None = None
    timens: timens_pb2.timens_entry | None = None
    sysv: dict[str, list[Any]] = field(default_factory=dict)
    userns: userns_pb2.userns_entry | None = None
    nested_user: bool = False  # a process of the tree is in a user namespace nested in the tree's
    last_pid_was: int | None = None  # the engine's ns_last_pid before the restore first set it


def rstate(ctx: RestoreContext) -> NsRestore:
    return ctx.files.state(NsRestore)


def load_images(ctx: RestoreContext) -> None:
    """Which namespaces are new: those the root's ids name differently from the dumping engine's own."""
    s = rstate(ctx)
    own = ctx.images.read_one("inventory").root_ids
    root = ctx.root.ids
    for kind, name, _ in KINDS:
        if root.HasField(name) and own.HasField(name) and getattr(root, name) != getattr(own, name):
            s.new.append(kind)
    s.nested_user = any(t.ids.HasField("user_ns_id") and t.ids.user_ns_id != root.user_ns_id
                        for t in ctx.tasks[1:] if t.alive)
    for t in ctx.tasks[1:]:
        for kind, name, _ in KINDS:
            if nestedns.nestable(kind) or kind in ("pid", "time"):
                continue  # made as its process is forked (nestedns.enter, pidns/timens.before_clone)
            if t.alive and t.ids.HasField(name) and getattr(t.ids, name) != getattr(root, name):
                raise RestoreError(f"pid {t.inner_pid} is in another {kind} namespace than the root: nested "
                                   "namespaces are not supported yet")
    s.new = joinns.prepare(ctx, s.new, "user" in s.new)  # --join-ns: those kinds are the caller's
    bad = [k for k in s.new if k not in BUILT]
    if bad:
        raise RestoreError(f"the images have {', '.join(bad)} namespaces of their own: not supported yet")
    img = ctx.images
    if "pid" in s.new and not ctx.root.vpid:
        raise RestoreError("the tree has a pid namespace of its own but its processes' outer pids are not in "
                           "the images (Stasis records them in the cores' outer_tid)")
    if "uts" in s.new:
        s.uts = img.read_one("utsns", ns_id=root.uts_ns_id)
    if "ipc" in s.new:
        s.ipc = img.read_one("ipcns-var", ns_id=root.ipc_ns_id)
        s.sysv = sysvipc.load_images(img, root.ipc_ns_id)
    if "net" in s.new:
        s.net = netns.load_images(img, root.net_ns_id)
    if "time" in s.new:
        s.timens = img.read_one("timens", ns_id=root.time_ns_id)
    if "user" in s.new:
        s.userns = img.read_one("userns", ns_id=root.user_ns_id)
        userns.check_image(str(img.path("userns", ns_id=root.user_ns_id)), s.userns)
        if "pid" not in s.new:
            raise RestoreError("the tree has a user namespace of its own but not a pid namespace: not "
                               "supported yet")


def groups_settable(ctx: RestoreContext, t: Task | None = None) -> bool:
    """setgroups() works in the tree's user namespace, or t's nested one (/proc/PID/setgroups was not
    "deny")."""
    e = (nestedns.user_entry(ctx, t) if t is not None else None) or rstate(ctx).userns
    return e is None or not e.stasis.setgroups_deny


def in_userns(ctx: RestoreContext) -> bool:
    """Processes of the tree are restored in a user namespace of their own (the tree's or a nested one):
    they have no privilege in the engine's (no set_tid for outer pids, no pidfd_getfd on the engine)."""
    s = rstate(ctx)
    return s.userns is not None or s.nested_user


def pid_levels(ctx: RestoreContext, creator: Task, depth: int) -> tuple[int, list[Callable[[int], None]]]:
    """For a process or thread with pids on `depth` levels made by `creator`: how many of the innermost
    levels set_tid may name (the ones the creator's user namespace owns), and for each other level
    (innermost first) what sets that level's ns_last_pid to a value."""
    s = rstate(ctx)

    def engine(v: int) -> None:
        if s.last_pid_was is None:
            s.last_pid_was = int(nsworker.read_text(clone.LAST_PID) or 0)
        nsworker.write_text(clone.LAST_PID, str(v))

    if not in_userns(ctx) or (s.userns is None and creator.ids.user_ns_id == ctx.root.ids.user_ns_id):
        return depth, []  # the creator is in the engine's user namespace
    if creator.ids.user_ns_id == ctx.root.ids.user_ns_id:
        return depth - 1, [engine]  # in the tree's: all but the engine's level
    # in a nested one: the levels below the tree's pid namespace (its own, checked at dump); the tree's
    # pid namespace's ns_last_pid is written by a process in it, the engine's by the engine
    tree_depth = ctx.root.depth
    writers: list[Callable[[int], None]] = [engine]
    if tree_depth == 2:
        writers.insert(0, lambda v: _root_last_pid(ctx, v))
    if depth < tree_depth or tree_depth > 2:
        raise RestoreError(f"pid {creator.pid}: a process of a nested user namespace with pids on {depth} "
                           "levels: not supported")
    return depth - tree_depth, writers


def _root_last_pid(ctx: RestoreContext, v: int) -> None:
    """The tree's pid namespace's ns_last_pid: written by a process in it (the sysctl is the writer's pid
    namespace's), a worker's child, as the root of the tree's user namespace if it has one. It exits
    before the clone that follows, so its pids are free again."""
    kinds = ["user", "pid"] if rstate(ctx).userns is not None else ["pid"]
    nsworker.run_in(ctx.root.pid, kinds, lambda: nsworker.in_pidns(
        lambda: nsworker.write_text(clone.LAST_PID, str(v))), "the tree's ns_last_pid",
        as_root=rstate(ctx).userns is not None)


def spawned(ctx: RestoreContext, pid: int, go_fd: int, release: bool = False) -> None:
    """The root helper exists in its new namespaces: with a user namespace, its maps, then it may go on
    (release: it waits for that byte anyway, as a sibling of the engine does)."""
    s = rstate(ctx)
    userns.set_tree_root(s.userns)
    waits = s.userns is not None or release
    try:
        if s.userns is not None:
            userns.write_maps(pid, s.userns)
        if waits:
            os.write(go_fd, b"g")
    finally:
        if waits:
            os.close(go_fd)


def clone_flags(ctx: RestoreContext) -> int:
    """The namespaces the root helper is created in (a time namespace comes later: one made by clone3
    already holds the child, and its offsets could not be set any more)."""
    flags = 0
    for kind in rstate(ctx).new:
        if kind not in ("time", "cgroup"):  # cgroup: unshared in its prefix cgroups (cgroup.prepare)
            flags |= FLAG[kind]
    return flags


def restore_root(ctx: RestoreContext, root: Task) -> None:
    """In the root helper, before it rebuilds anything: time, names, IPC and network settings, mounts."""
    s = rstate(ctx)
    from engine.objects import cgroup

    cgroup.prepare(ctx, root, "cgroup" in s.new)  # first: a cgroup2 mount shows its namespace
    joinns.restore_root(ctx, root.pid)
    if not s.new:
        return
    if s.timens is not None:
        _restore_time(root, s.timens)
    if s.uts is not None:
        restore_uts(root, s.uts)
    if s.ipc is not None:
        restore_ipc(root, s.ipc, s.sysv, s.userns is not None)
    if s.net is not None:
        netns.restore(ctx, root, s.net)
    from engine.objects import mounts

    if "mnt" in s.new:
        mounts.restore_tree(ctx, root)


def _restore_time(root: Task, e: timens_pb2.timens_entry) -> None:
    inj = root.injector
    inj.call(nr.unshare, CLONE_NEWTIME, what="unshare(CLONE_NEWTIME)")
    lines = set_offsets(root.pid, e)
    inj.put_str("/proc/self/ns/time_for_children")
    fd = inj.call(nr.openat, -100, inj.scratch, O_RDONLY | O_CLOEXEC, 0, what="open(time_for_children)")
    try:
        inj.call(nr.setns, fd, CLONE_NEWTIME, what="setns(time)")
    finally:
        inj.call(nr.close, fd, what="close")
    log.debug("pid %d: in a new time namespace (%s)", root.pid, " ".join(x.strip() for x in lines))


def set_offsets(pid: int, e: timens_pb2.timens_entry) -> list[str]:
    """The offsets of pid's time_for_children (new, no process in it yet) for the clocks e names."""
    mine = _offsets("self")
    lines = []
    same_boot = e.HasField("stasis") and e.stasis.boot_id == _boot_id()
    for clk, ts in ((CLOCK_MONOTONIC, e.monotonic), (CLOCK_BOOTTIME, e.boottime)):
        if same_boot:  # the offsets it had: its clocks went on meanwhile, as its timers did
            x = e.stasis
            off = mine[clk] + (x.monotonic_offset if clk == CLOCK_MONOTONIC else x.boottime_offset)
        else:  # criu's: both clocks go on from the values at the dump
            off = ts.tv_sec * NSEC + ts.tv_nsec - (_clock(clk) - mine[clk])
        lines.append(f"{clk} {off // NSEC} {off % NSEC}\n")
    try:
        nsworker.write_text(f"/proc/{pid}/timens_offsets", "".join(lines))
    except OSError as exc:
        raise RestoreError(f"pid {pid}: cannot set its time namespace's offsets: {exc}") from exc
    return lines


def restore_uts(t: Task, e: utsns_pb2.utsns_entry) -> None:
    inj = t.injector
    for call, name in ((nr.sethostname, e.nodename), (nr.setdomainname, e.domainname)):
        data = name.encode()
        inj.put(data)
        fn = "sethostname" if call == nr.sethostname else "setdomainname"
        inj.call(call, inj.scratch, len(data), what=f"{fn}({name})")


def restore_ipc(root: Task, e: ipc_var_pb2.ipc_var_entry, sysv: dict[str, list[Any]], userns: bool) -> None:
    """By a worker in the namespace (and as the root of the tree's user namespace, if it has one: the
    IPC sysctls there are writable by that root only, and the objects' ids are that namespace's)."""
    values: list[tuple[str, str]] = []
    if e.sem_ctls:
        values.append(("kernel/sem", " ".join(str(x) for x in e.sem_ctls)))
    for name, path in IPC_SYSCTLS:
        if e.HasField(name) and name != "auto_msgmni":
            values.append((path, str(getattr(e, name))))

    later = [(p, t) for p, t in values if p.endswith("_next_id")]  # after the objects (they use it)
    # shm_rmid_forced destroys unattached segments: sysvipc.restore_done sets it once they are attached
    values = [(p, t) for p, t in values if not p.endswith("_next_id") and p != "kernel/shm_rmid_forced"]

    def write() -> None:
        for path, text in values:  # the limits first: the objects must fit in them
            full = f"/proc/sys/{path}"
            if not os.path.exists(full):
                continue
            now = nsworker.read_text(full) or ""
            if " ".join(now.split()) != text:
                nsworker.write_text(full, text)
        sysvipc.make_objects(sysv)
        for path, text in later:
            nsworker.write_text(f"/proc/sys/{path}", text)

    try:
        nsworker.run_in(root.pid, ["user", "ipc"] if userns else ["ipc"], write,
                        f"pid {root.pid}: ipc namespace", as_root=userns)
    except (OSError, RuntimeError) as exc:
        raise RestoreError(str(exc)) from exc


def _settle_last_pid(ctx: RestoreContext) -> None:
    """The engine's ns_last_pid set back past every pid the tree needs and where it was before: else the
    next process forked (the next restore's engine, after a failed one) takes a pid the tree must have."""
    s = rstate(ctx)
    if s.last_pid_was is None:
        return
    want = max([s.last_pid_was, *(th.tid for t in ctx.tasks for th in t.threads)])
    if int(nsworker.read_text(clone.LAST_PID) or 0) < want:
        nsworker.write_text(clone.LAST_PID, str(want))
    s.last_pid_was = None


def restore_done(ctx: RestoreContext) -> None:
    _settle_last_pid(ctx)
    joinns.done(ctx)
    netns.restore_done(ctx)
    userns.set_tree_root(None)


OBJECT = KernelObject("namespaces", check=check, dump_tree=dump_tree, write_images=write_images,
                      dump_done=dump_done, load_images=load_images, restore_done=restore_done,
                      restore_abort=restore_done)
