"""Visible state of a process tree, as upstream compares it across C/R: the set of pids and, per pid, its
thread ids, the fd numbers, the VMAs (`start-end prot` merged when adjacent with the same prot, plus the
st_mode of map_files for file VMAs) and the mounts (root, mountpoint, options, shared/master).

The tree is every process of the test, however it is shaped: in flavor h, every pid of the item's container
but the harness's own (pid 1, the cycle and whatever the cycle runs); in ns/uns, every pid of the test's pid
namespace."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from zdtm.procs import stat_state

ZOMBIE = "<zombie>"
_MOUNT_RE = re.compile(r"^\S+\s\S+\s\S+\s(\S+)\s(\S+)\s(\S+)\s[^-]*?(shared)?[^-]*?(master)?[^-]*?-")


@dataclass
class PidState:
    tids: list[int]
    fds: set[str]
    maps: list[str]
    mounts: list[tuple]


State = dict[int, PidState]


def _ppids(proc: Path) -> dict[int, int]:
    ppids: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # comm may hold spaces and parens: the fields after the last ')' are fixed
        ppids[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return ppids


def _descendants(ppids: dict[int, int], root: int) -> set[int]:
    found, todo = {root}, [root]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in ppids.items() if pp == parent and p not in found]
        found.update(kids)
        todo += kids
    return found


def container_pids() -> list[int]:
    """Every pid of the container (h) that is not the harness's: the test's processes, wherever they
    were reparented. The harness's are pid 1 (zdtm.ct), this cycle and everything the cycle runs."""
    ppids = _ppids(Path("/proc"))
    harness = {1} | _descendants(ppids, os.getpid())
    return sorted(set(ppids) - harness)


def tree_pids(root_pid: int, newns: bool) -> list[int]:
    """The pids to compare: everything in the test's own pid ns (ns/uns, as upstream: in-ns pids), or every
    non-harness pid of the container (h), which holds the root's whole tree (and any process of the test
    that was reparented to the container's pid 1, so that it is not silently left out)."""
    if newns:
        proc = Path(f"/proc/{root_pid}/root/proc")
        return sorted(int(e.name) for e in proc.iterdir() if e.name.isdigit())
    return container_pids()


def _maps(pdir: Path) -> list[str]:
    merged: list[list] = []
    for line in (pdir / "maps").read_text().splitlines():
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        vma = [start, end, fields[1]]
        mf = pdir / "map_files" / fields[0]
        try:
            vma.append(oct(os.lstat(mf).st_mode))
        except OSError:
            pass  # anonymous
        if merged and merged[-1][1] == start and merged[-1][2] == vma[2]:
            merged[-1][1] = end
        else:
            merged.append(vma)
    return [f"{v[0]:x}-{v[1]:x} " + " ".join(v[2:]) for v in merged]


def _mounts(pdir: Path) -> list[tuple]:
    out = []
    for line in (pdir / "mountinfo").read_text().splitlines():
        m = _MOUNT_RE.match(line)
        out.append(m.groups() if m else (line,))
    return out


def visible_state(root_pid: int, newns: bool) -> State:
    proc = Path(f"/proc/{root_pid}/root/proc") if newns else Path("/proc")
    state: State = {}
    for pid in tree_pids(root_pid, newns):
        pdir = proc / str(pid)
        try:
            tids = sorted(int(t) for t in os.listdir(pdir / "task"))
            if stat_state(pid, proc) == "Z":  # no fds, mm or mounts to read: a zombie is only that
                state[pid] = PidState(tids, set(), [ZOMBIE], [])
                continue
            state[pid] = PidState(tids, set(os.listdir(pdir / "fd")), _maps(pdir), _mounts(pdir))
        except FileNotFoundError:
            continue  # exited meanwhile (e.g. a launcher still on its way out)
        except OSError:  # died between the two reads: a zombie now
            if stat_state(pid, proc) != "Z":
                raise
            state[pid] = PidState(tids, set(), [ZOMBIE], [])
    return state


def _diff(kind: str, pid: int, before: set, after: set, limit: int = 12) -> list[str]:
    lines = []
    for sign, items in (("-", before - after), ("+", after - before)):
        for item in sorted(items, key=str)[:limit]:
            lines.append(f"  pid {pid} {kind} {sign} {item}")
        if len(items) > limit:
            lines.append(f"  pid {pid} {kind} {sign} ... {len(items) - limit} more")
    return lines


def compare(before: State, after: State) -> str | None:
    """None if the same pids exist, each with the same threads, fds, maps and mounts; else a readable
    diff."""
    lines: list[str] = []
    for pid in sorted(set(after) - set(before)):
        lines.append(f"  pid {pid} is new (pids before: {sorted(before)})")
    for pid, old in sorted(before.items()):
        new = after.get(pid)
        if new is None:
            lines.append(f"  pid {pid} is missing (pids now: {sorted(after)})")
            continue
        lines += _diff("tid", pid, set(old.tids), set(new.tids))
        lines += _diff("fd", pid, old.fds, new.fds)
        lines += _diff("vma", pid, set(old.maps), set(new.maps))
        lines += _diff("mount", pid, set(old.mounts), set(new.mounts))
    return "\n".join(lines) or None
