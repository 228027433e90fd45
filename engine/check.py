"""`stasis check`: which kernel features the engine relies on are here, and what a missing one costs."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    ARCH_GET_XCOMP_PERM,
    CAP_CHECKPOINT_RESTORE,
    CAP_SYS_ADMIN,
    CAP_SYS_RESOURCE,
    CLONE_NEWCGROUP,
    CLONE_NEWUSER,
    KCMP_VM,
    MADV_GUARD_INSTALL,
    MADV_POPULATE_WRITE,
    MAP_ANONYMOUS,
    MAP_DROPPABLE,
    MEMBARRIER_CMD_GET_REGISTRATIONS,
    MFD_CLOEXEC,
    MFD_EXEC,
    OPEN_TREE_CLONE,
    PR_GET_MDWE,
    PR_GET_MEMORY_MERGE,
    PR_SET_MM,
    PR_SET_MM_MAP_SIZE,
    PR_SET_VMA,
    PR_SET_VMA_ANON_NAME,
    PROT_READ,
    PROT_WRITE,
)
from engine.native import ffi, lib
from engine.record import record


def _caps() -> int:
    return int(proc.status("self")["CapEff"], 16)


def _kernel_at_least(major: int, minor: int) -> bool:
    rel = os.uname().release.split(".")
    return (int(rel[0]), int(rel[1].split("-")[0])) >= (major, minor)


def _pagemap_scan() -> bool:
    from engine.compel.memory import scan_path

    return scan_path()[0]


def page_scan_path() -> str:
    """How dump finds the pages that hold data, in one line."""
    from engine.compel.memory import pfns_shown, scan_path

    use, why = scan_path()
    if use:
        return "PAGEMAP_SCAN ioctl"
    zero = "" if pfns_shown() else "; PFNs hidden (no CAP_SYS_ADMIN): zero pages are copied as data"
    return f"/proc/PID/pagemap read in bulk ({why}){zero}"


def _link_kind(kind: str) -> bool:
    from engine.objects import netns

    if kind == "tun":  # a tun link is made through /dev/net/tun, not RTM_NEWLINK
        try:
            os.close(os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC))
        except OSError:
            return False
        return True
    return netns.link_kind_works(kind)


def _pidfd_getfd() -> bool:
    """pidfd_open() and pidfd_getfd() (5.6): the engine takes a copy of one of its own fds."""
    pidfd = lib.st_syscall(nr.pidfd_open, os.getpid(), 0, 0, 0, 0, 0)
    if pidfd < 0:
        return False
    try:
        fd = lib.st_syscall(nr.pidfd_getfd, pidfd, pidfd, 0, 0, 0, 0)
        if fd >= 0:
            os.close(fd)
        return fd >= 0
    finally:
        os.close(pidfd)


def _madvise_ok(advice: int) -> bool:
    """madvise(advice) on a private page of the engine's own succeeds (EINVAL: unknown here)."""
    import mmap

    with mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE) as m:
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        return _syscall_ok(nr.madvise, addr, 4096, advice)


def _mseal() -> bool:
    """mseal() (6.10): a zero-length call on an aligned address succeeds and seals nothing."""
    import mmap

    with mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE) as m:
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        return _syscall_ok(nr.mseal, addr, 0, 0)


def _droppable() -> bool:
    """mmap(MAP_DROPPABLE) (6.11)."""
    addr = lib.st_syscall(nr.mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0)
    if addr < 0:
        return False
    lib.st_syscall(nr.munmap, addr, 4096, 0, 0, 0, 0)
    return True


def _anon_names() -> bool:
    """prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME) (5.17): naming an anonymous mapping of the engine's own."""
    import mmap

    name = ffi.new("char[]", b"stasis-probe")
    with mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE) as m:
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        return _syscall_ok(nr.prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, 4096,
                           int(ffi.cast("uintptr_t", name)))


def _pr_set_mm_map() -> bool:
    size = ffi.new("unsigned int *")
    return lib.st_syscall(nr.prctl, PR_SET_MM, PR_SET_MM_MAP_SIZE, int(ffi.cast("uintptr_t", size)), 0, 0,
                          0) == 0 and size[0] == 104


