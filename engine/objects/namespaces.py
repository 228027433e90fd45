"""Namespaces: which ones the tree has of its own, their ids (ids-<pid>.img, inventory.root_ids) and the
state of each kind the engine rebuilds (CRIU's images: utsns, ipcns-var, timens, netns/netdev; the mount
tree is engine/objects/mounts.py).

Dump. A kind is dumped when the tree's root has a namespace of it other than the engine's (as CRIU decides).
Every namespace seen is held by an fd for the whole dump (inode numbers are reused once a namespace is
freed). What restore cannot rebuild is refused while the tree runs on, naming the process and the kind:
processes of the tree in different namespaces of one kind, pid namespaces deeper than the root's or one
without its init in the tree, a process that unshared a pid or time namespace for its children only, user
and cgroup namespaces, a namespace shared with a process outside the tree, SysV IPC objects, network
devices other than lo and addresses or routes beyond lo's own.

Restore. The root helper is created in the new pid, mount, uts, ipc and net namespaces by one clone3
(set_tid = {its pid inside, its old pid outside}); a new time namespace gets the offsets that make both
clocks continue from their dumped values before the helper enters it; then the names, the IPC and network
sysctls, lo, and the mount tree. Every other process is forked inside and inherits them.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from typing import TYPE_CHECKING, Any

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWTIME,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    O_CLOEXEC,
    O_RDONLY,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import ipc_var_pb2, netdev_pb2, sysctl_pb2, timens_pb2, utsns_pb2
from engine.log import log
from engine.objects import nsworker, sysvipc
from engine.objects.base import KernelObject
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

# kind (/proc/PID/ns name), its field in task_kobj_ids_entry, its clone flag
KINDS = (
    ("pid", "pid_ns_id", CLONE_NEWPID),
    ("net", "net_ns_id", CLONE_NEWNET),
    ("ipc", "ipc_ns_id", CLONE_NEWIPC),
    ("uts", "uts_ns_id", CLONE_NEWUTS),
    ("mnt", "mnt_ns_id", CLONE_NEWNS),
    ("user", "user_ns_id", CLONE_NEWUSER),
    ("cgroup", "cgroup_ns_id", CLONE_NEWCGROUP),
    ("time", "time_ns_id", CLONE_NEWTIME),
)
FLAG = {k: f for k, _, f in KINDS}
FIELD = {k: f for k, f, _ in KINDS}
# the kinds restore can make new (user and cgroup namespaces are refused at dump)
BUILT = ("pid", "net", "ipc", "uts", "mnt", "time")

CLOCK_MONOTONIC, CLOCK_BOOTTIME = 1, 7
NSEC = 1_000_000_000

# ipc_var_entry field -> sysctl under /proc/sys (kernel.sem is the four values of sem_ctls)
IPC_SYSCTLS = (
    ("msg_ctlmax", "kernel/msgmax"), ("msg_ctlmnb", "kernel/msgmnb"), ("msg_ctlmni", "kernel/msgmni"),
    ("auto_msgmni", "kernel/auto_msgmni"), ("shm_ctlmax", "kernel/shmmax"), ("shm_ctlall", "kernel/shmall"),
    ("shm_ctlmni", "kernel/shmmni"), ("shm_rmid_forced", "kernel/shm_rmid_forced"),
    ("mq_queues_max", "fs/mqueue/queues_max"), ("mq_msg_max", "fs/mqueue/msg_max"),
    ("mq_msgsize_max", "fs/mqueue/msgsize_max"), ("mq_msg_default", "fs/mqueue/msg_default"),
    ("mq_msgsize_default", "fs/mqueue/msgsize_default"), ("msg_next_id", "kernel/msg_next_id"),
    ("sem_next_id", "kernel/sem_next_id"), ("shm_next_id", "kernel/shm_next_id"),
)
# network namespace sysctls CRIU's netns_entry has no list for, kept in its Stasis extension
NET_SYSCTLS = ("ipv4/ip_default_ttl", "ipv4/ip_forward", "ipv4/ip_local_port_range", "ipv4/ping_group_range",
               "ipv4/ip_unprivileged_port_start", "ipv4/tcp_syncookies", "core/somaxconn",
               "ipv4/conf/all/forwarding", "ipv4/conf/default/forwarding", "ipv6/conf/all/disable_ipv6",
               "ipv6/conf/default/disable_ipv6")
UNIX_SYSCTLS = ("unix/max_dgram_qlen",)

SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCGIFMTU, SIOCSIFMTU, SIOCGIFINDEX = 0x8913, 0x8914, 0x8921, 0x8922, 0x8933
IFF_UP = 0x1
IFREQ = struct.Struct("16sh22x")  # struct ifreq with a short (flags) or int (mtu, index) union
IFREQ_INT = struct.Struct("16si20x")
RTM_GETADDR, NLM_F_REQUEST, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR = 22, 1, 0x300, 3, 2
IFA_ADDRESS = 1


# -- dump ------------------------------------------------------------------------------------------

@record
class NsDump:
    own: dict[str, int] = field(default_factory=dict)  # the engine's namespaces: kind -> inode
    root: dict[str, int] = field(default_factory=dict)  # the tree root's
    of: dict[int, dict[str, int]] = field(default_factory=dict)  # pid -> kind -> inode
    fds: dict[tuple[str, int], int] = field(default_factory=dict)  # held for the whole dump
    ids: dict[tuple[str, int], int] = field(default_factory=dict)  # CRIU's small ids
    dumped: list[str] = field(default_factory=list)  # kinds the tree has of its own
    uts: utsns_pb2.utsns_entry | None = None
    ipc: ipc_var_pb2.ipc_var_entry | None = None
    netns: netdev_pb2.netns_entry | None = None
    netdevs: list[netdev_pb2.net_device_entry] = field(default_factory=list)
    timens: timens_pb2.timens_entry | None = None
    sysv: dict[str, list[Any]] = field(default_factory=dict)  # SysV objects (engine/objects/sysvipc.py)

    def id_of(self, kind: str, ino: int) -> int:
        key = (kind, ino)
        if key not in self.ids:
            self.ids[key] = len(self.ids) + 1
        return self.ids[key]


def state(ctx: DumpContext) -> NsDump:
    return ctx.files.state(NsDump)


def _inode(pid: int | str, kind: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except FileNotFoundError:
        return None  # a kernel without this kind


def _hold(s: NsDump, pid: int | str, kind: str) -> int | None:
    """The namespace's inode, with an fd on it held (so the number cannot be reused meanwhile)."""
    try:
        fd = os.open(f"/proc/{pid}/ns/{kind}", O_RDONLY | O_CLOEXEC)
    except FileNotFoundError:
        return None
    ino = os.fstat(fd).st_ino
    if (kind, ino) in s.fds:
        os.close(fd)
    else:
        s.fds[(kind, ino)] = fd
    return ino


