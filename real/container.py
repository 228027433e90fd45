"""A container made by a real tool: unshare(1) with user (root mapped), pid, mount, uts, ipc, net and time
namespaces (boottime +10 days), whose root file system is made from a Debian package (busybox-static's .deb,
unpacked with dpkg-deb: /bin/busybox and its applets as symlinks). Its init (real/progs/container/init.sh)
pivots into that root, mounts its own proc and a tmpfs, drops the old root, sets its hostname, brings lo up
and runs 4 workers (work.sh) that keep their counters in the tmpfs. The launcher (unshare, which shares
the namespaces it made) is killed once the container runs, as a container runtime's launcher is gone: the
tree dumped is the container's init and its workers, with `--root rootfs`.

Mid-work: /data/progress grew by 60 lines. End: /data/stop. Verified by the container's own output: each
worker's counters are 1, 2, ... with no gap or repeat (its tmpfs came back), every line has the hostname,
the uptime (the time namespace's boottime) never went back and stayed above its offset, and the init's
summary shows the same uid map and lo up.
"""

import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from zdtm.real import Real, gapless, lines

HERE = Path(__file__).parent / "progs" / "container"
APPLETS = ("sh", "mount", "umount", "mkdir", "rmdir", "pivot_root", "hostname", "ip", "cat", "usleep",
           "setsid", "wc", "echo")
BOOTTIME = 864000  # seconds: the container's boottime offset
CACHE = Path(__file__).resolve().parents[1] / "build" / "cache"


def _deb() -> Path:
    """busybox-static's package: apt's cache, else downloaded once into build/cache."""
    cached = sorted(glob.glob("/var/cache/apt/archives/busybox-static_*.deb"))
    if cached:
        return Path(cached[-1])
    CACHE.mkdir(parents=True, exist_ok=True)
    got = sorted(CACHE.glob("busybox-static_*.deb"))
    if not got:
        for _ in range(2):  # the package lists may be missing on a fresh machine: update, once
            done = subprocess.run(["apt-get", "download", "busybox-static"], cwd=CACHE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if done.returncode == 0:
                break
            subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        got = sorted(CACHE.glob("busybox-static_*.deb"))
    return got[-1]


def argv(wd: Path) -> list[str]:
    root = wd / "rootfs"
    unpacked = wd / "deb"
    subprocess.run(["dpkg-deb", "-x", str(_deb()), str(unpacked)], check=True)
    (root / "bin").mkdir(parents=True)
    shutil.copy2(unpacked / "bin" / "busybox", root / "bin" / "busybox")
    shutil.rmtree(unpacked)
    for name in APPLETS:
        os.symlink("busybox", root / "bin" / name)
    for script in ("init.sh", "work.sh"):
        shutil.copy(HERE / script, root / script)
    return ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net",
            "--time", f"--boottime={BOOTTIME}", str(root / "bin" / "busybox"), "sh", str(root / "init.sh"),
            str(root)]


def root(wd: Path, launcher: int) -> int:
    """The container's init (unshare's child), once it runs its work; then the launcher goes."""
    deadline = time.monotonic() + 20
    init = 0
    while not (init and (wd / "rootfs" / "data" / "ready").exists()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the container did not start (init {init or 'not born'})")
        if not init:
            try:
                kids = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
            except OSError:
                kids = []
            init = int(kids[0]) if kids else 0
        time.sleep(0.02)
    os.kill(launcher, signal.SIGKILL)  # the container goes on without it (no --kill-child)
    while _running(launcher):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the launcher {launcher} did not go")
        time.sleep(0.01)
    return init


def _running(pid: int) -> bool:
    """Not gone nor a zombie (the launcher's parent reaps it, whoever that is)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def progress(wd: Path) -> int:
    return len(lines(wd / "rootfs" / "data" / "progress"))


def verify(wd: Path) -> list[str]:
    data = wd / "rootfs" / "data"
    rows = [ln.split() for ln in lines(data / "progress")]
    problems: list[str] = []
    per: dict[str, list[tuple[int, float]]] = {}
    for i, r in enumerate(rows, 1):
        if len(r) != 4 or r[2] != "stasis-ctr":
            problems.append(f"progress line {i}: {' '.join(r)!r} (expected 'wI COUNT stasis-ctr UPTIME')")
            continue
        per.setdefault(r[0], []).append((int(r[1]), float(r[3])))
    if sorted(per) != [f"w{i}" for i in range(1, 5)]:
        problems.append(f"workers seen: {sorted(per)}, expected w1..w4")
    for w, seq in sorted(per.items()):
        problems += gapless((c for c, _ in seq), f"worker {w}'s counter")
        ups = [u for _, u in seq]
        if any(b < a for a, b in zip(ups, ups[1:], strict=False)):
            problems.append(f"worker {w}: the container's uptime went back")
        if ups and min(ups) < BOOTTIME:
            problems.append(f"worker {w}: uptime {min(ups)} below the time namespace's offset {BOOTTIME}")
    summary = lines(data / "summary")
    want = "done stasis-ctr 0 0 1 1"
    if [" ".join(s.split()) for s in summary] != [want]:
        problems.append(f"summary: {summary!r}, expected [{want!r}]")
    return problems[:20]


PROGRAM = Real(argv=argv, root=root, progress=progress, verify=verify, mid_work=60,
               stop="file:rootfs/data/stop", needs=("unshare", "dpkg-deb"), opts=["--root", "rootfs"],
               timeout=40)
