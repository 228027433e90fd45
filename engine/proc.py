"""Parsers for what /proc shows about a task. One read per file; callers keep the results."""

from __future__ import annotations

import os
import re

from engine.record import field, record

RLIMIT_NAMES = (
    "Max cpu time", "Max file size", "Max data size", "Max stack size", "Max core file size",
    "Max resident set", "Max processes", "Max open files", "Max locked memory", "Max address space",
    "Max file locks", "Max pending signals", "Max msgqueue size", "Max nice priority",
    "Max realtime priority", "Max realtime timeout",
)
RLIM_INFINITY = (1 << 64) - 1


@record
class Vma:
    start: int
    end: int
    perms: str  # "rwxp"
    pgoff: int
    dev: str  # "maj:min" in hex
    inode: int
    path: str
    vmflags: set[str] = field(default_factory=set)
    rss_kb: int = -1  # smaps Rss and Swap (-1: not read): 0 and 0 means no page of it holds data
    swap_kb: int = -1

    @property
    def prot(self) -> int:
        return (1 if self.perms[0] == "r" else 0) | (2 if self.perms[1] == "w" else 0) | (
            4 if self.perms[2] == "x" else 0)

    @property
    def shared(self) -> bool:
        return self.perms[3] == "s"

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def is_file(self) -> bool:
        return self.inode != 0 and not self.path.startswith("[")

    @property
    def is_anon_shared(self) -> bool:
        # shmem behind MAP_SHARED|MAP_ANONYMOUS shows as "/dev/zero (deleted)" ([anon_shmem:NAME] if named)
        return self.shared and (self.path.startswith("/dev/zero") or self.path.startswith("[anon_shmem:"))

    @property
    def anon_name(self) -> str | None:
        """The name given with PR_SET_VMA_ANON_NAME, if any."""
        for prefix in ("[anon:", "[anon_shmem:"):
            if self.path.startswith(prefix) and self.path.endswith("]"):
                return self.path[len(prefix):-1]
        return None


_MAPS_RE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$")


def vmas(pid: int) -> list[Vma]:
    """VMAs with their VmFlags (from smaps)."""
    out: list[Vma] = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = _MAPS_RE.match(line)
            if m:
                out.append(Vma(int(m[1], 16), int(m[2], 16), m[3], int(m[4], 16), m[5], int(m[6]),
                               m[7].strip()))
            elif line.startswith("VmFlags:"):
                out[-1].vmflags = set(line.split()[1:])
            elif line.startswith("Rss:"):
                out[-1].rss_kb = int(line.split()[1])
            elif line.startswith("Swap:"):
                out[-1].swap_kb = int(line.split()[1])
    return out


def stat(pid: int) -> list[str]:
    """/proc/PID/stat fields, 1-based as in proc(5) (index 0 is unused)."""
    return _parse_stat(f"/proc/{pid}/stat")


def _parse_stat(path: str) -> list[str]:
    with open(path) as f:
        data = f.read()
    rparen = data.rindex(")")
    head = data[:rparen]
    pid_s, comm = head.split(" (", 1)
    return ["", pid_s, comm] + data[rparen + 2:].split()


def stat_of(pid: int, tid: int) -> list[str]:
    """A thread's stat (the leader's is the process's)."""
    return stat(pid) if pid == tid else _parse_stat(f"/proc/{pid}/task/{tid}/stat")


def status_of(pid: int, tid: int) -> dict[str, str]:
    return status(pid) if pid == tid else _parse_status(f"/proc/{pid}/task/{tid}/status")


def status(pid: int | str) -> dict[str, str]:
    return _parse_status(f"/proc/{pid}/status")


def _parse_status(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def limits(pid: int) -> list[tuple[int, int]]:
    """All 16 rlimits as (soft, hard), read from /proc: prlimit on another uid needs CAP_SYS_RESOURCE."""
    vals: dict[str, tuple[int, int]] = {}
    with open(f"/proc/{pid}/limits") as f:
        next(f)
        for line in f:
            name = line[:26].strip()
            parts = line[26:].split()
            vals[name] = (_limit(parts[0]), _limit(parts[1]))
    return [vals[n] for n in RLIMIT_NAMES]


def _limit(s: str) -> int:
    return RLIM_INFINITY if s == "unlimited" else int(s)


@record
class FdInfo:
    fd: int
    target: str  # readlink of /proc/PID/fd/N
    pos: int
    flags: int  # open flags (octal in fdinfo)
    mnt_id: int
    ino: int
    extra: dict[str, str]


def fds(pid: int) -> list[FdInfo]:
    out: list[FdInfo] = []
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except PermissionError:
        from engine.errors import UnsupportedError

        raise UnsupportedError(f"pid {pid}: its fds cannot be read ({base}: permission denied): a process "
                               "that is not dumpable (PR_SET_DUMPABLE 0, or after a change of ids) needs "
                               "CAP_DAC_READ_SEARCH or root") from None
    for name in sorted(names, key=int):
        fd = int(name)
        try:
            target = os.readlink(f"{base}/{name}")
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                info = dict(line.rstrip("\n").split(":", 1) for line in f if ":" in line)
        except FileNotFoundError:
            continue  # closed while we looked: the task is frozen, so this is our own race only
        info = {k.strip(): v.strip() for k, v in info.items()}
        out.append(FdInfo(fd, target, int(info.get("pos", "0")), int(info.get("flags", "0"), 8),
                          int(info.get("mnt_id", "-1")), int(info.get("ino", "0")), info))
    return out


def threads(pid: int) -> list[int]:
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def children(pid: int) -> list[int]:
    out: list[int] = []
    for tid in threads(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def read_str(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def own_cap(cap: int) -> bool:
    """The engine's own effective capability set has `cap`."""
    return bool(int(status("self")["CapEff"], 16) & (1 << cap))


@record(frozen=True)
class Mount:
    """One line of /proc/PID/mountinfo."""

    mnt_id: int
    major: int
    minor: int
    root: str  # inside its file system
    point: str  # where it is mounted, in the task's root
    fstype: str

    @property
    def kdev(self) -> int:
        """The kernel's internal dev number (major << 20 | minor), as fsnotify's fdinfo shows it."""
        return self.major << 20 | self.minor


def _unescape(s: str) -> str:
    return s.encode().decode("unicode_escape") if "\\" in s else s


def mounts(pid: int | str) -> list[Mount]:
    out: list[Mount] = []
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields = left.split()
            major, minor = (int(x) for x in fields[2].split(":"))
            out.append(Mount(int(fields[0]), major, minor, _unescape(fields[3]), _unescape(fields[4]),
                             right.split(" ", 1)[0]))
    return out

