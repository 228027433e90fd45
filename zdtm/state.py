"""Visible state of a process tree, compared across C/R: "no silent loss". Stricter than upstream's harness
(which compares fds, maps and mounts) on purpose: what a program of the tree can observe about itself must
come back as it was.

Per pid: its thread ids, its fds (numbers, link targets, fdinfo), its address space per byte range (prot,
VmFlags, NUMA policy, protection key, file path + offset, anon name, map_files mode; adjacent ranges with the
same attributes are merged, so that a split or merge of identical VMAs is not a difference), its mounts,
and its fields: per thread /proc/PID/task/TID/status, stat (the fields a program sees that must not
change), children, cgroup, ioprio and sched_getattr; per process limits, personality, cgroup, oom_score_adj,
coredump_filter, autogroup, timerslack_ns, loginuid, sessionid, cmdline, environ, auxv, cwd/root/exe,
namespaces, POSIX timers and its entries of /proc/locks. A zombie shows only its status and stat.
On the first pid of a network namespace other than the harness's: that namespace's links, addresses,
routes, static neighbours and nftables ruleset (zdtm.netcfg).
Per socket fd: its line of /proc/PID/net/{unix,tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6,icmp,icmp6,
netlink,packet} (found by inode; which table, or none: an unbound inet socket is in no table), field by
field as named in that table's header; kernel pointers, reference counts, timers and drop counters are not
compared (SOCK_SKIP), datagram queue sizes only as empty or not (state_exceptions.PARTIAL).

Fields that legitimately differ are listed with their reason in zdtm.state_exceptions (the one place).
Objects a restore must recreate get new inode numbers from the kernel (pipes, sockets, anon inodes,
memfds, deleted files, namespaces; and autogroup and eventfd ids): each such number is replaced by a label
in order of first appearance in the snapshot, so that sharing ("fd 3 of pid 10 and fd 4 of pid 11 are the
same pipe") is still compared.

The tree is every process of the test, however it is shaped: in flavor h, every pid of the item's container
but the harness's own (pid 1, the cycle and whatever the cycle runs); in ns/uns, every pid of the test's pid
namespace, read through /proc/<root>/root/proc (there the syscalls that take a pid, ioprio and
sched_getattr, are not made: the pids are the namespace's)."""

from __future__ import annotations

import bisect
import ctypes
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from zdtm import joinns, netcfg
from zdtm.procs import stat_state
from zdtm.state_exceptions import EXCEPTIONS

ZOMBIE = "<zombie>"
_MOUNT_RE = re.compile(r"^\S+\s\S+\s\S+\s(\S+)\s(\S+)\s(\S+)\s[^-]*?(shared)?[^-]*?(master)?[^-]*?-")
_SMAPS_HEAD = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ (\d+)\s*(.*)$")
_OBJ_RE = re.compile(r"^([a-z_]+):\[(\d+)\]$")  # pipe:[N], socket:[N], net:[N], ...
_NS_KINDS = frozenset(("net", "uts", "ipc", "mnt", "pid", "user", "cgroup", "time"))


def _space(kind: str) -> str:
    """Namespaces are labelled apart from other objects: a namespace joined at restore (--join-ns) is new
    where the tree's objects are not, and must not shift their labels."""
    return "ns" if kind in _NS_KINDS else "obj"
