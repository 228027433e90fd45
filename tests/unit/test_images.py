"""engine.images: framing, magics, round trips, error reporting, show."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
import test_images_samples as samples
from google.protobuf.message import Message

from engine.errors import ImageError, StasisError
from engine.images import (
    ImageDir,
    ImageWriter,
    encode_entry,
    header,
    magic,
    read_entries,
    read_image,
    read_one,
)
from engine.images.kinds import FILES, SCHEMAS
from engine.images.pb import core_pb2, fs_pb2, mm_pb2, pagemap_pb2, pipe_pb2, pstree_pb2, seccomp_pb2
from engine.images.show import show, show_json

FS_6985 = bytes.fromhex("19435654 12394051 06000000 0809 100a 1812")


@pytest.fixture
def dump(tmp_path: Path) -> ImageDir:
    return samples.write_dump(tmp_path)


def u32(v: int) -> bytes:
    return struct.pack("<I", v)


# --- framing -----------------------------------------------------------------------------------------


def test_fs_framing_matches_reference_dump(tmp_path: Path) -> None:
    d = ImageDir(tmp_path)
    path = d.write("fs", fs_pb2.fs_entry(cwd_id=9, root_id=10, umask=0o22), pid=6985)
    assert path.name == "fs-6985.img"
    assert path.read_bytes() == FS_6985
    assert d.read_one("fs", pid=6985) == fs_pb2.fs_entry(cwd_id=9, root_id=10, umask=18)


def test_reference_fs_bytes_decode(tmp_path: Path) -> None:
    (tmp_path / "fs-6985.img").write_bytes(FS_6985)
    entry = read_one(tmp_path / "fs-6985.img", "FS")
    assert (entry.cwd_id, entry.root_id, entry.umask) == (9, 10, 0o22)


def test_inventory_has_only_its_own_magic(dump: ImageDir) -> None:
    data = dump.path("inventory").read_bytes()
    assert data[:4] == bytes.fromhex("16313158")
    assert u32(magic.IMG_COMMON) not in data[:8]
    assert header("INVENTORY") == bytes.fromhex("16313158")
    inv = dump.read_one("inventory")
    assert inv.img_version == magic.CRTOOLS_IMAGES_V1_1 and inv.fdinfo_per_id


def test_service_image_header(dump: ImageDir) -> None:
    assert dump.path("stats-dump").read_bytes()[:8] == bytes.fromhex("40591055 06330957")
    assert header("IRMAP_CACHE")[:4] == u32(magic.IMG_SERVICE)


def test_common_header_for_regular_images() -> None:
    for name in SCHEMAS:
        if name not in ("INVENTORY", "STATS"):
            assert header(name) == u32(magic.IMG_COMMON) + u32(magic.MAGICS[name])


def test_required_zero_is_on_the_wire() -> None:
    # pstree root: ppid=0 written explicitly (10 00); threads unpacked, one tag each (28 ..)
    e = pstree_pb2.pstree_entry(pid=6985, ppid=0, pgid=6985, sid=6985, threads=[6985, 6986])
    body = encode_entry(e)[4:]
    assert bytes.fromhex("1000") in body
    assert body.count(b"\x28") == 2


def test_vma_fd_minus_one_is_zigzag() -> None:
    v = samples.vma(0x1000, 0x2000, 1, 0x22, 0x201)
    assert v.SerializeToString().endswith(bytes.fromhex("4001"))


def test_zero_length_entry(tmp_path: Path) -> None:
    d = ImageDir(tmp_path)
    path = d.write("seccomp", seccomp_pb2.seccomp_entry())
    assert path.read_bytes() == u32(magic.IMG_COMMON) + u32(0x64413049) + u32(0)
    assert d.read("seccomp") == [seccomp_pb2.seccomp_entry()]


def test_extra_payload_framing(tmp_path: Path) -> None:
    d = ImageDir(tmp_path)
    e1 = pipe_pb2.pipe_data_entry(pipe_id=7, bytes=5, size=4096)
    e2 = pipe_pb2.pipe_data_entry(pipe_id=8, bytes=0)
    path = d.write("pipes-data", [e1, e2], extras=[b"hello", b""])
    body1, body2 = e1.SerializeToString(), e2.SerializeToString()
    assert path.read_bytes() == (
        header("PIPES_DATA") + u32(len(body1)) + body1 + b"hello" + u32(len(body2)) + body2
    )
    entries = d.read_entries("pipes-data")
    assert [(e.message, e.extra) for e in entries] == [(e1, b"hello"), (e2, b"")]
    assert [e.offset for e in entries] == [8, 8 + 4 + len(body1) + 5]


def test_extra_length_must_match_entry(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="announces 5 extra bytes, got 3"):
        ImageDir(tmp_path).write("fifo-data", pipe_pb2.pipe_data_entry(pipe_id=1, bytes=5), extras=[b"abc"])
    with pytest.raises(ImageError, match="carry no extra"), ImageWriter(tmp_path / "fs.img", "FS") as w:
        w.write(fs_pb2.fs_entry(cwd_id=1, root_id=2), b"x")


def test_truncated_extra_payload(tmp_path: Path) -> None:
    d = ImageDir(tmp_path)
    path = d.write("pipes-data", pipe_pb2.pipe_data_entry(pipe_id=1, bytes=10), extras=[b"0123456789"])
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ImageError) as ei:
        d.read_entries("pipes-data")
    assert ei.value.offset == 8 and "extra payload" in str(ei.value)


def test_file_mode_0600_despite_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        d = ImageDir(tmp_path)
        p = d.write("pstree", samples.pstree())
        with d.open_raw("pages", "wb", pages_id=1) as f:
            f.write(bytes(4096))
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o600  # images hold the tree's memory: the owner's only
    assert d.path("pages", pages_id=1).stat().st_mode & 0o777 == 0o600


# --- round trips ---------------------------------------------------------------------------------------


def test_round_trip_every_image(dump: ImageDir) -> None:
    d = dump
    assert d.read("pstree") == samples.pstree()
    assert d.read_one("core", tid=samples.ROOT) == samples.core(samples.ROOT, "loop.sh")
    thread = d.read_one("core", tid=samples.CHILD_THREAD)
    assert thread == samples.core(samples.CHILD_THREAD, None) and not thread.HasField("tc")
    assert d.read_one("ids", pid=samples.CHILD) == samples.ids(3)
    assert d.read_one("mm", pid=samples.ROOT) == samples.mm(1)
    head, *entries = d.read("pagemap", pid=samples.CHILD)
    assert head == pagemap_pb2.pagemap_head(pages_id=2)
    assert entries == samples.pagemap_entries()
    assert d.read("fdinfo", files_id=2) == samples.fdinfo(samples.ROOT_FDS)
    assert d.read("files") == samples.file_entries()
    assert d.read_one("fs", pid=samples.ROOT).umask == 0o22
    assert d.read("memfd") == samples.memfd_inodes()
    assert d.read_one("seccomp") == samples.seccomp()
    assert d.read_one("timens", ns_id=0) == samples.timens()
    assert d.read_one("stats-dump") == samples.stats()
    assert d.read_one("inventory") == samples.inventory()
    [pd] = d.read_entries("pipes-data")
    assert pd.extra == samples.PIPE_DATA


def test_round_trip_preserves_values_at_the_edges(tmp_path: Path) -> None:
    core = samples.core(1, "x" * 15)
    core.tc.oom_score_adj = -1000
    core.thread_core.sched_nice = -20
    core.thread_info.gpregs.mode = 2  # COMPAT
    core.thread_info.gpregs.r15 = 2**64 - 1
    d = ImageDir(tmp_path)
    d.write("core", core, tid=1)
    back = d.read_one("core", tid=1)
    assert back == core
    assert back.tc.oom_score_adj == -1000 and back.thread_core.sched_nice == -20


def test_defaults_match_criu() -> None:
    from engine.images.pb import core_x86_pb2, regfile_pb2

    assert regfile_pb2.reg_file_entry().mnt_id == -1
    assert core_x86_pb2.user_x86_regs_entry().mode == core_x86_pb2.NATIVE
    desc = core_x86_pb2.user_desc_t()
    assert desc.read_exec_only and desc.seg_not_present


def test_pages_are_raw(dump: ImageDir) -> None:
    with dump.open_raw("pages", pages_id=1) as f:
        data = f.read()
    assert len(data) == 4096 * sum(n for _, n, _ in samples.PAGEMAP)
    assert data[:2] == bytes([samples.ROOT, 0])


def test_image_dir_names() -> None:
    d = ImageDir("/d")
    assert d.path("core", tid=5).name == "core-5.img"
    assert d.path("fdinfo", files_id=3).name == "fdinfo-3.img"
    assert d.path("pages", pages_id=2).name == "pages-2.img"
    assert d.path("pagemap-shmem", shmid=77).name == "pagemap-shmem-77.img"
    assert d.path("stats-dump").name == "stats-dump"
    with pytest.raises(TypeError, match="needs parameter 'tid'"):
        d.path("core")
    with pytest.raises(ValueError, match="unknown image file kind"):
        d.path("nonsense")
    assert set(FILES) >= {"inventory", "pstree", "core", "ids", "mm", "pagemap", "fs", "fdinfo", "files"}


def test_missing_ok(tmp_path: Path) -> None:
    d = ImageDir(tmp_path)
    assert d.read("pipes-data", missing_ok=True) == []
    assert d.read_entries("fifo-data", missing_ok=True) == []


# --- writer checks ----------------------------------------------------------------------------------------


def test_writer_names_missing_required_fields(tmp_path: Path) -> None:
    core = samples.core(1, "sh")
    core.tc.ClearField("comm")
    core.thread_info.gpregs.ClearField("ip")
    with pytest.raises(ImageError) as ei:
        ImageDir(tmp_path).write("core", core, tid=1)
    msg = str(ei.value)
    assert "core-1.img" in msg and "tc.comm" in msg and "thread_info.gpregs.ip" in msg
    assert "\n" not in msg


def test_writer_rejects_wrong_message_type(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is pagemap_entry, expected pagemap_head"):
        ImageDir(tmp_path).write("pagemap", samples.pagemap_entries(), pid=1)
    with pytest.raises(ImageError, match="expected fs_entry"):
        ImageDir(tmp_path).write("fs", mm_pb2.mm_entry(), pid=1)


def test_writer_cannot_create(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="cannot create"):
        ImageDir(tmp_path / "nope").write("pstree", samples.pstree())


# --- reader errors ----------------------------------------------------------------------------------------


def _err(path: Path, type_name: str | None = "FS") -> ImageError:
    with pytest.raises(ImageError) as ei:
        read_image(path, type_name)
    assert isinstance(ei.value, StasisError)
    assert str(path) in str(ei.value) and "\n" not in str(ei.value)
    return ei.value


def test_missing_file(tmp_path: Path) -> None:
    e = _err(tmp_path / "fs-1.img")
    assert "missing" in str(e) and e.offset is None


@pytest.mark.parametrize("cut", [0, 2, 6])
def test_truncated_header(tmp_path: Path, cut: int) -> None:
    p = tmp_path / "fs-1.img"
    p.write_bytes(FS_6985[:cut])
    e = _err(p)
    assert e.offset in (0, 4)


def test_truncated_size_prefix(tmp_path: Path) -> None:
    p = tmp_path / "fs-1.img"
    p.write_bytes(FS_6985 + b"\x06\x00")
    e = _err(p)
    assert e.offset == len(FS_6985) and "size prefix of entry 1" in str(e)
    assert f"byte offset {len(FS_6985)}" in str(e)


def test_truncated_entry(tmp_path: Path) -> None:
    p = tmp_path / "fs-1.img"
    p.write_bytes(FS_6985[:-1])
    e = _err(p)
    assert e.offset == 8 and "truncated entry 0" in str(e)


def test_corrupt_entry(tmp_path: Path) -> None:
    p = tmp_path / "fs-1.img"
    bad = b"\xff\xff\xff"  # field 0 / wire type 7 / unterminated varint
    p.write_bytes(FS_6985 + u32(len(bad)) + bad)
    e = _err(p)
    assert e.offset == len(FS_6985) and "corrupt fs_entry (entry 1)" in str(e)


def test_missing_required_field_on_read(tmp_path: Path) -> None:
    p = tmp_path / "fs-1.img"
    body = fs_pb2.fs_entry(cwd_id=1).SerializePartialToString()
    p.write_bytes(header("FS") + u32(len(body)) + body)
    e = _err(p)
    assert e.offset == 8 and "root_id" in str(e)
    # crit-like tolerant decoding still works
    _, entries = read_image(p, "FS", strict=False)
    assert entries[0].message.cwd_id == 1


def test_wrong_magic(tmp_path: Path) -> None:
    p = tmp_path / "fs-1.img"
    p.write_bytes(FS_6985)
    e = _err(p, "CORE")
    assert e.offset == 4 and "(FS) is not CORE" in str(e)


def test_wrong_first_magic(tmp_path: Path) -> None:
    p = tmp_path / "fs-1.img"
    p.write_bytes(u32(magic.IMG_SERVICE) + FS_6985[4:])
    assert "first magic" in str(_err(p))
    p.write_bytes(FS_6985[4:])  # v1 single-magic image
    assert "first magic none" in str(_err(p))


def test_unknown_magic(tmp_path: Path) -> None:
    p = tmp_path / "x.img"
    p.write_bytes(u32(magic.IMG_COMMON) + u32(0x12345678) + u32(0))
    assert "unknown magic 0x12345678" in str(_err(p, None))
    p.write_bytes(u32(magic.IMG_COMMON) + u32(magic.MAGICS["TTY_DATA"]))
    assert "no schema for TTY_DATA" in str(_err(p, None))


def test_read_one_needs_exactly_one(tmp_path: Path) -> None:
    p = tmp_path / "fs-1.img"
    p.write_bytes(FS_6985 + FS_6985[8:])
    with pytest.raises(ImageError, match="exactly one entry, found 2"):
        read_one(p, "FS")
    assert len(read_entries(p, "FS")) == 2


# --- magic table -------------------------------------------------------------------------------------------


def test_magic_table() -> None:
    assert magic.IMG_COMMON == 0x54564319 and magic.IMG_SERVICE == 0x55105940
    assert len(set(magic.MAGICS.values())) == len(magic.MAGICS)
    assert magic.magic_of("PAGEMAP_SHMEM") == magic.MAGICS["PAGEMAP"]
    assert magic.magic_of("SIGNAL_P") == 0x59255647
    assert magic.name_of(0x55053847) == "CORE" and magic.name_of(0) is None
    assert magic.head_magic("INVENTORY") is None
    assert magic.head_magic("STATS") == magic.IMG_SERVICE
    assert magic.head_magic("CORE") == magic.IMG_COMMON
    for legacy in ("REG_FILES", "PIPES", "VMAS", "CREDS", "SIGACT", "RLIMIT", "PIDFD", "ITIMERS"):
        assert legacy in magic.MAGICS


def test_every_schema_message_class() -> None:
    for name, schema in SCHEMAS.items():
        assert issubclass(schema.message, Message)
        assert schema.magic == magic.MAGICS[name]
    assert SCHEMAS["PAGEMAP"].head is pagemap_pb2.pagemap_head
    assert SCHEMAS["CORE"].message is core_pb2.core_entry


# --- show ------------------------------------------------------------------------------------------------


def test_show_file(dump: ImageDir) -> None:
    out = show(dump.path("pstree"))
    assert out == {
        "magic": "PSTREE",
        "entries": [
            {"pid": 100, "ppid": 0, "pgid": 100, "sid": 100, "threads": [100]},
            {"pid": 101, "ppid": 100, "pgid": 100, "sid": 100, "threads": [101, 102]},
        ],
    }
    core = show(dump.path("core", tid=100))["entries"][0]
    assert core["mtype"] == "X86_64" and core["tc"]["comm"] == "loop.sh"
    assert core["thread_info"]["gpregs"]["ax"] == 2**64 - 4
    assert core["thread_core"]["sched_nice"] == -5
    pd = show(dump.path("pipes-data"))["entries"][0]
    assert pd["extra"] == "aGVsbG8gdGhyb3VnaCB0aGUgcGlwZQo="


def test_show_dir(dump: ImageDir) -> None:
    (dump.root / "garbage.img").write_bytes(b"\x01\x02\x03\x04\x05")
    out = show(dump.root)
    json.dumps(out)
    assert out["pages-1.img"] == {"raw": True, "size": 4096 * 6}
    assert out["files.img"]["magic"] == "FILES"
    assert out["inventory.img"]["entries"][0]["lsmtype"] == "NO_LSM"
    assert "unknown magic" in out["garbage.img"]["error"]
    assert json.loads(show_json(dump.path("fs", pid=100)))["magic"] == "FS"


def test_show_missing(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="missing"):
        show(tmp_path / "nope.img")


# --- generated code ----------------------------------------------------------------------------------------


def test_generated_code_is_current(tmp_path: Path) -> None:
    from importlib import metadata

    from engine.images import gen

    try:
        have = metadata.version("grpcio-tools")
    except metadata.PackageNotFoundError:
        pytest.skip("grpcio-tools not installed; cannot regenerate pb/")
    if have != gen.GRPCIO_TOOLS:
        pytest.skip(f"grpcio-tools {have} installed, {gen.GRPCIO_TOOLS} pinned")
    gen.generate(tmp_path)
    for p in tmp_path.glob("*_pb2.py"):
        assert p.read_text() == (gen.PB_DIR / p.name).read_text(), (
            f"{p.name} is stale: run python -m engine.images.gen"
        )
    assert {p.name for p in tmp_path.glob("*_pb2.py")} == {p.name for p in gen.PB_DIR.glob("*_pb2.py")}


def test_show_non_utf8_file_name(tmp_path: Path) -> None:
    reg = samples.file_entries()[0]
    body = reg.SerializeToString().replace(b"/usr/bin/dash", b"/usr/bin/d\xffsh")
    p = tmp_path / "files.img"
    p.write_bytes(header("FILES") + u32(len(body)) + body)
    name = show(p)["entries"][0]["reg"]["name"]
    assert name == "/usr/bin/d\udcffsh"
    json.dumps(name)
