"""cgroups as CRIU keeps them: each process's cgroup in every hierarchy (cgroup v1 controllers such as
`cpu`, `memory`, `name=systemd`, and cgroup v2, named "") in cgroup.img's sets, core's tc.cg_set naming
its set and the inventory's root_cg_set the dumping engine's own (which is not written); the directories
of the tree's own cgroups with their controller properties; and the cgroup namespace of the tree's root,
as the prefix of each path that is that namespace's root (cgns_prefix). Pure v2 hosts (/sys/fs/cgroup is
cgroup2) and hybrid ones (v1 controllers plus v2 at /sys/fs/cgroup/unified) alike: every hierarchy is
found through the engine's mounts of it (/proc/self/mountinfo).

Dump. /proc/PID/cgroup as the engine sees it gives the paths; with a cgroup namespace of the tree's own,
the same file read by a worker in that namespace gives the paths inside it, and the difference is the
prefix (the path must end with the inside one). Sets are numbered as CRIU does: the engine's first (1),
then each new combination of paths and prefixes. Refused while the tree runs: a thread in another cgroup
than its process (v2 threaded cgroups, v1 per-thread placement), a cgroup that restore could not reach
(no mount of its hierarchy in the engine, a path outside the engine's mount or cgroup namespace), and
(in namespaces.py/nestedns.py) processes of the tree in different cgroup namespaces. Unless
`--manage-cgroups=ignore`, the directories at and below each process's cgroup are dumped with their
properties (CRIU's lists per v1 controller, and Stasis's for v2: cgroup.subtree_control, memory.max,
cpu.weight, pids.max, ...), except the engine's own cgroups and their ancestors, which restore needs
nothing of.

Restore (`--manage-cgroups[=MODE]`, criu's modes; `--cgroup-root [controller:]/path` moves a hierarchy's
dumped cgroups under another root). Before anything is rebuilt (namespaces.restore_root calls prepare):
the directories of the images are checked or created and their properties written, parents first, as
the mode says — none (the default in Stasis: every directory must exist, nothing is written), props (must
exist, properties written), soft (created when missing, properties written only on the created ones,
criu's default), full (created when missing, properties written on all), strict (none may exist: all are
created and written), ignore (cgroups are left alone: processes stay in the engine's). Then, if the tree
had a cgroup namespace, the root helper is moved into the prefix cgroups and unshares one there. Each
process is moved into its cgroups (cgroup.procs of each hierarchy) before its threads exist; a process of
the dumping engine's set goes to the restoring engine's cgroups. A cgroup that cannot be entered or made is
a RestoreError naming it; directories the restore made are removed again if it fails. Memory the restore
allocated before the move stays charged where it was (v2 does not move charges).

Images of older Stasis versions have only the v2 path in core's tc.stasis.cgroup: still read (nothing
writes it any more).
"""

from __future__ import annotations

import errno
import os
import time
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import CLONE_NEWCGROUP, O_CLOEXEC, O_RDONLY
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import cgroup_pb2
from engine.log import log
from engine.objects import nsworker
from engine.objects.base import KernelObject, Phase, Stage
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

V2 = ""  # cgroup v2's hierarchy, as /proc/PID/cgroup and cgroup.img name it
MODES = ("none", "props", "soft", "full", "strict", "ignore")
DEFAULT_MODE = "none"  # without --manage-cgroups: enter existing cgroups only (criu's default is soft)

