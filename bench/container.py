"""Dump/restore time of a whole container (on demand, as root): real/container.py's container (unshare(1):
user, pid, mount, uts, ipc, net, time namespaces; busybox-static's Debian package as its root) grown to
--procs processes (its init and a pipeline of workers, each keeping a counter in the container's tmpfs),
--mounts tmpfs mounts of its own, and a veth pair with an address on each end (--veth; made in its network
namespace from outside with nsenter, as a runtime's network set-up does).

    python3 bench/container.py [--procs 20] [--mounts 100] [--veth] [--repeat 3] [--keep]

Each round: start the container, wait until every worker wrote, dump it (`stasis dump --root rootfs`, the
whole command timed, and the engine's own figure from its log), restore it detached (timed until the
pidfile exists, and the engine's figure), check that every worker goes on counting from where it was and
that the mounts and links are back, then stop it and reap it. Medians over --repeat rounds.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from zdtm.real import module  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36
CTR = module(REPO / "real" / "container.py")


def work_script(procs: int, mounts: int) -> str:
    workers = procs - 1  # the init is the first process
    pipeline = " | ".join(f"worker {i}" for i in range(1, workers + 1))
    return f"""
i=1
while [ $i -le {mounts} ]; do
	mkdir -p /m/$i; mount -t tmpfs -o size=1m tmpfs /m/$i; echo $i > /m/$i/id; i=$((i+1))
done
worker() {{
	c=0
	while [ ! -e /data/stop ]; do
		if [ -e /tmp/c$1 ]; then c=$(cat /tmp/c$1); fi
		c=$((c + 1))
		echo $c > /tmp/c$1
		echo "w$1 $c" >> /data/progress
		[ -e /data/ready ] || echo ready > /data/ready
		usleep 50000
	done
}}
{pipeline}
"""


def engine(*args: str, cwd: Path) -> tuple[float, str]:
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    took = time.monotonic() - t0
    if done.returncode != 0:
        raise RuntimeError(f"stasis {args[0]} failed: {done.stderr.strip()[-2000:]}")
    return took, done.stderr


def engine_figure(log: Path, what: str) -> float:
    m = re.search(rf"{what} of \d+ .*done in ([0-9.]+) s", log.read_text())
    return float(m.group(1)) if m else float("nan")


def counts(wd: Path) -> dict[str, int]:
    last: dict[str, int] = {}
    for line in CTR.lines(wd / "rootfs" / "data" / "progress"):
        w = line.split()
        if len(w) == 2:
            last[w[0]] = int(w[1])
    return last


def wait_for(cond, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def one_round(base: Path, procs: int, mounts: int, veth: bool, keep: bool) -> dict[str, float]:
    wd = Path(tempfile.mkdtemp(prefix="ctr-", dir=base))
    init = 0
    try:
        argv = CTR.argv(wd)
        (wd / "rootfs" / "work.sh").write_text(work_script(procs, mounts))
        with open(wd / "launcher.err", "wb") as err:
            launcher = subprocess.Popen(argv, cwd=wd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=err, start_new_session=True)
        init = CTR.root(wd, launcher.pid)
        launcher.wait()
        workers = procs - 1
        wait_for(lambda: len(counts(wd)) == workers, 60, f"{workers} workers")
        if veth:
            ns = ["nsenter", "-t", str(init), "-n"]
            for cmd in (["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                        ["ip", "addr", "add", "10.77.0.1/24", "dev", "v0"],
                        ["ip", "addr", "add", "10.77.0.2/24", "dev", "v1"],
                        ["ip", "link", "set", "v0", "up"], ["ip", "link", "set", "v1", "up"]):
                subprocess.run(ns + cmd, check=True)
        alive = len([p for p in os.listdir("/proc") if p.isdigit() and _in_ns(int(p), init)])
        before = counts(wd)
        (wd / "images").mkdir()
        dump_s, _ = engine("dump", "-t", str(init), "-D", "images", "--root", "rootfs", "-o", "dump.log",
                           "-v4", cwd=wd)
        sizes = sum(f.stat().st_size for f in (wd / "images").iterdir())
        wait_for(lambda: _gone(init), 10, "the dumped container to go")
        pidfile = wd / "restored.pid"
        t0 = time.monotonic()
        subprocess.Popen([sys.executable, "-m", "engine", "restore", "-D", "images", "--root", "rootfs", "-o",
                          "restore.log", "-v4", "-d", "--pidfile", str(pidfile)], cwd=wd,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).wait()
        restore_s = time.monotonic() - t0
        if not pidfile.exists() or int(pidfile.read_text()) != init:
            raise RuntimeError(f"restore failed (see {wd / 'images' / 'restore.log'})")
        wait_for(lambda: all(counts(wd).get(w, 0) > v for w, v in before.items()), 30,
                 "every worker to count on after the restore")
        mnts = (Path(f"/proc/{init}/mountinfo").read_text().count(" tmpfs "))
        if mnts < mounts:
            raise RuntimeError(f"{mnts} tmpfs mounts after the restore, expected at least {mounts}")
        if veth:
            links = subprocess.run(["nsenter", "-t", str(init), "-n", "ip", "-o", "addr"],
                                   capture_output=True, text=True, check=True).stdout
            if "10.77.0.1/24" not in links or "10.77.0.2/24" not in links:
                raise RuntimeError(f"the veth pair's addresses are not back: {links}")
        (wd / "rootfs" / "data" / "stop").touch()
        wait_for(lambda: _gone(init), 20, "the container to end")
        problems = _gaps(wd)
        if problems:
            raise RuntimeError("; ".join(problems[:5]))
        return {"procs": float(alive), "dump": dump_s, "restore": restore_s, "images_mib": sizes / 2**20,
                "dump_engine": engine_figure(wd / "images" / "dump.log", "dump"),
                "restore_engine": engine_figure(wd / "images" / "restore.log", "restore")}
    finally:
        if init and os.path.exists(f"/proc/{init}"):
            for pid in [p for p in os.listdir("/proc") if p.isdigit() and _in_ns(int(p), init)]:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
            _reap()
        if not keep:
            shutil.rmtree(wd, ignore_errors=True)


def _in_ns(pid: int, init: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init}/ns/pid")
    except OSError:
        return False


def _gaps(wd: Path) -> list[str]:
    per: dict[str, list[int]] = {}
    for line in CTR.lines(wd / "rootfs" / "data" / "progress"):
        w = line.split()
        if len(w) == 2:
            per.setdefault(w[0], []).append(int(w[1]))
    out = []
    for w, seq in per.items():
        out += CTR.gapless(seq, f"worker {w}")
    return out


def _gone(pid: int) -> bool:
    _reap()  # its zombie comes to us: we are the subreaper
    return not os.path.exists(f"/proc/{pid}")


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=20)
    ap.add_argument("--mounts", type=int, default=100)
    ap.add_argument("--veth", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout's TERM still cleans up (finally)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # the container's init comes to us once unshare is gone
    base = Path(tempfile.mkdtemp(prefix="stasis-bench-ctr-"))
    try:
        runs = [one_round(base, args.procs, args.mounts, args.veth, args.keep) for _ in range(args.repeat)]
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(f"container: {args.procs} processes asked, {args.mounts} tmpfs mounts, veth pair: {args.veth}")
    for key in runs[0]:
        vals = [r[key] for r in runs]
        shown = " ".join(f"{v:.3f}" for v in vals)
        print(f"  {key:15s} median {statistics.median(vals):8.3f}   runs {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
