"""A busybox container checkpointed and restored by runc with Stasis as its criu.

    python3 tests/containers/runc_cr.py [--criu PATH] [--keep DIR]

Builds a minimal OCI bundle from busybox-static (/bin/busybox; Debian's busybox-static), runs it with
runc (a counter printing one line a second), then `runc --criu <stasis-criu> checkpoint` and `runc
restore -d`, and checks that the counter goes on. Each step prints what happened; when runc fails, the
lines of the engine's log (dump.log / restore.log in the work dir, where runc quotes them from) are
shown. runc 1.1 takes `--criu PATH`; later runc only looks `criu` up on PATH, so the shim's directory
(`stasis-criu --install DIR`) also goes first on PATH. State, cgroups and the container are removed at
the end, by their id.

The container's stdout is a pipe (copied into ctr.out): runc hands a pipe back to the restored
container through inherit_fd (descriptors.json), a file of the host would be outside its mounts. runc
gives the container a session keyring of its own (`_ses.<id>`, empty): stasis makes it again (same name,
permissions and owner); --no-new-keyring runs it in runc's session keyring instead. The fixture half
(build_bundle, Runc, Output, settle) is what tests/unit/test_rpc_runc.py uses (in `tox -e unit`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
COUNTER = "i=0; while true; do i=$((i+1)); echo $i > /counter; echo tick $i; sleep 1; done"


def build_bundle(bundle: Path, args: list[str] | None = None) -> Path:
    """bundle/rootfs with a static busybox and its applets, bundle/config.json from `runc spec`."""
    if not BUSYBOX.exists():
        raise SystemExit(f"{BUSYBOX} missing: apt-get install busybox-static")
    rootfs = bundle / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        (rootfs / d).mkdir()
    shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    for applet in ("sh", "sleep", "echo", "cat", "ls", "ps"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = args or ["sh", "-c", COUNTER]
    cfg["root"]["readonly"] = False
    (bundle / "config.json").write_text(json.dumps(cfg, indent=1))
    return bundle


class Runc:
    def __init__(self, state: Path, criu: Path | None) -> None:
        self.state = state
        self.criu = criu
        self.env = dict(os.environ)
        if criu is not None:  # runc >= 1.2 ignores --criu and looks criu up on PATH
            self.env["PATH"] = f"{criu.parent}:{self.env.get('PATH', '/usr/bin:/bin')}"

    def run(self, *args: str, cwd: Path | None = None, stdout: int | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`runc ARGS`; with stdout given (the container's), stderr goes there too."""
        argv = ["runc", "--root", str(self.state)]
        if self.criu is not None and args[0] in ("checkpoint", "restore"):
            argv += ["--criu", str(self.criu)]
        t0 = time.monotonic()
        with open(os.devnull, "rb") as null:
            res = subprocess.run([*argv, *args], cwd=cwd, env=self.env, stdin=null,
                                 stdout=stdout if stdout is not None else subprocess.PIPE,
                                 stderr=subprocess.PIPE if stdout is None else stdout, text=True,
                                 timeout=timeout)
        res.elapsed = time.monotonic() - t0  # type: ignore[attr-defined]
        return res