# the properties dumped per controller: criu's lists for v1 (in criu's order: memory.limit_in_bytes before
# memory.memsw.limit_in_bytes), with the ones every v1 hierarchy has
V1_PROPS = {
    "cpu": ("cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.rt_period_us", "cpu.rt_runtime_us"),
    "memory": ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness",
               "memory.soft_limit_in_bytes", "memory.move_charge_at_immigrate", "memory.oom_control",
               "memory.use_hierarchy", "memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes"),
    "cpuset": ("cpuset.cpus", "cpuset.mems", "cpuset.memory_migrate", "cpuset.cpu_exclusive",
               "cpuset.mem_exclusive", "cpuset.mem_hardwall", "cpuset.memory_spread_page",
               "cpuset.memory_spread_slab", "cpuset.sched_load_balance", "cpuset.sched_relax_domain_level"),
    "blkio": ("blkio.weight",),
    "net_cls": ("net_cls.classid",),
    "net_prio": ("net_prio.ifpriomap",),
    "pids": ("pids.max",),
    "devices": ("devices.list",),
}
V1_GLOBAL = ("cgroup.clone_children", "notify_on_release", "cgroup.procs", "tasks")
# cgroup v2 (Stasis's list; criu has none): the type (only "threaded" can be written) and subtree_control
# first, they decide which controllers' files appear
V2_PROPS = ("cgroup.type", "cgroup.subtree_control", "cgroup.max.depth", "cgroup.max.descendants",
            "cpuset.cpus", "cpuset.mems", "cpu.weight", "cpu.max", "memory.min", "memory.low", "memory.high",
            "memory.max", "memory.swap.max", "memory.oom.group", "pids.max", "io.weight", "cgroup.procs")
NO_VALUE = ("cgroup.procs", "tasks")  # only their permissions are kept (criu's)
LLONG_MAX = (1 << 63) - 1


def parse(text: str) -> dict[str, str]:
    """/proc/PID/cgroup: hierarchy name -> path."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            out[parts[1]] = parts[2]
    return out


def read(path: str) -> dict[str, str] | None:
    try:
        return parse(proc.read_str(path))
    except (FileNotFoundError, ProcessLookupError):
        return None


def v2_path(path: str) -> str | None:
    """The cgroup v2 path in a /proc/.../cgroup file, None if it has no v2 line."""
    got = read(path)
    return None if got is None else got.get(V2)


def hierarchies() -> dict[str, tuple[str, str]]:
    """The engine's first mount of each hierarchy of /proc/self/cgroup: name -> (root inside it, point)."""
    names = list(parse(proc.read_str("/proc/self/cgroup")))
    out: dict[str, tuple[str, str]] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(rfields) < 3 or rfields[0] not in ("cgroup", "cgroup2"):
                continue
            root, point = _unescape(fields[3]), _unescape(fields[4])
            if rfields[0] == "cgroup2":
                out.setdefault(V2, (root, point))
                continue
            opts = set(rfields[2].split(","))
            for name in names:
                if name and name not in out and set(name.split(",")) <= opts:
                    out[name] = (root, point)
    return out


def _unescape(s: str) -> str:
    return s.encode().decode("unicode_escape") if "\\" in s else s


def cgroup2_mount() -> tuple[str, str] | None:
    """(root inside the hierarchy, mount point) of the engine's first cgroup2 mount."""
    return next(((m.root, m.point) for m in proc.mounts("self") if m.fstype == "cgroup2"), None)


def directory(mounts: dict[str, tuple[str, str]], name: str, cg: str, must_exist: bool = True) -> str | None:
    """Where the engine sees cgroup `cg` of hierarchy `name`, None if it cannot."""
    mnt = mounts.get(name)
    if mnt is None or not cg.startswith("/") or "/.." in cg:
        return None
    root, point = mnt
    root = root.rstrip("/")
    if root and cg != root and not cg.startswith(root + "/"):
        return None
    d = point.rstrip("/") + cg[len(root):]
    if must_exist and not os.path.isfile(os.path.join(d, "cgroup.procs")):
        return None
    return d


def _label(name: str) -> str:
    return "cgroup v2" if name == V2 else f"cgroup {name}"


# -- dump ------------------------------------------------------------------------------------------

Member = tuple[str, str, int]  # hierarchy, path, cgns prefix length


@record
class CgDump:
    engine: dict[str, str] = field(default_factory=dict)  # the engine's cgroups
    mounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    sets: list[tuple[Member, ...]] = field(default_factory=list)  # index + 1 = set id; [0] the engine's
    of: dict[int, int] = field(default_factory=dict)  # pid -> set id


