"""What upstream's ZDTM build gives a program besides its source, in one place: the per-test arguments,
preprocessor defines and libraries of upstream's test Makefiles (test/zdtm/{static,transition}/Makefile),
so a program written for upstream's protocol runs here unchanged under its upstream name.

Programs of our own say the same in their .desc ('args'); this table is only for upstream's names. The
generic conventions are in build.py: --filename/--dirname from the program's TEST_OPTIONs (upstream's
TST_FILE/TST_DIR lists), sibling .c files of local #includes compiled in (upstream's AUX_SRC).
"""

from __future__ import annotations

# extra arguments after --pidfile/--outfile; {name} is the program's name
ARGS: dict[str, tuple[str, ...]] = {
    "cmdlinenv00": ("--arg1=arg1", "--arg2=arg2", "--arg3=arg3"),
    "shm-unaligned": ("--shmem_size=5000",),
    "env00": ("--envname=ENV_00_TEST",),
    "umask00": ("--mask=0345",),
    "fifo-rowo-pair": ("--name_master={name}.master.test", "--name_slave={name}.slave.test"),
}

# -D defines of the per-test CFLAGS lines
DEFINES: dict[str, tuple[str, ...]] = {
    "inotify_system_nodel": ("NODEL",),
    "shm": ("NEW_IPC_NS",), "msgque": ("NEW_IPC_NS",), "sem": ("NEW_IPC_NS",),
    "remap_dead_pid_root": ("REMAP_PID_ROOT",),
    "socket-tcp6": ("ZDTM_IPV6",), "socket-tcp4v6": ("ZDTM_IPV4V6",), "socket-tcpbuf6": ("ZDTM_IPV6",),
    "socket-tcpbuf-local": ("ZDTM_TCP_LOCAL",), "socket-tcpbuf6-local": ("ZDTM_TCP_LOCAL", "ZDTM_IPV6"),
    "socket-tcp6-local": ("ZDTM_TCP_LOCAL", "ZDTM_IPV6"),
    "socket-tcp4v6-local": ("ZDTM_TCP_LOCAL", "ZDTM_IPV4V6"), "socket-tcp-local": ("ZDTM_TCP_LOCAL",),
    "socket-tcp-nfconntrack": ("ZDTM_TCP_LOCAL", "ZDTM_CONNTRACK"),
    "socket_listen6": ("ZDTM_IPV6",), "socket_listen4v6": ("ZDTM_IPV4V6",),
    "socket-tcp6-closed": ("ZDTM_IPV6", "ZDTM_IPV4V6"),
    "socket-tcp-closed-last-ack": ("ZDTM_TCP_LAST_ACK",),
    "socket-tcp-fin-wait1": ("ZDTM_TCP_FIN_WAIT1",), "socket-tcp-fin-wait2": ("ZDTM_TCP_FIN_WAIT2",),
    "socket-tcp6-fin-wait1": ("ZDTM_TCP_FIN_WAIT1", "ZDTM_IPV6"),
    "socket-tcp6-fin-wait2": ("ZDTM_TCP_FIN_WAIT2", "ZDTM_IPV6"),
    "socket-tcp4v6-fin-wait1": ("ZDTM_TCP_FIN_WAIT1", "ZDTM_IPV4V6"),
    "socket-tcp4v6-fin-wait2": ("ZDTM_TCP_FIN_WAIT2", "ZDTM_IPV4V6"),
    "socket-tcp-close-wait": ("ZDTM_TCP_CLOSE_WAIT",),
    "socket-tcp6-close-wait": ("ZDTM_TCP_CLOSE_WAIT", "ZDTM_IPV6"),
    "socket-tcp4v6-close-wait": ("ZDTM_TCP_CLOSE_WAIT", "ZDTM_IPV4V6"),
    "socket-tcp-last-ack": ("ZDTM_TCP_LAST_ACK",), "socket-tcp6-last-ack": ("ZDTM_TCP_LAST_ACK", "ZDTM_IPV6"),
    "socket-tcp4v6-last-ack": ("ZDTM_TCP_LAST_ACK", "ZDTM_IPV4V6"),
    "socket-tcp6-closing": ("ZDTM_IPV6",), "socket-tcp6-unconn": ("ZDTM_IPV6",),
    "socket-tcp4v6-closing": ("ZDTM_IPV4V6",),
    "mnt_ext_manual": ("ZDTM_EXTMAP_MANUAL",),
    "scm01": ("KEEP_SENT_FD",), "scm02": ("SEND_BOTH",), "scm04": ("SEPARATE",),
    "mntns_link_remap": ("ZDTM_LINK_REMAP",), "mntns_shared_bind02": ("SHARED_BIND02",),
    "mntns_root_bind02": ("ROOT_BIND02",), "inotify01": ("INOTIFY01",), "unlink_fstat01+": ("UNLINK_OVER",),
    "unlink_fstat04": ("UNLINK_FSTAT04",), "ghost_holes01": ("TAIL_HOLE",), "ghost_holes02": ("HEAD_HOLE",),
    "sk-freebind-false": ("ZDTM_FREEBIND_FALSE",), "stopped01": ("ZDTM_STOPPED_KILL",),
    "stopped02": ("ZDTM_STOPPED_TKILL",), "stopped12": ("ZDTM_STOPPED_KILL", "ZDTM_STOPPED_TKILL"),
    "pty-console": ("ZDTM_DEV_CONSOLE",), "shm-unaligned": ("ZDTM_SHM_UNALIGNED",),
}

