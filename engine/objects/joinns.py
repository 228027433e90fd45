"""criu's --join-ns: the restored tree goes into namespaces the caller prepared instead of new ones.

`--join-ns KIND:{PID|NS_FILE}[,EXTRA]` (repeatable; the RPC's join_ns entries: ns, ns_file, extra_opt) names
a namespace by a pid (its /proc/PID/ns/KIND) or by a file (a bind-mounted nsfs file, /proc/.../ns/KIND). The
kinds are criu's: net, uts, ipc, mnt, time and user (user takes criu's extra options UID[,GID]); pid is
refused as criu refuses it (a pid namespace is inherited, with --external and --inherit-fd in criu), cgroup is
not a kind criu joins either.

Restore. Before anything is created every target is opened and checked (it exists, NS_GET_NSTYPE says it is
of the named kind, one entry per kind, and a forked worker can setns() into all of them in the order the
helper will). The root helper is then cloned without the CLONE_NEW* flag of a joined kind and setns()s into
it before it execs (engine/native: st_spawn_ns_helper; by an fd of the helper binary, which a joined mount
namespace need not have); every process forked below inherits it.

The caller prepared a joined namespace, so the engine does not rebuild that kind's state in it. When the
images hold a namespace of that kind (the tree had its own at the dump) its state is not written: the
hostname and domain name, the IPC sysctls, the network configuration, the time offsets and the mount tree of
the images are left out, each with a log line naming what is dropped (criu differs here: it still writes
uts names, IPC objects and links into the namespace it joined, which fails on a joined mount namespace and
on IPC objects the namespace already has). What the tree itself holds in the namespace must be there:
SysV objects and POSIX queues of a dumped IPC namespace are refused (the tree's attaches and mq fds would
name objects the joined namespace does not have), sockets are made in a joined network namespace (their
addresses must exist there), the tree's paths are resolved in a joined mount namespace (--root is not used).

criu's external network namespace is a join too: `dump --external net[INODE]:KEY` writes only the key
(netns.img's ext_key; the namespace may be shared with processes outside the tree), and restore joins the
namespace of the fd that `--inherit-fd fd[N]:KEY` gives (runc: extRootNetNS).

A user namespace is not joined yet (refused with the reason): the tree's processes would have no privilege in
the engine's pid namespace, where every clone3 puts them at their pids; and a tree with a user namespace of
its own cannot join another kind's namespace the caller made outside it (its root has no privilege there).
"""

from __future__ import annotations

import fcntl
import os
import re
from typing import TYPE_CHECKING

from engine.abi.consts import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWTIME,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    NS_GET_NSTYPE,
    O_CLOEXEC,
    O_RDONLY,
)
from engine.errors import RestoreError, StasisError
from engine.log import log
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext

JoinSpec = tuple[str, str, str]  # kind, target (a pid or a path), extra options ("" if none)

# the kinds criu's join_ns_add takes, with their clone flags; the order the helper enters them in (criu's:
# every other kind first, the user namespace last, then its uid and gid)
KINDS = {"net": CLONE_NEWNET, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC, "time": CLONE_NEWTIME,
         "mnt": CLONE_NEWNS, "user": CLONE_NEWUSER}
NAMES = {CLONE_NEWNET: "net", CLONE_NEWUTS: "uts", CLONE_NEWIPC: "ipc", CLONE_NEWTIME: "time",
         CLONE_NEWNS: "mnt", CLONE_NEWUSER: "user", CLONE_NEWPID: "pid", CLONE_NEWCGROUP: "cgroup"}
USAGE = "expected KIND:{PID|NS_FILE}[,EXTRA_OPTS] (criu's --join-ns)"


def _id(text: str, what: str, spec: str) -> str:
    """criu's check_int_str for the user namespace's extra options: a decimal number, 0..65535."""
    if not re.fullmatch(r"\d+", text) or int(text) > 65535:
        raise StasisError(f"--join-ns {spec}: invalid user namespace extra option {what} {text!r} "
                          "(expected UID[,GID], numbers up to 65535)")
    return text


