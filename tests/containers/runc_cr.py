"""A busybox container checkpointed and restored by runc with Stasis as its criu.

    python3 tests/containers/runc_cr.py [--criu PATH] [--keep DIR]

Builds a minimal OCI bundle from busybox-static (/bin/busybox; Debian's busybox-static), runs it with
runc (a counter printing one line a second), then `runc --criu <stasis-criu> checkpoint` and `runc
restore -d`, and checks that the counter goes on. Each step prints what happened; when runc fails, the
lines of the engine's log (dump.log / restore.log in the work dir, where runc quotes them from) are
shown. runc 1.1 takes `--criu PATH`; later runc only looks `criu` up on PATH, so the shim's directory
(`stasis-criu --install DIR`) also goes first on PATH. State, cgroups and the container are removed at
the end, by their id.

The fixture half (build_bundle, Runc) is what the real-container group of the suite is to use once
the engine restores namespaces.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
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
    ap.add_argument("--criu", type=Path, help="the criu to give runc (default: stasis-criu next to python)")
    ap.add_argument("--keep", type=Path, help="work here and keep the files (default: a temporary dir)")
    a = ap.parse_args()
    criu = a.criu or Path(sys.executable).parent / "stasis-criu"
    if not shutil.which("runc"):
        print("runc missing: apt-get install runc")
        return 2
    work = a.keep or Path(tempfile.mkdtemp(prefix="stasis-runc-"))
    work.mkdir(parents=True, exist_ok=True)
    shim = work / "bin"
    subprocess.run([str(criu), "--install", str(shim)], check=True, stdout=subprocess.DEVNULL)
    bundle = build_bundle(work / "bundle")
    runc = Runc(work / "state", shim / "criu")
    ctr = f"stasis-rpc-{os.getpid()}"
    rc = 1
    try:
        with open(work / "ctr.out", "wb") as out:
            res = runc.run("run", "-d", "--pid-file", str(work / "ctr.pid"), ctr, cwd=bundle,
                           stdout=out.fileno())
        _report("run -d", res)
        if res.returncode:
            return 1
        time.sleep(2.5)
        before = _counter(bundle / "rootfs")
        print(f"   counter at {before}")
        res = runc.run("checkpoint", "--image-path", str(work / "img"), "--work-path", str(work / "wrk"),
                       ctr)
        _report("checkpoint", res)
        _log_errors(work / "wrk" / "dump.log")
        if res.returncode:
            state = runc.run("state", ctr)
            print(f"   container after the failed checkpoint: "
                  f"{json.loads(state.stdout)['status'] if state.returncode == 0 else state.stderr.strip()}")
            return 1
        res = runc.run("restore", "-d", "--image-path", str(work / "img"), "--work-path", str(work / "wrkr"),
                       "--pid-file", str(work / "ctr-r.pid"), ctr, cwd=bundle)
        _report("restore -d", res)
        _log_errors(work / "wrkr" / "restore.log")
        if res.returncode:
            return 1
        time.sleep(2.5)
        after = _counter(bundle / "rootfs")
        print(f"   counter at {after} (was {before} at the checkpoint)")
        rc = 0 if after > before else 1
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
