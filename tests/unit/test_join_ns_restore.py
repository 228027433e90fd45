"""restore --join-ns on real dumps: a bad target is refused in one line before anything is created (nothing
of the tree left, the images still good), a restore that fails after joining leaves nothing behind and the
joined namespace as it was, and a tree restored into a caller's UTS and mount namespaces (given by pid and by
an nsfs file) runs there: its files are the joined mount namespace's."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli import clean_error

from conftest import COUNTER, REPO, Spawner, Target, alive, needs_root, stasis

MNT_DETACH = 2


class Holder:
    """A shell in new namespaces (util-linux unshare --fork) that waits on its stdin."""

    def __init__(self, opts: list[str], setup: str) -> None:
        self.proc = subprocess.Popen(["unshare", *opts, "--fork", "--kill-child", "sh", "-c",
                                      f"{setup} && echo $$ && read x"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), f"unshare {opts}: {line!r}"
        self.pid = int(line)

    def ino(self, kind: str) -> int:
        return os.stat(f"/proc/{self.pid}/ns/{kind}").st_ino

    def end(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    made: list[Holder] = []
    try:
        yield made
    finally:
        for h in made:
            h.end()


def dumped(spawn: Spawner, tmp_path: Path) -> tuple[Target, Path]:
    t = spawn.python()
    images = tmp_path / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", images, "-o", "dump.log")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    return t, images


def restore(images: Path, *opts: str, fault: str | None = None) -> tuple[int, str]:
    res = stasis("restore", "-d", "-D", images, "-o", "restore.log", "-v4", *opts, fault=fault)
    return res.returncode, res.stderr if res.returncode else ""


@needs_root
def test_bad_targets_refused_before_anything(spawn: Spawner, tmp_path: Path, holders: list[Holder]) -> None:
    t, images = dumped(spawn, tmp_path)
    uts = Holder(["--uts"], "true")
    holders.append(uts)
    plain = tmp_path / "plain"
    plain.write_text("x")
    free = next(p for p in range(4_000_000, 1, -1) if not Path(f"/proc/{p}").exists())
    for spec, words in ((f"net:/proc/{uts.pid}/ns/uts", "is a namespace of kind uts, not net"),
                        (f"uts:{plain}", "is not a namespace file"),
                        (f"uts:{free}", f"no process {free}"),
                        ("uts:/nonexistent", "cannot open /nonexistent"),
                        ("pid:1", "a pid namespace cannot be joined"),
                        (f"user:/proc/{uts.pid}/ns/user,0,0", "joining a user namespace is not supported")):
        res = stasis("restore", "-d", "-D", images, "-o", "restore.log", "--join-ns", spec)
        line = clean_error(res)
        assert words in line, (spec, line)
        assert not alive(t.pid), f"{spec}: pid {t.pid} left behind"
    rc, err = restore(images, "--join-ns", f"uts:{uts.pid}")
    assert rc == 0, err
    assert os.stat(f"/proc/{t.pid}/ns/uts").st_ino == uts.ino("uts")


@needs_root
def test_failed_restore_after_joining_leaves_nothing(spawn: Spawner, tmp_path: Path,
                                                     holders: list[Holder]) -> None:
    t, images = dumped(spawn, tmp_path)
    uts = Holder(["--uts"], "echo joined-host > /proc/sys/kernel/hostname")
    holders.append(uts)
    rc, err = restore(images, "--join-ns", f"uts:{uts.pid}", fault="restore:final")
    assert rc == 1 and "restore:final" in err, err
    assert not alive(t.pid), f"pid {t.pid} left behind"
    out = subprocess.run(["nsenter", "-t", str(uts.pid), "-u", "hostname"], capture_output=True, text=True)
    assert out.stdout.strip() == "joined-host", out
    rc, err = restore(images, "--join-ns", f"uts:{uts.pid}")
    assert rc == 0, err
    n = t.count()
    t.wait_count(n + 2)


@needs_root
def test_tree_runs_in_joined_uts_and_mount_namespaces(spawn: Spawner, tmp_path: Path,
                                                      holders: list[Holder]) -> None:
    t, images = dumped(spawn, tmp_path)
    mnt_dir = tmp_path / "joined"
    mnt_dir.mkdir()
    mnt = Holder(["--mount", "--propagation", "private"],
                 f"mount -t tmpfs zdtm-join {mnt_dir} && echo inside > {mnt_dir}/marker")
    holders.append(mnt)
    uts = Holder(["--uts"], "echo joined-host > /proc/sys/kernel/hostname")
    holders.append(uts)
    nsfile = tmp_path / "utsns"
    nsfile.touch()
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.mount(f"/proc/{uts.pid}/ns/uts".encode(), str(nsfile).encode(), None, 0x1000, None) == 0, \
        os.strerror(ctypes.get_errno())  # MS_BIND: an nsfs file, as ip netns and runtimes keep them
    try:
        rc, err = restore(images, "--join-ns", f"mnt:{mnt.pid}", "--join-ns", f"uts:{nsfile}")
        assert rc == 0, err
        assert os.stat(f"/proc/{t.pid}/ns/mnt").st_ino == mnt.ino("mnt")
        assert os.stat(f"/proc/{t.pid}/ns/uts").st_ino == os.stat(nsfile).st_ino
        assert not (mnt_dir / "marker").exists()  # ours: the tmpfs is only in the joined namespace
        assert Path(f"/proc/{t.pid}/root{mnt_dir}/marker").read_text() == "inside\n"
        n = t.count()  # its stdout, reopened by path in the joined mount namespace, is the same file
        t.wait_count(n + 2)
        log = (images / "restore.log").read_text()
        assert "--join-ns mnt:" in log and "the tree shared the dumping engine's mnt namespace" in log
    finally:
        libc.umount2(str(nsfile).encode(), MNT_DETACH)


@needs_root
def test_external_net_namespace(spawn: Spawner, tmp_path: Path, holders: list[Holder]) -> None:
    """criu's (and runc's) external network namespace: a tree in a network namespace it shares with a process
    outside it is refused at dump, unless named with --external net[INODE]:KEY; then it is not dumped, and
    restore puts the tree into the namespace of the fd that --inherit-fd fd[N]:KEY names."""
    old = Holder(["--net"], "ip link set lo up")
    holders.append(old)
    t = spawn(["nsenter", f"--net=/proc/{old.pid}/ns/net", "python3", "-c", COUNTER],
              lambda t: t.count() >= 3)
    ino = old.ino("net")
    assert os.stat(f"/proc/{t.pid}/ns/net").st_ino == ino
    images = tmp_path / "img"
    images.mkdir()
    line = clean_error(stasis("dump", "-t", str(t.pid), "-D", images, "-R"))
    assert "net namespace is shared with pid" in line, line
    res = stasis("dump", "-t", str(t.pid), "-D", images, "--external", f"net[{ino}]:extRootNetNS")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    line = clean_error(stasis("restore", "-d", "-D", images))
    assert "--inherit-fd fd[N]:extRootNetNS" in line, line
    new = Holder(["--net"], "true")
    holders.append(new)
    fd = os.open(f"/proc/{new.pid}/ns/net", os.O_RDONLY)
    try:
        env = dict(os.environ)
        env.pop("STASIS_FAULT", None)
        res2 = subprocess.run([sys.executable, "-m", "engine", "restore", "-d", "-D", str(images), "-o",
                               "restore.log", "-v4", "--inherit-fd", f"fd[{fd}]:extRootNetNS"], cwd=REPO,
                              env=env, pass_fds=(fd,), capture_output=True, text=True, timeout=60)
    finally:
        os.close(fd)
    assert res2.returncode == 0, res2.stderr
    assert os.stat(f"/proc/{t.pid}/ns/net").st_ino == new.ino("net") != ino
    n = t.count()
    t.wait_count(n + 2)


PDEATH_COUNTER = "import ctypes, signal\nctypes.CDLL(None).prctl(1, signal.SIGKILL)\n" + COUNTER


@needs_root
def test_detached_with_parent_death_signal(spawn: Spawner, tmp_path: Path, holders: list[Holder]) -> None:
    """A root with a parent-death signal restored detached is an orphan from the start (its signal is not
    tied to the engine, which exits): also when it joins a namespace on its way."""
    t = spawn(["python3", "-c", PDEATH_COUNTER], lambda t: t.count() >= 3)
    images = tmp_path / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", images)
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    uts = Holder(["--uts"], "true")
    holders.append(uts)
    rc, err = restore(images, "--join-ns", f"uts:{uts.pid}")
    assert rc == 0, err
    n = t.count()
    t.wait_count(n + 5)  # the engine is gone by now: its death did not kill the root
    assert alive(t.pid) and os.stat(f"/proc/{t.pid}/ns/uts").st_ino == uts.ino("uts")