_HEX_INO = re.compile(r"\bino:([0-9a-f]+)")
_WATCH_FS = re.compile(r"\b(sdev|f_handle):([0-9a-f]+)")  # of an inotify/fanotify watch line
_AUTOGROUP = re.compile(r"^/autogroup-(\d+)")
# /proc/PID/stat after "(comm)": proc(5) names, from field 3 (state) on
_STAT_NAMES = [
    "state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags", "minflt", "cminflt", "majflt",
    "cmajflt", "utime", "stime", "cutime", "cstime", "priority", "nice", "num_threads", "itrealvalue",
    "starttime", "vsize", "rss", "rsslim", "startcode", "endcode", "startstack", "kstkesp", "kstkeip",
    "signal", "blocked", "sigignore", "sigcatch", "wchan", "nswap", "cnswap", "exit_signal", "processor",
    "rt_priority", "policy", "delayacct_blkio_ticks", "guest_time", "cguest_time", "start_data",
    "end_data", "start_brk", "arg_start", "arg_end", "env_start", "env_end", "exit_code",
]
# stat fields status already shows (State, PPid, Threads, SigPnd/SigBlk/SigIgn/SigCgt, VmSize)
_STAT_DUP = {"state", "ppid", "num_threads", "signal", "blocked", "sigignore", "sigcatch", "vsize"}
_PROC_FILES = ("personality", "oom_score_adj", "coredump_filter", "timerslack_ns", "loginuid")
# status and stat fields of the process (its mm, signal struct, ids), read from the leader's files only
_PROCESS_STATUS = re.compile(
    r"^(Vm|Rss|HugetlbPages$|CoreDumping$|THP_enabled$|untag_mask$|Threads$|Tgid$|Ngid$)"
)
_PROCESS_STAT = {
    "pgrp", "session", "tty_nr", "tpgid", "itrealvalue", "rsslim", "startcode", "endcode", "startstack",
    "cnswap", "nswap", "start_data", "end_data", "start_brk", "arg_start", "arg_end", "env_start", "env_end",
}
# PF_* of include/linux/sched.h, to name the bits of stat.flags
_PF = {
    0x1: "VCPU", 0x2: "IDLE", 0x4: "EXITING", 0x8: "POSTCOREDUMP", 0x10: "IO_WORKER", 0x20: "WQ_WORKER",
    0x40: "FORKNOEXEC", 0x80: "MCE_PROCESS", 0x100: "SUPERPRIV", 0x200: "DUMPCORE", 0x400: "SIGNALED",
    0x800: "MEMALLOC", 0x1000: "NPROC_EXCEEDED", 0x2000: "USED_MATH", 0x4000: "USER_WORKER",
    0x8000: "NOFREEZE", 0x20000: "KSWAPD", 0x40000: "MEMALLOC_NOFS", 0x80000: "MEMALLOC_NOIO",
    0x100000: "LOCAL_THROTTLE", 0x200000: "KTHREAD", 0x400000: "RANDOMIZE", 0x4000000: "NO_SETAFFINITY",
    0x8000000: "MCE_EARLY", 0x10000000: "MEMALLOC_PIN", 0x20000000: "BLOCK_TS", 0x80000000: "SUSPEND_TASK",
}
_LINKS = ("cwd", "root", "exe")
_SYS_IOPRIO_GET, _SYS_SCHED_GETATTR, _IOPRIO_WHO_PROCESS = 252, 315, 1

Range = tuple[int, int, tuple[tuple[str, str], ...]]  # start, end, attributes


@dataclass
class PidState:
    tids: list[int]
    fds: set[str]
    maps: list[Range]  # merged byte ranges with their attributes
    mounts: list[tuple]
    fields: dict[str, str] = field(default_factory=dict)


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