def state(ctx: DumpContext) -> CgDump:
    return ctx.files.state(CgDump)


def _set_id(s: CgDump, members: tuple[Member, ...]) -> int:
    if members not in s.sets:
        s.sets.append(members)
    return s.sets.index(members) + 1


def _prefixes(ctx: DumpContext, t: Task, outside: dict[str, str]) -> dict[str, int]:
    """criu's cgns_prefix per hierarchy: the part of each path (as the engine sees it) that is the root of
    t's cgroup namespace, from the same file read inside that namespace."""
    what = f"pid {t.pid}: its cgroup namespace"
    fd = os.open(f"/proc/{t.pid}/ns/cgroup", O_RDONLY | O_CLOEXEC)
    try:
        text = nsworker.run([(fd, CLONE_NEWCGROUP)], lambda: proc.read_str(f"/proc/{t.pid}/cgroup"), what)
    finally:
        os.close(fd)
    inside = parse(text)
    out: dict[str, int] = {}
    for name, ext in outside.items():
        intern = inside.get(name)
        if intern is None:
            raise UnsupportedError(f"{what}: /proc/{t.pid}/cgroup has no {_label(name)} line inside it")
        n = cgns_prefix(ext, intern)
        if n is None:
            raise UnsupportedError(f"{what}: its {_label(name)} {ext} is {intern} inside it, not below the "
                                   "namespace's root: restore could not make that namespace again")
        if n:
            out[name] = n
    return out


def cgns_prefix(ext: str, intern: str) -> int | None:
    """criu's cgns_prefix: how much of `ext` (a path as the engine sees it) is the cgroup namespace's root,
    given `intern` (the same cgroup seen inside); 0 for none, None if intern is not a suffix of ext."""
    if intern == ext:
        return 0  # unshared at the hierarchy's root (or no namespace): no prefix
    rest = intern[1:]
    if intern.startswith("/..") or not intern.startswith("/") or not ext.endswith(rest):
        return None
    n = len(ext) - len(rest)
    if n > 1 and ext[n - 1] == "/":
        n -= 1
    return n


def check(ctx: DumpContext, t: Task) -> None:
    s = state(ctx)
    if not s.sets:
        s.engine = read("/proc/self/cgroup") or {}
        s.mounts = hierarchies()
        s.sets.append(tuple((n, p, 0) for n, p in sorted(s.engine.items())))
    if not t.alive:
        return
    mine = read(f"/proc/{t.pid}/cgroup")
    if mine is None:
        return
    for th in t.threads[1:]:
        theirs = read(f"/proc/{t.pid}/task/{th.tid}/cgroup")
        for name, path in (theirs or {}).items():
            if mine.get(name) != path:
                kind = "threaded cgroups are" if name == V2 else \
                    "threads in other cgroups than their process are"
                raise UnsupportedError(f"thread {th.tid} of pid {t.pid} is in {_label(name)} {path}, its "
                                       f"process in {mine.get(name)}: {kind} not supported")
    for name, path in mine.items():
        if path == s.engine.get(name):
            continue
        if name not in s.engine:
            raise UnsupportedError(f"pid {t.pid} is in {_label(name)} {path}, a hierarchy the engine is not "
                                   "in: restore could not put it back")
        d = directory(s.mounts, name, path)
        if d is None:
            raise UnsupportedError(f"pid {t.pid}: its {_label(name)} {path} is not reachable through a mount "
                                   "of that hierarchy in the engine, so restore could not put it back")
        if name == V2 and _read_value(os.path.join(d, "cgroup.type")) == "threaded":
            raise UnsupportedError(f"pid {t.pid} is in threaded cgroup v2 {path}: a process is restored "
                                   "through cgroup.procs, which a threaded group refuses: not supported")
    # each process's prefixes from its own cgroup namespace (criu has one in the tree, the root's, and
    # copies its prefixes to every set: the same result then)
    prefix = _prefixes(ctx, t, mine) if _ns_inode(t.pid) != _ns_inode("self") else {}
    members = tuple((name, path, prefix.get(name, 0)) for name, path in sorted(mine.items()))
    s.of[t.pid] = _set_id(s, members)


