"""Oracle: Debian's crit (3.17, from the criu package) must decode every image engine.images writes.

crit decodes with its own bundled schemas, so agreement here means wire compatibility, not just
self-consistency. CI installs criu; without /usr/bin/crit these tests skip.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import test_images_samples as samples

from engine.images import ImageDir, read_image
from engine.images.show import show_file

CRIT = Path("/usr/bin/crit")
pytestmark = pytest.mark.skipif(not CRIT.exists(), reason="/usr/bin/crit absent (apt-get install criu)")

# fields crit 3.17's schemas do not know (added in later CRIU); crit silently drops them
NEWER_FIELDS = {
    "CORE": {"cap_amb", "no_new_privs", "cg_set", "stop_signo", "membarrier_registration_mask", "cet"},
    "INVENTORY": {"plugins_entry", "dump_criu_run_id", "allow_uprobes"},
    "PAGEMAP": {"nr_pages"},
}
# crit 3.17 calls pagemap field 2 "nr_pages"; we call it compat_nr_pages as CRIU 4.2 does
RENAMED = {"PAGEMAP": {"nr_pages": "compat_nr_pages"}}


def crit(*args: str, stdin: bytes | None = None) -> bytes:
    res = subprocess.run([str(CRIT), *args], input=stdin, capture_output=True, timeout=60)
    assert res.returncode == 0, f"crit {' '.join(args)} failed: {res.stderr.decode(errors='replace')[-2000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> ImageDir:
    return samples.write_dump(tmp_path_factory.mktemp("dump"))


def image_files(d: ImageDir) -> list[Path]:
    return sorted(p for p in d.root.iterdir() if not p.name.startswith("pages-"))


def _compare(crit_val: Any, ours: Any, kind: str, where: str) -> None:
    if isinstance(crit_val, dict):
        assert isinstance(ours, dict), where
        renames = RENAMED.get(kind, {})
        for key, val in crit_val.items():
            mine = renames.get(key, key)
            assert mine in ours, f"{where}.{key}: crit has it, we do not"
            _compare(val, ours[mine], kind, f"{where}.{key}")
        for key in ours.keys() - {renames.get(k, k) for k in crit_val}:
            assert key in NEWER_FIELDS.get(kind, set()), f"{where}.{key}: ours only, crit dropped it"
    elif isinstance(crit_val, list):
        assert isinstance(ours, list) and len(ours) == len(crit_val), where
        for i, (c, o) in enumerate(zip(crit_val, ours, strict=True)):
            _compare(c, o, kind, f"{where}[{i}]")
    elif isinstance(crit_val, str) and isinstance(ours, str) and crit_val.endswith("\n"):
        assert re.sub(r"\s", "", crit_val) == ours, where  # crit's base64 has line breaks
    else:
        assert crit_val == ours, f"{where}: crit {crit_val!r}, ours {ours!r}"


def test_crit_show_every_image(dump: ImageDir) -> None:
    files = image_files(dump)
    assert len(files) == 24, [p.name for p in files]
    for path in files:
        shown = json.loads(crit("show", str(path)))
        schema, entries = read_image(path)
        assert shown["magic"] == schema.name, path.name
        assert len(shown["entries"]) == len(entries), path.name


def test_crit_decode_values_match_ours(dump: ImageDir) -> None:
    for path in image_files(dump):
        decoded = json.loads(crit("decode", "-i", str(path)))
        ours = show_file(path)
        assert decoded["magic"] == ours["magic"]
        _compare(decoded["entries"], ours["entries"], ours["magic"], path.name)


def test_crit_reencodes_byte_identically(dump: ImageDir, tmp_path: Path) -> None:
    """crit decode | crit encode gives back our bytes: same serialization as CRIU's protobuf-c.
    For types with fields crit does not know, compare against our message without those fields."""
    for path in image_files(dump):
        out = tmp_path / path.name
        crit("encode", "-o", str(out), stdin=crit("decode", "-i", str(path)))
        schema, entries = read_image(path)
        if schema.name not in NEWER_FIELDS:
            assert out.read_bytes() == path.read_bytes(), path.name
            continue
        stripped = ImageDir(tmp_path / "stripped")
        stripped.root.mkdir(exist_ok=True)
        msgs = [e.message for e in entries]
        for m in msgs:
            _strip(m, NEWER_FIELDS[schema.name])
        target = stripped.root / path.name
        from engine.images import write_image

        write_image(target, schema.name, msgs)
        assert out.read_bytes() == target.read_bytes(), path.name


def _strip(msg: Any, names: set[str]) -> None:
    for field, value in list(msg.ListFields()):
        if field.name in names:
            msg.ClearField(field.name)
        elif field.message_type is not None:
            for sub in value if field.is_repeated else [value]:
                _strip(sub, names)


def test_crit_x_ps(dump: ImageDir) -> None:
    rows = [line.split() for line in crit("x", str(dump.root), "ps").decode().splitlines()]
    assert rows[0] == ["PID", "PGID", "SID", "COMM"]
    assert rows[1:] == [["100", "100", "100", "loop.sh"], ["101", "100", "100", "sleep"]]


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    cur = ""
    for line in text.splitlines():
        if line and not line[0].isspace():
            cur = line.strip()
            out[cur] = []
        elif line.strip():
            out[cur].append(" ".join(line.split()))
    return out


def test_crit_x_fds(dump: ImageDir) -> None:
    s = _sections(crit("x", str(dump.root), "fds").decode())
    assert s["100"] == [
        "0: /dev/null", "1: /dev/null", "2: /dev/null", "10: /usr/bin/dash",
        "20: pipe[12907]", "21: pipe[12907]", "30: FIFO.8", "cwd: /srv", "root: /",
    ]  # fmt: skip
    assert s["101"] == ["0: /dev/null", "1: pipe[12907]", "cwd: /srv", "root: /"]


def test_crit_x_mems(dump: ImageDir) -> None:
    s = _sections(crit("x", str(dump.root), "mems").decode())
    assert s["100"] == [
        "exe /usr/bin/dash",
        "00400000-00402000 r-x /usr/bin/dash",
        "00402000-00403000 rw- /usr/bin/dash + 0x2000",
        "00403000-00405000 rw-",
        "7f0000000000-7f0000002000 r-x /usr/lib/x86_64-linux-gnu/libc.so.6 + 0x1000",
        "7f0000100000-7f0000104000 r--",
        "7f0000104000-7f0000106000 r-x [vdso]",
        "7ffc00000000-7ffc00002000 rw- [stack?]",
        "ffffffffff600000-ffffffffff601000 --x [vsyscall] *",
    ]
    assert s["101"][0] == "exe /usr/bin/sleep"


def test_crit_x_rss(dump: ImageDir) -> None:
    s = _sections(crit("x", str(dump.root), "rss").decode())
    # crit 3.17 reads the page count from field 2, which we fill (compat_nr_pages)
    assert s["100"][0].startswith("402000 / 1 00402000 / 1 /usr/bin/dash")


_DESCRIBE = r"""
import importlib, json, pkgutil, sys
import pycriu.images as P
out = {}
def walk(d):
    out[d.full_name] = {str(f.number): [f.name, f.type, f.label] for f in d.fields}
    for n in d.nested_types:
        walk(n)