def _nspids(status: dict[str, str], key: str) -> list[int]:
    return [int(x) for x in status.get(key, "").split()]


def check(ctx: DumpContext, t: Task) -> None:
    s = state(ctx)
    if not s.own:
        for kind, _, _ in KINDS:
            ino = _hold(s, "self", kind)
            if ino is not None:
                s.own[kind] = ino
    if not t.alive:
        _pids(ctx, s, t)  # a zombie keeps no namespaces (it is restored in its parent's), only its pids
        return
    mine: dict[str, int] = {}
    for kind in (*FLAG, "pid_for_children", "time_for_children"):
        ino = _hold(s, t.pid, kind)
        if ino is not None:
            mine[kind] = ino
    s.of[t.pid] = mine
    if t is ctx.root:
        s.root = mine
        s.dumped = [k for k in FLAG if k in mine and mine[k] != s.own.get(k)]
    for kind in FLAG:
        if kind in mine and mine[kind] != s.root.get(kind):
            raise UnsupportedError(f"pid {t.pid} is in another {kind} namespace than the tree's root "
                                   f"{ctx.root.pid}: namespaces nested inside the tree are not supported yet")
    if mine.get("pid_for_children", mine.get("pid")) != mine.get("pid"):
        raise UnsupportedError(f"pid {t.pid} made a pid namespace for its children (unshare(CLONE_NEWPID)): "
                               "nested pid namespaces are not supported yet")
    if mine.get("time_for_children", mine.get("time")) != mine.get("time"):
        raise UnsupportedError(f"pid {t.pid} made a time namespace for its children (unshare(CLONE_NEWTIME)) "
                               "without entering it: not supported (a time namespace is restored only with a "
                               "process in it)")
    if t is ctx.root:
        for kind in ("user", "cgroup"):
            if kind in s.dumped:
                raise UnsupportedError(f"pid {t.pid} has a {kind} namespace of its own: {kind} "
                                       "namespaces are not supported yet")
    _pids(ctx, s, t)


