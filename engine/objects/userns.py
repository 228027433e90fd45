"""The tree's own user namespace (userns-<id>.img): its uid and gid maps, setgroups, and the ids of the
tree's processes translated between the engine's view and theirs.

Dump. Only a user namespace one level below the engine's is dumped (criu's rule too), and every other
namespace the tree has of its own must be owned by it (NS_GET_USERNS): a namespace owned by the engine's
user namespace, or by another one, could not be made again with the same owner and is refused, naming it.
/proc/PID/status shows ids as the engine sees them; the credentials in the images are the ones the
process sees (as criu keeps them), since restore sets them with setresuid() inside the namespace. Every
other id in the images (file, socket, IPC owners) stays in the engine's view: the engine itself gives them
back from outside, through the same maps.

Restore. The root helper is created with CLONE_NEWUSER together with the other new namespaces (one
clone3, so the user namespace owns them), the engine writes setgroups, gid_map and uid_map (one write
each), and only then the helper becomes the namespace's root and execs (so it keeps its capabilities
there). The maps' root (0) must be mapped: the helper has to be someone inside.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engine.abi import nr
from engine.abi.consts import CAP_VERSION_3, NS_GET_OWNER_UID, NS_GET_PARENT, NS_GET_USERNS
from engine.errors import ImageError, RestoreError, UnsupportedError
from engine.images.pb import userns_pb2
from engine.native import ffi, lib
from engine.objects import nsworker

OVERFLOW_ID = 65534  # what an unmapped id reads as (/proc/sys/kernel/overflowuid)
Extent = tuple[int, int, int]  # first (inside), lower_first (the engine's view), count


def parse_map(text: str) -> list[Extent]:
    out: list[Extent] = []
    for line in text.splitlines():
        w = line.split()
        if len(w) == 3:
            out.append((int(w[0]), int(w[1]), int(w[2])))
    return out


def inner(m: list[Extent], outer_id: int) -> int:
    """An id of the engine's view as the namespace sees it (the overflow id if it is not mapped)."""
    for first, lower, count in m:
        if lower <= outer_id < lower + count:
            return first + outer_id - lower
    return OVERFLOW_ID


def _ino_of(fd: int, request: int) -> int | None:
    """The inode of the namespace an NS_GET_* ioctl leads to; None when it leads outside our view."""
    try:
        got = fcntl.ioctl(fd, request)
    except PermissionError:
        return None
    try:
        return os.fstat(got).st_ino
    finally:
        os.close(got)


def parent_of(nsfd: int) -> int | None:
    """The inode of a pid or user namespace's parent."""
    return _ino_of(nsfd, NS_GET_PARENT)


def owner_of(nsfd: int) -> int | None:
    """The inode of the user namespace that owns the namespace held by nsfd."""
    return _ino_of(nsfd, NS_GET_USERNS)


def dump(pid: int, user_fd: int, own_user_ino: int, owned: dict[str, int]) -> userns_pb2.userns_entry:
    """The maps of pid's user namespace (held by user_fd); `owned`: kind -> fd of each other namespace
    of the tree's own, which must be owned by it."""
    where = f"pid {pid}: its user namespace"
    if _ino_of(user_fd, NS_GET_PARENT) != own_user_ino:
        raise UnsupportedError(f"{where} is not a child of the engine's own: nested user namespaces are not "
                               "supported yet")
    buf = bytearray(4)
    fcntl.ioctl(user_fd, NS_GET_OWNER_UID, buf)
    owner = int.from_bytes(buf, "little")
    if owner != os.geteuid():
        raise UnsupportedError(f"{where} is owned by uid {owner}: restore would make it the engine's "
                               f"(uid {os.geteuid()}), and who may enter or trace it would change")
    mine = os.fstat(user_fd).st_ino
    for kind, fd in owned.items():
        if _ino_of(fd, NS_GET_USERNS) != mine:
            raise UnsupportedError(f"pid {pid}: its {kind} namespace is not owned by its user namespace: it "
                                   "could not be made again with the same owner")
    texts = {}
    for name in ("uid_map", "gid_map", "setgroups"):
        texts[name] = nsworker.read_text(f"/proc/{pid}/{name}") or ""
    e = userns_pb2.userns_entry()
    for name in ("uid_map", "gid_map"):
        ext = parse_map(texts[name])
        if not ext:
            raise UnsupportedError(f"{where} has no {name} written: its processes have no ids there yet")
        for first, lower, count in ext:
            getattr(e, name).add(first=first, lower_first=lower, count=count)
    if texts["setgroups"].strip() == "deny":
        e.stasis.setgroups_deny = True
    return e


def dump_nested(pid: int, user_fd: int, parent_ino: int | None, parent: userns_pb2.userns_entry | None,
                groups: list[int]) -> userns_pb2.userns_entry:
    """A user namespace that a process of the tree made below the tree's (`parent`: the tree's, None when
    the tree is in the engine's): its maps and owner in the parent's view, as restore writes them there;
    with setgroups denied, `groups` (pid's, in the engine's view): no process in it can change them."""
    where = f"pid {pid}: its own user namespace"
    if _ino_of(user_fd, NS_GET_PARENT) != parent_ino:
        raise UnsupportedError(f"{where} is not a child of the tree's: user namespaces nested more than one "
                               "level below the tree's are not supported yet")
    up = translator(parent) or (lambda kind, v: v)
    buf = bytearray(4)
    fcntl.ioctl(user_fd, NS_GET_OWNER_UID, buf)
    e = userns_pb2.userns_entry()
    e.stasis.owner_uid = up("uid", int.from_bytes(buf, "little"))
    for name in ("uid_map", "gid_map"):
        ext = parse_map(nsworker.read_text(f"/proc/{pid}/{name}") or "")
        if not ext:
            raise UnsupportedError(f"{where} has no {name} written: its processes have no ids there yet")
        kind = name[:3]
        for first, lower, count in ext:
            low = up(kind, lower)
            if low == OVERFLOW_ID or up(kind, lower + count - 1) != low + count - 1:
                raise UnsupportedError(f"{where}: its {name} line {first} {lower} {count} is not one range "
                                       "of the tree's ids")
            getattr(e, name).add(first=first, lower_first=low, count=count)
    if (nsworker.read_text(f"/proc/{pid}/setgroups") or "").strip() == "deny":
        e.stasis.setgroups_deny = True
        e.stasis.groups.extend(up("gid", g) for g in groups)
    return e


