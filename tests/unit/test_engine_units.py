"""Small engine pieces whose behaviour is easy to get subtly wrong."""

from __future__ import annotations

import os
from pathlib import Path

from engine import proc
from engine.cli import normalize
from engine.native import PAGE_SIZE
from engine.objects.files import ghost, memfd
from engine.objects.mm import _chunks
from engine.objects.regs import fixup_restart

NEG = (1 << 64)


def regs(**kw: int) -> dict[str, int]:
    base = {"ip": 0x1000, "ax": 0, "orig_ax": NEG - 1}
    base.update(kw)
    return base


def test_restart_after_erestartsys_reruns_the_syscall() -> None:
    out = fixup_restart(regs(ip=0x1002, ax=NEG - 512, orig_ax=202))
    assert out["ip"] == 0x1000 and out["ax"] == 202 and out["orig_ax"] == NEG - 1


def test_restart_block_becomes_eintr() -> None:
    out = fixup_restart(regs(ip=0x1002, ax=NEG - 516, orig_ax=230))
    assert out["ip"] == 0x1002 and out["ax"] == NEG - 4


def test_outside_a_syscall_registers_stay() -> None:
    before = regs(ip=0x4242, ax=NEG - 512)  # orig_ax -1: not in a syscall, ax is just a value
    out = fixup_restart(before)
    assert out["ip"] == 0x4242 and out["ax"] == NEG - 512


def test_a_finished_syscall_keeps_its_result() -> None:
    out = fixup_restart(regs(ip=0x1002, ax=7, orig_ax=0))
    assert out["ip"] == 0x1002 and out["ax"] == 7


def test_chunks_cut_ranges_at_the_limit_and_keep_every_byte() -> None:
    ranges = [(0, 100), (200, 250), (300, 1000)]
    chunks = _chunks(ranges, 128)
    assert all(sum(e - s for s, e in c) <= 128 for c in chunks)
    flat = [r for c in chunks for r in c]
    assert sum(e - s for s, e in flat) == sum(e - s for s, e in ranges)
    merged: list[tuple[int, int]] = []
    for s, e in flat:
        if merged and merged[-1][1] == s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    assert merged == ranges


def test_stat_parsing_survives_a_comm_with_parentheses(tmp_path: Path) -> None:
    f = tmp_path / "stat"
    f.write_text("42 (a) (b c) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0\n")
    st = proc._parse_stat(str(f))
    assert st[1] == "42" and st[2] == "a) (b c" and st[3] == "S" and st[5] == "42"
    assert st[18] == "20" and st[19] == "0"  # priority, nice: 1-based as in proc(5)


def test_own_limits_match_getrlimit() -> None:
    import resource

    lim = proc.limits(os.getpid())
    assert len(lim) == 16
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    inf = (1 << 64) - 1
    want = tuple(inf if v == resource.RLIM_INFINITY else v for v in (soft, hard))
    assert lim[7] == want


def test_criu_verbosity_spellings() -> None:
    assert normalize(["-verbosity=0"]) == ["--verbosity=0"]
    assert normalize(["-v4"]) == ["--verbosity=4"]
    assert normalize(["-vvv"]) == ["--verbosity=5"]
    assert normalize(["--verbosity=4", "-t", "1"]) == ["--verbosity=4", "-t", "1"]


def test_numa_maps_shows_a_vma_with_its_own_policy() -> None:
    import ctypes
    import mmap

    from engine.abi import nr
    from engine.abi.consts import MPOL_INTERLEAVE
    from engine.objects.numa import _policied_starts

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    node0 = ctypes.c_ulong(1)
    with mmap.mmap(-1, 2 * 4096) as bound, mmap.mmap(-1, 2 * 4096) as plain:
        b = ctypes.addressof(ctypes.c_char.from_buffer(bound))
        p = ctypes.addressof(ctypes.c_char.from_buffer(plain))
        ret = libc.syscall(nr.mbind, ctypes.c_void_p(b), ctypes.c_size_t(2 * 4096), MPOL_INTERLEAVE,
                           ctypes.byref(node0), ctypes.c_ulong(64), 0)
        if ret and ctypes.get_errno() == 38:  # ENOSYS: no NUMA
            return
        assert ret == 0, os.strerror(ctypes.get_errno())
        starts = _policied_starts(os.getpid())
        assert b in starts and p not in starts