def _pids(ctx: DumpContext, s: NsDump, t: Task) -> None:
    """Its pids as the tree sees them, when the tree has a pid namespace of its own."""
    if "pid" not in s.dumped:
        return
    own_level = len(_nspids(proc.status("self"), "NSpid"))
    st = t.leader.facts.status if t.alive else proc.status(t.pid)
    pids = _nspids(st, "NSpid")
    if t is ctx.root and (len(pids) != own_level + 1 or pids[-1] != 1):
        deep = len(pids) - own_level
        where = f"pid {pids[-1]} there" if deep == 1 else f"{deep} levels down"
        raise UnsupportedError(f"pid {t.pid} is in a pid namespace of its own but not its init ({where}): a "
                               "pid namespace is dumped only with its init (pid 1) as the tree's root")
    if len(pids) != own_level + 1:
        raise UnsupportedError(f"pid {t.pid} is in a pid namespace nested in the tree's: not supported yet")
    t.vpid = pids[-1]
    for key in ("NSpgid", "NSsid"):
        v = _nspids(st, key)
        if len(v) != own_level + 1:
            raise UnsupportedError(f"pid {t.pid}: its {key[2:]} is not in the tree's pid namespace")
        if key == "NSpgid":
            t.vpgid = v[-1]
        else:
            t.vsid = v[-1]
    if not t.alive:
        t.leader.vtid = t.vpid
        return
    for th in t.threads:
        tids = _nspids(th.facts.status, "NSpid")
        th.vtid = tids[-1]


def dump_tree(ctx: DumpContext) -> None:
    s = state(ctx)
    for kind, _, _ in KINDS:  # the engine's own namespaces first, as CRIU numbers them
        if kind in s.own:
            s.id_of(kind, s.own[kind])
    for t in ctx.tasks:
        mine = s.of.get(t.pid, s.root)
        for kind, name, _ in KINDS:
            if kind in mine:
                setattr(t.ids, name, s.id_of(kind, mine[kind]))
    if "pid" in s.dumped:
        for t in ctx.tasks:
            ctx.images.virtual_pids[t.pid] = t.inner_pid
            for th in t.threads:
                ctx.images.virtual_pids[th.tid] = th.inner_tid
    if not s.dumped:
        return
    log.info("the tree has namespaces of its own: %s", ", ".join(s.dumped))
    _outsiders(ctx, s)
    root = ctx.root
    if "uts" in s.dumped:
        s.uts = _dump_uts(s, root)
    if "ipc" in s.dumped:
        s.ipc = _dump_ipc(s, root, {t.pid for t in ctx.tasks})
    if "net" in s.dumped:
        s.netns, s.netdevs = _dump_net(s, root)
    if "time" in s.dumped:
        s.timens = _dump_time(root)


