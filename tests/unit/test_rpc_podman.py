"""podman (with runc as its runtime) checkpoints and restores a busybox container with Stasis as its criu
(the shim first on PATH: podman's own VERSION probe, runc's VERSION and DUMP/RESTORE through conmon):
`container checkpoint --export --print-stats` (criu's stats-dump, which the export also carries), then
`container restore --import` under another name, whose counter goes on without a gap (podman logs).
Everything of podman's lives under tmp_path (--root; --runroot in a short /tmp dir; vfs storage,
cgroupfs): the containers, the image, conmon, and the cgroups it made are removed by name at the end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from conftest import needs_root

pytestmark = [needs_root, pytest.mark.skipif(
    not shutil.which("podman") or not shutil.which("runc") or not Path("/bin/busybox").exists(),
    reason="podman, runc and busybox-static are not installed")]

COUNTER = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"
CGROUPS = Path("/sys/fs/cgroup")


class Podman:
    def __init__(self, tmp: Path, shim: Path, run: Path) -> None:
        (tmp / "containers.conf").write_text('[engine]\nruntime = "runc"\n')
        self.env = dict(os.environ, CONTAINERS_CONF=str(tmp / "containers.conf"),
                        PATH=f"{shim}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        self.argv = ["podman", "--root", str(tmp / "storage"), "--runroot", str(run),
                     "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                     "--runtime", "runc"]

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        with open(os.devnull, "rb") as null:
            return subprocess.run([*self.argv, *args], env=self.env, stdin=null, capture_output=True,
                                  text=True, timeout=timeout)

    def ticks(self, name: str) -> list[int]:
        out = self("logs", name).stdout
        return [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("tick ")]


def _rootfs_tar(tmp: Path) -> Path:
    rootfs = tmp / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        (rootfs / d).mkdir()
    shutil.copy2("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in ("sh", "sleep", "echo"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    tar = tmp / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        t.add(rootfs, arcname=".")
    return tar


def _wait_ticks(podman: Podman, name: str, above: int, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        ticks = podman.ticks(name)
        if ticks and ticks[-1] > above:
            return ticks
        assert time.monotonic() < deadline, f"{name} does not count past {above}: {ticks}"
        time.sleep(0.2)


def test_podman_export_and_import(tmp_path: Path) -> None:
    installed = Path(sys.executable).parent / "stasis-criu"
    if not installed.exists():
        pytest.skip("stasis-criu is not installed in this environment (tox -e unit installs it)")
    shim = tmp_path / "bin"
    subprocess.run([str(installed), "--install", str(shim)], check=True, capture_output=True)
    run = Path(tempfile.mkdtemp(prefix="stasis-pm-", dir="/tmp"))  # podman takes no runroot above 50 chars
    podman = Podman(tmp_path, shim, run)
    tag = f"localhost/stasis-unit-busybox:{os.getpid()}"
    first, second = f"stasis-unit-pc-{os.getpid()}", f"stasis-unit-pc-{os.getpid()}-r"
    cgroups_before = {p for p in CGROUPS.glob("*/libpod_parent")}
    try:
        res = podman("import", str(_rootfs_tar(tmp_path)), tag)
        assert res.returncode == 0, res.stderr
        # this VM's hard limits are below podman's default nofile/nproc (doc: rpc-and-runtimes.md 3.5)
        res = podman("run", "-d", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit",
                     "nproc=1024:1024", "--name", first, tag, "sh", "-c", COUNTER)
        assert res.returncode == 0, res.stderr
        _wait_ticks(podman, first, 2)
        export = tmp_path / "ckpt.tar.gz"
        t0 = time.monotonic()
        res = podman("container", "checkpoint", "--print-stats", f"--export={export}", first)
        took = time.monotonic() - t0
        assert res.returncode == 0, res.stderr
        stats = json.loads(res.stdout[res.stdout.index("{"):])
        crit = stats["container_statistics"][0]["criu_statistics"]  # criu's stats-dump, read by podman
        assert crit["pages_written"] > 0 and crit["frozen_time"] > 0, stats
        before = podman.ticks(first)
        state = podman("inspect", "--format", "{{.State.Status}}", first).stdout.strip()
        assert state == "exited", state  # killed by the dump
        res = podman("container", "restore", "--print-stats", f"--import={export}", "--name", second)
        assert res.returncode == 0, res.stderr
        rstats = json.loads(res.stdout[res.stdout.index("{"):])
        assert rstats["container_statistics"][0]["criu_statistics"]["restore_time"] > 0, rstats
        after = _wait_ticks(podman, second, before[-1] + 1)
        assert after[:len(before)] == before and after == list(range(1, len(after) + 1)), (before, after)
        print(f"podman checkpoint --export {took:.2f} s, stats {crit}")
    finally:
        for name in (second, first):
            podman("rm", "-f", "-t", "0", name)
        podman("rmi", "-f", tag)
        for p in CGROUPS.glob("*/libpod_parent"):  # made by podman for these containers (cgroupfs)
            if p not in cgroups_before:
                for sub in sorted(p.rglob("*"), reverse=True):
                    if sub.is_dir():
                        sub.rmdir()
                p.rmdir()
        shutil.rmtree(run, ignore_errors=True)