def _xsave() -> bool:
    regs = ffi.new("uint32_t[4]")
    lib.st_cpuid(1, 0, regs)
    return bool(regs[2] & (1 << 27))


def _openat2() -> bool:
    from engine import unpriv

    return unpriv.has_openat2()


def _syscall_ok(num: int, *args: int) -> bool:
    """The engine's own call of a query succeeds (EINVAL/ENOSYS: the kernel does not have it)."""
    return lib.st_syscall(num, *(list(args) + [0] * (6 - len(args)))) >= 0


def _userns() -> bool:
    """A child of ours can make a user namespace; open_tree() copies a mount; ns_last_pid can be set."""
    path = ffi.new("char[]", b"/")
    fd = lib.st_syscall(nr.open_tree, -100, int(ffi.cast("uintptr_t", path)), OPEN_TREE_CLONE | os.O_CLOEXEC,
                        0, 0, 0)
    if fd < 0:
        return False
    os.close(fd)
    if not os.access("/proc/sys/kernel/ns_last_pid", os.W_OK):
        return False
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0 if lib.st_syscall(nr.unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _xcomp_perm() -> bool:
    perm = ffi.new("uint64_t *")
    return _syscall_ok(nr.arch_prctl, ARCH_GET_XCOMP_PERM, int(ffi.cast("uintptr_t", perm)))


def _amx() -> bool:
    """The CPU has AMX tiles (CPUID.7.0:EDX[24]) and the kernel grants them (ARCH_REQ_XCOMP_PERM, 5.16)."""
    regs = ffi.new("uint32_t[4]")
    lib.st_cpuid(0, 0, regs)
    if regs[0] < 7:
        return False
    lib.st_cpuid(7, 0, regs)
    if not regs[3] & (1 << 24):
        return False
    return _xcomp_perm()


def _numa() -> bool:
    mode = ffi.new("int *")
    return _syscall_ok(nr.get_mempolicy, int(ffi.cast("uintptr_t", mode)), 0, 0, 0, 0)


def _eventfd_semaphore() -> bool:
    from engine.objects.files.eventfd import semaphore_shown

    return semaphore_shown()


def _timerfd_set_ticks() -> bool:
    from engine.objects.files.timerfd import set_ticks_supported

    return set_ticks_supported()


def _memfd_exec() -> bool:
    """memfd_create() knows MFD_EXEC (6.3): memfds have an exec mode and F_SEAL_EXEC."""
    try:
        os.close(os.memfd_create("stasis-probe", MFD_CLOEXEC | MFD_EXEC))
    except OSError:
        return False
    return True


def _cgroup2() -> bool:
    from engine.objects.cgroup import cgroup2_mount

    return cgroup2_mount() is not None


def _cgroup_v1() -> bool:
    """A cgroup v1 hierarchy the engine is in and has a mount of (a hybrid host)."""
    from engine.objects.cgroup import V2, hierarchies

    return any(name != V2 for name in hierarchies())


def _cgroupns() -> bool:
    """A child of ours can make a cgroup namespace (4.6)."""
    if not os.path.exists("/proc/self/ns/cgroup"):
        return False
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0 if lib.st_syscall(nr.unshare, CLONE_NEWCGROUP, 0, 0, 0, 0, 0) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@record(frozen=True)
class Feature:
    name: str
    probe: Callable[[], bool]
    what: str
    cost: str  # what is lost without it


def _timer_restore_ids() -> bool:
    from engine.abi.consts import PR_TIMER_CREATE_RESTORE_IDS

    return lib.st_syscall(nr.prctl, PR_TIMER_CREATE_RESTORE_IDS, 2, 0, 0, 0, 0) >= 0  # 2: get


def _inotify_setnextwd() -> bool:
    from engine.objects.files.inotify import can_set_wd

    return can_set_wd()


def _tcp_repair() -> bool:
    from engine.objects.files.tcp_repair import has_repair

    return has_repair()


def _tcp_repair_window() -> bool:
    from engine.objects.files.tcp_repair import has_repair_window

    return has_repair_window()


def _so_buf_lock() -> bool:
    import socket

    from engine.abi.consts import SO_BUF_LOCK

    with socket.socket() as s:
        try:
            s.getsockopt(socket.SOL_SOCKET, SO_BUF_LOCK)
            return True
        except OSError:
            return False


def _nft() -> bool:
    from engine.objects.files.netlock import available

    return available()


def _io_uring() -> bool:
    from engine.objects.files.io_uring import available

    return available()


def _udp_peek_off() -> bool:
    import socket

    from engine.abi.consts import SO_PEEK_OFF

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sk:
        try:
            sk.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, 0)
        except OSError:
            return False
    return True