def _outsiders(ctx: DumpContext, s: NsDump) -> None:
    """A namespace of the tree that a process outside it shares could not be given back to that process."""
    tree = {t.pid for t in ctx.tasks}
    kinds = [k for k in s.dumped if k != "pid"]  # a pid ns holds only the init's descendants
    for ent in os.scandir("/proc"):
        if not ent.name.isdigit() or int(ent.name) in tree or int(ent.name) == os.getpid():
            continue
        for kind in kinds:
            ino = _inode(ent.name, kind) if os.path.exists(f"/proc/{ent.name}/ns/{kind}") else None
            if ino is not None and ino == s.root[kind]:
                raise UnsupportedError(f"the tree's {kind} namespace is shared with pid {ent.name}, which "
                                       "is not in the dumped tree")


def _nsfd(s: NsDump, kind: str) -> int:
    return s.fds[(kind, s.root[kind])]


def _dump_uts(s: NsDump, root: Task) -> utsns_pb2.utsns_entry:
    def read() -> list[str]:  # the kernel takes any bytes: undecodable ones as surrogates
        u = os.uname()
        return [u.nodename, os.fsdecode(_domainname())]

    node, domain = nsworker.run([(_nsfd(s, "uts"), CLONE_NEWUTS)], read, f"pid {root.pid}: uts namespace")
    for what, name in (("host", node), ("domain", domain)):
        try:
            name.encode()
        except UnicodeEncodeError:
            raise UnsupportedError(f"pid {root.pid}: its {what} name {os.fsencode(name)!r} is not UTF-8 "
                                   "(criu's utsns image keeps it as a string): not supported") from None
    return utsns_pb2.utsns_entry(nodename=node, domainname=domain)


def _domainname() -> bytes:
    try:
        with open("/proc/sys/kernel/domainname", "rb") as f:
            return f.read().strip()
    except FileNotFoundError:
        return b""


def _dump_ipc(s: NsDump, root: Task, tree: set[int]) -> ipc_var_pb2.ipc_var_entry:
    def read() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, path in IPC_SYSCTLS:
            out[name] = nsworker.read_text(f"/proc/sys/{path}")
        out["sem"] = nsworker.read_text("/proc/sys/kernel/sem")
        objs = {}
        for kind in ("shm", "msg", "sem"):
            text = nsworker.read_text(f"/proc/sysvipc/{kind}") or ""
            objs[kind] = max(len(text.splitlines()) - 1, 0)
        out["objects"] = objs
        out["sysv"] = sysvipc.read_objects()
        out["mqueues"] = sysvipc.posix_queues()  # last: it changes the worker's mount namespace
        return out

    got = nsworker.run([(_nsfd(s, "ipc"), CLONE_NEWIPC)], read, f"pid {root.pid}: ipc namespace")
    sysvipc.check(got["sysv"], f"pid {root.pid}: its IPC namespace", tree)
    if got["mqueues"]:
        raise UnsupportedError(f"pid {root.pid}: its IPC namespace has POSIX message queues "
                               f"({', '.join('/' + q for q in got['mqueues'])}): not supported yet")
    found = {k: len(v) for k, v in got["sysv"].items()}
    if found != got["objects"]:  # /proc/sysvipc and the *_STAT walk must agree
        raise UnsupportedError(f"pid {root.pid}: its IPC namespace's objects changed while they were read "
                               f"({got['objects']} listed, {found} read)")
    s.sysv = got["sysv"]
    e = ipc_var_pb2.ipc_var_entry()
    e.sem_ctls.extend(int(x) for x in got["sem"].split())
    for name, _ in IPC_SYSCTLS:
        text = got[name]
        if text is None:
            if name in ("mq_msg_default", "mq_msgsize_default") or name.endswith("_next_id"):
                continue
            text = "0"  # auto_msgmni, gone from newer kernels
        value = int(text.split()[0])
        if value < 0:  # *_next_id = -1: the kernel picks (and -1 cannot be written back)
            continue
        setattr(e, name, value)
    return e