def parse(kind: str, target: str, extra: str, spec: str | None = None) -> JoinSpec:
    """One join, as criu's join_ns_add checks it (the target's existence is checked at restore)."""
    spec = spec or f"{kind}:{target}" + (f",{extra}" if extra else "")
    if kind == "pid":
        raise StasisError(f"--join-ns {spec}: a pid namespace cannot be joined (criu refuses it too: the "
                          "tree's root is created at its pids in a pid namespace of its own or the engine's)")
    if kind not in KINDS:
        raise StasisError(f"--join-ns {spec}: invalid namespace kind {kind!r} (one of "
                          f"{', '.join(KINDS)})")
    if not target:
        raise StasisError(f"--join-ns {spec}: {USAGE}")
    if target.isdigit() and int(target) <= 0:
        raise StasisError(f"--join-ns {spec}: invalid pid {target}")
    if extra:
        if kind != "user":
            raise StasisError(f"--join-ns {spec}: extra options are for a user namespace only (UID[,GID])")
        uid, _, gid = extra.partition(",")
        extra = _id(uid, "uid", spec) + ("," + _id(gid, "gid", spec) if gid else "")
    return kind, target, extra


def parse_arg(spec: str) -> JoinSpec:
    """--join-ns NS:{PID|NS_FILE}[,EXTRA_OPTS], split as criu splits it (the first ':' and then ',')."""
    kind, colon, rest = spec.partition(":")
    if not colon:
        raise StasisError(f"--join-ns {spec}: {USAGE}")
    target, _, extra = rest.partition(",")
    return parse(kind, target, extra, spec)


def parse_all(specs: list[JoinSpec]) -> tuple[JoinSpec, ...]:
    seen: set[str] = set()
    for kind, target, _ in specs:
        if kind in seen:
            raise StasisError(f"--join-ns {kind}:{target}: a second {kind} namespace to join")
        seen.add(kind)
    return tuple(specs)


# -- restore ---------------------------------------------------------------------------------------

@record
class Joined:
    kind: str
    path: str  # what was opened (for messages)
    fd: int  # held until the restore ends
    ino: int


@record
class JoinState:
    joins: list[Joined] = field(default_factory=list)
    helper_fd: int = -1  # O_PATH fd of the helper binary: exec'd by fd where a joined mount ns lacks it

    def kinds(self) -> set[str]:
        return {j.kind for j in self.joins}


def state(ctx: RestoreContext) -> JoinState:
    return ctx.files.state(JoinState)


def _path(kind: str, target: str) -> str:
    return f"/proc/{target}/ns/{kind}" if target.isdigit() else target


def _open(kind: str, target: str) -> Joined:
    path = _path(kind, target)
    spec = f"--join-ns {kind}:{target}"
    if target.startswith("/proc/self/fd/"):
        spec = f"--inherit-fd fd[{target.rsplit('/', 1)[1]}]"
    if target.isdigit() and not os.path.isdir(f"/proc/{target}"):
        raise RestoreError(f"{spec}: no process {target} (/proc/{target} not found)")
    try:
        fd = os.open(path, O_RDONLY | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"{spec}: cannot open {path}: {exc.strerror}") from None
    try:
        try:
            got = fcntl.ioctl(fd, NS_GET_NSTYPE)
        except OSError:
            raise RestoreError(f"{spec}: {path} is not a namespace file (NS_GET_NSTYPE fails on it)") \
                from None
        if got != KINDS[kind]:
            raise RestoreError(f"{spec}: {path} is a namespace of kind {NAMES.get(got, hex(got))}, not "
                               f"{kind} (NS_GET_NSTYPE)")
        ino = os.fstat(fd).st_ino
    except BaseException:
        os.close(fd)
        raise
    return Joined(kind, path, fd, ino)


