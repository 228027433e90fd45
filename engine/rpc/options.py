"""criu_opts -> the engine's options. Every field a runtime sends is honoured, tolerated with a log
line, or refused (RpcError: EBADRQC and a message naming the option). Nothing is ignored silently."""

from __future__ import annotations

import errno
import os
import re
import stat
from typing import Any

from engine.log import log

CLONE_NEWNET = 0x40000000

# fields handled by the mapping itself (honoured), per request kind
_COMMON = {"images_dir_fd", "images_dir", "work_dir_fd", "log_file", "log_level", "log_to_stderr",
           "notify_scripts", "shell_job", "ext_unix_sk", "tcp_established", "tcp_close", "network_lock",
           "config_file", "orphan_pts_master", "evasive_devices", "manage_cgroups", "manage_cgroups_mode",
           "cg_root", "freeze_cgroup", "auto_dedup", "lazy_pages", "track_mem", "link_remap", "cpu_cap",
           "pre_dump_mode", "force_irmap", "weak_sysctls", "skip_file_rwx_check", "display_stats",
           "timeout", "ghost_limit", "status_fd", "empty_ns", "rst_sibling", "inherit_fd",
           "leave_running", "file_locks", "tcp_skip_in_flight", "pid", "mntns_compat_mode",
           "unprivileged", "leave_stopped", "join_ns", "root", "ext_mnt"}

# fields refused whenever set to something other than their default, with the reason
_REFUSED = {
    "external": "of criu's external resources stasis takes net[INODE]:KEY and mnt[...]:... only",
    "veths": "the deprecated veths field is not mapped (the CLI's --external veth[IFNAME]:OUTNAME is)",
    "unix_sk_ino": "external unix sockets by inode are not supported (use ext_unix_sk)",
    "skip_mnt": "skipping mounts is not supported by stasis (every mount of the tree is dumped or refused)",
    "enable_fs": "stasis dumps only the filesystems it knows (no enable_fs list)",
    "auto_ext_mnt": "stasis does not make external mounts by itself: name them with ext_mnt (or "
                    "external mnt[...])",
    "ext_sharing": "stasis does not make external mounts by itself (auto_ext_mnt), so no ext_sharing",
    "ext_masters": "stasis does not make external mounts by itself (auto_ext_mnt), so no ext_masters",
    "cgroup_props": "stasis dumps its built-in cgroup property lists only (no custom ones)",
    "cgroup_props_file": "stasis dumps its built-in cgroup property lists only (no custom ones)",
    "cgroup_dump_controller": "stasis dumps every controller of the tree's cgroups (no selection)",
    "cgroup_yard": "stasis reaches cgroups through the engine's own mounts (no cgroup yard)",
    "ps": "page servers are not supported by stasis",
    "parent_img": "incremental dumps (a parent image) are not supported by stasis yet",
    "exec_cmd": "exec after restore is not supported by stasis",
    "lsm_profile": "LSM profiles are not restored by stasis",
    "lsm_mount_context": "LSM mount contexts are not restored by stasis",
    "tls": "TLS is for page servers, which stasis does not have",
    "tls_cacert": "TLS is for page servers, which stasis does not have",
    "tls_cacrl": "TLS is for page servers, which stasis does not have",
    "tls_cert": "TLS is for page servers, which stasis does not have",
    "tls_key": "TLS is for page servers, which stasis does not have",
    "tls_no_cn_verify": "TLS is for page servers, which stasis does not have",
    "pidfd_store_sk": "a pidfd store is for incremental dumps, which stasis does not have yet",
    "irmap_scan_paths": "stasis does not use an inotify irmap (watches are dumped by file handle)",
}


_EXT_NET = re.compile(r"net\[(\d+)\]:(\S+)")  # criu's external network namespace
_EXT_MNT = re.compile(r"mnt\[([^\]]+)\]:(.+)")  # criu's external mount (the same as an ext_mnt entry)