def test_cgroup_paths_the_engine_can_and_cannot_reach() -> None:
    from engine.objects.cgroup import V2, directory, hierarchies, parse, read
    from engine.proc import _unescape

    assert _unescape(r"/a\040b") == "/a b"
    got = parse("12:cpu,cpuacct:/a\n1:name=systemd:/\n0::/b:c\n")
    assert got == {"cpu,cpuacct": "/a", "name=systemd": "/", V2: "/b:c"}
    mounts = hierarchies()
    mine = read("/proc/self/cgroup") or {}
    for name, path in mine.items():
        assert directory(mounts, name, "/../elsewhere") is None
        assert directory(mounts, name, "relative") is None
        if name not in mounts:
            continue
        d = directory(mounts, name, path)
        assert d is not None and os.path.isfile(os.path.join(d, "cgroup.procs")), (name, path, mounts[name])
        assert directory(mounts, name, path.rstrip("/") + "/no-such-cgroup-here") is None
    assert directory({V2: ("/sub", "/mnt")}, V2, "/sub/x", must_exist=False) == "/mnt/x"
    assert directory({V2: ("/sub", "/mnt")}, V2, "/other", must_exist=False) is None


def test_cgns_prefix_as_criu_computes_it() -> None:
    from engine.objects.cgroup import cgns_prefix

    assert cgns_prefix("/foo/bar", "/bar") == len("/foo")
    assert cgns_prefix("/foo", "/") == len("/foo")
    assert cgns_prefix("/", "/") == 0 and cgns_prefix("/a/b", "/a/b") == 0
    assert cgns_prefix("/a/x", "/../x") is None and cgns_prefix("/a/b", "/c") is None


def test_cgroup_root_rewrites_sets_and_dirs_as_criu_does() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from engine.images.pb import cgroup_pb2
    from engine.objects.cgroup import CgRestore, _new_roots

    s = CgRestore()
    s.controllers = [cgroup_pb2.cg_controller_entry(cnames=["pids"]),
                     cgroup_pb2.cg_controller_entry(cnames=[""])]
    s.controllers[0].dirs.add(dir_name="old/t")
    s.controllers[1].dirs.add(dir_name="ns/in")
    s.sets = {2: [("pids", "/old/t", 0), ("", "/ns/in", 3), ("cpu", "/old/t", 0)]}
    ctx = cast(Any, SimpleNamespace(opts=SimpleNamespace(cgroup_roots=(("pids", "/new"), (None, "/all")))))
    _new_roots(ctx, s)
    assert s.sets[2] == [("pids", "/new", 0), ("", "/all/in", 4), ("cpu", "/old/t", 0)]
    assert [d.dir_name for d in s.controllers[0].dirs] == ["new"]
    assert [d.dir_name for d in s.controllers[1].dirs] == ["all/in"]


def test_cgroup_modes_and_roots_from_criu_options() -> None:
    from engine.images.pb import criu_rpc_pb2 as rpc
    from engine.rpc.options import cgroup_mode, cgroup_roots

    assert cgroup_mode(rpc.criu_opts(images_dir_fd=1)) is None
    assert cgroup_mode(rpc.criu_opts(images_dir_fd=1, manage_cgroups=True)) == "soft"
    assert cgroup_mode(rpc.criu_opts(images_dir_fd=1, manage_cgroups=False)) == "ignore"
    o = rpc.criu_opts(images_dir_fd=1, manage_cgroups=True, manage_cgroups_mode=rpc.STRICT)
    assert cgroup_mode(o) == "strict"
    o.cg_root.add(ctrl="pids", path="/x")
    o.cg_root.add(path="/y")
    assert cgroup_roots(o) == (("pids", "/x"), (None, "/y"))


