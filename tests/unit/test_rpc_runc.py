"""runc with Stasis as its criu (tests/containers/runc_cr.py's bundle and runner): a busybox container's
checkpoint either works, or is refused with the engine's reason in the work dir's dump.log (the only
place runc users see it: runc quotes that file) and the container still running. Never a silent
failure. (Until the engine restores namespaces, it is refused: the container has its own mount,
network and pid namespaces.)"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, needs_root

HERE = REPO / "tests" / "containers" / "runc_cr.py"
pytestmark = [needs_root, pytest.mark.skipif(not shutil.which("runc") or not Path("/bin/busybox").exists(),
                                             reason="runc and busybox-static are not installed")]


def _runc_cr() -> Any:
    spec = importlib.util.spec_from_file_location("runc_cr", HERE)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_runc_checkpoint_works_or_says_why(tmp_path: Path) -> None:
    rc = _runc_cr()
    installed = Path(sys.executable).parent / "stasis-criu"
    if not installed.exists():
        pytest.skip("stasis-criu is not installed in this environment (tox -e unit installs it)")
    shim = tmp_path / "bin"
    subprocess.run([str(installed), "--install", str(shim)], check=True, capture_output=True)
    bundle = rc.build_bundle(tmp_path / "bundle")
    runc = rc.Runc(tmp_path / "state", shim / "criu")
    ctr = f"stasis-unit-{os.getpid()}"
    try:
        with open(tmp_path / "ctr.out", "wb") as out:
            res = runc.run("run", "-d", ctr, cwd=bundle, stdout=out.fileno())
        assert res.returncode == 0, (tmp_path / "ctr.out").read_text()
        deadline = time.monotonic() + 20
        while rc._counter(bundle / "rootfs") < 2:
            assert time.monotonic() < deadline, "the container does not count"
            time.sleep(0.1)
        wrk = tmp_path / "wrk"
        res = runc.run("checkpoint", "--image-path", str(tmp_path / "img"), "--work-path", str(wrk), ctr)
        if res.returncode == 0:
            assert (tmp_path / "img" / "inventory.img").exists()
            return
        assert "dump.log" in res.stderr, res.stderr  # runc points at the log...
        errors = [ln for ln in (wrk / "dump.log").read_text().splitlines() if "Error (stasis dump): " in ln]
        assert errors, (wrk / "dump.log").read_text()  # ...and the reason is there
        state = runc.run("state", ctr)
        assert state.returncode == 0 and json.loads(state.stdout)["status"] == "running", state
    finally:
        runc.run("delete", "-f", ctr)
