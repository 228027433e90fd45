"""The typed contexts that dump and restore hand to every object module: options, the image directory,
the tasks, and each module's tree-wide state under its own name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.images import ImageDir
from engine.images.pb import seccomp_pb2
from engine.record import field, record

if TYPE_CHECKING:
    from engine.objects.files.table import Broker, FileTable
    from engine.objects.ids import Ids
    from engine.objects.mm import MmTree
    from engine.task import Task


# criu's action-script hooks: (name, pid or 0); RPC sends them to its client as NOTIFY
Hook = Callable[[str, int], None]


@record
class DumpOptions:
    tree: int
    images_dir: str
    leave_running: bool = False
    shell_job: bool = False
    timeout: float = 10.0
    file_locks: bool = False
    io_uring: bool = False  # dump idle io_uring instances (accepting what the kernel does not show)
    ghost_limit: int = 1 << 20  # --ghost-limit: the most data a deleted file may hold to be saved
    tcp_established: bool = False  # --tcp-established (also implied by --tcp-close)
    tcp_close: bool = False  # --tcp-close: established connections are restored closed
    skip_in_flight: bool = False  # --skip-in-flight: forget connections not yet accepted by a TCP listener
    ext_unix_sk: bool = False  # --ext-unix-sk: unix peers outside the tree
    network_lock: str = "nftables"  # --network-lock: nftables | skip (iptables: refused, not installed)
    sign_key: str | None = None  # --sign-key: a key file; the inventory's digests are signed with it
    notify: Hook | None = None  # called at the hook points (pre-dump, post-dump); raising aborts the dump
    root: str | None = None  # --root: the tree's root directory, as the engine sees it
    ext_mounts: tuple[tuple[str, str], ...] = ()  # --external mnt[MOUNTPOINT]:KEY
    ext_veths: tuple[str, ...] = ()  # --external veth[IFNAME]: a veth of the tree whose peer is outside
    ext_netns: tuple[tuple[int, str], ...] = ()  # --external net[INODE]:KEY: not dumped (criu's, runc's)
    manage_cgroups: str | None = None  # --manage-cgroups: "ignore" dumps no cgroup directories
    stats: Stats | None = None  # filled in when given (RPC: stats-dump)
    pre_dump: bool = False  # criu's pre-dump: only pages (and the inventory); the tree keeps running
    track_mem: bool = False  # --track-mem: leave dirty tracking armed for the next dump (objects/memtrack.py)
    prev_images_dir: str | None = None  # --prev-images-dir: the parent images, relative to images_dir
    pre_dump_mode: str = "splice"  # --pre-dump-mode splice|read (both read the pages while frozen)
    unprivileged: bool = False  # --unprivileged: a non-root caller, CAP_CHECKPOINT_RESTORE (engine/unpriv.py)


@record
class RestoreOptions:
    images_dir: str
    pidfile: str | None = None
    detached: bool = False
    shell_job: bool = False
    tcp_established: bool = False  # accepted for criu's command line; the images say what they hold
    tcp_close: bool = False  # --tcp-close: established connections of the images are restored closed
    ext_unix_sk: bool = False
    network_lock: str = "nftables"  # the images' method is used; "skip" also skips it at restore
    inherit_fds: tuple[tuple[int, str], ...] = ()  # --inherit-fd fd[N]:RESOURCE
    verify_key: str | None = None  # --verify-key: only images signed with this key file are restored
    sibling: bool = False  # the root is created a child of the engine's parent (criu's rst_sibling)
    # called at the hook points (pre-restore, post-restore with the root's pid, pre-resume, post-resume);
    # raising before the tasks are released aborts the restore
    notify: Hook | None = None
    root: str | None = None  # --root: the directory that becomes the tree's root mount
    ext_mounts: tuple[tuple[str, str], ...] = ()  # --external mnt[KEY]:PATH
    ext_veths: tuple[tuple[str, str], ...] = ()  # --external veth[IFNAME]:OUTNAME (the peer made outside)
    join_ns: tuple[tuple[str, str, str], ...] = ()  # --join-ns KIND:{PID|FILE}[,EXTRA] (objects/joinns.py)
    manage_cgroups: str | None = None  # --manage-cgroups MODE (criu's); None: enter existing cgroups only
    cgroup_roots: tuple[tuple[str | None, str], ...] = ()  # --cgroup-root [controller:]/path (None: all)
    # criu's orphan_pts_master: called with a new master (an engine fd, kept open until the end of the
    # restore) for each pty slave whose master was outside the tree (RPC: the orphan-pts-master notify)
    orphan_pts_master: Callable[[int], None] | None = None
    stats: Stats | None = None  # filled in when given (RPC: stats-restore)
    # --unprivileged: a non-root caller; the images get at most its own rights (engine/unpriv.py)
    unprivileged: bool = False


@record
class Stats:
    """What criu's stats-dump / stats-restore hold (podman --print-stats, and its export, read them).
    Times in microseconds."""

    pages_written: int = 0
    pages_scanned: int = 0  # pages of the VMAs whose pages were looked for
    freezing_time: int = 0
    frozen_time: int = 0
    memdump_time: int = 0  # the pages found and copied (dump_data)
    memwrite_time: int = 0  # the images written
    forking_time: int = 0  # restore: the process tree made
    restore_time: int = 0


@record
class DumpContext:
    opts: DumpOptions
    images: ImageDir
    files: FileTable  # each module's tree-wide state: made by dump.py, which knows the modules
    ids: Ids
    mm: MmTree
    tasks: list[Task] = field(default_factory=list)
    seccomp: seccomp_pb2.seccomp_entry = field(default_factory=seccomp_pb2.seccomp_entry)
    stats: Stats = field(default_factory=Stats)

    @property
    def root(self) -> Task:
        return self.tasks[0]


@record
class RestoreContext:
    opts: RestoreOptions
    images: ImageDir
    files: FileTable  # made by restore.py, which knows the modules
    mm: MmTree
    tasks: list[Task] = field(default_factory=list)
    broker: Broker | None = None
    seccomp: seccomp_pb2.seccomp_entry = field(default_factory=seccomp_pb2.seccomp_entry)
    stand_ins: list[Task] = field(default_factory=list)  # temporary leaders of sessions/groups
    scratch: int = 0  # the scratch area's address, the same in every process
    engine_pidfd: int = -1  # the helpers' handle on the engine (the fd broker)
    stats: Stats = field(default_factory=Stats)

    @property
    def root(self) -> Task:
        return self.tasks[0]

    @property
    def fd_broker(self) -> Broker:
        assert self.broker is not None, "the fd broker is not open"
        return self.broker