def test_late_stages_keep_syscall_user_dispatch_last_and_mdwe_after_the_mappings() -> None:
    from engine.objects.base import Phase
    from engine.objects.registry import stages

    late = [s.name for s in stages(Phase.LATE)]
    # then only --unprivileged's seccomp filters (which cannot be suspended for the engine's syscalls)
    assert late[-2:] == ["sud", "seccomp-last"]
    assert late.index("mdwe") > late.index("mlockall")
    process = [s.name for s in stages(Phase.PROCESS)]
    assert process.index("vma-mempolicy") > process.index("mm")


def test_ghost_limit_sizes_as_criu_writes_them() -> None:
    assert ghost.parse_limit("1M") == 1 << 20
    assert ghost.parse_limit("64k") == 64 << 10
    assert ghost.parse_limit("2G") == 2 << 30
    assert ghost.parse_limit("12345") == 12345
    try:
        ghost.parse_limit("lots")
    except ValueError:
        pass
    else:
        raise AssertionError("a size without digits was accepted")


def test_memfd_extents_skip_holes_and_round_the_tail_to_a_page() -> None:
    fd = os.memfd_create("extents")
    try:
        os.pwrite(fd, b"a" * 100, 0)
        os.pwrite(fd, b"b" * 10, 5 * PAGE_SIZE + 7)
        size = os.fstat(fd).st_size
        assert memfd._extents(fd, size) == [(0, PAGE_SIZE), (5 * PAGE_SIZE, 6 * PAGE_SIZE)]
        os.ftruncate(fd, 0)
        assert memfd._extents(fd, 0) == []
    finally:
        os.close(fd)


def test_ghost_chunks_are_the_data_of_a_sparse_file(tmp_path: Path) -> None:
    f = tmp_path / "sparse"
    with open(f, "wb") as out:
        out.write(b"x" * 5000)
        out.seek(4 << 20)
        out.write(b"tail")
    g, chunks = ghost._ghost(str(f), os.stat(f))
    assert g.size == (4 << 20) + 4 and g.chunks
    data = sum(len(b) for _, b in chunks)
    assert data < 1 << 20, "the hole was read"
    assert chunks[0][1][:5000] == b"x" * 5000 and chunks[-1][1].endswith(b"tail")
    assert chunks[-1][0] + len(chunks[-1][1]) == g.size


EVENTFDS = [(0, False), (1, False), (2, False), (7, False), (0, True), (1, True), (2, True), (7, True),
            ((1 << 64) - 2, False), ((1 << 64) - 2, True)]