def prepare(ctx: RestoreContext, new: list[str], has_userns: bool) -> list[str]:
    """At load_images: open and check every namespace to join; `new` the kinds the images have of their
    own. Returns the kinds to make new (the joined ones taken out), each dropped state logged."""
    opts = ctx.opts
    specs: tuple[JoinSpec, ...] = opts.join_ns
    ext = _external_net(ctx) if "net" in new else None  # criu's external netns: an inherited fd of it
    if ext is not None:
        if any(k == "net" for k, _, _ in specs):
            raise RestoreError("--join-ns net and --inherit-fd for the tree's external network namespace: "
                               "one of them")
        specs = (*specs, ext)
    if not specs:
        return new
    st = state(ctx)
    for kind, target, _ in specs:
        if kind == "user":
            raise RestoreError(f"--join-ns user:{target}: joining a user namespace is not supported yet "
                               "(the tree's processes would have no privilege in the engine's pid namespace, "
                               "where each is created at its pid)")
        if has_userns:
            raise RestoreError(f"--join-ns {kind}:{target}: the tree has a user namespace of its own, and "
                               f"its root would have no privilege over a {kind} namespace made outside it: "
                               "not supported")
    if "ipc" in new and any(k == "ipc" for k, _, _ in specs):
        _check_ipc(ctx)
    try:
        for kind, target, _ in specs:
            st.joins.append(_open(kind, target))
        _try_setns(st.joins)
        st.helper_fd = os.open(_helper_path(), os.O_PATH | O_CLOEXEC)
    except BaseException:
        done(ctx)
        raise
    for j in st.joins:
        if j.path.startswith("/proc/self/fd/"):
            log.info("--inherit-fd fd[%s]: the tree joins network namespace %d (external at the dump: "
                     "nothing of it in the images)", j.path.rsplit("/", 1)[1], j.ino)
        elif j.kind in new:
            log.info("--join-ns %s:%s: the images hold the tree's own %s namespace; the tree joins namespace "
                     "%d instead, and %s", j.kind, j.path, j.kind, j.ino, _DROPPED[j.kind])
        else:
            log.info("--join-ns %s:%s: the tree shared the dumping engine's %s namespace; it joins namespace "
                     "%d", j.kind, j.path, j.kind, j.ino)
        if j.kind == "mnt" and opts.root:
            log.info("--join-ns mnt: --root %s is not used (the tree's root is the joined mount namespace's)",
                     opts.root)
    return [k for k in new if k not in st.kinds()]


def _external_net(ctx: RestoreContext) -> JoinSpec | None:
    """criu's external network namespace: dumped with --external net[INODE]:KEY (nothing of it in the images
    but netns.img's ext_key), restored into the namespace of the caller's fd that --inherit-fd fd[N]:KEY
    names (runc's extRootNetNS): a join of that fd."""
    ids = ctx.root.ids
    e = ctx.images.read_one("netns", ns_id=ids.net_ns_id)
    if not e.HasField("ext_key"):
        return None
    for num, key in ctx.opts.inherit_fds:
        if key == e.ext_key:
            log.info("the tree's network namespace was external at the dump (%s): it joins the one of the "
                     "inherited fd %d", key, num)
            return "net", f"/proc/self/fd/{num}", ""
    raise RestoreError(f"the tree's network namespace was external at the dump (key {e.ext_key}): give the "
                       f"one to restore into with --inherit-fd fd[N]:{e.ext_key}")


def dump_external(ctx: DumpContext, kind: str, ino: int) -> str | None:
    """criu's --external net[INODE]:KEY at dump: the key when the tree's namespace of that kind is named so
    (it is not dumped: the caller gives it back at restore); a named one the tree is not in is refused."""
    from engine.errors import UnsupportedError

    named = dict(ctx.opts.ext_netns) if kind == "net" else {}
    if not named:
        return None
    if ino not in named:
        raise UnsupportedError(f"--external net[{next(iter(named))}]: the tree's network namespace is "
                               f"net:[{ino}], not that one")
    return named[ino]


