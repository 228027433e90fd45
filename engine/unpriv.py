"""`--unprivileged` (criu's): a caller that is not root, with CAP_CHECKPOINT_RESTORE (and CAP_SYS_PTRACE).

What the kernel lets such a caller do, and what this module makes of it:

- clone3() with set_tid and writes to ns_last_pid need CAP_CHECKPOINT_RESTORE in the user namespace that
  owns the pid namespace; /proc/PID/map_files needs it in the initial one; prctl(PR_SET_MM_MAP) with a new
  exe link needs it (CAP_SYS_RESOURCE is needed only by the other PR_SET_MM operations, which Stasis does
  not use).
- ptrace (seize, process_vm_readv/writev, /proc/PID/mem, pagemap, kcmp) of processes with the caller's
  uids and no capability beyond its permitted set needs nothing; others need CAP_SYS_PTRACE (dump of
  another user's tree is not what --unprivileged is for: criu asks for CAP_SYS_PTRACE all the same).
- PTRACE_O_SUSPEND_SECCOMP and PTRACE_SECCOMP_GET_FILTER need CAP_SYS_ADMIN: filters are not suspended
  (the engine's injected syscalls pass through a restored filter, so filters are installed last), and a
  dump of a thread with filters is refused.
- setgroups() needs CAP_SETGID, uids and gids other than the caller's real/effective/saved ones CAP_SETUID
  / CAP_SETGID, securebits and dropping from the bounding set CAP_SETPCAP, raising a capability that the
  caller's permitted set lacks is impossible, a seccomp filter without no_new_privs needs CAP_SYS_ADMIN,
  and no_new_privs and filters the caller has are inherited and cannot be dropped.

At restore `check_images()` refuses, before any process exists, images that ask for more than the caller
has (ids, groups, capability sets, securebits, no_new_privs, seccomp) and paths that are not plain: every
file the images name is resolved beneath the restore root without symlinks or magic links (openat2()
RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or a walk one component at a time with O_NOFOLLOW where the kernel
lacks openat2) and opened as the caller with the access it is to be opened with; the caller's ids are the
restored tasks' (checked), so that is opening it as the restored task would. /proc/PID paths of processes
outside the tree and /proc/self paths are refused (the engine's CAP_SYS_PTRACE would open them).
"""

from __future__ import annotations

import errno
import os
import stat as st
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    CAP_CHECKPOINT_RESTORE,
    CAP_SETGID,
    CAP_SETPCAP,
    CAP_SETUID,
    CAP_SYS_ADMIN,
    O_ACCMODE,
    O_APPEND,
    O_CLOEXEC,
    O_DIRECTORY,
    O_NOCTTY,
    O_NOFOLLOW,
    O_NONBLOCK,
    O_PATH,
    PR_GET_SECUREBITS,
    PROC_SUPER_MAGIC,
    PTRACE_O_SUSPEND_SECCOMP,
    RESOLVE_BENEATH,
    RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS,
)
from engine.errors import RestoreError, StasisError, UnsupportedError
from engine.images.pb import core_pb2, fdinfo_pb2
from engine.log import log
from engine.native import ffi, lib

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext

ACTIVE = False  # set by start(): this run is --unprivileged
RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
_openat2: bool | None = None  # probed once


class Caller:
    """The caller's own credentials, as /proc/self/status and prctl show them."""

    def __init__(self) -> None:
        s = proc.status("self")
        self.uids = set(os.getresuid())
        self.gids = set(os.getresgid())
        self.groups = set(os.getgroups())
        self.prm, self.eff = int(s["CapPrm"], 16), int(s["CapEff"], 16)
        self.inh, self.bnd = int(s["CapInh"], 16), int(s["CapBnd"], 16)
        self.nnp = int(s.get("NoNewPrivs", "0"))
        self.seccomp = int(s.get("Seccomp", "0"))
        self.secbits = lib.st_syscall(nr.prctl, PR_GET_SECUREBITS, 0, 0, 0, 0, 0)

    def has(self, cap: int) -> bool:
        return bool(self.eff & (1 << cap))