def _raw_inject() -> bool:
    import socket

    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW).close()
    except OSError:
        return False
    return True


FEATURES = (
    Feature("clone3_set_tid", lambda: _kernel_at_least(5, 5) and bool(
        _caps() & ((1 << CAP_CHECKPOINT_RESTORE) | (1 << CAP_SYS_ADMIN))),
        "clone3() with set_tid, and the capability to use it",
        "restore cannot give processes their old PIDs: restore is impossible"),
    Feature("pidfd_getfd", _pidfd_getfd, "pidfd_open() and pidfd_getfd() (5.6)",
            "restore cannot hand the tasks their fds: restore is impossible"),
    Feature("kcmp", lambda: _syscall_ok(nr.kcmp, os.getpid(), os.getpid(), KCMP_VM, 0, 0),
            "kcmp() (CONFIG_KCMP)", "fds and files shared between processes cannot be found: dump refuses"),
    Feature("pagemap_scan", _pagemap_scan, "PAGEMAP_SCAN ioctl on /proc/PID/pagemap (6.7)",
            "pages are found by reading /proc/PID/pagemap in bulk instead: the same ranges, slower on "
            "large sparse mappings"),
    Feature("pr_set_mm_map", _pr_set_mm_map, "prctl(PR_SET_MM_MAP) without CAP_SYS_RESOURCE",
            "restored processes get wrong brk/arg/env/auxv and /proc/PID/exe"),
    Feature("rseq_config", lambda: _kernel_at_least(5, 13), "PTRACE_GET_RSEQ_CONFIGURATION (5.13)",
            "rseq registrations cannot be seen (a warning in the dump log) and are lost: glibc's "
            "sched_getcpu() goes stale after restore"),
    Feature("madv_populate", lambda: _madvise_ok(MADV_POPULATE_WRITE), "MADV_POPULATE_WRITE (5.14)",
            "restore lets its copies fault big ranges in one page at a time (slower, same result)"),
    Feature("mseal", _mseal, "mseal() (6.10)", "nothing: a kernel without it has no sealed mappings to keep"),
    Feature("droppable", _droppable, "MAP_DROPPABLE mappings (6.11)",
            "nothing: a kernel without it has no droppable mappings to keep"),
    Feature("anon_names", _anon_names, "PR_SET_VMA_ANON_NAME (5.17, CONFIG_ANON_VMA_NAME)",
            "nothing to keep on a kernel without it; images with named mappings from a newer one fail "
            "to restore"),
    Feature("guard_regions", lambda: _madvise_ok(MADV_GUARD_INSTALL), "MADV_GUARD_INSTALL (6.13)",
            "nothing: a kernel without it has no guard pages to refuse (dump skips looking for them)"),
    Feature("xsave", _xsave, "XSAVE register state (NT_X86_XSTATE)",
            "AVX/AVX-512 registers and MXCSR are not kept"),
    Feature("timens", lambda: os.path.exists("/proc/self/ns/time"), "time namespaces",
            "monotonic clocks jump across a migration"),
    Feature("openat2", lambda: _openat2(), "openat2() with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (5.6)",
            "an --unprivileged restore resolves the images' paths one component at a time with O_NOFOLLOW "
            "(the same refusals, more syscalls)"),
    Feature("sys_resource", lambda: bool(_caps() & (1 << CAP_SYS_RESOURCE)), "CAP_SYS_RESOURCE",
            "hard rlimits above the engine's and lowered oom_score_adj cannot be restored"),
    Feature("mem_dirty_track", lambda: os.path.exists("/proc/self/clear_refs") and _soft_dirty(),
            "soft-dirty page tracking (--track-mem way soft-dirty)",
            "--track-mem uses PAGEMAP_SCAN with async uffd-wp where the kernel has it, else compares pages "
            "with the parent images'"),
    Feature("track_uffd_wp", lambda: _track_way("uffd-wp"),
            "PAGEMAP_SCAN + userfaultfd UFFD_FEATURE_WP_ASYNC, armed from outside (--track-mem way uffd-wp, "
            "6.7)",
            "--track-mem uses soft-dirty where the kernel has it, else compares every page with the parent "
            "images' (reads all, writes only what changed)"),
    Feature("uffd_wp_unpopulated", lambda: _wp_unpopulated(), "UFFD_FEATURE_WP_UNPOPULATED (6.7)",
            "nothing: not used (its markers read as swapped pages in PAGEMAP_SCAN)"),
    Feature("membarrier_regs", lambda: _syscall_ok(nr.membarrier, MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0),
            "MEMBARRIER_CMD_GET_REGISTRATIONS (6.3)",
            "membarrier registrations cannot be seen: lost at restore (expedited membarrier then fails "
            "with EPERM)"),
    Feature("sud_config", lambda: _kernel_at_least(6, 2), "PTRACE_GET/SET_SYSCALL_USER_DISPATCH_CONFIG (6.2)",
            "syscall user dispatch (5.11+) cannot be seen from outside: lost at restore"),
    Feature("mdwe", lambda: _syscall_ok(nr.prctl, PR_GET_MDWE), "PR_GET/SET_MDWE (6.3)",
            "nothing: a kernel without it has no memory-deny-write-execute to keep"),
    Feature("memory_merge", lambda: _syscall_ok(nr.prctl, PR_GET_MEMORY_MERGE), "PR_GET/SET_MEMORY_MERGE "
            "(6.4, KSM)", "nothing: a kernel without it has no merge-any address space to keep"),
    Feature("xcomp_perm", _xcomp_perm, "ARCH_GET/REQ_XCOMP_PERM (5.16)",
            "nothing: a kernel without it has no dynamic xstate (AMX) permission to keep"),
    Feature("amx", _amx, "AMX tiles on this CPU, and a kernel that grants them (5.16)",
            "nothing: no tile state to keep (tasks with tile data are refused anyway)"),
    Feature("numa", _numa, "NUMA memory policies (get_mempolicy)",
            "nothing: a kernel without NUMA has no memory policy to keep"),
    Feature("cgroup2", _cgroup2, "a cgroup2 mount the engine can see",
            "processes in another cgroup v2 than the engine's are refused at dump"),
    Feature("cgroup_v1", _cgroup_v1, "cgroup v1 hierarchies the engine has mounts of (a hybrid host)",
            "nothing on a pure cgroup v2 host; a process in another v1 cgroup than the engine's is refused "
            "where the engine has no mount of that hierarchy"),
    Feature("cgroupns", _cgroupns, "cgroup namespaces: unshare(CLONE_NEWCGROUP) (4.6)",
            "a tree with a cgroup namespace of its own cannot be dumped or restored"),
    Feature("eventfd_sem", _eventfd_semaphore, "eventfd-semaphore in an eventfd's fdinfo (not in 6.1)",
            "the EFD_SEMAPHORE mode is found by reading each eventfd through a copy and writing back what "
            "was read (same counter; refused if a reader outside the tree races with it)"),
    Feature("timerfd_ticks", _timerfd_set_ticks, "TFD_IOC_SET_TICKS ioctl (CONFIG_CHECKPOINT_RESTORE)",
            "timerfds with expirations not yet read are refused at dump"),
    Feature("memfd_exec", _memfd_exec, "memfd_create MFD_EXEC / MFD_NOEXEC_SEAL and F_SEAL_EXEC (6.3)",
            "nothing to keep on a kernel without it; images with F_SEAL_EXEC from a newer one fail to "
            "restore"),
    Feature("userns", _userns, "user namespaces of a tree's own: unshare(CLONE_NEWUSER), open_tree() (5.2) "
            "and a writable ns_last_pid (CONFIG_CHECKPOINT_RESTORE)",
            "a tree with a user namespace (or a mount namespace) of its own cannot be restored here"),
    Feature("timer_restore_ids", _timer_restore_ids, "prctl(PR_TIMER_CREATE_RESTORE_IDS)",
            "POSIX timer ids are reached by creating placeholder timers up to them (slower, same result)"),
    Feature("inotify_setnextwd", _inotify_setnextwd, "ioctl(INOTIFY_IOC_SETNEXTWD)",
            "inotify watches must be numbered 1, 2, ... to be restored"),
    Feature("tcp_repair", _tcp_repair, "TCP_REPAIR (CONFIG_CHECKPOINT_RESTORE, CAP_NET_ADMIN)",
            "established TCP connections are refused at dump even with --tcp-established"),
    Feature("tcp_repair_window", _tcp_repair_window, "TCP_REPAIR_WINDOW (4.8)",
            "restored connections start with windows recomputed by the kernel (criu does the same)"),
    Feature("so_buf_lock", _so_buf_lock, "SO_BUF_LOCK (5.14)",
            "nothing to keep on a kernel without it; images with a buffer lock from a newer one fail"),
    Feature("nft", _nft, "the nft command (Debian package nftables) for the network lock",
            "connections to a peer outside the tree are refused unless --network-lock skip"),
    Feature("io_uring", _io_uring,
            "io_uring_setup allowed (kernel.io_uring_disabled) and the ring counters in its fdinfo",
            "an io_uring is refused at dump (fdinfo without its counters) or at restore (setup refused)"),
    Feature("udp_peek_off", _udp_peek_off, "SO_PEEK_OFF on UDP sockets",
            "with --leave-running a UDP socket with datagrams queued is refused (its queue cannot be read "
            "without consuming it)"),
    *(Feature(f"netdev_{k}", functools.partial(_link_kind, k), f"{k} network devices (CONFIG_{k.upper()})",
              f"nothing to keep on a kernel without them; images with {k} devices fail to restore")
      for k in ("veth", "bridge", "macvlan", "dummy", "ifb")),
    Feature("netdev_tun", lambda: _link_kind("tun"),
            "persistent tun/tap devices (CONFIG_TUN, /dev/net/tun)",
            "nothing to keep on a kernel without them; images with tun/tap devices fail to restore"),
    Feature("raw_inject", _raw_inject, "raw IPPROTO_RAW sockets for the engine (CAP_NET_RAW)",
            "queued UDP datagrams and ping replies cannot be sent again from their senders: such "
            "sockets are not restored"),
)


