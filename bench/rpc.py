"""What a request to a running `stasis service` saves: dump and restore of a tiny process (bench/tinytarget.c,
one page of data) through the service, against a fresh `python -m engine dump|restore` process each time.

Run as root from the repository root (on demand, never in the test suite):

    python3 bench/rpc.py [--repeat R]

The service runs for the whole bench (stasis service --address <work>/s.sock); each repeat dumps a fresh
target through it (one DUMP on one connection, the images dir passed as an fd of ours, resolved by the
worker through /proc/<our pid>/fd) and restores it through it (RESTORE: the restored task ends up ours:
this bench is a subreaper), checks that the restored task answers SIGUSR1, then does the same with the
command line. Times are wall times of the whole request (connection to response) or of the whole process.
Everything lives in one temporary dir; every process started is killed and reaped by its PID.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procs import Procs, alive, wait_line
from tiny import build_target

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.images.pb import criu_rpc_pb2 as rpc  # noqa: E402


def call(sock: Path, req: rpc.criu_req) -> rpc.criu_resp:
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(sock))
        s.send(req.SerializeToString())
        size = s.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
        resp = rpc.criu_resp()
        resp.ParseFromString(s.recv(size))
        return resp


def start(exe: Path, work: Path, procs: Procs) -> tuple[int, Path]:
    out = work / f"target-{len(os.listdir(work))}.out"
    with open(os.devnull, "rb") as null, open(out, "wb") as o:
        p = subprocess.Popen([str(exe)], cwd=work, stdin=null, stdout=o, stderr=o, start_new_session=True)
    procs.add(p.pid)
    wait_line(out, "ready", 1, 10)
    return p.pid, out


def check_alive(pid: int, out: Path) -> None:
    os.kill(pid, signal.SIGUSR1)
    wait_line(out, "alive", 1, 10)
    assert alive(pid)


def via_service(sock: Path, exe: Path, work: Path, procs: Procs, i: int) -> tuple[float, float]:
    pid, out = start(exe, work, procs)
    d = work / f"svc{i}"
    d.mkdir()
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        o = rpc.criu_opts(images_dir_fd=fd, pid=pid, log_file="dump.log", log_level=4)
        t0 = time.monotonic()
        resp = call(sock, rpc.criu_req(type=rpc.DUMP, opts=o))
        dump = time.monotonic() - t0
        assert resp.success, resp.cr_errmsg
        procs.reap(pid, None)
        o = rpc.criu_opts(images_dir_fd=fd, log_file="restore.log", log_level=4)
        t0 = time.monotonic()
        resp = call(sock, rpc.criu_req(type=rpc.RESTORE, opts=o))
        restore = time.monotonic() - t0
        assert resp.success and resp.restore.pid == pid, resp.cr_errmsg
    finally:
        os.close(fd)
    procs.add(pid)
    check_alive(pid, out)
    adopted(pid)
    procs.reap(pid)
    return dump, restore


def adopted(pid: int, timeout: float = 10.0) -> None:
    """The worker answers before it exits: until then the restored task is its child, not ours."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/status") as f:
            if int(next(ln for ln in f if ln.startswith("PPid:")).split()[1]) == os.getpid():
                return
        assert time.monotonic() < deadline, f"pid {pid} was not handed to us"
        time.sleep(0.001)


def via_cli(exe: Path, work: Path, procs: Procs, i: int) -> tuple[float, float]:
    pid, out = start(exe, work, procs)
    d = work / f"cli{i}"
    d.mkdir()
    engine = [sys.executable, "-m", "engine"]
    t0 = time.monotonic()
    subprocess.run([*engine, "dump", "-t", str(pid), "-D", str(d), "-o", "dump.log", "-v4"], cwd=REPO,
                   check=True, stdin=subprocess.DEVNULL)
    dump = time.monotonic() - t0
    procs.reap(pid, None)
    t0 = time.monotonic()
    subprocess.run([*engine, "restore", "-d", "-D", str(d), "-o", "restore.log", "-v4"], cwd=REPO,
                   check=True, stdin=subprocess.DEVNULL)
    restore = time.monotonic() - t0
    procs.add(pid)
    check_alive(pid, out)
    procs.reap(pid)
    return dump, restore


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER: restored tasks come to us
        raise SystemExit("prctl(PR_SET_CHILD_SUBREAPER) failed")
    work = Path(tempfile.mkdtemp(prefix="stasis-bench-rpc-"))
    procs = Procs()
    sock = work / "s.sock"
    try:
        exe = build_target(work)
        with open(os.devnull, "rb") as null:
            svc = subprocess.Popen([sys.executable, "-m", "engine", "service", "--address", str(sock)],
                                   cwd=REPO, stdin=null)
        procs.add(svc.pid)
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert svc.poll() is None and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.01)
        svc_runs = [via_service(sock, exe, work, procs, i) for i in range(args.repeat)]
        cli_runs = [via_cli(exe, work, procs, i) for i in range(args.repeat)]
        for name, runs in (("through the service", svc_runs), ("fresh stasis process", cli_runs)):
            for k, what in ((0, "dump"), (1, "restore")):
                v = [r[k] * 1000 for r in runs]
                print(f"{what:8} {name:22} median {statistics.median(v):6.1f} ms  best {min(v):6.1f} ms")
        procs.reap(svc.pid, signal.SIGTERM)
        return 0
    finally:
        procs.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
