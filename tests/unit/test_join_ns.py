"""--join-ns and criu_opts.join_ns (engine/objects/joinns.py, engine/rpc/options.py): criu's spelling and
checks, the same for the command line and the RPC; what runc and crun send maps onto the engine's option."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from engine.errors import StasisError
from engine.images.pb import criu_rpc_pb2 as rpc
from engine.objects import joinns
from engine.rpc.options import RpcError, check, ext_netns, join_ns


def test_cli_spelling() -> None:
    assert joinns.parse_arg("net:/run/netns/a") == ("net", "/run/netns/a", "")
    assert joinns.parse_arg("uts:1234") == ("uts", "1234", "")
    assert joinns.parse_arg("user:/proc/9/ns/user,1000,1001") == ("user", "/proc/9/ns/user", "1000,1001")
    assert joinns.parse_arg("user:77,0") == ("user", "77", "0")


@pytest.mark.parametrize("spec,words", [
    ("pid:1", "pid namespace cannot be joined"),
    ("cgroup:1", "invalid namespace kind 'cgroup'"),
    ("bogus:/x", "invalid namespace kind"),
    ("net", "expected KIND:{PID|NS_FILE}"),
    ("net:", "expected KIND:{PID|NS_FILE}"),
    ("uts:/x,1", "extra options are for a user namespace only"),
    ("user:/x,root", "invalid user namespace extra option uid 'root'"),
    ("user:/x,0,70000", "invalid user namespace extra option gid '70000'"),
    ("net:0", "invalid pid 0"),
])
def test_cli_refusals_are_one_line(spec: str, words: str) -> None:
    with pytest.raises(StasisError) as exc:
        joinns.parse_arg(spec)
    assert words in str(exc.value) and "\n" not in str(exc.value)
    assert str(exc.value).startswith(f"--join-ns {spec}:")


def test_one_namespace_per_kind() -> None:
    with pytest.raises(StasisError, match="a second uts namespace"):
        joinns.parse_all([joinns.parse_arg("uts:1"), joinns.parse_arg("uts:/x")])


def runc_restore_join() -> Any:
    """runc's handleRestoringNamespaces: one join_ns per namespace with a path, other than net and pid."""
    o = rpc.criu_opts(images_dir_fd=7, log_file="restore.log", rst_sibling=True)
    o.join_ns.add(ns="uts", ns_file="/proc/4242/ns/uts")
    o.join_ns.add(ns="ipc", ns_file="/proc/4242/ns/ipc")
    o.join_ns.add(ns="user", ns_file="/proc/4242/ns/user", extra_opt="0,0")
    return o


def test_rpc_join_ns_honoured() -> None:
    o = runc_restore_join()
    check(o, "restore", False)  # no longer refused
    assert join_ns(o, "restore") == (("uts", "/proc/4242/ns/uts", ""), ("ipc", "/proc/4242/ns/ipc", ""),
                                     ("user", "/proc/4242/ns/user", "0,0"))
    assert join_ns(rpc.criu_opts(images_dir_fd=7), "restore") == ()
    assert join_ns(o, "dump") == ()  # a restore option


@pytest.mark.parametrize("ns,words", [("pid", "pid namespace cannot be joined"),
                                      ("cgroup", "invalid namespace kind")])
def test_rpc_join_ns_refused(ns: str, words: str) -> None:
    o = rpc.criu_opts(images_dir_fd=7)
    o.join_ns.add(ns=ns, ns_file="/proc/1/ns/" + ns)
    with pytest.raises(RpcError) as exc:
        join_ns(o, "restore")
    assert exc.value.errno == errno.EBADRQC and words in str(exc.value)
    assert str(exc.value).startswith("join_ns: --join-ns ")


def test_rpc_external_net_namespace() -> None:
    """runc's dump of a container whose config names a netns path: external net[INODE]:extRootNetNS is
    honoured (ext_netns); any other external resource is still refused."""
    o = rpc.criu_opts(images_dir_fd=7, pid=5)
    o.external.append("net[4026532000]:extRootNetNS")
    check(o, "dump", False)
    assert ext_netns(o, "dump") == ((4026532000, "extRootNetNS"),)
    assert ext_netns(o, "restore") == ()
    o.external.append("pid[4026532001]:extRootPidNS")
    with pytest.raises(RpcError) as exc:
        check(o, "dump", False)
    assert "external" in str(exc.value)
