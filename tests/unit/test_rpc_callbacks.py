"""criu's dump and restore callbacks over RPC, in criu's order, with a raw client (rpc_client.Swrk): for a
tree with a network namespace of its own, network-lock (after the freeze), query-ext-files, post-dump,
and network-unlock when the tree runs on; at restore network-unlock after post-restore. The lock is
real: while it holds, a connection to the tree's own listener from another process of its namespace
does not get through (the kernel would complete it from the backlog even with the tree frozen; at
restore, before the listener exists, a RST would come back); once it is released, it does.
query-ext-files' reply may add external resources (criu's opts.external), which are honoured or refused
by name."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rpc_client import Swrk, opts, rpc

from conftest import Spawner, Target, alive, kill_and_reap, needs_root

pytestmark = [needs_root, pytest.mark.skipif(not shutil.which("nft"), reason="nft (Debian's nftables) is not "
                                                                           "installed")]

LISTENER = ("import socket\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)\n"
            "print('port', s.getsockname()[1], flush=True)\n"
            "while True:\n"
            "    s.accept()[0].close()\n")


def _listener(spawn: Spawner) -> tuple[Target, int]:
    sh = f"ip link set lo up && exec {sys.executable} -c \"{LISTENER}\""
    t = spawn(["unshare", "--net", "sh", "-c", sh], lambda t: "port" in t.out.read_text(), name="netns")
    port = int(t.out.read_text().split()[1])
    return t, port


def _connect(pid: int, port: int) -> str:
    """A connection to 127.0.0.1:port in pid's network namespace: "yes", "refused" (no listener: a RST came
    back) or "timeout" (nothing came back within 1.5 s: the lock drops the SYN)."""
    code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1.5)\n"
            "    print('yes')\nexcept ConnectionRefusedError:\n    print('refused')\n"
            "except TimeoutError:\n    print('timeout')\n")
    res = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=30)
    assert res.stdout.strip() in ("yes", "refused", "timeout"), (res.stdout, res.stderr)
    return res.stdout.strip()


def _connects(pid: int, port: int) -> bool:
    return _connect(pid, port) == "yes"


def _tables(pid: int) -> list[str]:
    res = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "nft", "list", "tables"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return [ln.split()[-1] for ln in res.stdout.splitlines() if ln.startswith("table ")]


def _locks(pid: int) -> list[str]:
    return [t for t in _tables(pid) if t.startswith("stasis-netns-")]


def _dump(tmp_path: Path, t: Target, on_notify: Any = None, **kw: Any) -> tuple[Any, Swrk, Path]:
    d = tmp_path / "img"
    d.mkdir(exist_ok=True)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        cli = Swrk(tmp_path)
        resp = cli.call(rpc.criu_req(type=rpc.DUMP, opts=opts(fd, pid=t.pid, log_file="dump.log",
                                                               notify_scripts=True, **kw)),
                        on_notify=on_notify)
    finally:
        os.close(fd)
    return resp, cli, d


def test_dump_callbacks_and_network_lock(spawn: Spawner, tmp_path: Path) -> None:
    t, port = _listener(spawn)
    assert _connects(t.pid, port) and not _locks(t.pid)
    seen: dict[str, Any] = {}

    def on_notify(script: str, resp: Any) -> None:
        if script == "query-ext-files":  # after network-lock: the lock holds
            seen["locks"] = _locks(t.pid)
            seen["connects"] = _connect(t.pid, port)

    resp, cli, d = _dump(tmp_path, t, on_notify, leave_running=True)
    log = (d / "dump.log").read_text()
    assert resp.success, (resp.cr_errmsg, log)
    assert cli.close() == 0
    # criu's order; network-unlock because the tree runs on (leave_running)
    assert [s for s, _ in cli.notified] == ["pre-dump", "network-lock", "query-ext-files", "post-dump",
                                            "network-unlock"], cli.notified
    assert len(seen["locks"]) == 1 and seen["connects"] == "timeout", (seen, log)
    assert alive(t.pid) and not _locks(t.pid), _tables(t.pid)  # released with the tree
    assert _connects(t.pid, port)
    assert (d / f"nftables-{_netns_id(d)}.img").read_text() == ""  # the lock is not in the images


def _netns_id(d: Path) -> str:
    return next(p.name for p in d.iterdir() if p.name.startswith("nftables-")).split("-")[1].split(".")[0]


def test_restore_callbacks_and_network_lock(spawn: Spawner, tmp_path: Path) -> None:
    t, port = _listener(spawn)
    resp, cli, d = _dump(tmp_path, t)
    assert resp.success, (resp.cr_errmsg, (d / "dump.log").read_text())
    assert cli.close() == 0
    assert [s for s, _ in cli.notified] == ["pre-dump", "network-lock", "query-ext-files", "post-dump"]
    t.reap_dumped()
    seen: dict[str, Any] = {}

    def on_notify(script: str, resp: Any) -> None:
        pid = t.pid  # (restored at its pid)
        if script == "post-setup-namespaces":  # its network rebuilt, no socket yet: a RST, were it not locked
            seen["locked"] = (_locks(pid), _connect(pid, port))
        elif script == "pre-resume":  # after network-unlock; the listener is back
            seen["unlocked"] = (_locks(pid), _connect(pid, port))

    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        cli = Swrk(tmp_path)
        resp = cli.call(rpc.criu_req(type=rpc.RESTORE, opts=opts(fd, log_file="restore.log",
                                                                 notify_scripts=True)), on_notify=on_notify)
    finally:
        os.close(fd)
    log = (d / "restore.log").read_text()
    assert resp.success, (resp.cr_errmsg, log)
    assert cli.close() == 0
    try:
        assert [s for s, _ in cli.notified] == ["pre-restore", "setup-namespaces", "post-setup-namespaces",
                                                "post-restore", "network-unlock", "pre-resume",
                                                "post-resume"], cli.notified
        locks, connects = seen["locked"]
        assert len(locks) == 1 and connects == "timeout", (seen, log)
        assert seen["unlocked"] == ([], "yes"), (seen, log)
    finally:
        kill_and_reap(resp.restore.pid)


def test_query_ext_files_reply(spawn: Spawner, tmp_path: Path) -> None:
    """The reply to query-ext-files may name external resources (criu: opts.external): one stasis does not
    know fails the dump with its name, and the tree runs on, unlocked."""
    t, port = _listener(spawn)

    def on_notify(script: str, resp: Any) -> Any:
        if script == "query-ext-files":
            ack = rpc.criu_req(type=rpc.NOTIFY, notify_success=True)
            ack.opts.images_dir_fd = -1
            ack.opts.external.append("file[12:345]")
            return ack
        return None

    resp, cli, d = _dump(tmp_path, t, on_notify)
    assert not resp.success and resp.cr_errno == errno.EOPNOTSUPP, resp
    assert "query-ext-files" in resp.cr_errmsg and "file[12:345]" in resp.cr_errmsg, resp.cr_errmsg
    assert cli.close() == 1
    assert [s for s, _ in cli.notified] == ["pre-dump", "network-lock", "query-ext-files", "network-unlock"]
    assert alive(t.pid) and not _locks(t.pid) and _connects(t.pid, port)


def test_no_lock_without_own_netns(spawn: Spawner, tmp_path: Path) -> None:
    """A tree in the engine's network namespace: no network-lock, no network-unlock (criu's rule)."""
    t = spawn.python()
    resp, cli, d = _dump(tmp_path, t, leave_running=True)
    assert resp.success, resp.cr_errmsg
    assert cli.close() == 0
    assert [s for s, _ in cli.notified] == ["pre-dump", "query-ext-files", "post-dump"]
    assert not any(x.startswith("stasis-netns-") for x in _tables(os.getpid()))