def start(what: str) -> None:
    """Refuse an --unprivileged run without CAP_CHECKPOINT_RESTORE; from here the engine is in that mode."""
    global ACTIVE
    me = Caller()
    if not me.has(CAP_CHECKPOINT_RESTORE):
        raise StasisError(f"{what} --unprivileged needs CAP_CHECKPOINT_RESTORE (effective set "
                          f"{me.eff:#x}): give it to the caller (e.g. as an ambient capability)")
    ACTIVE = True
    log.info("%s --unprivileged as uid %s gid %s, capabilities %#x", what, sorted(me.uids), sorted(me.gids),
             me.eff)


def helper_ids() -> tuple[int, int]:
    """(euid, egid) of a helper before its credentials stage: root's, or an unprivileged caller's."""
    return (os.geteuid(), os.getegid()) if ACTIVE else (0, 0)


def ptrace_options(options: int) -> int:
    """PTRACE_O_SUSPEND_SECCOMP needs CAP_SYS_ADMIN: left out of an unprivileged run's options."""
    return options & ~PTRACE_O_SUSPEND_SECCOMP if ACTIVE else options


def _caps(words: object) -> int:
    w = list(words)  # type: ignore[call-overload]
    return (w[0] if w else 0) | ((w[1] if len(w) > 1 else 0) << 32)


def _names(mask: int) -> str:
    return ",".join(str(i) for i in range(64) if mask & (1 << i))


# -- credentials -----------------------------------------------------------------------------------

def check_creds(ctx: RestoreContext, me: Caller) -> None:
    for t in ctx.tasks:
        for th in t.threads:
            tc = th.core.thread_core
            c = tc.creds
            who = f"thread {th.tid}"
            uids = {"uid": c.uid, "euid": c.euid, "suid": c.suid, "fsuid": c.fsuid}
            for name, v in uids.items():
                if v not in me.uids and not me.has(CAP_SETUID):
                    raise RestoreError(f"{who}: its {name} {v} is not the caller's ({sorted(me.uids)}): an "
                                       "unprivileged restore cannot give it")
            gids = {"gid": c.gid, "egid": c.egid, "sgid": c.sgid, "fsgid": c.fsgid}
            for name, v in gids.items():
                if v not in me.gids and not me.has(CAP_SETGID):
                    raise RestoreError(f"{who}: its {name} {v} is not the caller's ({sorted(me.gids)}): an "
                                       "unprivileged restore cannot give it")
            if set(c.groups) != me.groups and not me.has(CAP_SETGID):
                raise RestoreError(f"{who}: its supplementary groups {sorted(c.groups)} are not the caller's "
                                   f"({sorted(me.groups)}): an unprivileged restore cannot set them")
            sets = {"permitted": _caps(c.cap_prm), "effective": _caps(c.cap_eff),
                    "inheritable": _caps(c.cap_inh), "ambient": _caps(c.cap_amb),
                    "bounding": _caps(c.cap_bnd)}
            for name, v in sets.items():
                limit = me.bnd if name == "bounding" else me.inh | me.prm if name == "inheritable" else me.prm
                if v & ~limit:
                    raise RestoreError(f"{who}: its {name} capabilities {v:#x} include {v & ~limit:#x} "
                                       f"(capabilities {_names(v & ~limit)}) that the caller does not have")
            if sets["bounding"] != me.bnd and not me.has(CAP_SETPCAP):
                raise RestoreError(f"{who}: its bounding set {sets['bounding']:#x} is not the caller's "
                                   f"({me.bnd:#x}): dropping from it needs CAP_SETPCAP")
            if c.secbits != me.secbits and not me.has(CAP_SETPCAP):
                raise RestoreError(f"{who}: its securebits {c.secbits:#x} are not the caller's "
                                   f"({me.secbits:#x}): setting them needs CAP_SETPCAP")
            if me.nnp and not c.no_new_privs:
                raise RestoreError(f"{who}: no_new_privs is clear in its image but set for the caller: it "
                                   "cannot be cleared")
            mode = tc.seccomp_mode if tc.HasField("seccomp_mode") else core_pb2.disabled
            if me.seccomp and mode == core_pb2.disabled:
                raise RestoreError(f"{who}: it has no seccomp filter but the caller has (mode {me.seccomp}): "
                                   "restored, it would keep the caller's")
            if mode == core_pb2.strict:
                raise RestoreError(f"{who}: seccomp strict mode cannot be restored unprivileged: it "
                                   "cannot be suspended for the engine's own syscalls (CAP_SYS_ADMIN)")
            if mode == core_pb2.filter and not c.no_new_privs and not me.has(CAP_SYS_ADMIN):
                raise RestoreError(f"{who}: a seccomp filter without no_new_privs: installing it needs "
                                   "CAP_SYS_ADMIN")
            if me.seccomp and mode != core_pb2.disabled:
                log.warning("%s: the caller's own seccomp filters stay below the restored ones", who)