def _check_ipc(ctx: RestoreContext) -> None:
    """The objects of a dumped IPC namespace are the tree's (attached, open): another namespace lacks them."""
    from engine.objects import sysvipc

    img, ns_id = ctx.images, ctx.root.ids.ipc_ns_id
    objs = {k: len(v) for k, v in sysvipc.load_images(img, ns_id).items() if v}
    var = img.read_one("ipcns-var", ns_id=ns_id)
    if var.HasField("stasis") and len(var.stasis.mqueues):
        objs["POSIX message queue"] = len(var.stasis.mqueues)
    if objs:
        what = ", ".join(f"{n} {k}" for k, n in sorted(objs.items()))
        raise RestoreError(f"--join-ns ipc: the images' IPC namespace holds objects of the tree ({what}); "
                           "in a joined namespace the tree would not find them (the engine does not make "
                           "them in a namespace the caller prepared): not supported")


_DROPPED = {
    "uts": "the images' host and domain names are not written (the joined namespace keeps its own)",
    "ipc": "the images' IPC sysctls are not written (the joined namespace keeps its own)",
    "net": "the images' network configuration (links, addresses, routes, sysctls, nftables) is not rebuilt",
    "time": "the images' clock offsets are not set (the joined namespace keeps its own)",
    "mnt": "the images' mount tree is not rebuilt (the tree's paths are the joined namespace's)",
}


def _helper_path() -> str:
    from engine.restore import helper_path

    return helper_path()


def _try_setns(joins: list[Joined]) -> None:
    """A forked worker enters them all, in the helper's order: a namespace the engine may not enter is
    refused here, before anything is created."""
    from engine.objects import nsworker

    try:
        nsworker.run([(j.fd, KINDS[j.kind]) for j in joins], lambda: None, "--join-ns")
    except (OSError, RuntimeError) as exc:
        raise RestoreError(f"--join-ns: cannot enter the namespaces to join: {exc}") from None


def spawn_args(ctx: RestoreContext) -> tuple[list[int], list[int], int]:
    """For st_spawn_ns_helper: the fds and flags to setns() to, in order, and the helper's fd (-1: none)."""
    st = state(ctx)
    return [j.fd for j in st.joins], [KINDS[j.kind] for j in st.joins], st.helper_fd if st.joins else -1


def restore_root(ctx: RestoreContext, root_pid: int) -> None:
    """The helper is in the joined namespaces: the tree's paths and sockets go there."""
    kinds = state(ctx).kinds()
    for j in state(ctx).joins:
        got = os.stat(f"/proc/{root_pid}/ns/{j.kind}").st_ino
        if got != j.ino:
            raise RestoreError(f"pid {root_pid}: not in the joined {j.kind} namespace {j.ino} ({got})")
    if "mnt" in kinds:
        from engine.objects import taskroot

        taskroot.set_task_root(f"/proc/{root_pid}/root")
    if "net" in kinds:
        from engine.objects.files import sockets

        sockets.set_restore_netns(os.open(f"/proc/{root_pid}/ns/net", O_RDONLY | O_CLOEXEC))


def done(ctx: RestoreContext) -> None:
    st = state(ctx)
    for j in st.joins:
        os.close(j.fd)
    st.joins.clear()
    if st.helper_fd >= 0:
        os.close(st.helper_fd)
        st.helper_fd = -1


def helper_died(ctx: RestoreContext, exc: Exception) -> str:
    """Why the helper may have died before its exec (it exits 100 + i where it could not enter join i)."""
    joins = state(ctx).joins
    if not joins:
        return f"it died before its exec: {exc}"
    return (f"it died before its exec ({exc}); an exit status of 100 + i is a failed setns() into the i-th "
            f"namespace to join: {', '.join(f'{j.kind} {j.path}' for j in joins)}")