def _ns_inode(pid: int | str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/cgroup").st_ino
    except FileNotFoundError:
        return None


def dump(ctx: DumpContext, t: Task) -> None:
    sid = state(ctx).of.get(t.pid)
    if sid is not None:
        t.core.tc.cg_set = sid


def root_set(ctx: DumpContext) -> int:
    """The inventory's root_cg_set: the dumping engine's own set."""
    return 1


def _perms(st: os.stat_result) -> cgroup_pb2.cgroup_perms:
    return cgroup_pb2.cgroup_perms(mode=st.st_mode, uid=st.st_uid, gid=st.st_gid)


def _props(name: str) -> list[str]:
    if name == V2:
        return list(V2_PROPS)
    out: list[str] = []
    for c in name.split(","):
        out += V1_PROPS.get(c, ())
    return out + [p for p in V1_GLOBAL if p not in out]


def _dir_entry(d: str, dir_name: str, props: list[str]) -> cgroup_pb2.cgroup_dir_entry:
    e = cgroup_pb2.cgroup_dir_entry(dir_name=dir_name)
    e.dir_perms.CopyFrom(_perms(os.stat(d)))
    for p in props:
        full = os.path.join(d, p)
        try:
            fd = os.open(full, O_RDONLY | O_CLOEXEC)
        except FileNotFoundError:
            continue  # not on this kernel, or the controller is not enabled here
        try:
            st = os.fstat(fd)
            value = "" if p in NO_VALUE else os.read(fd, 1 << 16).decode().rstrip("\n")
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP, errno.EACCES):  # write-only (devices.allow...)
                continue
            raise
        finally:
            os.close(fd)
        if p == "memory.oom_control":  # criu keeps oom_kill_disable's value only
            value = value.split("\n")[0].split()[-1]
        elif value.lstrip("-").isdigit() and int(value) == LLONG_MAX:
            value = "-1"
        prop = e.properties.add(name=p, value=value)
        prop.perms.CopyFrom(_perms(st))
    for ent in sorted(os.scandir(d), key=lambda x: x.name):
        if ent.is_dir(follow_symlinks=False):
            try:
                e.children.append(_dir_entry(ent.path, ent.name, props))
            except FileNotFoundError:
                continue  # removed meanwhile by someone outside the tree: nothing to keep
    return e


def _controllers(ctx: DumpContext, s: CgDump) -> list[cgroup_pb2.cg_controller_entry]:
    heads: dict[str, list[str]] = {}
    for members in s.sets[1:]:
        for name, path, _ in members:
            mine = s.engine.get(name, "/")
            if mine == path or mine.startswith(path.rstrip("/") + "/") or path == "/":
                continue  # the engine's cgroup or above it: there already, nothing to make
            got = heads.setdefault(name, [])
            if path in got or any(path.startswith(h + "/") for h in got):
                continue
            got[:] = [h for h in got if not h.startswith(path + "/")] + [path]
    out = []
    for name in sorted(s.engine):
        c = cgroup_pb2.cg_controller_entry(cnames=name.split(","))
        if ctx.opts.manage_cgroups != "ignore":
            for path in sorted(heads.get(name, [])):
                d = directory(s.mounts, name, path)
                assert d is not None  # check refused what it cannot reach
                c.dirs.append(_dir_entry(d, path.lstrip("/"), _props(name)))
        out.append(c)
    return out


def write_images(ctx: DumpContext) -> None:
    s = state(ctx)
    if len(s.sets) <= 1:
        return  # every process in the engine's cgroups (criu writes no image then)
    e = cgroup_pb2.cgroup_entry()
    for i, members in enumerate(s.sets[1:], start=2):
        cs = e.sets.add(id=i)
        for name, path, n in members:
            m = cs.ctls.add(name=name, path=path)
            if n:
                m.cgns_prefix = n
    e.controllers.extend(_controllers(ctx, s))
    ctx.images.write("cgroup", e)


