"""A small synthetic dump (two processes, one with two threads) written through engine.images.

Imported by the image tests; holds no tests itself.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf.message import Message

from engine.images import ImageDir
from engine.images.pb import (
    core_pb2,
    core_x86_pb2,
    creds_pb2,
    eventfd_pb2,
    eventpoll_pb2,
    ext_file_pb2,
    fdinfo_pb2,
    fifo_pb2,
    fown_pb2,
    fs_pb2,
    ghost_file_pb2,
    ids_pb2,
    inventory_pb2,
    memfd_pb2,
    mm_pb2,
    ns_pb2,
    pagemap_pb2,
    pipe_pb2,
    pstree_pb2,
    regfile_pb2,
    rlimit_pb2,
    rseq_pb2,
    sa_pb2,
    seccomp_pb2,
    siginfo_pb2,
    signalfd_pb2,
    stats_pb2,
    timens_pb2,
    timer_pb2,
    timerfd_pb2,
)

PAGE = 4096
RLIM_INFINITY = 2**64 - 1
ROOT, CHILD, CHILD_THREAD = 100, 101, 102
PIPE_DATA = b"hello through the pipe\n"

# file ids: 1 exe of ROOT, 2 libc, 3 /dev/null, 4 cwd, 5 root dir, 6/7 pipe read/write end,
# 8 fifo, 9 the fifo's reg entry, 10 exe of CHILD
FILES = {
    1: ("/usr/bin/dash", 0o100755, 0o100000),
    2: ("/usr/lib/x86_64-linux-gnu/libc.so.6", 0o100755, 0o100000),
    3: ("/dev/null", 0o20666, 0o100002),
    4: ("/srv", 0o40755, 0o200000),
    5: ("/", 0o40755, 0o200000),
    9: ("/tmp/fifo", 0o10644, 0o100000),
    10: ("/usr/bin/sleep", 0o100755, 0o100000),
}
PIPE_ID = 12907


def fown() -> fown_pb2.fown_entry:
    return fown_pb2.fown_entry(uid=0, euid=0, signum=0, pid_type=0, pid=0)


def pstree() -> list[pstree_pb2.pstree_entry]:
    return [
        pstree_pb2.pstree_entry(pid=ROOT, ppid=0, pgid=ROOT, sid=ROOT, threads=[ROOT]),
        pstree_pb2.pstree_entry(pid=CHILD, ppid=ROOT, pgid=ROOT, sid=ROOT, threads=[CHILD, CHILD_THREAD]),
    ]


def thread_info(ip: int) -> core_x86_pb2.thread_info_x86:
    regs = {f.name: 0 for f in core_x86_pb2.user_x86_regs_entry.DESCRIPTOR.fields if f.name != "mode"}
    regs.update(ip=ip, sp=0x7FFC00001000, cs=0x33, ss=0x2B, flags=0x246, ax=2**64 - 4, orig_ax=61)
    gpregs = core_x86_pb2.user_x86_regs_entry(**regs, mode=core_x86_pb2.NATIVE)
    xsave = core_x86_pb2.user_x86_xsave_entry(
        xstate_bv=0x2A3,
        ymmh_space=[7] * 64,
        bndcsr_state=[0] * 8,
        opmask_reg=list(range(8)),
        zmm_upper=[1] * 64,
        hi16_zmm=[2] * 128,
        pkru=[0x55555554, 0],
    )
    fpregs = core_x86_pb2.user_x86_fpregs_entry(
        cwd=0x37F,
        swd=0,
        twd=0,
        fop=0,
        rip=0,
        rdp=0,
        mxcsr=0x1F80,
        mxcsr_mask=0xFFFF,
        st_space=[0] * 32,
        xmm_space=list(range(64)),
        xsave=xsave,
    )
    tls = [
        core_x86_pb2.user_desc_t(
            entry_number=n,
            base_addr=0,
            limit=0,
            seg_32bit=False,
            contents_h=False,
            contents_l=False,
            read_exec_only=True,
            limit_in_pages=False,
            seg_not_present=True,
            usable=False,
        )
        for n in (12, 13, 14)
    ]
    return core_x86_pb2.thread_info_x86(clear_tid_addr=0x7F0000000A10, gpregs=gpregs, fpregs=fpregs, tls=tls)


def creds() -> creds_pb2.creds_entry:
    return creds_pb2.creds_entry(
        uid=0,
        gid=0,
        euid=0,
        egid=0,
        suid=0,
        sgid=0,
        fsuid=0,
        fsgid=0,
        cap_inh=[0, 0],
        cap_prm=[0xFEFFFFFF, 0x1FF],
        cap_eff=[0xFEFFFFFF, 0x1FF],
        cap_bnd=[0xFEFFFFFF, 0x1FF],
        secbits=0,
        groups=[0, 27],
        no_new_privs=0,
        cap_amb=[0, 0],
    )


def thread_core(leader: bool) -> core_pb2.thread_core_entry:
    tc = core_pb2.thread_core_entry(
        futex_rla=0x7F0000000A20,
        futex_rla_len=24,
        sched_nice=-5,
        sched_policy=0,
        sas=core_pb2.thread_sas_entry(ss_sp=0, ss_size=0, ss_flags=2),
        signals_p=siginfo_pb2.signal_queue_entry(),
        creds=creds(),
        seccomp_mode=core_pb2.disabled,
        rseq_entry=rseq_pb2.rseq_entry(
            rseq_abi_pointer=0x7F0000000FE0, rseq_abi_size=32, signature=0x53053053
        ),
    )
    if not leader:
        tc.blk_sigset = 1 << 9
    return tc


def task_core(comm: str) -> core_pb2.task_core_entry:
    itimer = timer_pb2.itimer_entry(isec=0, iusec=0, vsec=0, vusec=0)
    timers = timer_pb2.task_timers_entry(real=itimer, virt=itimer, prof=itimer)
    timers.posix.add(
        it_id=0,
        clock_id=1,
        si_signo=14,
        it_sigev_notify=4,
        sival_ptr=0,
        overrun=0,
        isec=1,
        insec=0,
        vsec=0,
        vnsec=500,
        notify_thread_id=-1,
    )
    rl = rlimit_pb2.task_rlimits_entry(
        rlimits=[rlimit_pb2.rlimit_entry(cur=RLIM_INFINITY, max=RLIM_INFINITY) for _ in range(16)]
    )
    sigactions = [
        sa_pb2.sa_entry(
            sigaction=1 if sig == 2 else 0,
            flags=0x04000000,
            restorer=0x7F0000001000,
            mask=0,
            compat_sigaction=False,
        )
        for sig in range(1, 65)
        if sig not in (9, 19)
    ]
    siginfo = siginfo_pb2.siginfo_entry(siginfo=bytes([10, 0, 0, 0]) + bytes(124))
    return core_pb2.task_core_entry(
        task_state=1,
        exit_code=0,
        personality=0,
        flags=0x400000,
        blk_sigset=0,
        comm=comm,
        timers=timers,
        rlimits=rl,
        signals_s=siginfo_pb2.signal_queue_entry(signals=[siginfo]),
        loginuid=0xFFFFFFFF,
        oom_score_adj=-100,
        sigactions=sigactions,
        child_subreaper=False,
    )


def core(tid: int, comm: str | None) -> core_pb2.core_entry:
    """comm given = the leader's core (has tc)."""
    c = core_pb2.core_entry(
        mtype=core_pb2.core_entry.X86_64,
        thread_info=thread_info(0x401000 + tid),
        thread_core=thread_core(comm is not None),
    )
    if comm is not None:
        c.tc.CopyFrom(task_core(comm))
    return c


