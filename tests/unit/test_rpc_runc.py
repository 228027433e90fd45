"""runc with Stasis as its criu (tests/containers/runc_cr.py's bundle and runner): a busybox container
(its own mount, network, pid, ipc and uts namespaces, runc's external mounts, its stdout a pipe) is
checkpointed by `runc checkpoint` (and killed), restored by `runc restore -d`, and its counter goes on,
its output gapless (verified by its own output). runc gives the container a session keyring of its own
(`_ses.<id>`): after the restore there is again one keyring of that name, with the same permissions and
owner, and it is a new one (/proc/keys, as root sees it). On failure the assertion shows the engine's log (the
work dir's dump.log / restore.log: the only place runc users see it, runc quotes that file)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, needs_root

HERE = REPO / "tests" / "containers" / "runc_cr.py"
pytestmark = [needs_root, pytest.mark.skipif(not shutil.which("runc") or not Path("/bin/busybox").exists(),
                                             reason="runc and busybox-static are not installed")]


def _runc_cr() -> Any:
    spec = importlib.util.spec_from_file_location("runc_cr", HERE)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _keyrings(name: str) -> list[tuple[str, str, str, str]]:
    """(serial, perm, uid, gid) of each keyring called name in /proc/keys."""
    found = []
    with open("/proc/keys") as f:
        for line in f:
            cols = line.split()  # serial flags usage timeout perm uid gid type description: summary
            if len(cols) >= 9 and cols[7] == "keyring" and cols[8].rstrip(":") == name:
                found.append((cols[0], cols[4], cols[5], cols[6]))
    return found


def test_runc_checkpoint_and_restore(tmp_path: Path) -> None:
    rc = _runc_cr()
    installed = Path(sys.executable).parent / "stasis-criu"
    if not installed.exists():
        pytest.skip("stasis-criu is not installed in this environment (tox -e unit installs it)")
    shim = tmp_path / "bin"
    subprocess.run([str(installed), "--install", str(shim)], check=True, capture_output=True)
    bundle = rc.build_bundle(tmp_path / "bundle")
    runc = rc.Runc(tmp_path / "state", shim / "criu")
    ctr = f"stasis-unit-{os.getpid()}"
    out = rc.Output(tmp_path / "ctr.out")
    try:
        w = out.pipe()
        try:  # with runc's own session keyring for the container (no --no-new-keyring)
            res = runc.run("run", "-d", ctr, cwd=bundle, stdout=w)
        finally:
            os.close(w)
        assert res.returncode == 0, out.text()
        deadline = time.monotonic() + 20
        while rc._counter(bundle / "rootfs") < 2:
            assert time.monotonic() < deadline, "the container does not count"
            time.sleep(0.1)
        pid = rc.init_pid(runc, ctr)
        ring = _keyrings(f"_ses.{ctr}")
        assert len(ring) == 1, ring  # runc's keyring for the container
        wrk = tmp_path / "wrk"
        res = runc.run("checkpoint", "--image-path", str(tmp_path / "img"), "--work-path", str(wrk), ctr)
        assert res.returncode == 0, (res.stderr, (wrk / "dump.log").read_text())
        assert (tmp_path / "img" / "inventory.img").exists()
        assert "still there" not in rc.settle(runc, ctr, pid)  # killed after the dump
        before = rc._counter(bundle / "rootfs")
        w = out.pipe()
        try:
            res = runc.run("restore", "-d", "--image-path", str(tmp_path / "img"), "--work-path",
                           str(tmp_path / "wrkr"), ctr, cwd=bundle, stdout=w)
        finally:
            os.close(w)
        assert res.returncode == 0, (out.text(), (tmp_path / "wrkr" / "restore.log").read_text())
        restored = rc.init_pid(runc, ctr)
        assert restored == pid  # its pid outside too (stasis restores both)
        again = _keyrings(f"_ses.{ctr}")
        assert len(again) == 1 and again[0][1:] == ring[0][1:] and again[0][0] != ring[0][0], (ring, again)
        deadline = time.monotonic() + 20
        while f"tick {before + 1}\n" not in out.text():
            assert time.monotonic() < deadline, "the restored container does not count on"
            time.sleep(0.1)
        ticks = [int(ln.split()[1]) for ln in out.text().splitlines() if ln.startswith("tick ")]
        assert ticks == list(range(1, len(ticks) + 1)) and ticks[-1] > before, ticks  # no gap, no repeat
    finally:
        live = rc.init_pid(runc, ctr)
        runc.run("delete", "-f", ctr)
        if live:  # the restored init is an orphan of runc's: ours (the subreaper's) to reap
            rc.settle(runc, ctr, live)


ECHO = "while read l; do echo \"got:$l\"; done"


def test_runc_terminal_checkpoint_and_restore(tmp_path: Path) -> None:
    """A terminal container (process.terminal, runc's --console-socket): its init reads lines from its pty
    and answers each. The master is outside the tree (the console socket's receiver holds it), so the
    slave is an orphan: restored with criu's orphan_pts_master, a new master of the same index sent with
    the orphan-pts-master notify (SCM_RIGHTS), which runc hands to the new console socket. What is typed
    into the new master is answered by the restored shell, through the tty's echo as before."""
    from console_socket import Console

    rc = _runc_cr()
    installed = Path(sys.executable).parent / "stasis-criu"
    if not installed.exists():
        pytest.skip("stasis-criu is not installed in this environment (tox -e unit installs it)")
    shim = tmp_path / "bin"
    subprocess.run([str(installed), "--install", str(shim)], check=True, capture_output=True)
    bundle = rc.build_bundle(tmp_path / "bundle", ["sh", "-c", ECHO])
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"]["terminal"] = True
    (bundle / "config.json").write_text(json.dumps(cfg))
    runc = rc.Runc(tmp_path / "state", shim / "criu")
    ctr = f"stasis-unit-tty-{os.getpid()}"
    first, second = Console(tmp_path / "c1.sock"), Console(tmp_path / "c2.sock")
    try:
        res = runc.run("run", "-d", "--console-socket", str(first.path), ctr, cwd=bundle)
        assert res.returncode == 0, res.stderr
        assert first.wait_master(), "runc sent no console master"
        first.write(b"before\n")
        assert first.wait_for("got:before"), first.text()
        pid = rc.init_pid(runc, ctr)
        wrk = tmp_path / "wrk"
        res = runc.run("checkpoint", "--image-path", str(tmp_path / "img"), "--work-path", str(wrk), ctr)
        assert res.returncode == 0, (res.stderr, (wrk / "dump.log").read_text())
        assert "still there" not in rc.settle(runc, ctr, pid)
        # without orphan_pts_master (the CLI has none) the orphan slave is refused before anything is made
        cli = subprocess.run([sys.executable, "-m", "engine", "restore", "-D", str(tmp_path / "img"),
                              "--restore-detached", "-o", "cli-restore.log"], cwd=REPO, capture_output=True,
                             text=True, timeout=120)
        cli_log = (tmp_path / "img" / "cli-restore.log").read_text()
        assert cli.returncode != 0 and "has no master in the images" in cli_log, (cli.stderr, cli_log)
        assert "orphan_pts_master" in cli_log and not os.path.exists(f"/proc/{pid}"), cli_log
        wrkr = tmp_path / "wrkr"
        res = runc.run("restore", "-d", "--console-socket", str(second.path), "--image-path",
                       str(tmp_path / "img"), "--work-path", str(wrkr), ctr, cwd=bundle)
        log = (wrkr / "restore.log").read_text() if (wrkr / "restore.log").exists() else ""
        assert res.returncode == 0, (res.stderr, log)
        notified = [ln.split("notify: ")[1].split()[0] for ln in log.splitlines() if "notify: " in ln]
        assert notified == ["pre-restore", "setup-namespaces", "post-setup-namespaces", "orphan-pts-master",
                            "post-restore", "network-unlock", "pre-resume", "post-resume"], notified  # criu's
        assert second.wait_master(), "no master came to the new console socket"
        assert second.name == "orphan-pts-master", second.name  # as criu's notify names it
        second.write(b"after\n")
        assert second.wait_for("got:after"), second.text()
        assert second.text().startswith("after\r\n"), second.text()  # the tty's echo (termios) as it was
    finally:
        live = rc.init_pid(runc, ctr)
        runc.run("delete", "-f", ctr)
        if live:
            rc.settle(runc, ctr, live)
        first.close()
        second.close()
