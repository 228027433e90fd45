"""Groups of test programs: a directory at the repo root and how its programs are found and run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Group:
    name: str  # the directory, relative to the repo root
    suffix: str  # what marks a program's source
    transition: bool  # dumped at a random moment shortly after start, not at its steady state
    real: bool = False  # a real program: the source is a descriptor (zdtm.real), nothing is compiled


GROUPS: tuple[Group, ...] = (
    Group("static", ".c", transition=False),
    Group("transition", ".c", transition=True),
    # real programs, each described by real/<name>.py; dumped mid-work, when the descriptor says so
    Group("real", ".py", transition=False, real=True),
)


def is_aux_source(path: Path) -> bool:
    """`x.c` beside an `x.h` is a helper compiled into the programs that include `x.h` (upstream's AUX_SRC:
    get_smaps_bits.c, ofd_file_locks.c), not a program of its own."""
    return path.suffix == ".c" and path.with_suffix(".h").is_file()


def group_for(path: Path, rootpath: Path) -> Group | None:
    for group in GROUPS:
        if (
            path.parent == rootpath / group.name
            and path.name.endswith(group.suffix)
            and not path.name.startswith("_")
            and not is_aux_source(path)
        ):
            return group
    return None
