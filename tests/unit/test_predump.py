"""pre-dump, --track-mem and --prev-images-dir: incremental dumps (engine/objects/memtrack.py).

A real 64 MiB target fills every page with a pattern of its own; the test tells it which pages to write
between the commands and asks it for a digest of the whole area after restore, against the digest the
test computes from what it asked for. Every tracking way the machine has is run (uffd-wp where the
kernel has PAGEMAP_SCAN and async uffd-wp, compare everywhere).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import Snapshot, Spawner, Target, alive, assert_untouched, kill_and_reap, needs_root, stasis
from engine.compel.memory import NO_PAGEMAP_SCAN_ENV as NO_SCAN
from engine.images.reader import read_entries
from engine.objects import memtrack

pytestmark = needs_root

MIB = 1 << 20
PAGES = 64 * MIB // 4096

TARGET = r"""
import hashlib, mmap, os, sys, time
P = 4096
N = 64 << 20
m = mmap.mmap(-1, N, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
def fill(i, g):
    m[i * P:(i + 1) * P] = bytes([(i * 7 + g) & 0xff or 1]) * P
for i in range(N // P):
    fill(i, 0)
seq = 0
print(seq, flush=True)
while True:
    time.sleep(0.005)
    try:
        cmd = open("cmd").read()
    except FileNotFoundError:
        continue
    if not cmd.endswith("\n"):
        continue
    os.unlink("cmd")
    w = cmd.split()
    if w[0] == "dirty":
        for i in map(int, w[2:]):
            fill(i, int(w[1]))
    elif w[0] == "hash":
        open("hash.tmp", "w").write(hashlib.sha256(m).hexdigest())
        os.rename("hash.tmp", "hash")
    seq += 1
    print(seq, flush=True)
"""


def ways() -> list[str]:
    return [w for w in ("uffd-wp", "compare") if memtrack.probe(w)[0]]


class Big:
    """The 64 MiB target and the content the test expects of it."""

    def __init__(self, spawn: Spawner) -> None:
        self.t: Target = spawn.python(TARGET, ready=lambda t: t.count() >= 0 and bool(t.lines()))
        self.gen = [0] * PAGES

    def send(self, cmd: str) -> None:
        n = self.t.count()
        tmp = self.t.cwd / "cmd.tmp"
        tmp.write_text(cmd + "\n")
        os.rename(tmp, self.t.cwd / "cmd")
        self.t.wait_count(n)

    def dirty(self, g: int, pages: list[int]) -> None:
        self.send(f"dirty {g} " + " ".join(map(str, pages)))
        for i in pages:
            self.gen[i] = g

    def expected(self) -> str:
        h = hashlib.sha256()
        for i, g in enumerate(self.gen):
            h.update(bytes([(i * 7 + g) & 0xff or 1]) * 4096)
        return h.hexdigest()

    def digest(self) -> str:
        (self.t.cwd / "hash").unlink(missing_ok=True)
        self.send("hash")
        return (self.t.cwd / "hash").read_text()


def pagemap_pages(d: Path, pid: int) -> dict[str, int]:
    """Pages of a pagemap by kind: present (in this directory's pages) and parent."""
    out = {"present": 0, "parent": 0}
    for e in read_entries(d / f"pagemap-{pid}.img", "PAGEMAP")[1:]:
        n = e.nr_pages if e.HasField("nr_pages") else e.compat_nr_pages
        if e.flags & memtrack.PE_PRESENT:
            out["present"] += n
        elif e.flags & memtrack.PE_PARENT:
            out["parent"] += n
    return out


def holder_of(d: Path) -> int:
    rec = json.loads((d / memtrack.RECORD).read_text())
    return int(rec.get("holder", 0))


def holder_gone(pid: int) -> bool:
    """Exited (a zombie holds nothing: every fd is closed at exit); reaped if it is ours."""
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    gone = not alive(pid)
    kill_and_reap(pid)  # only if it is our child (we are a subreaper) and still there
    return gone


def run(env_way: str, *args: str | os.PathLike[str]) -> None:
    """The engine with one tracking way; "no-pagemap-scan": the way it chooses without PAGEMAP_SCAN."""
    key, value = (NO_SCAN, "1") if env_way == "no-pagemap-scan" else (memtrack.WAY_ENV, env_way)
    os.environ[key] = value
    try:
        r = stasis(*args)
    finally:
        del os.environ[key]
    assert r.returncode == 0, str(r)


def test_pre_dump_leaves_the_tree_running_unchanged(spawn: Spawner, tmp_path: Path) -> None:
    t = spawn.python()
    before = Snapshot.take(t.pid)
    d = tmp_path / "pre"
    d.mkdir()
    r = stasis("pre-dump", "-t", str(t.pid), "-D", d, "--track-mem", "-o", "pre.log", "-v4")
    assert r.returncode == 0, str(r)
    assert_untouched(t, before)
    assert not any("userfaultfd" in v for v in before.fds.values())
    assert sorted(p.name for p in d.iterdir() if p.suffix == ".img")[:1] == ["inventory.img"]
    assert not (d / f"core-{t.pid}.img").exists() and not (d / "pstree.img").exists()  # as criu: pages only
    holder = holder_of(d) if "uffd-wp" in ways() else 0
    # a dump without --track-mem ends the holder (and with it the tracking: the registrations go)
    d2 = tmp_path / "dump"
    d2.mkdir()
    r = stasis("dump", "-t", str(t.pid), "-D", d2, "--prev-images-dir", "../pre", "-R", "-o", "dump.log")
    assert r.returncode == 0, str(r)
    if holder:
        assert holder_gone(holder), f"holder {holder} still running"
        with open(f"/proc/{t.pid}/smaps") as f:
            assert " uw" not in f.read(), "the engine's write-protection registrations are still there"
    assert_untouched(t, before)


@pytest.mark.parametrize("way", [*ways(), "no-pagemap-scan"])
def test_incremental_dump_writes_only_dirty_pages_and_restores_a_3_deep_chain(
        spawn: Spawner, tmp_path: Path, way: str) -> None:
    big = Big(spawn)
    pid = big.t.pid
    pre1, pre2, dump = (tmp_path / n for n in ("pre1", "pre2", "dump"))
    for d in (pre1, pre2, dump):
        d.mkdir()
    run(way, "pre-dump", "-t", str(pid), "-D", pre1, "--track-mem", "-o", "pre.log", "-v4")
    full = pagemap_pages(pre1, pid)
    assert full["present"] >= PAGES and full["parent"] == 0, full
    big.dirty(1, list(range(0, PAGES, 997)))  # 17 pages spread over the area
    run(way, "pre-dump", "-t", str(pid), "-D", pre2, "--prev-images-dir", "../pre1", "--track-mem", "-o",
        "pre.log", "-v4")
    mid = pagemap_pages(pre2, pid)
    big.dirty(2, [5, 6, 7, 4000, 9000, PAGES - 1])
    holders = [holder_of(pre1), holder_of(pre2)] if way == "uffd-wp" else []
    run(way, "dump", "-t", str(pid), "-D", dump, "--prev-images-dir", "../pre2", "--track-mem",
        "-o", "dump.log", "-v4")
    last = pagemap_pages(dump, pid)
    # far fewer pages than a full dump: the area's writes and the interpreter's own (a few hundred)
    for inc in (mid, last):
        assert inc["present"] < full["present"] // 20, (full, inc)
        assert inc["parent"] >= PAGES - 100, (full, inc)
    assert os.readlink(dump / "parent") == "../pre2" and os.readlink(pre2 / "parent") == "../pre1"
    for h in holders:
        assert holder_gone(h), f"holder {h} still running after the dump"
    big.t.reap_dumped()
    r = stasis("restore", "-D", dump, "-d", "-o", "restore.log", "-v4")
    assert r.returncode == 0, str(r)
    assert big.digest() == big.expected()


def test_a_dump_without_the_parent_chain_is_refused_at_restore(spawn: Spawner, tmp_path: Path) -> None:
    big = Big(spawn)
    pid = big.t.pid
    pre, dump = tmp_path / "pre", tmp_path / "dump"
    pre.mkdir()
    dump.mkdir()
    run(ways()[0], "pre-dump", "-t", str(pid), "-D", pre, "--track-mem")
    big.dirty(3, [1, 2])
    run(ways()[0], "dump", "-t", str(pid), "-D", dump, "--prev-images-dir", "../pre", "--track-mem")
    big.t.reap_dumped()
    shutil.rmtree(pre)
    r = stasis("restore", "-D", dump, "-d", "-o", "restore.log")
    assert r.returncode == 1 and "parent" in r.stderr, str(r)
    assert not alive(pid)


@pytest.mark.skipif(shutil.which("crit") is None, reason="crit (Debian package criu) is not installed")
def test_crit_decodes_the_chain(spawn: Spawner, tmp_path: Path) -> None:
    import subprocess

    big = Big(spawn)
    pid = big.t.pid
    pre, dump = tmp_path / "pre", tmp_path / "dump"
    pre.mkdir()
    dump.mkdir()
    run(ways()[0], "pre-dump", "-t", str(pid), "-D", pre, "--track-mem")
    big.dirty(4, [10, 11])
    run(ways()[0], "dump", "-t", str(pid), "-D", dump, "--prev-images-dir", "../pre", "--track-mem")
    for d, want in ((pre, "PE_PRESENT"), (dump, "PE_PARENT")):
        out = subprocess.run(["crit", "show", str(d / f"pagemap-{pid}.img")], capture_output=True, text=True,
                             check=True).stdout
        entries = json.loads(out)["entries"]
        assert entries[0]["pages_id"] >= 1
        assert any(want in e.get("flags", "") for e in entries[1:]), out[:2000]
    out = subprocess.run(["crit", "x", str(dump), "mems"], capture_output=True, text=True, check=True).stdout
    assert str(pid) in out


def test_a_damaged_parent_image_is_refused_at_restore(spawn: Spawner, tmp_path: Path) -> None:
    big = Big(spawn)
    pid = big.t.pid
    pre, dump = tmp_path / "pre", tmp_path / "dump"
    pre.mkdir()
    dump.mkdir()
    run(ways()[0], "pre-dump", "-t", str(pid), "-D", pre, "--track-mem")
    run(ways()[0], "dump", "-t", str(pid), "-D", dump, "--prev-images-dir", "../pre", "--track-mem")
    assert pagemap_pages(dump, pid)["parent"] >= PAGES - 100
    big.t.reap_dumped()
    with open(pre / "pages-1.img", "r+b") as f:
        f.seek(12345)
        b = f.read(1)
        f.seek(12345)
        f.write(bytes([b[0] ^ 0xff]))
    r = stasis("restore", "-D", dump, "-d", "-o", "restore.log")
    assert r.returncode == 1 and "pages-1.img" in r.stderr, str(r)
    assert not alive(pid)


@pytest.mark.parametrize("auto", [True, False])
def test_dedup_punches_the_parent_pages_the_dump_has_anew(spawn: Spawner, tmp_path: Path, auto: bool) -> None:
    big = Big(spawn)
    pid = big.t.pid
    pre, dump = tmp_path / "pre", tmp_path / "dump"
    pre.mkdir()
    dump.mkdir()
    run(ways()[0], "pre-dump", "-t", str(pid), "-D", pre, "--track-mem")
    blocks = os.stat(pre / "pages-1.img").st_blocks
    big.dirty(5, list(range(0, 2048)))  # 8 MiB written anew
    run(ways()[0], "dump", "-t", str(pid), "-D", dump, "--prev-images-dir", "../pre", "--track-mem",
        *(["--auto-dedup"] if auto else []))
    if not auto:
        assert os.stat(pre / "pages-1.img").st_blocks == blocks
        r = stasis("dedup", "-D", dump)
        assert r.returncode == 0, str(r)
    freed = (blocks - os.stat(pre / "pages-1.img").st_blocks) * 512
    assert freed >= 2048 * 4096, f"{freed} bytes freed in the parent's pages"
    big.t.reap_dumped()
    r = stasis("restore", "-D", dump, "-d", "-o", "restore.log")
    assert r.returncode == 0, str(r)
    assert big.digest() == big.expected()


def test_a_plain_dump_after_a_tracking_pre_dump_ends_its_holder(spawn: Spawner, tmp_path: Path) -> None:
    if "uffd-wp" not in ways():
        pytest.skip("no uffd-wp tracking here: no holder")
    t = spawn.python()
    before = Snapshot.take(t.pid)
    pre, dump = tmp_path / "pre", tmp_path / "dump"
    pre.mkdir()
    dump.mkdir()
    run("uffd-wp", "pre-dump", "-t", str(t.pid), "-D", pre, "--track-mem")
    holder = holder_of(pre)
    assert alive(holder)
    r = stasis("dump", "-t", str(t.pid), "-D", dump, "-R", "-o", "dump.log")
    assert r.returncode == 0, str(r)
    assert holder_gone(holder), f"holder {holder} still running"
    assert_untouched(t, before)


UFFD_USER = r"""
import ctypes, sys, time
fd = ctypes.CDLL(None, use_errno=True).syscall(323, 0o2000000 | 1)  # userfaultfd(O_CLOEXEC|USER_MODE_ONLY)
assert fd >= 0, ctypes.get_errno()
n = 0
while True:
    n += 1
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


def test_a_process_using_userfaultfd_itself_is_refused_by_pre_dump(spawn: Spawner,
                                                                           tmp_path: Path) -> None:
    if "uffd-wp" not in ways():
        pytest.skip("no uffd-wp tracking here")
    t = spawn.python(UFFD_USER)
    before = Snapshot.take(t.pid)
    d = tmp_path / "pre"
    d.mkdir()
    os.environ[memtrack.WAY_ENV] = "uffd-wp"
    try:
        r = stasis("pre-dump", "-t", str(t.pid), "-D", d, "--track-mem")
    finally:
        del os.environ[memtrack.WAY_ENV]
    assert r.returncode == 1 and "userfaultfd" in r.stderr and f"pid {t.pid}" in r.stderr, str(r)
    assert not (d / memtrack.RECORD).exists()
    assert_untouched(t, before)
    r = stasis("pre-dump", "-t", str(t.pid), "-D", d)  # the dump's own refusal (its fd table) comes first
    assert r.returncode == 1 and "userfaultfd" in r.stderr, str(r)
    assert_untouched(t, before)