class Output:
    """The container's stdout and stderr, copied into a file: each `pipe()` is a new pipe whose write end
    goes to runc (as runtimes' users give it: a pipe is what runc hands back to a restored container
    through inherit_fd, from descriptors.json; a file of the host is outside the container's mounts)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.threads: list[threading.Thread] = []

    def pipe(self) -> int:
        r, w = os.pipe()
        t = threading.Thread(target=self._copy, args=(r,), daemon=True)
        t.start()
        self.threads.append(t)
        return w

    def _copy(self, r: int) -> None:
        with open(r, "rb", buffering=0) as src, open(self.path, "ab", buffering=0) as dst:
            while chunk := src.read(4096):
                dst.write(chunk)

    def text(self) -> str:
        return self.path.read_text(errors="replace") if self.path.exists() else ""


def init_pid(runc: Runc, ctr: str) -> int:
    res = runc.run("state", ctr)
    return int(json.loads(res.stdout)["pid"]) if res.returncode == 0 else 0


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def settle(runc: Runc, ctr: str, pid: int, timeout: float = 20) -> str:
    """After a checkpoint that killed the container: wait until its init (pid) is reaped, by the
    machine's PID 1 or by us if we are its subreaper (runc -d leaves it an orphan; a slow reaper keeps a
    zombie, which runc takes for a running container and stasis for a taken pid: it restores the tree's
    pids outside its pid namespace too); then remove runc's state if its deferred destroy did not.
    Returns what was seen."""
    deadline = time.monotonic() + timeout
    seen = "gone"
    while os.path.exists(f"/proc/{pid}"):
        seen = "reaped late"
        if _ppid(pid) == os.getpid():  # we are a subreaper (the unit tests are): our own zombie
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if time.monotonic() > deadline:
            return f"pid {pid} still there after {timeout:.0f} s"
        time.sleep(0.05)
    if runc.run("state", ctr).returncode == 0:
        runc.run("delete", ctr)
        seen += ", runc state deleted"
    return seen


def _report(step: str, res: subprocess.CompletedProcess[str]) -> None:
    print(f"== {step}: rc {res.returncode} in {res.elapsed:.2f} s")  # type: ignore[attr-defined]
    for line in (res.stderr or "").strip().splitlines():
        print(f"   runc: {line}")


def _log_errors(path: Path) -> None:
    if not path.exists():
        print(f"   (no {path.name} in the work dir)")
        return
    lines = path.read_text(errors="replace").splitlines()
    print(f"   {path}: {len(lines)} lines; those with Error:")
    for line in lines:
        if "Error" in line:
            print(f"   | {line}")


def _counter(rootfs: Path) -> int:
    try:
        return int((rootfs / "counter").read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--criu", type=Path, help="the criu to give runc (default: stasis-criu next to python; "
                    "another criu, e.g. /usr/sbin/criu, is given as it is)")
    ap.add_argument("--keep", type=Path, help="work here and keep the files (default: a temporary dir)")
    ap.add_argument("--no-new-keyring", action="store_true", help="runc run --no-new-keyring")
    a = ap.parse_args()
    criu = a.criu or Path(sys.executable).parent / "stasis-criu"
    if not shutil.which("runc"):
        print("runc missing: apt-get install runc")
        return 2
    work = a.keep or Path(tempfile.mkdtemp(prefix="stasis-runc-"))
    work.mkdir(parents=True, exist_ok=True)
    if criu.name == "stasis-criu":
        shim = work / "bin"
        subprocess.run([str(criu), "--install", str(shim)], check=True, stdout=subprocess.DEVNULL)
        criu = shim / "criu"
    # else another criu as it is (criu itself, for the same run with it)
    bundle = build_bundle(work / "bundle")
    runc = Runc(work / "state", criu)
    ctr = f"stasis-rpc-{os.getpid()}"
    rc = 1
    try:
        out = Output(work / "ctr.out")
        w = out.pipe()
        try:
            keyring = ["--no-new-keyring"] if a.no_new_keyring else []
            res = runc.run("run", "-d", *keyring, "--pid-file", str(work / "ctr.pid"), ctr,
                           cwd=bundle, stdout=w)
        finally:
            os.close(w)
        _report("run -d", res)
        if res.returncode:
            return 1
        time.sleep(2.5)
        before = _counter(bundle / "rootfs")
        print(f"   counter at {before}")
        pid = init_pid(runc, ctr)
        res = runc.run("checkpoint", "--image-path", str(work / "img"), "--work-path", str(work / "wrk"),
                       ctr)
        _report("checkpoint", res)
        _log_errors(work / "wrk" / "dump.log")
        if res.returncode:
            state = runc.run("state", ctr)
            print(f"   container after the failed checkpoint: "
                  f"{json.loads(state.stdout)['status'] if state.returncode == 0 else state.stderr.strip()}")
            return 1
        print(f"   the container's init {pid}: {settle(runc, ctr, pid)}")
        w = out.pipe()
        try:
            res = runc.run("restore", "-d", "--image-path", str(work / "img"), "--work-path",
                           str(work / "wrkr"), "--pid-file", str(work / "ctr-r.pid"), ctr, cwd=bundle,
                           stdout=w)
        finally:
            os.close(w)
        _report("restore -d", res)
        _log_errors(work / "wrkr" / "restore.log")
        if res.returncode:
            return 1
        time.sleep(2.5)
        after = _counter(bundle / "rootfs")
        print(f"   counter at {after} (was {before} at the checkpoint)")
        ticks = [int(ln.split()[1]) for ln in out.text().splitlines() if ln.startswith("tick ")]
        gapless = ticks == list(range(1, len(ticks) + 1))
        print(f"   its output: ticks 1..{ticks[-1] if ticks else 0}, {'gapless' if gapless else ticks}")
        rc = 0 if after > before and gapless else 1
        return rc
    finally:
        res = runc.run("delete", "-f", ctr)
        if res.returncode and "does not exist" not in res.stderr:
            print(f"   cleanup: runc delete -f {ctr}: {res.stderr.strip()}")
        if a.keep is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"   files kept in {work}")


if __name__ == "__main__":
    sys.exit(main())