# -- restore ---------------------------------------------------------------------------------------

@record
class CgRestore:
    mode: str = DEFAULT_MODE
    sets: dict[int, list[Member]] = field(default_factory=dict)
    controllers: list[cgroup_pb2.cg_controller_entry] = field(default_factory=list)
    root_set: int = 0
    mounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    engine: dict[str, str] = field(default_factory=dict)  # the restoring engine's cgroups
    made: list[str] = field(default_factory=list)  # directories this restore created, in order


def rstate(ctx: RestoreContext) -> CgRestore:
    return ctx.files.state(CgRestore)


def load_images(ctx: RestoreContext) -> None:
    s = rstate(ctx)
    s.mode = ctx.opts.manage_cgroups or DEFAULT_MODE
    s.engine = read("/proc/self/cgroup") or {}
    s.mounts = hierarchies()
    s.root_set = ctx.images.read_one("inventory").root_cg_set
    if ctx.images.exists("cgroup"):
        e = ctx.images.read_one("cgroup")
        s.controllers = list(e.controllers)
        for cs in e.sets:
            s.sets[cs.id] = [(m.name, m.path, m.cgns_prefix) for m in cs.ctls]
        _new_roots(ctx, s)
    elif s.mode == "ignore":  # the sets are never looked up
        return
    for t in ctx.tasks:  # also without cgroup.img: a set that is not the root's must be in it
        if t.alive and t.core.tc.HasField("cg_set") and t.core.tc.cg_set != s.root_set \
                and t.core.tc.cg_set not in s.sets:
            raise RestoreError(f"pid {t.inner_pid}: its cgroup set {t.core.tc.cg_set} is not in cgroup.img")


def _matches(cnames: list[str], name: str) -> bool:
    """criu's cgroup_contains: the controller entry of hierarchy `name`."""
    if cnames == [V2]:
        return name == V2
    have = set(name.split(","))
    return bool(cnames) and all(c in have for c in cnames)


def _new_roots(ctx: RestoreContext, s: CgRestore) -> None:
    """--cgroup-root [controller:]/path, as criu rewrites the images: each dumped head directory of the
    controller moves to the new root, and so do the paths of the sets below it."""
    opts = ctx.opts.cgroup_roots
    if not opts:
        return
    for c in s.controllers:
        new = None
        for ctl, root in opts:
            if ctl is not None and (ctl == V2 and list(c.cnames) == [V2] or ctl in c.cnames):
                if new is not None and new != root:
                    raise RestoreError(f"--cgroup-root: two new roots for {','.join(c.cnames)}: {new} {root}")
                new = root
        if new is None:
            new = next((r for ctl, r in opts if ctl is None), None)
        if new is None:
            continue
        for d in c.dirs:
            head = d.dir_name
            moved = None
            for sid, members in s.sets.items():
                for i, (name, path, n) in enumerate(members):
                    if not _matches(list(c.cnames), name) or not (path[1:] + "/").startswith(head + "/"):
                        continue
                    if n:
                        members[i] = (name, new.rstrip("/") + path[n:], len(new.rstrip("/")))
                        moved = moved or new.rstrip("/") + "/" + head[n:].lstrip("/")
                    else:
                        members[i] = (name, new.rstrip("/") + path[len(head) + 1:], 0)
                        moved = moved or new
                    s.sets[sid] = members
            log.info("cgroup %s: %s moved to %s", ",".join(c.cnames) or "v2", head, moved or new)
            d.dir_name = (moved or new).strip("/")


def _hierarchy(s: CgRestore, c: cgroup_pb2.cg_controller_entry) -> str | None:
    return next((n for n in s.engine if _matches(list(c.cnames), n)), None)