for m in pkgutil.iter_modules(P.__path__):
    if m.name.endswith('_pb2'):
        mod = importlib.import_module('pycriu.images.' + m.name)
        for d in mod.DESCRIPTOR.message_types_by_name.values():
            walk(d)
json.dump(out, sys.stdout)
"""


def test_schemas_wire_compatible_with_crit() -> None:
    """Every field number both sides know has the same wire type and label as in crit's bundled schemas."""
    import pkgutil

    import engine.images.pb as pb

    res = subprocess.run(["/usr/bin/python3", "-c", _DESCRIBE], capture_output=True, timeout=60, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot load crit's pycriu schemas: {res.stderr.strip().splitlines()[-1:]}")
    theirs = json.loads(res.stdout)
    checked = 0
    for mod_info in pkgutil.iter_modules(pb.__path__):
        if not mod_info.name.endswith("_pb2"):
            continue  # _descriptors: the serialized schemas the modules are built from
        mod = getattr(pb, mod_info.name)
        stack = list(mod.DESCRIPTOR.message_types_by_name.values())
        while stack:
            d = stack.pop()
            stack.extend(d.nested_types)
            name = d.full_name.removeprefix("stasis.images.")
            if name not in theirs:
                continue
            for f in d.fields:
                t = theirs[name].get(str(f.number))
                if t is None:
                    continue
                label = 3 if f.is_repeated else 2 if f.is_required else 1
                assert (f.type, label) == (t[1], t[2]), f"{name}.{f.name} #{f.number} vs crit {t}"
                checked += 1
    assert checked > 250