class Labels:
    """Kernel-chosen numbers of recreated objects -> labels in order of first appearance."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], str] = {}

    def __call__(self, kind: str, number: str) -> str:
        key = (kind, number)
        if key not in self.seen:
            self.seen[key] = f"{kind}#{sum(1 for k in self.seen if k[0] == kind) + 1}"
        return self.seen[key]

    def known(self, kind: str, number: str) -> bool:
        return (kind, number) in self.seen


def _read(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read().decode(errors="backslashreplace")


def _keep(name: str) -> bool:
    return name not in EXCEPTIONS


# ---- per thread


def _status(text: str, prefix: str, out: dict[str, str], leader: bool) -> None:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        name = f"status.{key}"
        if not _keep(name) or (not leader and _PROCESS_STATUS.match(key)):
            continue
        value = value.strip()
        if key == "SigQ":  # state_exceptions.PARTIAL
            value = "*/" + value.partition("/")[2]
        elif key == "State" and value[:1] in "RSD":
            value = "RSD"
        out[f"{prefix}{name}"] = value


_PF_ACCOUNTING = 0x40 | 0x100  # PF_FORKNOEXEC, PF_SUPERPRIV


def _pf_flags(value: str) -> str:
    flags = int(value)
    names = [n for bit, n in sorted(_PF.items()) if flags & bit]
    unknown = flags & ~sum(_PF)
    return f"{flags:#x} {'|'.join(names)}" + (f"|{unknown:#x}" if unknown else "")


def _stat(text: str, prefix: str, out: dict[str, str], leader: bool) -> None:
    for name, value in zip(_STAT_NAMES, text.rsplit(")", 1)[1].split(), strict=False):
        if name in _STAT_DUP or not _keep(f"stat.{name}") or (not leader and name in _PROCESS_STAT):
            continue
        if name == "flags":  # state_exceptions.PARTIAL: without the accounting bits
            value = _pf_flags(str(int(value) & ~_PF_ACCOUNTING))
        out[f"{prefix}stat.{name}"] = value


class _SchedAttr(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("policy", ctypes.c_uint32),
        ("flags", ctypes.c_uint64),
        ("nice", ctypes.c_int32),
        ("priority", ctypes.c_uint32),
        ("runtime", ctypes.c_uint64),
        ("deadline", ctypes.c_uint64),
        ("period", ctypes.c_uint64),
        ("util_min", ctypes.c_uint32),
        ("util_max", ctypes.c_uint32),
    ]


_libc = ctypes.CDLL(None, use_errno=True)


def _syscalls(tid: int, prefix: str, out: dict[str, str]) -> None:
    prio = _libc.syscall(_SYS_IOPRIO_GET, _IOPRIO_WHO_PROCESS, tid)
    out[f"{prefix}ioprio"] = f"class {prio >> 13} data {prio & 0x1FFF}" if prio >= 0 else "error"
    attr = _SchedAttr()
    if _libc.syscall(_SYS_SCHED_GETATTR, tid, ctypes.byref(attr), ctypes.sizeof(attr), 0) == 0:
        out[f"{prefix}sched_attr"] = " ".join(f"{n}={getattr(attr, n)}" for n, _ in _SchedAttr._fields_[1:])


def _thread(tdir: Path, tid: int, out: dict[str, str], zombie: bool, syscalls: bool) -> None:
    prefix, leader = f"tid {tid} ", tdir.name == tdir.parent.parent.name
    _status(_read(tdir / "status"), prefix, out, leader)
    _stat(_read(tdir / "stat"), prefix, out, leader)
    if zombie:
        return
    out[f"{prefix}children"] = " ".join(sorted(_read(tdir / "children").split(), key=int))
    if not leader:  # its own cgroups (v1 tasks files, v2 threaded groups); the leader has its process's
        out[f"{prefix}cgroup"] = " ".join(_read(tdir / "cgroup").split())
    if syscalls:
        _syscalls(tid, prefix, out)


# ---- fds


# /proc/PID/net tables of sockets, and the fields of each line (by position) that are compared
SOCK_TABLES = ("unix", "tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "icmp", "icmp6",
               "netlink", "packet")
# what is never compared, and why: the kernel's own bookkeeping of a socket, not its state
SOCK_SKIP = {
    "sk/Num": "the kernel address of the socket (hashed): a new socket has another",
    "RefCount/RefCnt/ref": "references the kernel holds on the socket at the moment (fds in flight, timers)",
    "tr tm->when retrnsmt timeout": "TCP timers running at the moment of the read",
    "Drops/drops": "a counter of datagrams dropped since the socket was made",
    "Locks": "netlink: whether a callback mutex is the default one (kernel bookkeeping)",
    "pointer": "the kernel address of the socket (hashed)",
}
TCP_LISTEN = "0A"
_DGRAM_TABLES = {"udp", "udp6", "udplite", "udplite6", "raw", "raw6", "icmp", "icmp6"}


def _sock_line(table: str, w: list[str]) -> tuple[str, dict[str, str]] | None:
    """(inode, compared fields) of one line of a /proc/net socket table."""
    if table == "unix":  # Num RefCount Protocol Flags Type St Inode Path
        if len(w) < 7:
            return None
        return w[6], {"Protocol": w[2], "Flags": w[3], "Type": w[4], "St": w[5],
                      "Path": w[7] if len(w) > 7 else ""}
    if table == "netlink":  # sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        if len(w) < 10:
            return None
        return w[9], {"Eth": w[1], "Pid": w[2], "Groups": w[3], "Rmem": w[4], "Wmem": w[5], "Dump": w[6]}
    if table == "packet":  # sk RefCnt Type Proto Iface R Rmem User Inode
        if len(w) < 9:
            return None
        return w[8], {"Type": w[2], "Proto": w[3], "Iface": w[4], "R": w[5], "Rmem": w[6], "User": w[7]}
    # sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ...
    if len(w) < 10 or not w[0].endswith(":"):
        return None
    tx, _, rx = w[4].partition(":")
    f = {"local": w[1], "remote": w[2], "st": w[3], "tx_queue": tx, "rx_queue": rx, "uid": w[7]}
    if table in _DGRAM_TABLES:  # state_exceptions.PARTIAL: bytes of skb truesize, empty or not
        f["tx_queue"] = "empty" if int(tx, 16) == 0 else "data"
        f["rx_queue"] = "empty" if int(rx, 16) == 0 else "data"
    elif w[3] != TCP_LISTEN:  # state_exceptions.PARTIAL: a connection's bytes move between its two ends
        f["tx_queue"] = f["rx_queue"] = "-"
    return w[9], f


class SockTables:
    """The socket tables of each network namespace of the snapshot, read once: inode -> (table, fields)."""

    def __init__(self) -> None:
        self.by_ns: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}

    def lookup(self, pdir: Path, ino: str) -> tuple[str, dict[str, str]] | None:
        try:
            ns = os.readlink(pdir / "ns" / "net")
        except OSError:
            return None
        if ns not in self.by_ns:
            found: dict[str, tuple[str, dict[str, str]]] = {}
            for table in SOCK_TABLES:
                try:
                    lines = _read(pdir / "net" / table).splitlines()[1:]
                except OSError:
                    continue
                for line in lines:
                    got = _sock_line(table, line.split())
                    if got is not None:
                        found.setdefault(got[0], (table, got[1]))
            self.by_ns[ns] = found
        return self.by_ns[ns].get(ino)


def _sock_fields(pdir: Path, fd: str, ino: str, socks: SockTables, out: dict[str, str]) -> None:
    got = socks.lookup(pdir, ino)
    out[f"fd {fd} sock.table"] = got[0] if got else "<none>"
    if got is None:
        return
    table, fields = got
    for key, value in fields.items():
        name = f"sock.{table}.{key}"
        if _keep(name):
            out[f"fd {fd} {name}"] = value


def _anonymous(link: str, fd_path: Path | None = None) -> bool:
    """An object a restore recreates with a new inode: not a path, or a path nobody can open again, or a
    POSIX message queue (made again in the restored IPC namespace)."""
    if not link.startswith("/") or link.endswith(" (deleted)") or link.startswith("/memfd:"):
        return True
    return fd_path is not None and _fs_magic(fd_path) == _MQUEUE_MAGIC


_MQUEUE_MAGIC = 0x19800202


def _fs_magic(path: Path) -> int:
    """statfs()'s f_type of the file behind path (-1 if it cannot be read)."""
    buf = ctypes.create_string_buffer(128)  # struct statfs; f_type is its first long
    if _libc.statfs(os.fsencode(str(path)), buf) != 0:
        return -1
    return int.from_bytes(buf.raw[:8], "little", signed=True)


