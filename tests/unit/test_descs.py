"""Our test programs' .desc files: every flavor a program leaves out is explained in its 'why'
("FLAVOR[, FLAVOR]: reason", clauses separated by ";"), or, in a desc that keeps to upstream's keys, in a
comment line "# why: FLAVOR: reason" (upstream's driver has no 'why' key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zdtm.desc import ALL_FLAVORS, parse_desc

ROOT = Path(__file__).resolve().parents[2]
DESCS = sorted([*ROOT.glob("static/*.desc"), *ROOT.glob("transition/*.desc")])


def _comment_why(path: Path) -> str:
    lines = [ln.strip()[1:].strip() for ln in path.read_text().splitlines() if ln.strip().startswith("#")]
    return "; ".join(ln.removeprefix("why:").strip() for ln in lines if ln.startswith("why:"))


@pytest.mark.parametrize("path", DESCS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_left_out_flavors_say_why(path: Path) -> None:
    desc = parse_desc(path)
    left_out = [f for f in ALL_FLAVORS if f not in desc.flavors]
    if left_out:
        why = desc.raw.get("why", "").strip() or _comment_why(path)
        assert why, f"{path.name} leaves out flavor(s) {', '.join(left_out)} without a 'why'"
        named = {n for clause in why.split(";") for n in clause.split(":")[0].replace(",", " ").split()}
        for f in left_out:
            assert f in named, f"{path.name}: its 'why' does not name the left-out flavor {f} ('FLAVOR: why')"


def test_there_are_descs() -> None:
    assert len(DESCS) > 50
