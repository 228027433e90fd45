"""The one place that says which visible fields may differ across C/R, and why (zdtm.state reads it).

A field is here only if the kernel itself gives a restored process a different value that no checkpoint
tool could set: a counter or clock of the kernel since the task was created, a residency the kernel's
memory management decides, or a count shared with processes outside the tree. Never because an engine
has a bug: those are reported as differences.

Keys are the names zdtm.state gives its fields: `status.<Field>` (/proc/PID/task/TID/status),
`stat.<field>` (/proc/PID/task/TID/stat, named as in proc(5)), `fdinfo.<key>` (/proc/PID/fdinfo/FD),
`sock.<table>.<field>` (the socket's line of /proc/PID/net/<table>, fields named as in its header; what is
never compared there, kernel pointers, reference counts, timers, drop counters, is zdtm.state.SOCK_SKIP).

Not exceptions, but compared structurally (zdtm.state): the inode numbers of objects a restore must
recreate (pipes, sockets, anon inodes, memfds, deleted files, namespaces), the autogroup id and the
eventfd id are replaced by labels in order of first appearance in the snapshot, so that sharing is still
compared but the kernel's new number is not.
"""

from __future__ import annotations

_RESIDENCY = (
    "memory residency: which pages are present is decided by the kernel (lazy faults, readahead, "
    "reclaim), not by the process; a restored process has the pages the restore touched"
)
_SCHED_COUNTER = "a scheduler counter since the kernel created the task: a new task starts at 0"
_CPU_TIME = "CPU time the kernel accounted to the task since it was created: a new task starts at 0"
_FAULTS = "page-fault counter since the kernel created the task: a new task starts at 0"

EXCEPTIONS: dict[str, str] = {
    "status.VmHWM": "high-water mark of the resident set: " + _RESIDENCY,
    "status.VmRSS": _RESIDENCY,
    "status.RssAnon": _RESIDENCY,
    "status.RssFile": _RESIDENCY,
    "status.RssShmem": _RESIDENCY,
    "status.VmPTE": "page-table memory follows the residency: " + _RESIDENCY,
    "status.VmSwap": "swapped-out pages: reclaim is the kernel's decision",
    "status.voluntary_ctxt_switches": _SCHED_COUNTER,
    "status.nonvoluntary_ctxt_switches": _SCHED_COUNTER,
    "stat.minflt": _FAULTS,
    "stat.cminflt": _FAULTS + " (of waited-for children)",
    "stat.majflt": _FAULTS,
    "stat.cmajflt": _FAULTS + " (of waited-for children)",
    "stat.utime": _CPU_TIME,
    "stat.stime": _CPU_TIME,
    "stat.cutime": _CPU_TIME + " (of waited-for children)",
    "stat.cstime": _CPU_TIME + " (of waited-for children)",
    "stat.guest_time": _CPU_TIME,
    "stat.cguest_time": _CPU_TIME,
    "stat.delayacct_blkio_ticks": "block-I/O delay accounted since the task was created",
    "stat.starttime": "boot-relative creation time of the task: a restored task is created at restore "
    "(no interface sets it)",
    "stat.rss": _RESIDENCY,
    "stat.processor": "the CPU the task last ran on: the scheduler's choice",
    "stat.wchan": "1 while the task is blocked in the kernel, 0 while it runs: the running/sleeping state "
    "of the moment (see status.State)",
    "status.VmPeak": "the largest the address space ever was: a restore builds it piece by piece in a fresh "
    "process, and a forked process starts with its parent's size, which raises the peak; no interface "
    "lowers it",
    "fdinfo.ticks": "timerfd expirations not yet read: grows with time while the snapshot is taken, "
    "dumped and restored",
}

