"""Dump/restore of a server with N established loopback TCP connections (on demand, as root).

    python3 bench/tcp.py [--n 1000] [--mode tree|outside|both] [--repeat R] [--keep]

tree:    the dumped tree is a server process and its child holding the N client ends (no lock needed);
outside: the clients are this bench process (outside the tree): the connections are locked with nftables
         while the server is dumped and gone.
Each repeat: `python -m engine dump --tcp-established`, timed, then `restore -d`, timed until it returns
(the tree is released then); "frozen" is the time the peers could not be answered: from the start of
the dump (the freeze) to the release of the restored tree. Then every connection must still echo a byte
(the server echoes; in tree mode the child checks its N ends and prints "verify ok"). Every process
started is killed and reaped by its PID, on failure too.
"""

from __future__ import annotations

import argparse
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import BenchError, Procs, log_seconds, wait_line  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

SERVER = r"""
import os, selectors, signal, socket, sys, time
n, mode, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
lst = socket.socket(); lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("127.0.0.1", 0 if mode == "tree" else port)); lst.listen(4096)
if mode == "tree":
    addr = lst.getsockname()
    kid = os.fork()
    if kid == 0:
        import ctypes; ctypes.CDLL(None).prctl(1, 9)
        cs = [socket.create_connection(addr) for _ in range(n)]
        go = []
        signal.signal(signal.SIGUSR1, lambda *a: go.append(1))
        print("clients ready", flush=True)
        while not go:
            time.sleep(0.01)
        for i, c in enumerate(cs):
            c.sendall(bytes([i & 0xff]))
        for i, c in enumerate(cs):
            c.settimeout(20)
            if c.recv(1) != bytes([i & 0xff]):
                print("verify failed", i, flush=True); sys.exit(1)
        print("verify ok", n, flush=True)
        time.sleep(1000)
conns = [lst.accept()[0] for _ in range(n)]
sel = selectors.DefaultSelector()
for c in conns:
    c.setblocking(False); sel.register(c, selectors.EVENT_READ)
print("server ready", os.getpid(), flush=True)
while True:
    for key, _ in sel.select(1):
        try:
            d = key.fileobj.recv(4096)
        except BlockingIOError:
            continue
        if d:
            key.fileobj.sendall(d)
"""


def run(cmd: list[str], log: Path) -> float:
    t0 = time.monotonic()
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    took = time.monotonic() - t0
    if res.returncode:
        raise BenchError(f"{' '.join(cmd[:4])}...: exit {res.returncode}: {res.stderr.strip()}")
    return took


def _reap_orphans(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def one(work: Path, n: int, mode: str, procs: Procs) -> dict[str, float]:
    eng = [sys.executable, "-m", "engine"]
    out = work / "server.out"
    port = 0
    lst = None
    if mode == "outside":
        lst = socket.socket()
        lst.bind(("127.0.0.1", 0))
        port = lst.getsockname()[1]
        lst.close()
    with open(out, "w") as o:
        p = subprocess.Popen([sys.executable, "-c", SERVER, str(n), mode, str(port)], stdout=o, stderr=o,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    procs.add(p.pid)
    clients: list[socket.socket] = []
    if mode == "outside":
        deadline = time.monotonic() + 20
        while not clients:
            try:
                clients.append(socket.create_connection(("127.0.0.1", port)))
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise BenchError("the server does not listen") from None
                time.sleep(0.02)
        clients += [socket.create_connection(("127.0.0.1", port)) for _ in range(n - 1)]
    wait_line(out, "server ready", 1, 60.0)
    if mode == "tree":
        wait_line(out, "clients ready", 1, 60.0)
    img = work / "img"
    shutil.rmtree(img, ignore_errors=True)
    img.mkdir()
    t0 = time.monotonic()
    dump_s = run([*eng, "dump", "-t", str(p.pid), "-D", str(img), "-o", "dump.log", "-v4",
                  "--tcp-established"], img / "dump.log")
    p.wait()
    procs.pids.discard(p.pid)
    _reap_orphans(2.0)  # the server's child (tree mode), killed by the dump, re-parented to us
    restore_s = run([*eng, "restore", "-D", str(img), "-o", "restore.log", "-v4", "-d"], img / "restore.log")
    frozen = time.monotonic() - t0
    procs.add(p.pid)
    kid = 0
    if mode == "tree":
        for line in Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split():
            kid = int(line)
        procs.add(kid)
        os.kill(kid, signal.SIGUSR1)
        wait_line(out, "verify ok", 1, 60.0)
    else:
        sel = selectors.DefaultSelector()
        for i, c in enumerate(clients):
            c.sendall(bytes([i & 0xFF]))
        for i, c in enumerate(clients):
            c.settimeout(20)
            if c.recv(1) != bytes([i & 0xFF]):
                raise BenchError(f"connection {i} does not echo after restore")
            c.close()
        sel.close()
    engine_dump = log_seconds(img / "dump.log", r"dump of \d+ .* done in ([\d.]+) s")
    engine_restore = log_seconds(img / "restore.log", r"restore of \d+ .* done in ([\d.]+) s")
    for pid in (kid, p.pid):
        if pid:
            procs.reap(pid)
    return {"dump": dump_s, "restore": restore_s, "frozen": frozen, "engine_dump": engine_dump or 0.0,
            "engine_restore": engine_restore or 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--mode", choices=("tree", "outside", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0):  # PR_SET_CHILD_SUBREAPER: restored trees
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    work = Path(tempfile.mkdtemp(prefix="stasis-bench-tcp-"))
    procs = Procs()
    try:
        for mode in (("tree", "outside") if args.mode == "both" else (args.mode,)):
            runs = [one(work, args.n, mode, procs) for _ in range(args.repeat)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{mode:8} n={args.n}: dump {med['dump']:.3f} s (engine {med['engine_dump']:.3f}), restore "
                  f"{med['restore']:.3f} s (engine {med['engine_restore']:.3f}), peers frozen "
                  f"{med['frozen']:.3f} s  [median of {args.repeat}]")
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        procs.cleanup()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
