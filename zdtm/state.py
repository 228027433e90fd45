"""Visible state of a process tree, as upstream compares it across C/R: per pid, the fd numbers, the VMAs
(`start-end prot` merged when adjacent with the same prot, plus the st_mode of map_files for file VMAs) and
the mounts (root, mountpoint, options, shared/master)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_MOUNT_RE = re.compile(r"^\S+\s\S+\s\S+\s(\S+)\s(\S+)\s(\S+)\s[^-]*?(shared)?[^-]*?(master)?[^-]*?-")


@dataclass
class PidState:
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


def tree_pids(root_pid: int, newns: bool) -> list[int]:
    """The pids to compare: everything in the test's own pid ns (ns/uns, as upstream: in-ns pids), or the
    tree under the root in the container (h; the harness's own processes are outside that tree)."""
    if newns:
        proc = Path(f"/proc/{root_pid}/root/proc")
        return sorted(int(e.name) for e in proc.iterdir() if e.name.isdigit())
    ppids = _ppids(Path("/proc"))
    pids, todo = [root_pid], [root_pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in ppids.items() if pp == parent]
        pids += kids
        todo += kids
    return sorted(pids)


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
            state[pid] = PidState(set(os.listdir(pdir / "fd")), _maps(pdir), _mounts(pdir))
        except FileNotFoundError:
            continue  # exited meanwhile (e.g. a launcher still on its way out)
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
    """None if every pid of `before` has the same fds, maps and mounts after; else a readable diff."""
    lines: list[str] = []
    for pid, old in sorted(before.items()):
        new = after.get(pid)
        if new is None:
            lines.append(f"  pid {pid} is missing after restore (pids now: {sorted(after)})")
            continue
        lines += _diff("fd", pid, old.fds, new.fds)
        lines += _diff("vma", pid, set(old.maps), set(new.maps))
        lines += _diff("mount", pid, set(old.mounts), set(new.mounts))
    return "\n".join(lines) or None
