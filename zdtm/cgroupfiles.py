"""The cgroup directories and files a test program asks the harness to undo or set (zdtm.cycle after each
dump and after the item, zdtm.faultwalk after each faulted restore)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from zdtm.program import StepFailure

# cgroup directories a program made (absolute paths under /sys/fs/cgroup, one a line, children after
# their parents): CGROUPS_BETWEEN ones are removed after each dump, once the tree died (restore must make
# them again, --manage-cgroups), and those of both files after the item, if still there (a program in a
# cgroup namespace of its own cannot remove the cgroups it was in)
CGROUPS_BETWEEN = "cgroups.between"
CGROUPS_CLEANUP = "cgroups.cleanup"
# "FILE VALUE" lines: cgroup files the harness writes after each dump, so that a restore that must write the
# dumped properties back (--manage-cgroups=props, full) is seen doing it
CGROUPS_SET = "cgroups.set"
CGROUP_FS = "/sys/fs/cgroup/"


def between_cgroups(workdir: Path) -> None:
    """After a dump, once the tree died: what the program asked to be undone in its cgroups."""
    remove_cgroups(workdir / CGROUPS_BETWEEN, "between dump and restore")
    try:
        lines = [ln.split(None, 1) for ln in (workdir / CGROUPS_SET).read_text().splitlines() if ln.strip()]
    except FileNotFoundError:
        return
    for path, value in lines:
        if not os.path.realpath(path).startswith(CGROUP_FS) or "/.." in path:
            raise StepFailure("harness", f"{CGROUPS_SET}: {path} is not a cgroup file under {CGROUP_FS}")
        try:
            with open(path, "w") as f:
                f.write(value)
        except OSError as exc:
            why = f"cannot write {value!r} to {path} between dump and restore: {exc}"
            raise StepFailure("harness", why) from None


def remove_cgroups(listing: Path, when: str) -> None:
    """rmdir the cgroups a program listed (deepest first); only paths under /sys/fs/cgroup."""
    try:
        paths = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    except FileNotFoundError:
        return
    for path in reversed(paths):
        real = os.path.realpath(path)
        if not real.startswith(CGROUP_FS) or "/.." in path:
            raise StepFailure("harness", f"{listing.name}: {path} is not a cgroup under {CGROUP_FS}")
        for _ in range(100):  # its processes may still be leaving it
            try:
                os.rmdir(real)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != 16:  # EBUSY
                    raise StepFailure("harness", f"cannot remove cgroup {path} {when}: {exc}") from None
                time.sleep(0.02)
        else:
            raise StepFailure("harness", f"cgroup {path} still busy {when}")
