"""The set of programs written for upstream's ZDTM protocol (zdtm/upstream.py SET): every one is in static/,
builds as the harness builds it, and follows the convention of upstream's build its entry names, with a
.desc of upstream's keys only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zdtm import build, upstream
from zdtm.desc import parse_desc
from zdtm.groups import is_aux_source

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
ALL = {**upstream.SET, **{n: conv for n, (conv, _) in upstream.SET_KNOWN_FAILING.items()}}
CONVENTIONS = {"plain", "file", "dir", "dirfile", "args", "define", "include", "libs", "aux", "desc"}
UPSTREAM_KEYS = {"flags", "flavor", "opts", "dopts", "ropts", "arch", "feature", "deps", "timeout"}


def test_the_set_has_64() -> None:
    assert len(upstream.SET) >= 64
    assert not set(upstream.SET) & set(upstream.SET_KNOWN_FAILING)


def _text(name: str) -> str:
    return build._with_included(STATIC / f"{name}.c")


@pytest.mark.parametrize("name", sorted(ALL))
def test_follows_its_conventions(name: str) -> None:
    src = STATIC / f"{name}.c"
    assert src.is_file(), f"{src} is missing"
    conv = set(ALL[name])
    assert conv <= CONVENTIONS, conv - CONVENTIONS
    desc_path = src.with_suffix(".desc")
    desc = parse_desc(desc_path)
    args = build.program_args(src, desc)[2:]
    text = _text(name)
    opts = set(re.findall(r"TEST_OPTION\(\s*(\w+)\s*,", text))
    want = {"plain": [], "file": [f"--filename={name}.test"], "dir": [f"--dirname={name}.test"],
            "dirfile": [f"--dirname={name}.dir.test", f"--filename={name}.test"]}
    kind = [k for k in want if k in conv]
    assert len(kind) == 1, f"{name}: one of {sorted(want)}, not {kind}"
    file_args = [a for a in args if a.startswith(("--filename=", "--dirname="))]
    assert file_args == want[kind[0]], args
    if "args" in conv:
        assert upstream.args(name) and args[-len(upstream.args(name)):] == upstream.args(name)
        for a in upstream.args(name):  # every per-test argument is an option of the program
            assert a.removeprefix("--").split("=")[0] in opts, a
    else:
        assert name not in upstream.ARGS
    if "define" in conv:
        assert upstream.DEFINES.get(name), f"{name} has no DEFINES entry"
        for d in upstream.DEFINES[name]:
            assert re.search(rf"^\s*#\s*(if|ifdef|ifndef|elif).*\b{d}\b", text, re.M), f"{name}: -D{d} unused"
    if "include" in conv:
        assert any(p.suffix == ".c" for p in build._local_includes(src))
    if "libs" in conv:
        assert upstream.LIBS.get(name)
    if "aux" in conv:
        aux = build._aux_sources(src)
        assert aux and all(is_aux_source(p) for p in aux), aux
    if "desc" in conv:
        assert desc_path.is_file()
    if desc_path.is_file():
        raw = parse_desc(desc_path).raw
        assert set(raw) <= UPSTREAM_KEYS, f"{desc_path.name}: keys of ours: {set(raw) - UPSTREAM_KEYS}"
        assert all(isinstance(v, str) for v in raw.values()), f"{desc_path.name}: upstream's values: strings"
    assert not desc.args, "upstream's per-test arguments come from zdtm/upstream.py, not the desc"


@pytest.mark.parametrize("name", sorted(ALL))
def test_builds(name: str) -> None:
    out = build.build_program("static", STATIC / f"{name}.c")
    assert out.is_file()