def chain(entries: list[userns_pb2.userns_entry | None]) -> Callable[[str, int], int] | None:
    """f(kind, id in the engine's view) -> the id in the last namespace of a chain (outermost first), each
    entry's lower ids in the view of the one before it; None when there is no namespace at all."""
    fns = [f for f in (translator(e) for e in entries) if f is not None]
    if not fns:
        return None

    def f(kind: str, v: int) -> int:
        for fn in fns:
            v = fn(kind, v)
        return v
    return f


def maps(e: userns_pb2.userns_entry) -> tuple[list[Extent], list[Extent]]:
    return ([(x.first, x.lower_first, x.count) for x in e.uid_map],
            [(x.first, x.lower_first, x.count) for x in e.gid_map])


def translator(e: userns_pb2.userns_entry | None) -> Callable[[str, int], int] | None:
    """f("uid" or "gid", id in the engine's view) -> the id inside; None without a user namespace."""
    if e is None:
        return None
    uids, gids = maps(e)
    return lambda kind, v: inner(uids if kind == "uid" else gids, v)


def inner_options(options: str, inside: Callable[[str, int], int] | None) -> str:
    """Mount options as a mounter inside a namespace must give them (`inside`: translator() or chain()):
    mountinfo showed the engine their uid=/gid= in its own view (tmpfs, devpts), the kernel reads them in
    the mounter's."""
    if inside is None:
        return options
    out = []
    for opt in options.split(","):
        key, eq, val = opt.partition("=")
        if eq and key in ("uid", "gid") and val.isdigit():
            opt = f"{key}={inside(key, int(val))}"
        out.append(opt)
    return ",".join(out)


def check_image(path: str, e: userns_pb2.userns_entry, need_root: bool = True) -> None:
    uids, gids = maps(e)
    if not uids or not gids:
        raise ImageError(path, "a user namespace without a uid or gid map")
    for kind, m in (("uid", uids), ("gid", gids)):
        if len(m) > 340:
            raise ImageError(path, f"{len(m)} {kind} map lines (the kernel takes at most 340)")
        if need_root and not any(first == 0 for first, _, _ in m):
            raise RestoreError(f"{path}: the user namespace maps no {kind} 0: the restore helper could not "
                               "be its root (not supported)")


def write_maps(pid: int, e: userns_pb2.userns_entry) -> None:
    """From the engine (the parent namespace): setgroups first (it must precede gid_map), one write each."""
    try:
        if e.HasField("stasis") and e.stasis.setgroups_deny:
            nsworker.write_text(f"/proc/{pid}/setgroups", "deny")
        for name, ext in (("gid_map", e.gid_map), ("uid_map", e.uid_map)):
            nsworker.write_text(f"/proc/{pid}/{name}",
                                "".join(f"{x.first} {x.lower_first} {x.count}\n" for x in ext))
    except OSError as exc:
        raise RestoreError(f"pid {pid}: cannot write its user namespace's maps: {exc}") from exc


# -- files the engine makes in the tree's file systems ---------------------------------------------

_root_ids: tuple[int, int] | None = None  # the namespace's root (uid, gid), as the engine sees them


def set_tree_root(e: userns_pb2.userns_entry | None) -> None:
    """At restore: the tree's user namespace (None: none, or the restore is over)."""
    global _root_ids
    if e is None:
        _root_ids = None
        return
    uids, gids = maps(e)
    _root_ids = (next(lower for first, lower, _ in uids if first == 0),
                 next(lower for first, lower, _ in gids if first == 0))


def _addr(x: object) -> int:
    return int(ffi.cast("uintptr_t", x))


@contextmanager
def creating() -> Iterator[None]:
    """What the engine makes in the tree's file systems (a socket's name, a FIFO, a ghost file): a file
    system mounted inside the tree's user namespace takes no new file owned by an id it does not map, and
    the engine's root is not mapped there; so this thread makes it as the namespace's root (its fsuid and
    fsgid; the capabilities a change of fsuid drops are raised again). Owners are given after, as ever."""
    if _root_ids is None:
        yield
        return
    uid, gid = _root_ids
    hdr = ffi.new("uint32_t[2]", [CAP_VERSION_3, 0])
    caps = ffi.new("uint32_t[6]")  # effective, permitted, inheritable; twice (the two 32-bit halves)
    lib.st_syscall(nr.capget, _addr(hdr), _addr(caps), 0, 0, 0, 0)
    lib.st_syscall(nr.setfsgid, gid, 0, 0, 0, 0, 0)
    lib.st_syscall(nr.setfsuid, uid, 0, 0, 0, 0, 0)
    lib.st_syscall(nr.capset, _addr(hdr), _addr(caps), 0, 0, 0, 0)
    try:
        yield
    finally:
        lib.st_syscall(nr.setfsuid, 0, 0, 0, 0, 0, 0)
        lib.st_syscall(nr.setfsgid, 0, 0, 0, 0, 0, 0)
