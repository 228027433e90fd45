"""Running one cycle in its own container: new pid, mount, net, ipc and uts namespaces via util-linux
unshare, with zdtm.ct as pid 1. The pytest side only starts it, waits (with a timeout) and kills it by
pid; the kernel tears the namespaces down once pid 1 is gone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from zdtm.cycle import RESULT_FILE, SPEC_FILE, CycleResult, CycleSpec
from zdtm.layout import REPO_ROOT

HARNESS_LOG = "harness.log"


def fresh_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.chmod(path, 0o777)  # the test runs as uid 18943


def command(spec_path: Path) -> list[str]:
    return [
        # if this pytest process dies without cleaning up, unshare gets SIGKILL, and --kill-child passes it on
        "setpriv",
        "--pdeathsig",
        "KILL",
        "unshare",
        "--pid",
        "--mount",
        "--net",
        "--ipc",
        "--uts",
        "--fork",
        "--kill-child=SIGKILL",
        "--mount-proc",
        "--propagation=private",
        sys.executable,
        "-m",
        "zdtm.ct",
        str(spec_path),
    ]


def run(spec: CycleSpec, timeout: float) -> CycleResult:
    workdir = Path(spec.workdir)
    fresh_workdir(workdir)
    spec_path = workdir / SPEC_FILE
    spec.save(spec_path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    log_path = workdir / HARNESS_LOG
    with open(log_path, "wb") as log:
        # own session: a terminal ^C goes to pytest, whose cleanup below kills the container by pid
        proc = subprocess.Popen(
            command(spec_path),
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        if proc.poll() is None:  # timeout, KeyboardInterrupt, anything: the container must not outlive us
            proc.kill()
            proc.wait()
    result_path = workdir / RESULT_FILE
    logs = {HARNESS_LOG: str(log_path)}
    if rc is None:
        partial = _partial_logs(workdir, spec.name)
        return CycleResult(
            "fail",
            "timeout",
            f"the item did not finish within {timeout:.0f} s; container killed",
            {**partial, **logs},
        )
    if not result_path.exists():
        return CycleResult(
            "fail",
            "harness",
            f"the container exited with {rc} and wrote no {RESULT_FILE}",
            {**_partial_logs(workdir, spec.name), **logs},
        )
    result = CycleResult.load(result_path)
    if result.status != "pass" and log_path.stat().st_size:
        result.logs.update(logs)
    return result


def _partial_logs(workdir: Path, name: str) -> dict[str, str]:
    found = {}
    names = ("launch.log", f"{name}.out", f"{name}.out.inprogress", f"{name}.outns", "engine.out")
    for rel in (*names, f"{name}.stdout", f"{name}.stderr"):
        if (workdir / rel).exists():
            found[rel] = str(workdir / rel)
    for log in sorted(workdir.glob("dump/*/*.log"))[-2:]:
        found[log.name] = str(log)
    return found
