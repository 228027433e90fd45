"""--inherit-fd fd[N]:RESOURCE: a pipe the tree shared with the outside is replaced, at restore, by a pipe
the caller hands over (criu's way for runtimes that keep a container's stdio), and bad specs are clean
errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, Spawner, needs_root, stasis

READER = r"""
import os, sys
r = int(sys.argv[1])
print("ready", flush=True)
while True:
    data = os.read(r, 100)
    if not data:
        print("eof", flush=True)
        break
    print("got", data.decode().strip(), flush=True)
"""


def wait_for(path: Path, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"{text!r} not in {path}: {path.read_text()!r}"
        time.sleep(0.02)


@needs_root
def test_inherited_pipe_replaces_the_outside_pipe(spawn: Spawner, tmp_path: Path) -> None:
    r, w = os.pipe()
    out = tmp_path / "out.txt"
    with open(os.devnull, "rb") as null, open(out, "wb") as o:
        proc = subprocess.Popen([sys.executable, "-c", READER, str(r)], stdin=null, stdout=o, stderr=o,
                                start_new_session=True, pass_fds=(r,))
    spawn.pids.append(proc.pid)
    spawn.procs.append(proc)
    os.close(r)
    wait_for(out, "ready")
    os.write(w, b"one\n")
    wait_for(out, "got one")
    ino = os.fstat(w).st_ino
    images = tmp_path / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(proc.pid), "-D", images)
    assert res.returncode == 0, str(res)
    proc.wait(timeout=10)
    os.close(w)  # the old pipe is gone for good: only the inherited one can reach the restored reader
    r2, w2 = os.pipe()
    env = dict(os.environ)
    env.pop("STASIS_FAULT", None)
    res2 = subprocess.run([sys.executable, "-m", "engine", "restore", "-d", "-D", str(images),
                           "--inherit-fd", f"fd[{r2}]:pipe:[{ino}]"], cwd=REPO, env=env, pass_fds=(r2,),
                          capture_output=True, text=True, timeout=60)
    os.close(r2)
    assert res2.returncode == 0, res2.stderr
    os.write(w2, b"two\n")
    wait_for(out, "got two")
    os.close(w2)
    wait_for(out, "eof")  # the caller's end was the only writer


def test_bad_inherit_fd_specs_are_clean_errors(tmp_path: Path) -> None:
    for spec, msg in (("3:pipe:[1]", "expected fd[N]:RESOURCE"), ("fd[987]:pipe:[1]", "fd 987 is not open")):
        res = stasis("restore", "-D", tmp_path, "--inherit-fd", spec)
        assert res.returncode == 1, str(res)
        assert msg in res.stderr and "Traceback" not in res.stderr, str(res)