def test_the_semaphore_mode_is_read_without_changing_the_counter() -> None:
    """The fallback for kernels whose fdinfo has no eventfd-semaphore, on a real child's eventfds."""
    import subprocess
    import sys

    from engine.objects.files.eventfd import probe_semaphore, shown_counter

    child = ("import os, sys\n"
             f"spec = {EVENTFDS!r}\n"
             "fds = []\n"
             "for count, sem in spec:\n"
             "    fd = os.eventfd(0, os.EFD_SEMAPHORE if sem else 0)\n"
             "    if count:\n"
             "        os.eventfd_write(fd, count)\n"
             "    fds.append(fd)\n"
             "print(*fds, flush=True)\n"
             "sys.stdin.read()\n")
    p = subprocess.Popen([sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout is not None
        fds = [int(x) for x in p.stdout.readline().split()]
        for fd, (count, sem) in zip(fds, EVENTFDS, strict=True):
            assert shown_counter(p.pid, fd) == count
            assert probe_semaphore(p.pid, fd, count) is sem, (count, sem)
            assert shown_counter(p.pid, fd) == count, (count, sem)
    finally:
        p.kill()
        p.wait()


def test_manage_cgroups_modes_on_a_real_cgroup_v2_group() -> None:
    """criu's modes: none/props need the group, soft writes only what it made, full writes always, strict
    refuses an existing group; restore_abort removes what was made."""
    import pytest

    from engine.errors import RestoreError
    from engine.images.pb import cgroup_pb2
    from engine.objects.cgroup import V2, CgRestore, _prepare_dirs, hierarchies, read

    mounts, mine = hierarchies(), read("/proc/self/cgroup") or {}
    if V2 not in mounts or V2 not in mine or os.geteuid() != 0:
        pytest.skip("needs root and a cgroup2 mount")
    base = mounts[V2][1].rstrip("/")
    rel = f"{mine[V2].rstrip('/')}/stasis-unit-{os.getpid()}"
    d = f"{base}{rel}"
    if not os.access(os.path.dirname(d), os.W_OK):
        pytest.skip("the engine's cgroup v2 group is not writable")
    e = cgroup_pb2.cgroup_dir_entry(dir_name=rel.lstrip("/"))
    e.properties.add(name="cgroup.max.descendants", value="3")
    kid = e.children.add(dir_name="kid")
    kid.properties.add(name="cgroup.max.depth", value="2")

    def run(mode: str) -> CgRestore:
        s = CgRestore(mode=mode, mounts=mounts)
        _prepare_dirs(s, V2, base, [e], "")
        return s

    def value(path: str, name: str) -> str:
        with open(os.path.join(path, name)) as f:
            return f.read().strip()

    try:
        for mode in ("none", "props"):
            with pytest.raises(RestoreError, match="does not exist"):
                run(mode)
        s = run("soft")
        assert s.made == [d, f"{d}/kid"]
        assert value(d, "cgroup.max.descendants") == "3" and value(f"{d}/kid", "cgroup.max.depth") == "2"
        with open(f"{d}/cgroup.max.descendants", "w") as f:
            f.write("max")
        assert run("soft").made == [] and value(d, "cgroup.max.descendants") == "max"  # not made: not written
        assert run("none").made == [] and value(d, "cgroup.max.descendants") == "max"
        run("full")
        assert value(d, "cgroup.max.descendants") == "3"
        with pytest.raises(RestoreError, match="exists already"):
            run("strict")
        from types import SimpleNamespace

        from engine.objects import cgroup

        cgroup.restore_abort(SimpleNamespace(files=SimpleNamespace(state=lambda cls: s)))  # type: ignore[arg-type]
        assert not os.path.exists(d)
    finally:
        for p in (f"{d}/kid", d):
            if os.path.isdir(p):
                os.rmdir(p)


def test_older_images_with_the_v2_path_only_are_still_restored() -> None:
    """Images of older Stasis versions have core.tc.stasis.cgroup and no cg_set: the v2 move still works."""
    import signal
    from types import SimpleNamespace

    import pytest

    from engine.images.pb import core_pb2
    from engine.objects import cgroup

    mounts, mine = cgroup.hierarchies(), cgroup.read("/proc/self/cgroup") or {}
    if cgroup.V2 not in mounts or cgroup.V2 not in mine or os.geteuid() != 0:
        pytest.skip("needs root and a cgroup2 mount")
    rel = f"{mine[cgroup.V2].rstrip('/')}/stasis-unit-old-{os.getpid()}"
    d = f"{mounts[cgroup.V2][1].rstrip('/')}{rel}"
    os.mkdir(d)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        signal.pause()
        os._exit(0)
    try:
        core = core_pb2.core_entry(mtype=core_pb2.core_entry.X86_64)
        core.tc.stasis.cgroup = rel
        s = cgroup.CgRestore(mounts=mounts, engine=mine)
        ctx = SimpleNamespace(files=SimpleNamespace(state=lambda cls: s))
        cgroup.restore(ctx, SimpleNamespace(pid=pid, core=core))  # type: ignore[arg-type]
        assert cgroup.v2_path(f"/proc/{pid}/cgroup") == rel
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.rmdir(d)
