"""The kernel objects the engine knows, in dump order, and the restore order derived from them.

Adding an object: write its module (one OBJECT = KernelObject(...)), add one line below. The restore
order inside a phase is the order of this list and of each module's stages, moved only where a stage
names others it must come `after`.
"""

from __future__ import annotations

from functools import cache

from engine.objects import (
    audit,
    cgroup,
    creds,
    fdtable,
    fs,
    ids,
    keyrings,
    locks,
    mm,
    mmflags,
    mounts,
    namespaces,
    numa,
    prctls,
    process,
    regs,
    rlimits,
    sched,
    seccomp,
    signals,
    sysvipc,
    threads,
    timers,
    tree,
)
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files import dgram, epoll, io_uring, mqueue, pty, skqueue, tcp, unix
from engine.objects.files import table as files

OBJECTS: tuple[KernelObject, ...] = (
    tree.OBJECT,  # pstree and core images, zombies, sessions and groups
    ids.OBJECT,  # who shares what (kcmp): needed by files, fs, mm
    namespaces.OBJECT,  # after ids: it adds the namespace ids
    sysvipc.OBJECT,  # after namespaces: the SysV segments its dump_tree read, checked against their attaches
    mounts.OBJECT,  # after namespaces: the mount tree of a mount namespace of the tree's own
    process.OBJECT,
    audit.OBJECT,
    keyrings.OBJECT,
    cgroup.OBJECT,  # before the threads: they inherit it
    sched.OBJECT,
    signals.OBJECT,
    timers.OBJECT,
    rlimits.OBJECT,
    mm.OBJECT,
    numa.OBJECT,  # VMA policies once the VMAs exist
    mmflags.OBJECT,  # late: after every mapping and protection
    fs.OBJECT,
    epoll.OBJECT,  # before files: its write_images gives the targets' file ids before files.img
    files.OBJECT,
    tcp.OBJECT,  # TCP repair mode and the network lock around the whole tree's dump and restore
    unix.OBJECT,  # unix sockets: peers checked once all are dumped; queues, options, shutdown at restore
    fdtable.OBJECT,  # after the fds are in place
    skqueue.OBJECT,  # sockets' receive queues (sk-queues.img)
    dgram.OBJECT,  # UDP receive queues refilled and filters attached once every socket exists
    pty.OBJECT,  # controlling terminals
    io_uring.OBJECT,  # registered files and buffers once the fds are placed
    mqueue.OBJECT,  # POSIX message queues and their descriptions, made in the root's IPC namespace
    locks.OBJECT,
    threads.OBJECT,
    seccomp.OBJECT,
    creds.OBJECT,
    prctls.OBJECT,  # syscall user dispatch last
    regs.OBJECT,
)


@cache
def stages(phase: Phase) -> tuple[Stage, ...]:
    """The stages of one phase in restore order: a stable topological order of the registry's order
    (each module's stages in their declared order), with every `after` honoured."""
    listed: list[Stage] = []
    prev_of: dict[str, str] = {}
    for obj in OBJECTS:
        prev = ""
        for s in obj.stages:
            if s.phase == phase:
                listed.append(s)
                if prev:
                    prev_of[s.name] = prev
                prev = s.name
    names = {s.name for s in listed}
    deps = {s.name: {d for d in (*s.after, prev_of.get(s.name, "")) if d in names} for s in listed}
    done: list[Stage] = []
    left = list(listed)
    while left:
        ready = next((s for s in left if deps[s.name] <= {d.name for d in done}), None)
        if ready is None:
            raise RuntimeError(f"restore stages of phase {phase.name} depend on each other in a circle: "
                               f"{[s.name for s in left]}")
        done.append(ready)
        left.remove(ready)
    return tuple(done)


def restore_order() -> list[tuple[Phase, Stage]]:
    return [(p, s) for p in Phase for s in stages(p)]