def ext_netns(opts: Any, kind: str) -> tuple[tuple[int, str], ...]:
    """external net[INODE]:KEY entries (runc's extRootNetNS at dump): that namespace is not dumped; at
    restore the inherit_fd with the same key gives the one to restore into."""
    out = []
    for x in opts.external:
        m = _EXT_NET.fullmatch(x)
        if m:
            out.append((int(m[1]), m[2]))
    if out and kind != "dump":
        log.info("external %s: a dump option (at restore the inherit_fd of that key is the namespace)",
                 ", ".join(f"net[{i}]:{k}" for i, k in out))
        return ()
    return tuple(out)


class RpcError(Exception):
    """A request refused: errno for cr_errno, one line for cr_errmsg and the log."""

    def __init__(self, err: int, msg: str) -> None:
        super().__init__(msg)
        self.errno = err


def _set(opts: Any, name: str) -> bool:
    try:
        return bool(opts.HasField(name))
    except ValueError:  # a repeated field
        return len(getattr(opts, name)) > 0


def check(opts: Any, kind: str, service: bool) -> None:
    """Refuse what cannot be honoured (every such option in one error); log what is tolerated."""
    refused: list[str] = []
    for name, why in _REFUSED.items():
        if name == "external" and all(_EXT_NET.fullmatch(x) or _EXT_MNT.fullmatch(x) for x in opts.external):
            continue  # net[INODE]:KEY (runc's extRootNetNS, ext_netns) and mnt[A]:B (ext_mounts): honoured
        if _set(opts, name) and getattr(opts, name):  # false, "" and empty lists are the defaults
            refused.append(f"{name}: {why}")
    for field in opts.DESCRIPTOR.fields:
        if field.name not in _COMMON and field.name not in _REFUSED and _set(opts, field.name):
            refused.append(f"{field.name}: not known to stasis")
    if opts.lazy_pages:
        refused.append("lazy_pages: lazy restore is not supported by stasis")
    if opts.track_mem:
        refused.append("track_mem: memory tracking for incremental dumps is not supported by stasis yet")
    if opts.auto_dedup:
        refused.append("auto_dedup: deduplication needs incremental dumps, which stasis does not have yet")
    if opts.leave_stopped:
        refused.append("leave_stopped: stasis leaves a dumped tree running or kills it")
    if opts.empty_ns and opts.empty_ns != CLONE_NEWNET:
        refused.append(f"empty_ns={opts.empty_ns:#x}: only CLONE_NEWNET (0x40000000) can be empty, as in "
                       "criu")
    for r in opts.cg_root:
        if not r.path.startswith("/"):
            refused.append(f"cg_root {r.ctrl}:{r.path}: the new root must be an absolute cgroup path")
    if service and opts.rst_sibling:
        refused.append("rst_sibling: not allowed in the standalone service (swrk only)")
    if service and len(opts.inherit_fd):
        refused.append("inherit_fd: not allowed in the standalone service (swrk only)")
    if opts.HasField("log_file") and "/" in opts.log_file:
        refused.append(f"log_file {opts.log_file!r}: no '/' allowed (relative to the work dir)")
    if refused:
        for r in refused:
            log.error("option refused: %s", r)
        raise RpcError(errno.EBADRQC, "; ".join(refused))
    _tolerated(opts, kind)