def _ifaddrs() -> list[tuple[int, int, int, bytes]]:
    """(family, prefix length, ifindex, address) of every address, by an RTM_GETADDR dump."""
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)  # NETLINK_ROUTE
    try:
        req = struct.pack("=IHHII", 16 + 8, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
        nl.send(req + struct.pack("=BBBBI", 0, 0, 0, 0, 0))
        out: list[tuple[int, int, int, bytes]] = []
        while True:
            data = nl.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                ln, typ = struct.unpack_from("=IH", data, off)
                if typ == NLMSG_DONE:
                    return out
                if typ == NLMSG_ERROR:
                    raise OSError(-struct.unpack_from("=i", data, off + 16)[0], "RTM_GETADDR")
                fam, plen, _, _, idx = struct.unpack_from("=BBBBI", data, off + 16)
                a = off + 24
                addr = b""
                while a + 4 <= off + ln:
                    alen, atyp = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if atyp == IFA_ADDRESS:
                        addr = data[a + 4:a + alen]
                    a += (alen + 3) & ~3
                out.append((fam, plen, idx, addr))
                off += (ln + 3) & ~3
    finally:
        nl.close()


def _dump_net(s: NsDump, root: Task) -> tuple[netdev_pb2.netns_entry, list[netdev_pb2.net_device_entry]]:
    def read() -> dict[str, Any]:
        links = []
        sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            import fcntl

            for idx, name in socket.if_nameindex():
                req = IFREQ.pack(name.encode(), 0)
                flags = IFREQ.unpack(fcntl.ioctl(sk, SIOCGIFFLAGS, req))[1] & 0xFFFF
                mtu = IFREQ_INT.unpack(fcntl.ioctl(sk, SIOCGIFMTU, IFREQ_INT.pack(name.encode(), 0)))[1]
                links.append([idx, name, flags, mtu])
        finally:
            sk.close()
        routes = (nsworker.read_text("/proc/self/net/route") or "").splitlines()[1:]
        routes6 = [r for r in (nsworker.read_text("/proc/self/net/ipv6_route") or "").splitlines()
                   if not r.split()[-1].startswith("lo") and r.split()[-1] != "lo"]
        sysctls = {n: nsworker.read_text(f"/proc/sys/net/{n}") for n in (*UNIX_SYSCTLS, *NET_SYSCTLS)}
        addrs = [[f, p, i, a.hex()] for f, p, i, a in _ifaddrs()]
        return {"links": links, "routes": routes, "routes6": routes6, "sysctls": sysctls, "addrs": addrs}

    got = nsworker.run([(_nsfd(s, "net"), CLONE_NEWNET)], read, f"pid {root.pid}: network namespace")
    where = f"pid {root.pid}: its network namespace"
    devs = []
    lo_up = False
    for idx, name, flags, mtu in got["links"]:
        if name != "lo":
            raise UnsupportedError(f"{where} has network device {name}: only lo is supported yet")
        lo_up = bool(flags & IFF_UP)
        devs.append(netdev_pb2.net_device_entry(type=netdev_pb2.LOOPBACK, ifindex=idx, mtu=mtu, flags=flags,
                                                name=name))
    lo = {(socket.AF_INET, 8, "7f000001"), (socket.AF_INET6, 128, "00000000000000000000000000000001")}
    for fam, plen, _, addr in got["addrs"]:
        if not lo_up or (fam, plen, addr) not in lo:
            try:
                shown = socket.inet_ntop(fam, bytes.fromhex(addr))
            except (OSError, ValueError):
                shown = f"{addr} (family {fam})"
            raise UnsupportedError(f"{where} has address {shown}/{plen}: addresses other than lo's own "
                                   "are not supported yet")
    if got["routes"] or got["routes6"]:
        raise UnsupportedError(f"{where} has routes of its own: routes are not supported yet")
    ns = netdev_pb2.netns_entry()
    for n in UNIX_SYSCTLS:
        text = got["sysctls"][n]
        if text is not None:
            ns.unix_conf.add(type=sysctl_pb2.CTL_32, iarg=int(text))
    for n in NET_SYSCTLS:
        text = got["sysctls"][n]
        if text is not None:
            ns.stasis.names.append(n)
            ns.stasis.values.append(text.strip())
    return ns, devs


def _clock(clk: int) -> int:
    return time.clock_gettime_ns(clk)


def _offsets(pid: int | str) -> dict[int, int]:
    out = {CLOCK_MONOTONIC: 0, CLOCK_BOOTTIME: 0}
    text = nsworker.read_text(f"/proc/{pid}/timens_offsets") or ""
    for line in text.splitlines():
        name, sec, nsec = line.split()
        clk = CLOCK_MONOTONIC if name == "monotonic" else CLOCK_BOOTTIME if name == "boottime" else int(name)
        out[clk] = int(sec) * NSEC + int(nsec)
    return out


def _ts(ns: int) -> timens_pb2.timespec:
    return timens_pb2.timespec(tv_sec=ns // NSEC, tv_nsec=ns % NSEC)


def _dump_time(root: Task) -> timens_pb2.timens_entry:
    """The clocks as the tree reads them (CRIU records values, not offsets)."""
    theirs, mine = _offsets(root.pid), _offsets("self")
    now = {clk: _clock(clk) + theirs[clk] - mine[clk] for clk in (CLOCK_MONOTONIC, CLOCK_BOOTTIME)}
    e = timens_pb2.timens_entry(monotonic=_ts(now[CLOCK_MONOTONIC]), boottime=_ts(now[CLOCK_BOOTTIME]))
    e.stasis.boot_id = _boot_id()
    e.stasis.monotonic_offset = theirs[CLOCK_MONOTONIC] - mine[CLOCK_MONOTONIC]
    e.stasis.boottime_offset = theirs[CLOCK_BOOTTIME] - mine[CLOCK_BOOTTIME]
    return e


def _boot_id() -> str:
    return (nsworker.read_text("/proc/sys/kernel/random/boot_id") or "").strip()


def write_images(ctx: DumpContext) -> None:
    s = state(ctx)
    root = ctx.root.ids
    if s.uts is not None:
        ctx.images.write("utsns", s.uts, ns_id=root.uts_ns_id)
    if s.ipc is not None:
        ctx.images.write("ipcns-var", s.ipc, ns_id=root.ipc_ns_id)
        sysvipc.write_images(ctx.images, root.ipc_ns_id, s.sysv)
    if s.netns is not None:
        ctx.images.write("netns", s.netns, ns_id=root.net_ns_id)
        ctx.images.write("netdev", s.netdevs, ns_id=root.net_ns_id)
    if s.timens is not None:
        ctx.images.write("timens", s.timens, ns_id=root.time_ns_id)


def root_ids(ctx: DumpContext) -> dict[str, int]:
    """The engine's own namespace ids, for the inventory's root_ids."""
    s = state(ctx)
    return {FIELD[k]: s.id_of(k, ino) for k, ino in s.own.items()}


def dump_done(ctx: DumpContext, kill: bool) -> None:
    s = state(ctx)
    for fd in s.fds.values():
        os.close(fd)
    s.fds.clear()


# -- restore ---------------------------------------------------------------------------------------

@record
class NsRestore:
    new: list[str] = field(default_factory=list)  # kinds the root helper gets new
    uts: utsns_pb2.utsns_entry | None = None
    ipc: ipc_var_pb2.ipc_var_entry | None = None
    netns: netdev_pb2.netns_entry | None = None
    netdevs: list[netdev_pb2.net_device_entry] = field(default_factory=list)
    timens: timens_pb2.timens_entry | None = None
    sysv: dict[str, list[Any]] = field(default_factory=dict)


def rstate(ctx: RestoreContext) -> NsRestore:
    return ctx.files.state(NsRestore)


def load_images(ctx: RestoreContext) -> None:
    """Which namespaces are new: those the root's ids name differently from the dumping engine's own."""
    s = rstate(ctx)
    own = ctx.images.read_one("inventory").root_ids
    root = ctx.root.ids
    for kind, name, _ in KINDS:
        if root.HasField(name) and own.HasField(name) and getattr(root, name) != getattr(own, name):
            s.new.append(kind)
    for t in ctx.tasks[1:]:
        for kind, name, _ in KINDS:
            if t.alive and t.ids.HasField(name) and getattr(t.ids, name) != getattr(root, name):
                raise RestoreError(f"pid {t.inner_pid} is in another {kind} namespace than the root: nested "
                                   "namespaces are not supported yet")
    bad = [k for k in s.new if k not in BUILT]
    if bad:
        raise RestoreError(f"the images have {', '.join(bad)} namespaces of their own: not supported yet")
    img = ctx.images
    if "pid" in s.new and not ctx.root.vpid:
        raise RestoreError("the tree has a pid namespace of its own but its processes' outer pids are not in "
                           "the images (Stasis records them in the cores' outer_tid)")
    if "uts" in s.new:
        s.uts = img.read_one("utsns", ns_id=root.uts_ns_id)
    if "ipc" in s.new:
        s.ipc = img.read_one("ipcns-var", ns_id=root.ipc_ns_id)
        s.sysv = sysvipc.load_images(img, root.ipc_ns_id)
    if "net" in s.new:
        s.netns = img.read_one("netns", ns_id=root.net_ns_id)
        s.netdevs = img.read("netdev", missing_ok=True, ns_id=root.net_ns_id)
        for d in s.netdevs:
            if d.type != netdev_pb2.LOOPBACK:
                raise RestoreError(f"network device {d.name} (type {d.type}): only lo is supported yet")
    if "time" in s.new:
        s.timens = img.read_one("timens", ns_id=root.time_ns_id)


def clone_flags(ctx: RestoreContext) -> int:
    """The namespaces the root helper is created in (a time namespace comes later: one made by clone3
    already holds the child, and its offsets could not be set any more)."""
    flags = 0
    for kind in rstate(ctx).new:
        if kind != "time":
            flags |= FLAG[kind]
    return flags


def restore_root(ctx: RestoreContext, root: Task) -> None:
    """In the root helper, before it rebuilds anything: time, names, IPC and network settings, mounts."""
    s = rstate(ctx)
    if not s.new:
        return
    if s.timens is not None:
        _restore_time(root, s.timens)
    if s.uts is not None:
        inj = root.injector
        for call, name in ((nr.sethostname, s.uts.nodename), (nr.setdomainname, s.uts.domainname)):
            data = name.encode()
            inj.put(data)
            fn = "sethostname" if call == nr.sethostname else "setdomainname"
            inj.call(call, inj.scratch, len(data), what=f"{fn}({name})")
    if s.ipc is not None:
        _restore_ipc(root, s.ipc, s.sysv)
    if s.netns is not None:
        _restore_net(root, s.netns, s.netdevs)
    from engine.objects import mounts

    if "mnt" in s.new:
        mounts.restore_tree(ctx, root)


def _restore_time(root: Task, e: timens_pb2.timens_entry) -> None:
    inj = root.injector
    inj.call(nr.unshare, CLONE_NEWTIME, what="unshare(CLONE_NEWTIME)")
    mine = _offsets("self")
    lines = []
    same_boot = e.HasField("stasis") and e.stasis.boot_id == _boot_id()
    for clk, ts in ((CLOCK_MONOTONIC, e.monotonic), (CLOCK_BOOTTIME, e.boottime)):
        if same_boot:  # the offsets it had: its clocks went on meanwhile, as its timers did
            x = e.stasis
            off = mine[clk] + (x.monotonic_offset if clk == CLOCK_MONOTONIC else x.boottime_offset)
        else:  # criu's: both clocks go on from the values at the dump
            off = ts.tv_sec * NSEC + ts.tv_nsec - (_clock(clk) - mine[clk])
        lines.append(f"{clk} {off // NSEC} {off % NSEC}\n")
    try:
        nsworker.write_text(f"/proc/{root.pid}/timens_offsets", "".join(lines))
    except OSError as exc:
        raise RestoreError(f"pid {root.pid}: cannot set its time namespace's offsets: {exc}") from exc
    inj.put_str("/proc/self/ns/time_for_children")
    fd = inj.call(nr.openat, -100, inj.scratch, O_RDONLY | O_CLOEXEC, 0, what="open(time_for_children)")
    try:
        inj.call(nr.setns, fd, CLONE_NEWTIME, what="setns(time)")
    finally:
        inj.call(nr.close, fd, what="close")
    log.debug("pid %d: in a new time namespace (%s)", root.pid, " ".join(x.strip() for x in lines))


def _ns_of(pid: int, kind: str) -> int:
    return os.open(f"/proc/{pid}/ns/{kind}", O_RDONLY | O_CLOEXEC)


def _restore_ipc(root: Task, e: ipc_var_pb2.ipc_var_entry, sysv: dict[str, list[Any]]) -> None:
    values: list[tuple[str, str]] = []
    if e.sem_ctls:
        values.append(("kernel/sem", " ".join(str(x) for x in e.sem_ctls)))
    for name, path in IPC_SYSCTLS:
        if e.HasField(name) and name != "auto_msgmni":
            values.append((path, str(getattr(e, name))))

    later = [(p, t) for p, t in values if p.endswith("_next_id")]  # after the objects (they use it)
    values = [(p, t) for p, t in values if not p.endswith("_next_id")]

    def write() -> None:
        for path, text in values:  # the limits first: the objects must fit in them
            full = f"/proc/sys/{path}"
            if not os.path.exists(full):
                continue
            now = nsworker.read_text(full) or ""
            if " ".join(now.split()) != text:
                nsworker.write_text(full, text)
        sysvipc.make_objects(sysv)
        for path, text in later:
            nsworker.write_text(f"/proc/sys/{path}", text)

    fd = _ns_of(root.pid, "ipc")
    try:
        nsworker.run([(fd, CLONE_NEWIPC)], write, f"pid {root.pid}: ipc namespace")
    except (OSError, RuntimeError) as exc:
        raise RestoreError(str(exc)) from exc
    finally:
        os.close(fd)


def _restore_net(root: Task, ns: netdev_pb2.netns_entry, devs: list[netdev_pb2.net_device_entry]) -> None:
    values = [(n, str(c.iarg)) for n, c in zip(UNIX_SYSCTLS, ns.unix_conf, strict=False)]
    values += list(zip(ns.stasis.names, ns.stasis.values, strict=True))
    links = [(d.name, d.flags, d.mtu) for d in devs]

    def configure() -> None:
        import fcntl

        sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            for name, flags, mtu in links:
                now_mtu = IFREQ_INT.unpack(fcntl.ioctl(sk, SIOCGIFMTU, IFREQ_INT.pack(name.encode(), 0)))[1]
                if now_mtu != mtu:
                    fcntl.ioctl(sk, SIOCSIFMTU, IFREQ_INT.pack(name.encode(), mtu))
                if flags & IFF_UP:
                    fcntl.ioctl(sk, SIOCSIFFLAGS, IFREQ.pack(name.encode(), flags & 0xFFFF))
        finally:
            sk.close()
        for n, text in values:
            full = f"/proc/sys/net/{n}"
            if not os.path.exists(full):
                continue
            now = nsworker.read_text(full) or ""
            if " ".join(now.split()) != " ".join(text.split()):
                nsworker.write_text(full, text)

    fd = _ns_of(root.pid, "net")
    try:
        nsworker.run([(fd, CLONE_NEWNET)], configure, f"pid {root.pid}: network namespace")
    except OSError as exc:
        raise RestoreError(str(exc)) from exc
    finally:
        os.close(fd)
    from engine.objects.files import sockets

    sockets.set_restore_netns(os.open(f"/proc/{root.pid}/ns/net", O_RDONLY | O_CLOEXEC))


def restore_done(ctx: RestoreContext) -> None:
    from engine.objects.files import sockets

    sockets.set_restore_netns(None)


OBJECT = KernelObject("namespaces", check=check, dump_tree=dump_tree, write_images=write_images,
                      dump_done=dump_done, load_images=load_images, restore_done=restore_done,
                      restore_abort=restore_done)
