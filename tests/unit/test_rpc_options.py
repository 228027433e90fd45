"""criu_opts -> engine options (engine/rpc/options.py): the requests runc 1.1.5 really sent (captured in
../shared/docs/rpc-and-runtimes.md, Appendix A) pass the option checks, with a log line for each option
tolerated; root and ext_mnt map to the engine's root and external mounts as criu maps them; and every
field of criu_opts set to a non-default value is honoured, logged or refused: none is dropped
silently."""

from __future__ import annotations

import errno
import io
from typing import Any

import pytest

from engine.images.pb import criu_rpc_pb2 as rpc
from engine.log import DEBUG, log
from engine.rpc.options import RpcError, check, ext_mounts, root

EXT_MNT = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/proc/keys", "/dev/null", "/dev/tty"]
# honoured by the mapping itself (engine options), so no log line is owed at dump
HONOURED_AT_DUMP = {"images_dir_fd", "images_dir", "work_dir_fd", "log_file", "log_level", "log_to_stderr",
                    "pid", "leave_running", "ext_unix_sk", "tcp_established", "shell_job", "file_locks",
                    "notify_scripts", "ghost_limit", "timeout", "tcp_skip_in_flight", "tcp_close",
                    "network_lock", "manage_cgroups", "manage_cgroups_mode", "root", "ext_mnt",
                    "unprivileged"}


def runc_dump() -> Any:
    o = rpc.criu_opts(images_dir_fd=7, pid=22313, leave_running=False, ext_unix_sk=False,
                      tcp_established=False, shell_job=False, file_locks=False, log_level=4,
                      log_file="dump.log", notify_scripts=True, root="/b/rootfs", auto_dedup=False,
                      work_dir_fd=8, manage_cgroups=True, empty_ns=0x40000000,
                      freeze_cgroup="/sys/fs/cgroup/freezer/ctr1", lazy_pages=False, orphan_pts_master=True,
                      config_file="/etc/criu/runc.conf")
    for m in EXT_MNT:
        o.ext_mnt.add(key=m, val=m)
    return o


def runc_restore() -> Any:
    o = rpc.criu_opts(images_dir_fd=7, ext_unix_sk=False, tcp_established=False, evasive_devices=True,
                      shell_job=False, file_locks=False, log_level=4, log_file="restore.log",
                      notify_scripts=True, root="/run/runc/ctr1/criu-root", auto_dedup=False, work_dir_fd=8,
                      manage_cgroups=True, rst_sibling=True, empty_ns=0x40000000, lazy_pages=False,
                      orphan_pts_master=True, config_file="/etc/criu/runc.conf")
    for m in EXT_MNT + ["/dev/null"]:  # duplicate keys occur
        o.ext_mnt.add(key=m, val=m)
    for ctrl in ("cpu", "", "memory", "name=systemd"):
        o.cg_root.add(ctrl=ctrl, path="/ctr1")
    o.inherit_fd.add(key="pipe:[796801]", fd=1)
    o.inherit_fd.add(key="pipe:[796801]", fd=2)
    return o


def logged(fn: Any) -> str:
    out = io.StringIO()
    saved = (log.out, log.level, log.max_level)
    log.out, log.level, log.max_level = out, DEBUG, 100
    try:
        fn()
    finally:
        log.out, log.level, log.max_level = saved
    return out.getvalue()


def refused(opts: Any, kind: str, service: bool = False) -> set[str]:
    with pytest.raises(RpcError) as exc:
        logged(lambda: check(opts, kind, service))
    assert exc.value.errno == errno.EBADRQC
    return {part.split(":")[0].split("=")[0] for part in str(exc.value).split("; ")}


@pytest.mark.parametrize("make,kind", [(runc_dump, "dump"), (runc_restore, "restore")])
def test_runc_requests_pass_with_what_is_tolerated_logged(make: Any, kind: str) -> None:
    text = logged(lambda: check(make(), kind, False))
    for name in ("orphan_pts_master", "config_file", "empty_ns=CLONE_NEWNET"):
        assert name in text, text
    if kind == "restore":
        assert "evasive_devices" in text
    else:
        assert "freeze_cgroup" in text


@pytest.mark.parametrize("kind", ["dump", "restore"])
def test_unprivileged_is_honoured(kind: str) -> None:
    check(rpc.criu_opts(images_dir_fd=3, unprivileged=True), kind, False)  # passed on as unprivileged=


def test_service_refuses_swrk_only_options() -> None:
    assert refused(runc_restore(), "restore", service=True) == {"rst_sibling", "inherit_fd"}


def test_root(tmp_path: Any) -> None:
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "link").symlink_to("rootfs")
    assert root(rpc.criu_opts(images_dir_fd=3), "dump") is None
    o = rpc.criu_opts(images_dir_fd=3, root=str(tmp_path / "link"))
    text = logged(lambda: root(o, "restore"))
    assert root(o, "restore") == str(tmp_path / "rootfs") and "root mount" in text
    o.root = str(tmp_path / "none")
    with pytest.raises(RpcError) as exc:
        root(o, "dump")
    assert exc.value.errno == errno.EBADRQC and "not a directory" in str(exc.value)