def _tolerated(opts: Any, kind: str) -> None:
    if opts.empty_ns == CLONE_NEWNET:
        log.info("empty_ns=CLONE_NEWNET: stasis dumps and restores the tree's network namespace whole "
                 "(criu would leave it empty with lo down); what it cannot restore is refused at dump")
    if opts.mntns_compat_mode:
        log.info("mntns_compat_mode: criu's older way of restoring mounts; stasis has one (ignored)")
    if opts.evasive_devices:
        log.info("evasive_devices: device files are reopened by path anyway")
    if opts.orphan_pts_master and kind == "dump":
        log.info("orphan_pts_master at dump: a pty slave whose master is outside the tree is dumped when it "
                 "is of the tree's own devpts, whatever the option (it matters at restore)")
    elif opts.orphan_pts_master:
        log.info("orphan_pts_master: a pty slave whose master was outside the tree gets a new master, sent "
                 "with the orphan-pts-master notify (SCM_RIGHTS)")
    if kind == "dump" and len(opts.cg_root):
        log.info("cg_root at dump: stasis dumps the groups at and below each process's own (criu would also "
                 "keep the groups between the new root and them); ignored")
    if opts.freeze_cgroup:
        log.info("freeze_cgroup %s: the tree is frozen by ptrace, the freezer is left as it is",
                 opts.freeze_cgroup)
    if opts.HasField("config_file"):
        _config_file(opts.config_file)
    if opts.HasField("cpu_cap") and opts.cpu_cap != 0xFFFFFFFF:
        log.info("cpu_cap %#x: stasis checks no cpuinfo image (the restoring CPU must have what the "
                 "dumped tasks use)", opts.cpu_cap)
    for name in ("link_remap", "force_irmap", "weak_sysctls", "skip_file_rwx_check", "display_stats"):
        if getattr(opts, name):
            log.info("%s: tolerated (nothing to do in stasis)", name)
    if opts.HasField("pre_dump_mode"):
        log.info("pre_dump_mode: no pre-dumps in stasis (ignored)")
    if opts.HasField("status_fd"):
        log.info("status_fd %d: only for page servers and lazy pages (ignored)", opts.status_fd)
    if kind == "restore":
        for name in ("pid", "leave_running", "tcp_skip_in_flight", "ghost_limit", "timeout"):
            if opts.HasField(name) and getattr(opts, name):
                log.info("%s: a dump option (ignored at restore)", name)
    if kind == "dump" and len(opts.inherit_fd):
        log.info("inherit_fd: a restore option (ignored at dump)")
    if kind == "dump" and len(opts.join_ns):
        log.info("join_ns: a restore option (ignored at dump)")
    if kind == "dump" and opts.rst_sibling:
        log.info("rst_sibling: a restore option (ignored at dump)")


def _config_file(path: str) -> None:
    """criu reads config_file after the RPC options. Absent (the usual case): ignored. Present with
    options: refused, since stasis would not apply them."""
    try:
        with open(path) as f:
            lines = [ln.strip() for ln in f]
    except FileNotFoundError:
        log.info("config_file %s: no such file (ignored, as criu does)", path)
        return
    except OSError as exc:
        raise RpcError(errno.EBADRQC, f"config_file {path}: {exc.strerror}") from None
    opts = [ln for ln in lines if ln and not ln.startswith("#")]
    if opts:
        log.error("option refused: config_file %s holds options stasis does not read: %s", path, opts[0])
        raise RpcError(errno.EBADRQC, f"config_file {path}: criu config files are not read by stasis "
                       f"(it holds {opts[0]!r})")
    log.info("config_file %s: no options in it", path)


def peer_dir(peer: int, fd: int, what: str) -> int:
    """An fd of the client's (its images or work dir), opened here as a directory."""
    try:
        dfd = os.open(f"/proc/{peer}/fd/{fd}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise RpcError(errno.EBADF, f"{what} {fd}: not a directory open in the client (pid {peer}): "
                       f"{exc.strerror}") from None
    return dfd


def dir_path(dfd: int) -> str:
    """A path for a directory fd of ours: its real path when it still names that directory, else the
    fd's /proc/self/fd link."""
    try:
        path = os.readlink(f"/proc/self/fd/{dfd}")
        st, here = os.stat(path), os.fstat(dfd)
        if stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) == (here.st_dev, here.st_ino):
            return path
    except OSError:
        pass
    return f"/proc/self/fd/{dfd}"