def ids(files_id: int) -> ids_pb2.task_kobj_ids_entry:
    return ids_pb2.task_kobj_ids_entry(
        vm_id=files_id,
        files_id=files_id,
        fs_id=files_id,
        sighand_id=files_id,
        pid_ns_id=1,
        net_ns_id=2,
        ipc_ns_id=3,
        uts_ns_id=4,
        mnt_ns_id=5,
        user_ns_id=6,
        cgroup_ns_id=7,
        time_ns_id=8,
    )


def vma(
    start: int, end: int, prot: int, flags: int, status: int, shmid: int = 0, pgoff: int = 0, **opt: int
) -> mm_pb2.vma_entry:
    return mm_pb2.vma_entry(
        start=start, end=end, pgoff=pgoff, shmid=shmid, prot=prot, flags=flags, status=status, fd=-1, **opt
    )


def mm(exe_id: int) -> mm_pb2.mm_entry:
    regular, file_private, anon_private, heap = 1, 1 << 6, 1 << 9, 1 << 5
    vdso, vvar, vsyscall = 1 << 3, 1 << 12, 1 << 2
    vmas = [
        vma(0x400000, 0x402000, 5, 2, regular | file_private, shmid=exe_id, pgoff=0, fdflags=0),
        vma(0x402000, 0x403000, 3, 2, regular | file_private, shmid=exe_id, pgoff=0x2000, fdflags=0),
        vma(0x403000, 0x405000, 3, 0x22, regular | heap | anon_private),
        vma(0x7F0000000000, 0x7F0000002000, 5, 2, regular | file_private, shmid=2, pgoff=0x1000, fdflags=0),
        vma(0x7F0000100000, 0x7F0000104000, 1, 0x22, regular | anon_private | vvar, madv=0x10000),
        vma(0x7F0000104000, 0x7F0000106000, 5, 0x22, regular | vdso | anon_private),
        vma(0x7FFC00000000, 0x7FFC00002000, 3, 0x122, regular | anon_private),
        vma(0xFFFFFFFFFF600000, 0xFFFFFFFFFF601000, 4, 0x22, vsyscall | anon_private),
    ]
    return mm_pb2.mm_entry(
        mm_start_code=0x400000,
        mm_end_code=0x402000,
        mm_start_data=0x402000,
        mm_end_data=0x403000,
        mm_start_stack=0x7FFC00001F00,
        mm_start_brk=0x403000,
        mm_brk=0x405000,
        mm_arg_start=0x7FFC00001F10,
        mm_arg_end=0x7FFC00001F20,
        mm_env_start=0x7FFC00001F20,
        mm_env_end=0x7FFC00001F80,
        exe_file_id=exe_id,
        mm_saved_auxv=[6, 4096, 0, 0] + [0] * 40,
        vmas=vmas,
        dumpable=1,
        thp_disabled=False,
        aios=[mm_pb2.aio_ring_entry(id=0x7F0000200000, nr_req=128, ring_len=4096)],
    )