def _track_way(way: str) -> bool:
    from engine.objects import memtrack

    return memtrack.probe(way)[0]


def _wp_unpopulated() -> bool:
    from engine.objects import memtrack

    return memtrack.wp_unpopulated()


def track_way() -> str:
    from engine.objects import memtrack

    way, why = memtrack.choose()
    return f"{way} ({why})"


def _soft_dirty() -> bool:
    """Clear soft-dirty bits, dirty a page, and see whether pagemap's bit 55 noticed."""
    import mmap
    import struct

    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("4")
    except OSError:
        return False
    with mmap.mmap(-1, 4096) as m:
        m[0] = 1
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        with open("/proc/self/pagemap", "rb") as f:
            f.seek(addr // 4096 * 8)
            entry = struct.unpack("<Q", f.read(8))[0]
    return bool(entry & (1 << 55))


def fault_points() -> list[str]:
    """Every fault point, dump then restore, in the order the engine passes them."""
    from engine import dump, restore

    return [*(f"dump:{s}" for s in dump.STEPS), *restore.points()]


def run(feature: str | None, verbose: bool = True) -> int:
    if feature:
        f = next((x for x in FEATURES if x.name == feature), None)
        if f is None:
            sys.stderr.write(f"stasis check: unknown feature {feature!r}; known: "
                             f"{', '.join(x.name for x in FEATURES)}\n")
            return 1
        return 0 if f.probe() else 1
    missing = 0
    for f in FEATURES:
        ok = f.probe()
        missing += not ok
        line = f"{'yes' if ok else 'NO ':3}  {f.name:16} {f.what}"
        if not ok:
            line += f"\n{'':21}without it: {f.cost}"
        print(line)
    print(f"page scan: {page_scan_path()}")
    print(f"memory tracking (--track-mem): {track_way()}")
    print("Looks good." if not missing else f"{missing} feature(s) missing (see above).")
    return 0