def root(opts: Any, kind: str) -> str | None:
    """criu's root: at dump the container's root directory (runc: <bundle>/rootfs), at restore the
    directory that becomes the tree's root mount (runc: a bind mount of the rootfs it made)."""
    if not opts.HasField("root") or not opts.root:
        return None
    if not os.path.isdir(opts.root):
        raise RpcError(errno.EBADRQC, f"root {opts.root}: not a directory")
    path = os.path.realpath(opts.root)
    log.info("root %s: the tree's root %s", path, "directory" if kind == "dump" else "mount")
    return path


def ext_mounts(opts: Any, kind: str) -> tuple[tuple[str, str], ...]:
    """ext_mnt entries and external mnt[A]:B, as criu's --external mnt[A]:B: at dump (A, B) is (a mount
    point inside the tree, its key); at restore (a key, the path to bind there). runc sends one key for
    several mount points at dump (its masked files are all "/dev/null") and the same key twice at restore:
    as in criu, the first entry of a key is the one used at restore."""
    pairs = [(e.key, e.val) for e in opts.ext_mnt]
    pairs += [(m[1], m[2]) for x in opts.external if (m := _EXT_MNT.fullmatch(x))]
    out: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for a, b in pairs:
        if not a or not b:
            raise RpcError(errno.EBADRQC, f"ext_mnt {a!r}:{b!r}: empty key or value")
        if a in seen:
            if seen[a] != b:
                log.warning("ext_mnt %s: given twice (%s, then %s); the first is used", a, seen[a], b)
            continue
        if kind == "restore" and not os.path.exists(b):
            raise RpcError(errno.EBADRQC, f"ext_mnt {a}: its source {b} does not exist")
        seen[a] = b
        out.append((a, b))
    if out:
        log.info("%d external mounts (%s)", len(out),
                 "mount point -> key" if kind == "dump" else "key -> source")
    return tuple(out)


def join_ns(opts: Any, kind: str) -> tuple[tuple[str, str, str], ...]:
    """join_ns entries (ns, ns_file, extra_opt) as --join-ns takes them (engine/objects/joinns.py); at dump
    they mean nothing (logged)."""
    from engine.errors import StasisError
    from engine.objects import joinns

    if not len(opts.join_ns):
        return ()
    if kind != "restore":
        log.info("join_ns: a restore option (ignored at %s)", kind)
        return ()
    try:
        out = joinns.parse_all([joinns.parse(e.ns, e.ns_file, e.extra_opt if e.HasField("extra_opt") else "")
                                for e in opts.join_ns])
    except StasisError as exc:
        log.error("option refused: join_ns: %s", exc)
        raise RpcError(errno.EBADRQC, f"join_ns: {exc}") from None
    for k, target, extra in out:
        log.info("join_ns %s:%s%s: the tree joins that namespace", k, target, f" ({extra})" if extra else "")
    return out


def network_lock(opts: Any) -> str:
    if not opts.HasField("network_lock"):
        return "nftables"
    if opts.network_lock == 3:
        return "skip"
    if opts.network_lock == 1:
        log.info("network_lock IPTABLES: stasis locks TCP peers with nftables")
    return "nftables"


# criu_cg_mode -> the engine's --manage-cgroups mode (DEFAULT is criu's soft)
_CG_MODES = {0: "ignore", 1: "none", 2: "props", 3: "soft", 4: "full", 5: "strict", 6: "soft"}


def cgroup_mode(opts: Any) -> str | None:
    """criu's: manage_cgroups true is soft, false ignore; manage_cgroups_mode overrides it."""
    mode = None
    if opts.HasField("manage_cgroups"):
        mode = "soft" if opts.manage_cgroups else "ignore"
    if opts.HasField("manage_cgroups_mode"):
        mode = _CG_MODES.get(opts.manage_cgroups_mode, "soft")
    return mode


def cgroup_roots(opts: Any) -> tuple[tuple[str | None, str], ...]:
    """cg_root entries: (controller, or None for all; "" is cgroup v2, new root)."""
    return tuple((r.ctrl if r.HasField("ctrl") else None, r.path) for r in opts.cg_root)