# -- paths -----------------------------------------------------------------------------------------

def has_openat2() -> bool:
    global _openat2
    if _openat2 is None:
        how = ffi.new("uint64_t[3]", [O_PATH | O_CLOEXEC, 0, RESOLVE])
        ret = lib.st_syscall(nr.openat2, -100, int(ffi.cast("uintptr_t", ffi.new("char[]", b"."))),
                             int(ffi.cast("uintptr_t", how)), 24, 0, 0)
        _openat2 = ret >= 0 or ret not in (-errno.ENOSYS, -errno.EINVAL, -errno.E2BIG)
        if ret >= 0:
            os.close(ret)
    return _openat2


def plain(path: str) -> str | None:
    """Why `path` is not the absolute, canonical name the kernel gives a file (None: it is)."""
    if not path.startswith("/"):
        return "not an absolute path"
    if "\0" in path:
        return "a NUL byte in it"
    parts = path.split("/")[1:]
    if path != "/" and any(p in ("", ".", "..") for p in parts):
        return "'.', '..' or an empty component in it"
    return None


def open_beneath(root: str, path: str, flags: int) -> int:
    """Open the absolute `path` inside `root` without leaving it and without following any symlink."""
    if flags & O_PATH:  # openat2 refuses O_PATH with other open flags (O_NOFOLLOW: an fd of the symlink)
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW
    rootfd = os.open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)
    try:
        rel = path.lstrip("/") or "."
        if has_openat2():
            how = ffi.new("uint64_t[3]", [flags | O_CLOEXEC, 0, RESOLVE])
            name = ffi.new("char[]", rel.encode())
            ret = lib.st_syscall(nr.openat2, rootfd, int(ffi.cast("uintptr_t", name)),
                                 int(ffi.cast("uintptr_t", how)), 24, 0, 0)
            if ret < 0:
                raise OSError(-ret, os.strerror(-ret))
            return ret
        # one component at a time: O_NOFOLLOW on every one, '..' refused before (plain())
        dirfd = os.dup(rootfd)
        parts = [p for p in rel.split("/") if p != "."]
        try:
            for p in parts[:-1]:
                nxt = os.open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC, dir_fd=dirfd)
                os.close(dirfd)
                dirfd = nxt
                if not st.S_ISDIR(os.fstat(dirfd).st_mode):
                    raise OSError(errno.ELOOP if st.S_ISLNK(os.fstat(dirfd).st_mode) else errno.ENOTDIR,
                                  "a symlink on the way")
            return os.open(parts[-1] if parts else ".", flags | O_NOFOLLOW | O_CLOEXEC, dir_fd=dirfd)
        finally:
            os.close(dirfd)
    finally:
        os.close(rootfd)


def _is_proc(fd: int) -> bool:
    buf = ffi.new("uint64_t[15]")
    return lib.st_syscall(nr.fstatfs, fd, int(ffi.cast("uintptr_t", buf)), 0, 0, 0, 0) == 0 and \
        buf[0] == PROC_SUPER_MAGIC


