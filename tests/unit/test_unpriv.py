"""`--unprivileged`: a uid-1000 restorer with CAP_CHECKPOINT_RESTORE and CAP_SYS_PTRACE as ambient
capabilities (zdtm/unpriv.py) restores a real uid-1000 dump as it was, and refuses every edit of its images
that would give the tree more than the restorer has, in one line, before any process is made (the edits of
fuzz/escalate.py)."""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, Result, descendants, kill_and_reap, needs_root, proc_status, stasis

sys.path.insert(0, str(REPO))
from engine.images import digest  # noqa: E402
from fuzz import escalate  # noqa: E402
from zdtm import unpriv  # noqa: E402

pytestmark = needs_root
UID = 1000

# uid 1000, no capabilities, no_new_privs, an allow-all seccomp filter, a file open for reading at an offset
TARGET = r"""
import ctypes, os, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
prog = ctypes.create_string_buffer(struct.pack("<HBBI", 0x06, 0, 0, 0x7FFF0000))
fprog = ctypes.create_string_buffer(struct.pack("<HxxxxxxQ", 1, ctypes.addressof(prog)))
u = ctypes.c_ulong
assert libc.prctl(38, u(1), u(0), u(0), u(0)) == 0, ctypes.get_errno()  # PR_SET_NO_NEW_PRIVS
# PR_SET_SECCOMP, SECCOMP_MODE_FILTER
assert libc.prctl(22, u(2), u(ctypes.addressof(fprog)), u(0), u(0)) == 0, ctypes.get_errno()
f = open("data.txt", "rb")
f.seek(7)
n = 0
while True:
    n += 1
    sys.stdout.write(f"{n} {f.tell()}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


@pytest.fixture
def work() -> Iterator[Path]:
    """A directory uid 1000 owns, outside root's private pytest tree."""
    d = Path(tempfile.mkdtemp(prefix="stasis-unpriv-", dir="/tmp"))
    os.chmod(d, 0o755)
    os.chown(d, UID, UID)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def as_user(*args: str | os.PathLike[str], timeout: float = 60) -> Result:
    argv, env = unpriv.engine_command(str(REPO))
    res = subprocess.run([*argv, *map(os.fspath, args)], env=env, cwd="/", stdin=subprocess.DEVNULL,
                         capture_output=True, timeout=timeout, preexec_fn=unpriv.preexec(UID))
    return Result([os.fspath(a) for a in args], res.returncode, res.stdout.decode(errors="replace"),
                  res.stderr.decode(errors="replace"))


def start(work: Path) -> subprocess.Popen[bytes]:
    cwd = work / "cwd"
    cwd.mkdir()
    (cwd / "data.txt").write_text("0123456789" * 10)
    (cwd / "out.txt").touch()
    for p in (cwd, cwd / "data.txt", cwd / "out.txt"):  # the restored task's own files
        os.chown(p, UID, UID)
    with open(cwd / "out.txt", "wb") as out:
        proc = subprocess.Popen(["/usr/bin/python3", "-c", TARGET], cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out, start_new_session=True,
                                preexec_fn=unpriv.preexec(UID, caps=()))
    deadline = time.monotonic() + 10
    while count(work) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, (cwd / "out.txt").read_text()
        time.sleep(0.02)
    return proc


def count(work: Path) -> int:
    lines = (work / "cwd" / "out.txt").read_text().split("\n")[:-1]
    return int(lines[-1].split()[0]) if lines else 0


def dump(work: Path, unprivileged: bool = False) -> tuple[Path, int]:
    """A real dump of the target, as root (its seccomp filter needs CAP_SYS_ADMIN to be read) or not; the
    images then belong to uid 1000."""
    proc = start(work)
    images = work / "img"
    images.mkdir()
    os.chown(images, UID, UID)
    args = ("dump", "-t", str(proc.pid), "-D", images)
    res = as_user(*args, "--unprivileged") if unprivileged else stasis(*args)
    if res.returncode:
        kill_and_reap(proc.pid)
    assert res.returncode == 0, str(res)
    proc.wait(timeout=10)
    for p in images.iterdir():
        os.chown(p, UID, UID)
    return images, proc.pid


def restored(images: Path, pid: int) -> Result:
    before = descendants()
    res = as_user("restore", "-d", "-D", images, "--unprivileged", "-v4", "-o", "restore.log")
    if res.returncode:
        assert descendants() - before == set(), "a refused restore left processes behind"
    return res