def _write(path: str, value: str, what: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"{what}: cannot open {path}: {exc.strerror}") from exc
    try:
        os.write(fd, value.encode())
    except OSError as exc:
        if exc.errno == errno.EOPNOTSUPP:  # deprecated knobs (memory.kmem.limit_in_bytes): criu warns too
            log.warning("%s: %s is not supported any more (%r not written)", what, path, value)
            return
        raise RestoreError(f"{what}: cannot write {value!r} to {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)


def _restore_perms(path: str, perms: cgroup_pb2.cgroup_perms, what: str) -> None:
    st = os.stat(path)
    try:
        if st.st_mode != perms.mode:
            os.chmod(path, perms.mode & 0o7777)
        if (st.st_uid, st.st_gid) != (perms.uid, perms.gid):
            os.chown(path, perms.uid, perms.gid)
    except OSError as exc:
        raise RestoreError(f"{what}: cannot set the owner and mode of {path}: {exc.strerror}") from exc


def _read_value(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().rstrip("\n")
    except OSError:
        return None


def _write_props(d: str, e: cgroup_pb2.cgroup_dir_entry, what: str) -> None:
    for p in e.properties:
        full = os.path.join(d, p.name)
        if not os.path.exists(full):
            raise RestoreError(f"{what}: {d} has no {p.name} (the controller is not available there)")
        if p.HasField("perms"):
            _restore_perms(full, p.perms, what)
        if p.name in NO_VALUE:
            continue
        now = _read_value(full)
        if p.name == "cgroup.type":
            if p.value == "threaded" and now != p.value:  # the other types follow from the tree
                _write(full, p.value, what)
            continue
        if p.name == "cgroup.subtree_control":
            want, have = set(p.value.split()), set((now or "").split())
            if want != have:
                change = [f"+{c}" for c in sorted(want - have)] + [f"-{c}" for c in sorted(have - want)]
                _write(full, " ".join(change), what)
            continue
        if p.name == "memory.oom_control":
            if now is not None and now.split("\n")[0].split()[-1] == p.value:
                continue
        elif now == p.value or (p.value == "-1" and now is not None and now.isdigit()
                                and int(now) >= LLONG_MAX - 8192):  # "unlimited", page-aligned
            continue
        if p.name == "devices.list":
            _write(os.path.join(d, "devices.deny"), "a", what)
            for line in p.value.splitlines():
                _write(os.path.join(d, "devices.allow"), line, what)
            continue
        if p.name == "net_prio.ifpriomap":
            for line in p.value.splitlines():
                if line.split()[-1] != "0":
                    _write(full, line, what)
            continue
        _write(full, p.value, what)


def _prepare_dirs(s: CgRestore, name: str, base: str, entries: list[cgroup_pb2.cgroup_dir_entry],
                  rel: str) -> None:
    for e in entries:
        if not e.dir_name:
            _prepare_dirs(s, name, base, list(e.children), rel)  # a hierarchy's root: nothing of its own
            continue
        path = f"{rel}/{e.dir_name}"
        d = directory(s.mounts, name, path, must_exist=False)
        what = f"{_label(name)} {path}"
        if d is None:
            raise RestoreError(f"{what}: not reachable through a mount of that hierarchy in the engine")
        write = s.mode in ("props", "full", "strict")
        if not os.path.isdir(d):
            if s.mode in ("none", "props"):
                raise RestoreError(f"{what} ({d}) does not exist (--manage-cgroups={s.mode} creates nothing; "
                                   "soft, full or strict would)")
            _mkdirs(s, d, base, what)
            write = True
        elif s.mode == "strict":
            raise RestoreError(f"{what} ({d}) exists already (--manage-cgroups=strict)")
        if s.mode != "none" and e.HasField("dir_perms"):
            _restore_perms(d, e.dir_perms, what)
        if write:
            _write_props(d, e, what)
        _prepare_dirs(s, name, base, list(e.children), path)


def _mkdirs(s: CgRestore, d: str, base: str, what: str) -> None:
    todo = []
    p = d
    while not os.path.isdir(p) and p.startswith(base + "/"):
        todo.append(p)
        p = os.path.dirname(p)
    for p in reversed(todo):
        try:
            os.mkdir(p, 0o755)
        except OSError as exc:
            raise RestoreError(f"{what}: cannot create {p}: {exc.strerror}") from exc
        s.made.append(p)
        log.info("%s: created %s", what, p)


def prepare(ctx: RestoreContext, root: Task, new_ns: bool) -> None:
    """Before the tree is rebuilt: the directories and properties the mode asks for, then the root
    helper's cgroup namespace (entered at its prefix cgroups, unshared there)."""
    s = rstate(ctx)
    if s.mode != "ignore":
        for c in s.controllers:
            name = _hierarchy(s, c)
            if name is None:
                if c.dirs:
                    raise RestoreError(f"cgroup {','.join(c.cnames)}: the engine is in no such hierarchy")
                continue
            mnt = s.mounts.get(name)
            if c.dirs and mnt is None:
                raise RestoreError(f"{_label(name)}: the engine has no mount of that hierarchy")
            if c.dirs and mnt is not None:
                _prepare_dirs(s, name, mnt[1].rstrip("/"), list(c.dirs), "")
    if not new_ns:
        return
    enter_prefix(ctx, root)
    root.injector.call(nr.unshare, CLONE_NEWCGROUP, what="unshare(CLONE_NEWCGROUP)")


def enter_prefix(ctx: RestoreContext, t: Task) -> None:
    """Before t unshares its cgroup namespace: into the cgroups that are that namespace's root."""
    s = rstate(ctx)
    members = s.sets.get(t.core.tc.cg_set, []) if t.core.tc.HasField("cg_set") else []
    if s.mode != "ignore":
        now = read(f"/proc/{t.pid}/cgroup") or {}
        for name, path, n in members:
            if n and now.get(name) != path[:n]:
                _enter(s, t.pid, name, path[:n])
    log.debug("pid %d: its cgroup namespace is made at %s", t.pid,
              ", ".join(f"{_label(n)} {p[:k]}" for n, p, k in members if k) or "its parent's cgroups")


def _enter(s: CgRestore, pid: int, name: str, path: str) -> None:
    d = directory(s.mounts, name, path)
    what = f"pid {pid}: {_label(name)} {path}"
    if d is None:
        raise RestoreError(f"{what} does not exist or is not reachable through a mount of that hierarchy in "
                           "the engine (--manage-cgroups=soft would create it)")
    try:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(pid))
    except OSError as exc:
        raise RestoreError(f"{what}: cannot move it there ({d}/cgroup.procs): {exc.strerror}") from exc
    log.debug("%s: moved there", what)


def restore(ctx: RestoreContext, t: Task) -> None:
    s = rstate(ctx)
    if s.mode == "ignore":
        return
    tc = t.core.tc
    if not tc.HasField("cg_set"):
        # an older Stasis image: the v2 path only
        if tc.stasis.HasField("cgroup") and v2_path(f"/proc/{t.pid}/cgroup") != tc.stasis.cgroup:
            _enter(s, t.pid, V2, tc.stasis.cgroup)
        return
    if tc.cg_set == s.root_set:  # the dumping engine's cgroups: the restoring engine's
        want = dict(s.engine)
    else:
        want = {name: path for name, path, _ in s.sets[tc.cg_set]}
    now = read(f"/proc/{t.pid}/cgroup") or {}
    for name, path in want.items():
        if now.get(name) != path:
            _enter(s, t.pid, name, path)


def restore_abort(ctx: RestoreContext) -> None:
    """The directories this restore made go again (their processes are dead: wait until they left)."""
    s = rstate(ctx)
    for d in reversed(s.made):
        for _ in range(200):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    log.error("cannot remove cgroup %s made by the failed restore: %s", d, exc.strerror)
                    break
                time.sleep(0.01)
        else:
            log.error("cannot remove cgroup %s made by the failed restore: still busy", d)
    s.made.clear()


OBJECT = KernelObject(
    "cgroup",
    check=check,
    dump=dump,
    write_images=write_images,
    load_images=load_images,
    restore_abort=restore_abort,
    stages=(Stage("cgroup", Phase.PROCESS, restore, doc="before its threads: they inherit it"),),
)