def check_path(ctx: RestoreContext, path: str, flags: int, what: str, tree_pids: set[int]) -> None:
    from engine.objects import taskroot

    why = plain(path)
    if why:
        raise RestoreError(f"{what}: path {path!r}: {why}: an unprivileged restore takes only plain paths")
    parts = path.split("/")[1:]
    if parts[0] == "proc" and len(parts) > 1:
        if parts[1] in ("self", "thread-self"):
            raise RestoreError(f"{what}: {path}: a /proc/{parts[1]} path names whoever opens it: refused in "
                               "an unprivileged restore")
        if parts[1].isdigit() and int(parts[1]) not in tree_pids:
            raise RestoreError(f"{what}: {path}: a /proc path of pid {parts[1]}, not one of the restored "
                               "tree: refused in an unprivileged restore")
        if parts[1].isdigit():
            return  # the tree's own: opened once its process exists, with its credentials
    acc = flags & (O_ACCMODE | O_PATH | O_DIRECTORY | O_APPEND)
    try:  # resolved without opening it (a device or a FIFO is not opened by a look), then its permissions
        fd = open_beneath(taskroot.task_path("/"), path, O_PATH | (flags & (O_DIRECTORY | O_NOFOLLOW)))
        try:
            mode = os.fstat(fd).st_mode
            if st.S_ISREG(mode) or st.S_ISDIR(mode):
                os.close(open_beneath(taskroot.task_path("/"), path, acc | O_NOCTTY | O_NONBLOCK))
            elif not flags & O_PATH:
                want = {0: os.R_OK, 1: os.W_OK, 2: os.R_OK | os.W_OK}.get(flags & O_ACCMODE, os.R_OK)
                if not os.access(f"/proc/self/fd/{fd}", want, effective_ids=True):
                    raise OSError(errno.EACCES, "access")
        except BaseException:
            os.close(fd)
            raise
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return  # a file deleted at the dump (made again) or gone: its own open reports it
        err = exc.errno or 0
        reason = {errno.ELOOP: "a symlink or magic link on the way",
                  errno.EXDEV: "it leaves the restore root",
                  errno.EACCES: f"permission denied to uid {os.getuid()}",
                  errno.EPERM: f"not permitted to uid {os.getuid()}"}.get(err, os.strerror(err))
        raise RestoreError(f"{what}: {path}: {reason}: refused in an unprivileged restore") from None
    try:
        if _is_proc(fd) and parts[0] != "proc":
            raise RestoreError(f"{what}: {path}: a procfs file outside /proc: refused in an unprivileged "
                               "restore")
    finally:
        os.close(fd)


def check_files(ctx: RestoreContext) -> None:
    pids = {t.pid for t in ctx.tasks} | {th.tid for t in ctx.tasks for th in t.threads}
    pids |= {t.vpid for t in ctx.tasks if t.vpid}
    for e in ctx.files.entries:
        if e.type in (fdinfo_pb2.REG, fdinfo_pb2.FIFO) and e.HasField("reg"):  # files, devices, FIFOs
            check_path(ctx, e.reg.name, e.reg.flags, f"file id {e.id}", pids)


NS_KINDS = ("user", "mnt", "uts", "ipc", "net", "pid", "cgroup", "time")


def check_dump(ctx: DumpContext) -> None:
    """Namespaces other than the engine's are read by workers that join them (setns: CAP_SYS_ADMIN)."""
    for t in ctx.tasks:
        if not t.alive:
            continue
        for kind in NS_KINDS:
            try:
                theirs, mine = os.readlink(f"/proc/{t.pid}/ns/{kind}"), os.readlink(f"/proc/self/ns/{kind}")
            except FileNotFoundError:
                continue  # a kernel without that kind
            except OSError as exc:
                raise UnsupportedError(f"pid {t.pid}: its {kind} namespace cannot be read: "
                                       f"{exc.strerror}") from None
            if theirs != mine:
                raise UnsupportedError(f"pid {t.pid}: a {kind} namespace of its own ({theirs}): namespaces "
                                       "cannot be dumped --unprivileged (joining one needs CAP_SYS_ADMIN)")


def check_images(ctx: RestoreContext) -> None:
    """Everything the images ask for that the caller could not have: one RestoreError, before anything is
    made."""
    from engine.objects import namespaces

    if namespaces.clone_flags(ctx) or namespaces.rstate(ctx).new:
        kinds = ", ".join(sorted(namespaces.rstate(ctx).new))
        raise RestoreError(f"the tree has namespaces of its own ({kinds}): making them needs CAP_SYS_ADMIN, "
                           "not available --unprivileged")
    me = Caller()
    check_creds(ctx, me)
    check_files(ctx)
    log.info("unprivileged restore: the images ask for no more than the caller's credentials and files")
