"""Flavors: h runs the program in the container's namespaces; ns and uns give it its own (the test library
creates them from ZDTM_NEWNS), with a root and a /dev that the harness prepares here, inside the container."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zdtm import mounts
from zdtm.layout import REPO_ROOT

NS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# host dirs the ns root sees read-only; where the host has a symlink (/lib -> usr/lib), so does the root
HOST_DIRS = ("usr", "lib", "lib64", "bin", "sbin", "etc")
ROOT_DIRS = ("proc", "run", "dev", "tmp", "old")
# name, major, minor: the nodes a test may open in its own /dev
DEV_NODES = (
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
)


@dataclass(frozen=True)
class Flavor:
    name: str
    newns: bool  # the program makes its own namespaces and pivots into ZDTM_ROOT
    userns: bool
    # C/R of a program in its own namespaces needs namespace support in the engine: pid, mnt, uts, ipc, net
    # and time namespaces are there (ns); a user namespace is not yet (uns items are skipped with that
    # reason, never run and reported green)
    cr_supported: bool

    def root(self, workdir: Path) -> Path:
        return workdir / "root"

    def dev(self, workdir: Path) -> Path:
        return workdir / "dev"

    def env(self, workdir: Path) -> dict[str, str]:
        if not self.newns:
            return {}
        env = {
            "ZDTM_NEWNS": "1",
            "ZDTM_ROOT": str(self.root(workdir)),
            "ZDTM_DEV": str(self.dev(workdir)),
            "PATH": NS_PATH,
        }
        if self.userns:
            env["ZDTM_USERNS"] = "1"
        return env

    def prepare(self, workdir: Path, bind: str | None = None) -> None:
        """Build the root and /dev. Called in the container's mount ns, so nothing outlives the item."""
        if not self.newns:
            return
        root, dev = self.root(workdir), self.dev(workdir)
        root.mkdir()
        dev.mkdir()
        # 0777: in uns the test's root is not the host's root and must still create `old` and /dev/ptmx
        mounts.tmpfs("zdtm_root", root, 0o777)
        for name in HOST_DIRS:
            host = Path("/") / name
            if host.is_symlink():
                (root / name).symlink_to(os.readlink(host))
            elif host.is_dir():
                (root / name).mkdir()
                mounts.bind(host, root / name, readonly=True)
        for name in ROOT_DIRS:
            (root / name).mkdir(mode=0o777)
            os.chmod(root / name, 0o1777 if name == "tmp" else 0o777)
        # the work dir and the binary keep their absolute paths inside the root
        repo_in_root = root / REPO_ROOT.relative_to("/")
        repo_in_root.mkdir(parents=True, exist_ok=True)
        mounts.bind(REPO_ROOT, repo_in_root, readonly=False)
        if bind:
            (root / bind.lstrip("/")).mkdir(parents=True, exist_ok=True)
        mounts.tmpfs("zdtm_dev", dev, 0o777)
        for name, major, minor in DEV_NODES:
            mounts.mkchar(dev / name, major, minor)
        for name in ("pts", "net"):
            (dev / name).mkdir(mode=0o777)

    def dump_opts(self, workdir: Path) -> tuple[list[str], list[str]]:
        """(options after --pidfile, options after the desc dopts), as upstream orders them."""
        if not self.newns:
            return [], []
        return ["--root", str(self.root(workdir))], ["--external", "mnt[/dev]:ZDTM_DEV"]

    def restore_opts(self, workdir: Path) -> tuple[list[str], list[str]]:
        if not self.newns:
            return [], []
        return ["--root", str(self.root(workdir))], ["--external", f"mnt[ZDTM_DEV]:{self.dev(workdir)}"]

    def skip_cr_reason(self) -> str | None:
        if self.cr_supported:
            return None
        if self.userns:
            return (f"C/R in flavor {self.name} needs user namespace support in the engine (not yet: the "
                    "engine refuses a tree with a user namespace of its own)")
        return f"C/R in flavor {self.name} needs namespace support in the engine (not yet)"


FLAVORS: dict[str, Flavor] = {
    "h": Flavor("h", newns=False, userns=False, cr_supported=True),
    "ns": Flavor("ns", newns=True, userns=False, cr_supported=True),
    "uns": Flavor("uns", newns=True, userns=True, cr_supported=True),
}