# fields of which only a part is compared: field -> (what is dropped, why)
PARTIAL: dict[str, tuple[str, str]] = {
    "fdinfo.inotify wd": (
        "in flavors ns and uns, the watched inode's device (sdev) and file handle (f_handle): labels in "
        "order of first appearance",
        "a file system nobody outside the tree's mount namespace sees (a tmpfs of its own) is made new by "
        "a restore: the kernel gives it a new device number and its inodes new random generations, which "
        "are part of their file handles (no interface sets either); the inode number, mask and which "
        "watches share a file are compared",
    ),
    "fdinfo.fanotify ino": ("as fdinfo.inotify wd", "as fdinfo.inotify wd"),
    "status.State": (
        "running (R), sleeping (S) or in disk sleep (D): all three read as 'RSD'",
        "which of them a task is in at the instant of the read is the scheduler's and the moment's (a "
        "sleeping program runs when it wakes); stopped, traced, zombie, dead are compared",
    ),
    "sessionid": (
        "the number",
        "the audit session id is taken from a global counter of the kernel when loginuid is written "
        "(read-only, no interface sets it); whether it is set and which processes share one is compared",
    ),
    "status.SigQ": (
        "the queued count before the '/'",
        "it counts the pending queued signals of every process of the real uid (items of other tests "
        "run as the same uid); the limit after the '/' is compared",
    ),
    "stat.flags": (
        "PF_SUPERPRIV and PF_FORKNOEXEC",
        "acct(2) bookkeeping: the kernel sets PF_SUPERPRIV on a task's first privileged syscall, and "
        "restoring credentials, ids and mm fields takes privileged syscalls in the task; a restored root "
        "starts by exec (clearing PF_FORKNOEXEC), and the engine that waits for it must be its parent; "
        "neither bit can be set or cleared by any interface",
    ),
    **{
        f"sock.{table}.{q}": (
            "the number of bytes",
            "the receive and send queues of datagram sockets are counted in the kernel's buffer sizes "
            "(skb truesize), which depend on how each packet was allocated on its way in, not on what the "
            "program sent or can read: a datagram queued again at restore takes other buffers; whether a "
            "queue is empty is compared (and every datagram's contents and sender by the programs)",
        )
        for table in ("udp", "udp6", "udplite", "udplite6", "raw", "raw6", "icmp", "icmp6")
        for q in ("tx_queue", "rx_queue")
    },
    **{
        f"sock.{table}.{q}": (
            "all of it, for a connection (any state but LISTEN)",
            "the bytes of each direction sit in the sender's send queue or in the receiver's receive queue, "
            "and the kernel moves them whenever the windows allow, without the programs (a restored "
            "connection starts with fresh window and MSS estimates): the split between the two ends is "
            "the kernel's; the programs check every byte. A listener's queues (accept queue, backlog) are "
            "compared",
        )
        for table in ("tcp", "tcp6")
        for q in ("tx_queue", "rx_queue")
    },
    "fdinfo.it_value": (
        "the time left",
        "the time left of an armed timerfd decreases while time passes; whether it is armed is compared "
        "(an interval timer that fired is armed, though fdinfo shows no time left until it is read)",
    ),
    "VmFlags": (
        "sd (VM_SOFTDIRTY, on kernels built with soft-dirty tracking) and dw (VM_DENYWRITE, before 5.15)",
        "sd: the kernel sets it on every mapping it creates (all of its pages count as written since the "
        "last clear), and only clear_refs clears it, for the whole address space at once: a restored mapping "
        "is new, and no interface gives one mapping its old value without changing every other's; dw: only "
        "the kernel's ELF loader sets it on the mappings of an executable, mmap() ignores MAP_DENYWRITE",
    ),
}

# differences the engine's options ask for (zdtm.state._allowed_by_options): option -> what, why
BY_OPTION: dict[str, tuple[str, str]] = {
    "--join-ns": (
        "the joined kind's namespace id (ns.KIND, ns.time_for_children) and, for net, its configuration",
        "criu's meaning: the tree is restored into a namespace the caller prepared (zdtm/joinns.py)",
    ),
    "--skip-in-flight": (
        "a TCP listener's accept queue (rx_queue) empty after restore",
        "criu's meaning: connections not yet accepted are forgotten at dump",
    ),
    "--tcp-close": (
        "TCP connections gone from the socket table (restored closed)",
        "criu's meaning: established connections are dumped and restored closed",
    ),
}