def _timerfd_armed(info: str) -> bool:
    """A timerfd is armed when it has time left, or when it is periodic and has fired: the kernel forwards
    an expired interval timer (and shows its time left) only when it is read or queried, so until then
    fdinfo shows it_value (0, 0) although it runs (disarming it zeroes its ticks)."""
    f = {k.strip(): v.replace(" ", "") for k, _, v in (line.partition(":") for line in info.splitlines())}
    if f.get("it_value", "(0,0)") != "(0,0)":
        return True
    return f.get("it_interval", "(0,0)") != "(0,0)" and f.get("ticks", "0") not in ("", "0")


def _fds(pdir: Path, labels: Labels, out: dict[str, str], epolls: list, socks: SockTables,
         fresh_mounts: bool = False) -> set[str]:
    names = os.listdir(pdir / "fd")
    for fd in sorted(names, key=int):
        try:
            link = os.readlink(pdir / "fd" / fd)
            info = _read(pdir / "fdinfo" / fd)
        except FileNotFoundError:
            continue  # closed meanwhile: the fd set shows it
        m = _OBJ_RE.match(link)
        anon = _anonymous(link, pdir / "fd" / fd)
        out[f"fd {fd} link"] = f"{m[1]}:[{labels(_space(m[1]), m[2])}]" if m else link
        if m and m[1] == "socket":
            _sock_fields(pdir, fd, m[2], socks, out)
        multi: dict[str, list[str]] = {}
        section = ""
        for line in info.splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key.isdigit() and section:  # a slot of an io_uring's UserFiles / UserBufs list
                m_slot = _OBJ_RE.match(value)
                if m_slot:  # a registered pipe (or other object): its inode is new after restore
                    value = f"{m_slot[1]}:[{labels('obj', m_slot[2])}]"
                key = f"{section}.{key}"
            else:
                section = key
            if key in ("lock", "tfd") or " " in key:  # repeated lines: lock, epoll tfd, inotify wd, ...
                if key == "lock":  # drop the lock's id ("1: FLOCK ...")
                    value = value.partition(":")[2].strip()
                line_ = " ".join(f"{key} {value}".split())
                if fresh_mounts and key.startswith(("inotify", "fanotify")):  # state_exceptions.PARTIAL
                    line_ = _WATCH_FS.sub(lambda m: f"{m[1]}:{labels(m[1], m[2])}", line_)
                multi.setdefault(key, []).append(line_)
                continue
            name = f"fdinfo.{key}"
            if not _keep(name):
                continue
            if key == "ino" and anon:
                value = labels("obj", value)
            elif key in ("eventfd-id", "mnt_id"):  # mount ids are new in a rebuilt mount namespace (ns/uns)
                value = labels(key, value)
            elif key == "it_value":  # state_exceptions.PARTIAL: armed or not
                value = "armed" if _timerfd_armed(info) else "disarmed"
            out[f"fd {fd} {name}"] = value
        for key, values in multi.items():
            if key == "tfd":  # the target's ino (hex) is labelled once every object of the snapshot is
                epolls.append((out, f"fd {fd} fdinfo.tfd", values))
            else:
                out[f"fd {fd} fdinfo.{key}"] = "; ".join(sorted(values))
    return set(names)