# (vaddr, nr_pages, flags) per pagemap entry: PE_PRESENT=4, PE_LAZY=2, PE_PARENT=1
PAGEMAP = [(0x402000, 1, 4), (0x403000, 2, 6), (0x7F0000104000, 2, 4), (0x7FFC00001000, 1, 6)]


def pagemap_entries() -> list[pagemap_pb2.pagemap_entry]:
    return [pagemap_pb2.pagemap_entry(vaddr=v, compat_nr_pages=n, flags=f, nr_pages=n) for v, n, f in PAGEMAP]


def file_entries() -> list[fdinfo_pb2.file_entry]:
    out = []
    for fid, (name, mode, flags) in FILES.items():
        reg = regfile_pb2.reg_file_entry(
            id=fid,
            flags=flags,
            pos=80 if fid == 1 else 0,
            fown=fown(),
            name=name,
            mode=mode,
            size=80 if mode & 0o100000 else None,
        )
        if fid == 2:
            reg.build_id.extend([0xDEADBEEF, 1, 2, 3, 4])
        out.append(fdinfo_pb2.file_entry(type=fdinfo_pb2.REG, id=fid, reg=reg))
    for fid, flags in ((6, 0), (7, 1)):
        pipe = pipe_pb2.pipe_entry(id=fid, pipe_id=PIPE_ID, flags=flags, fown=fown())
        out.append(fdinfo_pb2.file_entry(type=fdinfo_pb2.PIPE, id=fid, pipe=pipe))
    fifo = fifo_pb2.fifo_entry(id=8, pipe_id=4242, regf_id=9)
    out.append(fdinfo_pb2.file_entry(type=fdinfo_pb2.FIFO, id=8, fifo=fifo))
    out.extend(other_file_entries())
    return out