def test_unedited_dump_restores_unprivileged(work: Path) -> None:
    images, pid = dump(work)
    res = restored(images, pid)
    try:
        assert res.returncode == 0, str(res) + (images / "restore.log").read_text()[-3000:]
        n = count(work)
        deadline = time.monotonic() + 10
        while count(work) < n + 3:
            assert time.monotonic() < deadline, "the restored process does not run on"
            time.sleep(0.02)
        st = proc_status(pid)
        assert st["Uid"].split() == [str(UID)] * 4 and st["Gid"].split() == [str(UID)] * 4, st
        for name in ("CapPrm", "CapEff", "CapInh", "CapAmb"):  # none of the restorer's capabilities
            assert int(st[name], 16) == 0, (name, st[name])
        assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2" and st["Seccomp_filters"] == "1", st
        assert st["Groups"] == "", st
        last = (work / "cwd" / "out.txt").read_text().split("\n")[-2]
        assert last.split()[1] == "7", f"the file's offset changed: {last}"
        log = (images / "restore.log").read_text()
        assert "the images ask for no more than the caller's" in log, log[-2000:]
        assert "trusts its images" not in log
    finally:
        kill_and_reap(pid)


@pytest.mark.parametrize("kind", sorted(escalate.ESCALATIONS))
def test_escalation_is_refused(work: Path, kind: str) -> None:
    images, pid = dump(work)
    scratch = work / "scratch"
    scratch.mkdir()
    what = escalate.apply(kind, images, random.Random(kind), scratch)
    digest.refresh(images, None)
    for p in images.iterdir():
        os.chown(p, UID, UID)
    res = restored(images, pid)
    try:
        assert res.returncode == 1, f"{what}: {res}"
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in res.stderr, f"{what}: {res}"
        assert escalate.ESCALATIONS[kind][1] in lines[0], f"{what}: {lines[0]}"
        assert not os.path.exists(f"/proc/{pid}"), f"{what}: pid {pid} exists after the refusal"
    finally:
        kill_and_reap(pid)


def test_unprivileged_dump_of_a_seccomp_filter_is_refused(work: Path) -> None:
    proc = start(work)
    try:
        images = work / "img"
        images.mkdir()
        os.chown(images, UID, UID)
        res = as_user("dump", "-t", str(proc.pid), "-D", images, "--unprivileged")
        assert res.returncode == 1 and "reading filters needs CAP_SYS_ADMIN" in res.stderr, str(res)
        assert proc.poll() is None and proc_status(proc.pid)["TracerPid"] == "0"
    finally:
        kill_and_reap(proc.pid)


def test_unprivileged_without_the_capability_is_refused(work: Path) -> None:
    argv, env = unpriv.engine_command(str(REPO))
    res = subprocess.run([*argv, "restore", "-D", str(work), "--unprivileged"], env=env, cwd="/",
                         capture_output=True, text=True, timeout=60, preexec_fn=unpriv.preexec(UID, caps=()))
    assert res.returncode == 1 and "needs CAP_CHECKPOINT_RESTORE" in res.stderr, res.stderr


@pytest.mark.parametrize("with_openat2", [True, False])
def test_open_beneath(tmp_path: Path, with_openat2: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths resolved beneath the root without symlinks, with openat2() and with the O_NOFOLLOW walk that
    stands in for it on older kernels: the same answers."""
    from engine import unpriv as engine_unpriv

    monkeypatch.setattr(engine_unpriv, "_openat2", with_openat2)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "file").write_text("x")
    (tmp_path / "a" / "abs").symlink_to("/etc/passwd")
    (tmp_path / "a" / "rel").symlink_to("file")
    (tmp_path / "dirlink").symlink_to("a")
    fd = engine_unpriv.open_beneath(str(tmp_path), "/a/file", os.O_RDONLY)
    try:
        assert os.read(fd, 1) == b"x"
    finally:
        os.close(fd)
    for path in ("/a/abs", "/a/rel", "/dirlink/file", "/dirlink"):
        with pytest.raises(OSError) as exc:
            os.close(engine_unpriv.open_beneath(str(tmp_path), path, os.O_RDONLY))
        assert exc.value.errno in (errno.ELOOP, errno.ENOTDIR), (path, exc.value)
    for path in ("/tmp/../../etc/passwd", "etc/passwd", "/a/./file", "//a/file", "/a/file/"):
        assert engine_unpriv.plain(path), path
    assert engine_unpriv.plain("/a/file") is None and engine_unpriv.plain("/") is None


@pytest.mark.parametrize("image,field,value,expected", [
    ("seccomp.img", "prev", 5, "its filter chain names filter 5 of 1"),
    ("inventory.img", "root_cg_set", 2**31 - 1, "is not in cgroup.img"),
])
def test_out_of_range_ids_are_refused(work: Path, image: str, field: str, value: int, expected: str) -> None:
    """Found by `python -m fuzz --cases 500 --seed 7`: a seccomp filter's prev beyond the filters
    (IndexError) and a root cgroup set that leaves a task's set unknown without cgroup.img (KeyError)."""
    images, pid = dump(work)

    def change(m: Any) -> bool:
        target = m.seccomp_filters[0] if image == "seccomp.img" else m
        setattr(target, field, value)
        return True

    escalate.rewrite(images / image, change)
    digest.refresh(images, None)
    before = descendants()
    res = stasis("restore", "-d", "-D", images)
    try:
        assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, str(res)
        assert expected in res.stderr and "internal error" not in res.stderr, str(res)
        assert descendants() - before == set()
    finally:
        kill_and_reap(pid)