def _epoll_targets(labels: Labels, epolls: list) -> None:
    def relabel(m: re.Match) -> str:
        number = str(int(m[1], 16))
        return f"ino:{labels('obj', number)}" if labels.known("obj", number) else m[0]

    for out, key, values in epolls:
        out[key] = "; ".join(sorted(_HEX_INO.sub(relabel, v) for v in values))


# ---- address space


def _numa(pdir: Path) -> dict[int, str]:
    try:
        text = _read(pdir / "numa_maps")
    except OSError:
        return {}
    policies = {}
    for line in text.splitlines():
        addr, _, rest = line.partition(" ")
        policies[int(addr, 16)] = rest.split(" ", 1)[0]
    return policies


def _maps(pdir: Path) -> list[Range]:
    numa = _numa(pdir)
    vmas: list[list] = []  # [start, end, {attr: value}]
    for line in _read(pdir / "smaps").splitlines():
        m = _SMAPS_HEAD.match(line)
        if m:
            start, end = int(m[1], 16), int(m[2], 16)
            attrs = {"prot": m[3], "name": m[6]}
            if int(m[5]):  # a file (or shmem) mapping: its path, offset and map_files mode
                attrs["base"] = str(int(m[4], 16) - start)  # offset - start: equal along a contiguous file
                try:
                    attrs["map_files"] = oct(os.lstat(pdir / "map_files" / f"{m[1]}-{m[2]}").st_mode)
                except OSError:
                    pass
            if start in numa:
                attrs["numa"] = numa[start]
            vmas.append([start, end, attrs])
        elif vmas and line.startswith(("VmFlags:", "ProtectionKey:")):
            key, _, value = line.partition(":")
            flags = value.split()
            if key == "VmFlags":  # state_exceptions.PARTIAL: without sd and dw
                flags = [f for f in flags if f not in ("sd", "dw")]
            vmas[-1][2][key] = " ".join(sorted(flags))
    merged: list[Range] = []
    for start, end, attrs in vmas:
        frozen = tuple(sorted(attrs.items()))
        if merged and merged[-1][1] == start and merged[-1][2] == frozen:
            merged[-1] = (merged[-1][0], end, frozen)
        else:
            merged.append((start, end, frozen))
    return merged


