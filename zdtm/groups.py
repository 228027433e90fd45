"""Groups of test programs: a directory at the repo root and how its programs are found and run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Group:
    name: str  # the directory, relative to the repo root
    suffix: str  # what marks a program's source
    transition: bool  # dumped at a random moment shortly after start, not at its steady state


# A `real/` group (real programs, each driven by a small script) plugs in here: a Group whose suffix
# names the driver script, and a launcher in build.py that runs it instead of compiling.
GROUPS: tuple[Group, ...] = (
    Group("static", ".c", transition=False),
    Group("transition", ".c", transition=True),
)


def group_for(path: Path, rootpath: Path) -> Group | None:
    for group in GROUPS:
        if path.parent == rootpath / group.name and path.name.endswith(group.suffix):
            return group
    return None