def test_ext_mnt_as_criu_maps_it(tmp_path: Any) -> None:
    """At dump key is the mount point and val its key, and runc gives several mount points one key
    ("/dev/null" for its masked files); at restore key is the key and val the path to bind, and runc sends
    the same key twice: the first is used (a different second one is logged)."""
    assert ext_mounts(runc_dump(), "dump") == tuple((m, m) for m in EXT_MNT)
    o = rpc.criu_opts(images_dir_fd=3)
    for point in ("/proc/keys", "/proc/timer_list"):
        o.ext_mnt.add(key=point, val="/dev/null")
    o.external.append("mnt[/data]:data")
    o.external.append("net[4026531840]:extRootNetNS")
    assert ext_mounts(o, "dump") == (("/proc/keys", "/dev/null"), ("/proc/timer_list", "/dev/null"),
                                     ("/data", "data"))
    o = rpc.criu_opts(images_dir_fd=3)
    src = tmp_path / "src"
    src.mkdir()
    for key, val in (("/dev/null", "/dev/null"), ("data", str(src)), ("/dev/null", "/dev/null"),
                     ("data", "/dev/zero")):
        o.ext_mnt.add(key=key, val=val)
    got: list[Any] = []
    text = logged(lambda: got.append(ext_mounts(o, "restore")))
    assert got == [(("/dev/null", "/dev/null"), ("data", str(src)))]
    assert "data: given twice" in text and "/dev/null: given twice" not in text
    o.ext_mnt.add(key="other", val=str(tmp_path / "missing"))
    with pytest.raises(RpcError) as exc:
        ext_mounts(o, "restore")
    assert exc.value.errno == errno.EBADRQC and "missing does not exist" in str(exc.value)
    assert ext_mounts(o, "dump")[-1] == ("other", str(tmp_path / "missing"))  # only a key at dump


def test_refused_namespace_and_mount_options() -> None:
    o = rpc.criu_opts(images_dir_fd=3, empty_ns=0x20000000, auto_ext_mnt=True, ext_sharing=True)
    o.external.append("pid[4026531836]:extRootPidNS")
    assert refused(o, "dump") == {"empty_ns", "auto_ext_mnt", "ext_sharing", "external"}
    o = rpc.criu_opts(images_dir_fd=3, mntns_compat_mode=True)
    o.external.append("mnt[/a]:b")
    assert "mntns_compat_mode" in logged(lambda: check(o, "restore", False))


def _non_default(o: Any, field: Any) -> None:
    name = field.name
    if field.message_type is not None:
        sub = getattr(o, name).add() if _repeated(o, name) else getattr(o, name)
        for f in field.message_type.fields:
            if f.type == f.TYPE_STRING:
                setattr(sub, f.name, "x")
            elif f.type == f.TYPE_BOOL:
                setattr(sub, f.name, True)
            elif f.enum_type is None:
                setattr(sub, f.name, 5)
        return
    if _repeated(o, name):
        getattr(o, name).append("x")
    elif field.type == field.TYPE_BOOL:
        setattr(o, name, True)
    elif field.type == field.TYPE_STRING:
        setattr(o, name, "/nonexistent/x" if name == "config_file" else "x")
    elif field.enum_type is not None:
        setattr(o, name, max(v.number for v in field.enum_type.values))
    else:
        setattr(o, name, 7)


def _repeated(o: Any, name: str) -> bool:
    try:
        o.HasField(name)
    except ValueError:
        return True
    return False


# honoured at restore (RestoreOptions), so no log line is owed there
HONOURED_AT_RESTORE = {"images_dir_fd", "images_dir", "work_dir_fd", "log_file", "log_level", "log_to_stderr",
                       "ext_unix_sk", "tcp_established", "shell_job", "file_locks", "notify_scripts",
                       "tcp_close", "network_lock", "rst_sibling", "inherit_fd", "join_ns", "manage_cgroups",
                       "manage_cgroups_mode", "cg_root", "root", "ext_mnt", "unprivileged"}


@pytest.mark.parametrize("kind", ["dump", "restore"])
def test_no_field_is_dropped_silently(kind: str) -> None:
    honoured = HONOURED_AT_DUMP if kind == "dump" else HONOURED_AT_RESTORE
    for field in rpc.criu_opts.DESCRIPTOR.fields:
        if field.name in honoured:
            continue
        o = rpc.criu_opts(images_dir_fd=3)
        _non_default(o, field)
        try:
            text = logged(lambda o=o: check(o, kind, False))
        except RpcError as exc:
            assert field.name in str(exc), (field.name, str(exc))
            continue
        assert field.name in text, f"{field.name} set at {kind}: neither refused nor logged"