# ---- per process


def _mounts(pdir: Path) -> list[tuple]:
    out = []
    for line in _read(pdir / "mountinfo").splitlines():
        m = _MOUNT_RE.match(line)
        out.append(m.groups() if m else (line,))
    return out


def _limits(text: str, out: dict[str, str]) -> None:
    for line in text.splitlines()[1:]:
        out[f"limits.{line[:26].strip()}"] = " ".join(line[26:].split())


def _process(pdir: Path, labels: Labels, out: dict[str, str]) -> None:
    for name in _PROC_FILES:
        out[name] = _read(pdir / name).strip()
    _limits(_read(pdir / "limits"), out)
    out["cgroup"] = " ".join(_read(pdir / "cgroup").split())
    sessionid = _read(pdir / "sessionid").strip()  # state_exceptions.PARTIAL
    out["sessionid"] = sessionid if sessionid == "4294967295" else labels("sessionid", sessionid)
    out["autogroup"] = _AUTOGROUP.sub(lambda m: labels("autogroup", m[1]), _read(pdir / "autogroup").strip())
    out["cmdline"] = repr(_read(pdir / "cmdline"))
    out["environ"] = repr(_read(pdir / "environ"))
    out["auxv"] = (pdir / "auxv").read_bytes().hex()
    out["timers"] = " | ".join(_read(pdir / "timers").split("\n"))
    for name in _LINKS:
        try:
            out[name] = os.readlink(pdir / name)
        except OSError as e:
            out[name] = f"<{e.strerror}>"
    for ns in sorted(os.listdir(pdir / "ns")):
        try:
            m = _OBJ_RE.match(os.readlink(pdir / "ns" / ns))
        except FileNotFoundError:  # pid_for_children of a pid namespace without its init yet
            out[f"ns.{ns}"] = "<none yet>"
            continue
        out[f"ns.{ns}"] = labels("ns", m[2]) if m else "?"


def _locks(proc: Path, pids: set[int], state: State) -> None:
    """/proc/locks entries of the tree's pids, without the lock's id; to the owner's fields."""
    held: dict[int, list[str]] = {}
    for line in _read(proc / "locks").splitlines():
        words = line.split()[1:]
        arrow = words[:1] == ["->"]
        if arrow:
            words = words[1:]
        if len(words) < 4 or not words[3].lstrip("-").isdigit():
            continue
        pid = int(words[3])
        if pid in pids:
            held.setdefault(pid, []).append(("-> " if arrow else "") + " ".join(words))
    for pid, entries in held.items():
        if pid in state:
            state[pid].fields["locks"] = "; ".join(sorted(entries))


def _seed(proc: Path, labels: Labels) -> None:
    """Our own namespaces first: in h, a tree moved to a new namespace is not labelled like the old one."""
    me = proc / "self" / "ns"
    try:
        for ns in sorted(os.listdir(me)):
            m = _OBJ_RE.match(os.readlink(me / ns))
            if m:
                labels("ns", m[2])
    except OSError:
        pass


def _netns_id(pdir: Path) -> str:
    try:
        return os.readlink(pdir / "ns" / "net")
    except OSError:
        return ""


def _netns(pdir: Path, seen: set[str], fields: dict[str, str]) -> None:
    """The network configuration of a network namespace of the tree's own, on the first pid in it."""
    ns = _netns_id(pdir)
    if ns and ns not in seen:
        seen.add(ns)
        fields.update(netcfg.read(str(pdir / "ns" / "net")))


def _zombie(pdir: Path, tids: list[int], syscalls: bool) -> PidState:
    fields = {"zombie": "yes"}
    for tid in tids:
        try:
            _thread(pdir / "task" / str(tid), tid, fields, True, syscalls)
        except FileNotFoundError:
            pass
    return PidState(tids, set(), [], [], fields)