def other_file_entries() -> list[fdinfo_pb2.file_entry]:
    """Descriptions not referenced by any fd in the sample (crit's fds explorer would only print TYPE.id)."""
    F = fdinfo_pb2
    tfd = eventpoll_pb2.eventpoll_tfd_entry(id=11, tfd=5, events=1, data=2**63, dev=7, inode=12, pos=0)
    return [
        F.file_entry(
            type=F.EVENTFD, id=11, efd=eventfd_pb2.eventfd_file_entry(id=11, flags=2, fown=fown(), counter=3)
        ),
        F.file_entry(
            type=F.EVENTPOLL,
            id=12,
            epfd=eventpoll_pb2.eventpoll_file_entry(id=12, flags=2, fown=fown(), tfd=[tfd]),
        ),
        F.file_entry(
            type=F.SIGNALFD,
            id=13,
            sgfd=signalfd_pb2.signalfd_entry(id=13, flags=0, fown=fown(), sigmask=1 << 9),
        ),
        F.file_entry(
            type=F.TIMERFD,
            id=14,
            tfd=timerfd_pb2.timerfd_entry(
                id=14,
                flags=0,
                fown=fown(),
                clockid=1,
                ticks=4,
                settime_flags=0,
                vsec=1,
                vnsec=2,
                isec=3,
                insec=4,
            ),
        ),
        F.file_entry(
            type=F.NS, id=15, nsf=ns_pb2.ns_file_entry(id=15, ns_id=4, ns_cflag=0x04000000, flags=0)
        ),
        F.file_entry(type=F.EXT, id=16, ext=ext_file_pb2.ext_file_entry(id=16, fown=fown())),
        F.file_entry(
            type=F.MEMFD,
            id=17,
            memfd=memfd_pb2.memfd_file_entry(id=17, flags=2, pos=5, fown=fown(), inode_id=1),
        ),
    ]


def memfd_inodes() -> list[memfd_pb2.memfd_inode_entry]:
    return [
        memfd_pb2.memfd_inode_entry(name="memfd:x", uid=0, gid=0, size=8192, shmid=99, seals=1, inode_id=1)
    ]


def fdinfo(fds: list[tuple[int, int, int, int]]) -> list[fdinfo_pb2.fdinfo_entry]:
    """(fd, id, type, fd flags)"""
    return [fdinfo_pb2.fdinfo_entry(id=i, flags=fl, type=t, fd=fd) for fd, i, t, fl in fds]


ROOT_FDS = [(0, 3, 1, 0), (1, 3, 1, 0), (2, 3, 1, 0), (10, 1, 1, 1), (20, 6, 2, 0), (21, 7, 2, 1)]
ROOT_FDS.append((30, 8, 3, 0))
CHILD_FDS = [(0, 3, 1, 0), (1, 7, 2, 0)]


def inventory() -> inventory_pb2.inventory_entry:
    return inventory_pb2.inventory_entry(
        img_version=2,
        fdinfo_per_id=True,
        root_ids=ids(1),
        ns_per_id=True,
        root_cg_set=1,
        lsmtype=inventory_pb2.NO_LSM,
        network_lock_method=0,
        plugins_entry=inventory_pb2.plugins_entry(),
        dump_criu_run_id="3f1c0d9e-0000-4000-8000-000000000000",
    )


