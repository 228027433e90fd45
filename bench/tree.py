"""Dump/restore time of a 100-process tree and of a 100-thread process (on demand, as root).

    python3 bench/tree.py [--n 100] [--repeat R]

For each shape the target (bench/treetarget.c, compiled here) is started, dumped, and restored at the
same PIDs; after restore the root counts its live children. Reported: wall time of dump and restore,
per task, and the memory the restored tree uses against the original (processes that shared memory
copy-on-write get private copies on restore: this shows what that costs).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = Path(__file__).resolve().parent / "treetarget.c"
PR_SET_CHILD_SUBREAPER = 36


def tree_pids(root: int) -> list[int]:
    out, queue = [], [root]
    while queue:
        pid = queue.pop()
        out.append(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    queue += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def pss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (FileNotFoundError, StopIteration):
            pass
    return total


def wait_line(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.01)
    raise SystemExit(f"bench: target did not print {text!r}")


def reap_gone(pids: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        if not any(os.path.exists(f"/proc/{p}") for p in pids):
            return
        time.sleep(0.01)
    raise SystemExit("bench: dumped tree did not go away")


def stasis(*args: str) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, check=True)
    return time.monotonic() - t0


def run(work: Path, binary: Path, shape: str, n: int) -> dict[str, float]:
    out = work / f"{shape}.out"
    out.unlink(missing_ok=True)
    with open(os.devnull, "rb") as null, open(out, "wb") as log:
        p = subprocess.Popen([str(binary), shape, str(n)], stdin=null, stdout=log, stderr=log,
                             start_new_session=True, close_fds=True)
    root = p.pid
    try:
        wait_line(out, "ready")
        pids = tree_pids(root)
        before = pss_kib(pids)
        images = work / f"img-{shape}"
        shutil.rmtree(images, ignore_errors=True)
        images.mkdir()
        dump_s = stasis("dump", "-t", str(root), "-D", str(images), "-o", "dump.log", "-v4")
        p.wait()
        reap_gone(pids)
        pidfile = work / f"{shape}.pid"
        pidfile.unlink(missing_ok=True)
        restore_s = stasis("restore", "-D", str(images), "-o", "restore.log", "-v4", "-d", "--pidfile",
                           str(pidfile))
        after = pss_kib(tree_pids(root))
        os.kill(root, signal.SIGUSR1)
        want = n if shape == "procs" else 1
        wait_line(out, f"ok {want}")
        tasks = len(os.listdir(f"/proc/{root}/task")) if shape == "threads" else len(tree_pids(root))
        if tasks != n:
            raise SystemExit(f"bench: {tasks} tasks after restore, expected {n}")
        return {"dump": dump_s, "restore": restore_s, "pss_before": before, "pss_after": after}
    finally:
        for pid in reversed(tree_pids(root)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while True:
                os.waitpid(-1, 0)
        except ChildProcessError:
            pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    work = Path(tempfile.mkdtemp(prefix="stasis-bench-tree-"))
    try:
        binary = work / "treetarget"
        subprocess.run(["gcc", "-O2", "-pthread", "-o", str(binary), str(SRC)], check=True)
        print(f"{'shape':10} {'tasks':>5} {'dump s':>8} {'restore s':>10} {'ms/task d/r':>14} "
              f"{'PSS before':>11} {'PSS after':>10}")
        for shape in ("procs", "threads"):
            runs = [run(work, binary, shape, args.n) for _ in range(args.repeat)]
            d = statistics.median(r["dump"] for r in runs)
            r_ = statistics.median(r["restore"] for r in runs)
            pb = statistics.median(r["pss_before"] for r in runs)
            pa = statistics.median(r["pss_after"] for r in runs)
            per_task = f"{1000 * d / args.n:6.1f}/{1000 * r_ / args.n:<6.1f}"
            pss = f"{pb / 1024:9.1f}M {pa / 1024:8.1f}M"
            print(f"{shape:10} {args.n:5} {d:8.2f} {r_:10.2f} {per_task:>14} {pss}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