def visible_state(root_pid: int, newns: bool) -> State:
    """The state of the test's tree (tree_pids)."""
    proc = Path(f"/proc/{root_pid}/root/proc") if newns else Path("/proc")
    return snapshot(tree_pids(root_pid, newns), proc, syscalls=not newns, fresh_mounts=newns)


def snapshot(pids: list[int], proc: Path = Path("/proc"), syscalls: bool = True,
             fresh_mounts: bool = False) -> State:
    """The state of `pids` as `proc` shows them; `syscalls`: also what only a syscall tells (ioprio,
    sched_getattr), for pids of our own pid namespace; `fresh_mounts`: the tree has a mount namespace a
    restore rebuilds (ns/uns), where file systems nobody outside sees are made new (state_exceptions.PARTIAL
    of fdinfo's watch lines)."""
    labels: Labels = Labels()
    epolls: list = []
    socks = SockTables()
    nets = {_netns_id(Path("/proc/self"))}  # ours: the harness's own network namespace is not the test's
    _seed(Path("/proc"), labels)
    state: State = {}
    for pid in pids:
        pdir, tids = proc / str(pid), []
        try:
            tids = sorted(int(t) for t in os.listdir(pdir / "task"))
            if stat_state(pid, proc) == "Z":  # no fds, mm or mounts to read: a zombie is only that
                state[pid] = _zombie(pdir, tids, syscalls)
                continue
            fields: dict[str, str] = {}
            for tid in tids:
                try:
                    _thread(pdir / "task" / str(tid), tid, fields, False, syscalls)
                except FileNotFoundError:
                    pass  # the thread exited meanwhile: the tid list shows it
            _process(pdir, labels, fields)
            fds = _fds(pdir, labels, fields, epolls, socks, fresh_mounts)
            _netns(pdir, nets, fields)
            state[pid] = PidState(tids, fds, _maps(pdir), _mounts(pdir), fields)
        except OSError:
            now = stat_state(pid, proc)
            if now is None:
                continue  # exited meanwhile (e.g. a launcher still on its way out)
            if now != "Z":
                raise
            state[pid] = _zombie(pdir, tids, syscalls)  # died between two reads: a zombie now
    _epoll_targets(labels, epolls)
    _locks(proc, set(state), state)
    return state


# ---- comparison


def _diff(kind: str, pid: int, before: set, after: set, limit: int = 12) -> list[str]:
    lines = []
    for sign, items in (("-", before - after), ("+", after - before)):
        for item in sorted(items, key=str)[:limit]:
            lines.append(f"  pid {pid} {kind} {sign} {item}")
        if len(items) > limit:
            lines.append(f"  pid {pid} {kind} {sign} ... {len(items) - limit} more")
    return lines


def _fields_diff(pid: int, before: dict[str, str], after: dict[str, str], limit: int = 60) -> list[str]:
    lines = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, "<none>"), after.get(key, "<none>")
        if old != new:
            lines.append(f"  pid {pid} {key}: {old!r} -> {new!r}")
    if len(lines) > limit:
        lines[limit:] = [f"  pid {pid} ... {len(lines) - limit} more fields differ"]
    return lines


def _attrs_at(ranges: list[Range], starts: list[int], addr: int) -> tuple | None:
    i = bisect.bisect_right(starts, addr) - 1
    return ranges[i][2] if i >= 0 and addr < ranges[i][1] else None


def _show(attrs: tuple | None, other: tuple | None, lo: int) -> str:
    """The attributes of a range at `lo` that differ from `other` (all of them if other is unmapped)."""

    def value(k: str, v: str | None) -> str:
        if v is None:
            return "<none>"
        return f"{int(v) + lo:#x}" if k == "base" else repr(v)  # base: the file offset at lo

    if attrs is None:
        return "unmapped"
    mine, theirs = dict(attrs), dict(other or ())
    keys = sorted(mine.keys() | theirs.keys())
    return " ".join(
        f"{'offset' if k == 'base' else k}={value(k, mine.get(k))}"
        for k in keys
        if other is None or mine.get(k) != theirs.get(k)
    )