# libraries beyond -pthread (which every program gets); a library missing here makes the build fail
# with the linker's message, which names it
LIBS: dict[str, tuple[str, ...]] = {
    "aio00": ("-laio",), "different_creds": ("-lcap",), "thread_different_uid_gid": ("-lcap",),
    "jobctl00": ("-lutil",),
    **{n: ("-lrt",) for n in ("socket_listen", "socket_aio", "uptime_grow", "sigpending", "vdso01",
                              "posix_timers")},
}


def args(name: str) -> list[str]:
    return [a.format(name=name) for a in ARGS.get(name, ())]


def cflags(name: str) -> list[str]:
    return [f"-D{d}" for d in DEFINES.get(name, ())]


def libs(name: str) -> list[str]:
    return list(LIBS.get(name, ()))


# Programs of static/ written for upstream's protocol under upstream's names (each from scratch: upstream's
# Makefile and descriptions read for the name, what it checks and its arguments only), with the convention
# of upstream's build each one exercises. tests/unit/test_upstream_set.py checks that each is there, builds,
# and follows the convention named; `tox -e zdtm -- $(python -m zdtm.upstream)` runs them.
#   plain: no file argument (upstream's TST_NOFILE); file: --filename=<name>.test (TST_FILE, from the
#   program's TEST_OPTION(filename, ...)); dir: --dirname=<name>.test (TST_DIR); dirfile: both (TST_DIR_FILE);
#   args: per-test arguments (ARGS above); define: per-test -D (DEFINES above; a variant is a symlink to the
#   program it varies, as upstream has them); include: a variant that #includes the .c it varies;
#   libs: per-test libraries (LIBS above); aux: a local "x.h" whose x.c is compiled in (AUX_SRC); desc: a
#   .desc with upstream's keys and value types only ('flags': 'suid', 'timeout': '60', 'opts', 'flavor')
SET: dict[str, tuple[str, ...]] = {
    "pipe01": ("plain",), "pipe02": ("plain",), "sockets_spair": ("plain",), "socket_queues": ("plain",),
    "sk-unix-unconn": ("plain",), "socket_udp": ("plain",), "socket6_udp": ("plain", "include"),
    "socket_dgram_data": ("plain",), "unbound_sock": ("plain",), "socket_close_data": ("plain",),
    "sock_peercred": ("plain",),
    "socket-tcp": ("plain", "desc"), "socket-tcp6": ("plain", "define", "desc"),
    "socket-tcp4v6": ("plain", "define", "desc"),
    "socket_listen": ("plain", "libs"), "socket_listen6": ("plain", "define"),
    "socket_listen4v6": ("plain", "define"),
    "sk-freebind": ("plain",), "sk-freebind-false": ("plain", "define"),
    "stopped": ("plain",), "stopped12": ("plain", "define"),
    "posix_timers": ("plain", "libs"), "sigpending": ("plain", "libs"), "uptime_grow": ("plain", "libs"),
    "sigaltstack": ("plain",), "pthread00": ("plain",), "pthread01": ("plain",), "timers": ("plain",),
    "timerfd": ("plain",), "futex": ("plain",), "eventfs00": ("plain",), "selfexe00": ("plain",),
    "file_fown": ("plain",), "pdeath_sig": ("plain",), "oom_score_adj": ("plain",),
    "groups": ("plain", "desc"), "xids00": ("plain", "desc"), "maps02": ("plain", "aux"),
    "shm-unaligned": ("plain", "args", "define"), "fifo-rowo-pair": ("plain", "args"),
    "write_read00": ("file",), "write_read01": ("file",), "file_shared": ("file",), "file_append": ("file",),
    "link10": ("file",), "file_attr": ("file",), "unlink_fstat00": ("file",), "unlink_fstat01": ("file",),
    "unlink_fstat01+": ("file", "define"),
    "unlink_fstat02": ("file",), "unlink_fstat03": ("file", "desc"),
    "ghost_holes00": ("file",), "ghost_holes01": ("file", "define"), "ghost_holes02": ("file", "define"),
    "fifo": ("file",), "fifo_ro": ("file",), "fifo_wronly": ("file",), "fifo-ghost": ("file",),
    "unlink_mmap00": ("file",), "sockets00": ("file",), "sockets_dgram": ("file",),
    "file_locks00": ("file", "desc"), "file_locks01": ("file", "desc"),
    "file_locks06": ("file", "aux", "desc"),
    "cwd01": ("dir",), "inotify02": ("dir",), "unlink_regular00": ("dir",),
    "tempfs": ("dir", "aux", "desc"), "bind-mount": ("dir", "aux", "desc"),
    "mnt_ro_bind": ("dir", "aux", "desc"),
}

# Programs of the same kind that the engine cannot check and restore yet: each runs with --nocr and is an
# xfail (zdtm/known_failures.py) with C/R until the engine does
SET_KNOWN_FAILING: dict[str, tuple[tuple[str, ...], str]] = {
    "chroot": (("dirfile", "desc"), "a chrooted task: its paths are looked up again under /proc/PID/root, "
                                    "so the dump refuses its cwd (\"its path cannot be opened again\")"),
}


if __name__ == "__main__":  # the set's sources, for `tox -e zdtm -- $(python -m zdtm.upstream)`
    print(" ".join(f"static/{n}.c" for n in SET))