def stats() -> stats_pb2.stats_entry:
    dump = stats_pb2.dump_stats_entry(
        freezing_time=10,
        frozen_time=7645,
        memdump_time=300,
        memwrite_time=200,
        pages_scanned=105,
        pages_skipped_parent=0,
        pages_written=61,
        pages_lazy=0,
        page_pipes=1,
        page_pipe_bufs=2,
    )
    return stats_pb2.stats_entry(dump=dump)


def seccomp() -> seccomp_pb2.seccomp_entry:
    allow = bytes.fromhex("0600000000000000ffff7f7f")  # 1 insn: ret ALLOW
    return seccomp_pb2.seccomp_entry(seccomp_filters=[seccomp_pb2.seccomp_filter(filter=allow[:8], flags=0)])


def timens() -> timens_pb2.timens_entry:
    return timens_pb2.timens_entry(
        monotonic=timens_pb2.timespec(tv_sec=163, tv_nsec=650000000),
        boottime=timens_pb2.timespec(tv_sec=170, tv_nsec=1),
    )


GHOST_DATA = b"ghost data, two chunks"


def ghost_file() -> list[Message]:
    g = ghost_file_pb2.ghost_file_entry(uid=1000, gid=1000, mode=0o100640, dev=2049, ino=1234, chunks=True,
                                        size=1 << 20)
    g.atim.tv_sec, g.atim.tv_usec, g.mtim.tv_sec, g.mtim.tv_usec = 1234567890, 123456, 1500000000, 987654
    return [g, ghost_file_pb2.ghost_chunk_entry(len=4, off=0),
            ghost_file_pb2.ghost_chunk_entry(len=len(GHOST_DATA) - 4, off=65536)]


def write_dump(path: Path) -> ImageDir:
    """Every image kind of an ordinary dump, plus pipes-data, into ``path``."""
    d = ImageDir(path)
    d.write("pstree", pstree())
    d.write("core", core(ROOT, "loop.sh"), tid=ROOT)
    d.write("core", core(CHILD, "sleep"), tid=CHILD)
    d.write("core", core(CHILD_THREAD, None), tid=CHILD_THREAD)
    for pid, files_id, exe in ((ROOT, 2, 1), (CHILD, 3, 10)):
        d.write("ids", ids(files_id), pid=pid)
        d.write("mm", mm(exe), pid=pid)
        pages_id = 1 if pid == ROOT else 2
        with d.writer("pagemap", pid=pid) as w:
            w.write(pagemap_pb2.pagemap_head(pages_id=pages_id))
            for e in pagemap_entries():
                w.write(e)
        with d.open_raw("pages", "wb", pages_id=pages_id) as f:
            for i in range(sum(n for _, n, _ in PAGEMAP)):
                f.write(bytes([pid & 0xFF, i]) * (PAGE // 2))
        d.write("fs", fs_pb2.fs_entry(cwd_id=4, root_id=5, umask=0o22), pid=pid)
    d.write("fdinfo", fdinfo(ROOT_FDS), files_id=2)
    d.write("fdinfo", fdinfo(CHILD_FDS), files_id=3)
    d.write("files", file_entries())
    d.write(
        "pipes-data",
        [pipe_pb2.pipe_data_entry(pipe_id=PIPE_ID, bytes=len(PIPE_DATA), size=65536)],
        extras=[PIPE_DATA],
    )
    d.write(
        "fifo-data",
        [pipe_pb2.pipe_data_entry(pipe_id=PIPE_ID + 1, bytes=len(PIPE_DATA), size=65536)],
        extras=[PIPE_DATA],
    )
    d.write("memfd", memfd_inodes())
    d.write("ghost-file", ghost_file(), extras=[b"", GHOST_DATA[:4], GHOST_DATA[4:]], id=1)
    d.write("remap-fpath", [ghost_file_pb2.remap_file_path_entry(orig_id=4, remap_id=1,
                                                                 remap_type=ghost_file_pb2.GHOST)])
    d.write("seccomp", seccomp())
    d.write("timens", timens(), ns_id=0)
    d.write("stats-dump", stats())
    d.write("inventory", inventory())
    return d