def _maps_diff(pid: int, before: list[Range], after: list[Range], limit: int = 16) -> list[str]:
    """Per byte range: every range whose attributes (or mapped-ness) differ, with what differs."""
    if before == after:
        return []
    cuts = sorted({a for r in before + after for a in r[:2]})
    out: list[tuple[int, int, tuple | None, tuple | None]] = []
    starts_before, starts_after = [r[0] for r in before], [r[0] for r in after]
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        old, new = _attrs_at(before, starts_before, lo), _attrs_at(after, starts_after, lo)
        if old == new:
            continue
        if out and out[-1][1] == lo and out[-1][2:] == (old, new):
            out[-1] = (out[-1][0], hi, old, new)
        else:
            out.append((lo, hi, old, new))
    lines = [
        f"  pid {pid} vma {lo:x}-{hi:x}: {_show(old, new, lo)} -> {_show(new, old, lo)}"
        for lo, hi, old, new in out
    ]
    if len(lines) > limit:
        lines[limit:] = [f"  pid {pid} vma ... {len(lines) - limit} more ranges differ"]
    return lines


def _allowed_by_options(opts: tuple[str, ...], key: str, new: str, fields: dict[str, str]) -> bool:
    """A difference the engine's options ask for (state_exceptions.BY_OPTION says which and why)."""
    for kind in joinns.joined_kinds(opts):
        if key in (f"ns.{kind}", f"ns.{kind}_for_children") or (kind == "net" and key.startswith("net")):
            return True
    fd, _, name = key.partition(" sock.")
    if not name:
        return False
    table = fields.get(f"{fd} sock.table", "")
    if {"--skip-in-flight", "--tcp-skip-in-flight"} & set(opts) and table in ("tcp", "tcp6") \
            and name == f"{table}.rx_queue" and fields.get(f"{fd} sock.{table}.st") == TCP_LISTEN:
        return new == "00000000"
    if "--tcp-close" in opts and (table in ("tcp", "tcp6") or name == "table"):
        st = fields.get(f"{fd} sock.{table}.st", TCP_LISTEN)
        return st not in (TCP_LISTEN, "07")  # a connection: restored closed (gone from the table)
    return False


# VmFlags the engine's dirty tracking shows while it is armed (a tree between a pre-dump or a --track-mem
# --leave-running dump and the next dump): userfaultfd write-protection registrations of the engine's own
TRACKING = ("uw",)


def without_vmflags(st: State, flags: tuple[str, ...]) -> State:
    """The state with those VmFlags taken out of every range (ranges equal then are merged again)."""
    out: State = {}
    for pid, ps in st.items():
        merged: list[Range] = []
        for start, end, attrs in ps.maps:
            a = dict(attrs)
            if "VmFlags" in a:
                a["VmFlags"] = " ".join(f for f in a["VmFlags"].split() if f not in flags)
            frozen = tuple(sorted(a.items()))
            if merged and merged[-1][1] == start and merged[-1][2] == frozen:
                merged[-1] = (merged[-1][0], end, frozen)
            else:
                merged.append((start, end, frozen))
        out[pid] = PidState(ps.tids, ps.fds, merged, ps.mounts, ps.fields)
    return out


def compare(before: State, after: State, opts: tuple[str, ...] = ()) -> str | None:
    """None if the same pids exist, each with the same threads, fds, address space, mounts and fields; else
    a readable diff. `opts`: the engine options of the C/R (some ask for a difference: BY_OPTION)."""
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
        lines += _maps_diff(pid, old.maps, new.maps)
        lines += _diff("mount", pid, set(old.mounts), set(new.mounts))
        if opts:
            old_f = dict(old.fields)
            new_f = dict(new.fields)
            for key in old_f.keys() | new_f.keys():
                a, b = old_f.get(key, "<none>"), new_f.get(key, "<none>")
                if a != b and _allowed_by_options(opts, key, b, old.fields):
                    old_f.pop(key, None)
                    new_f.pop(key, None)
            lines += _fields_diff(pid, old_f, new_f)
        else:
            lines += _fields_diff(pid, old.fields, new.fields)
    return "\n".join(lines) or None
