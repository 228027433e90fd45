"""Namespaces the harness prepares for a restore with --join-ns (criu's option), named in a desc's ropts by
the placeholder {join:KIND}: `'ropts': '--join-ns uts:{join:uts}'` (replaced by a pid: criu's KIND:PID).

Before each dump (while the tree lives: see prepare) the harness makes a fresh namespace of that kind with
util-linux's unshare, held by a shell that waits on its stdin (a process the cycle runs, so not part of the
compared state, and never in the test's mount namespace as an nsfs bind mount would be), with a mark the
program sees from inside (KINDS); the file `joined.<kind>` in the work dir (the namespace's inode) tells the
program it was restored into it (without it, --nocr, it checks that it is not). After the restore the harness
checks that the root is in that namespace (same inode), and the state comparison lets that kind's namespace id
(and, for net, the namespace's configuration) change: state.compare(opts) sees the --join-ns options. The
holders end once the restore is checked (the namespace is then the tree's alone, which the next dump needs) or
when the item ends (their stdin closed; killed and reaped by their pid if they linger)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# {join:KIND}: the holder's pid (--join-ns KIND:{join:KIND}); {join-fd:KIND}: an fd of the harness on that
# namespace, inherited by the engine (criu's external netns: --inherit-fd fd[{join-fd:net}]:extRootNetNS);
# {netns_ino}, at dump: the inode of the tree's network namespace (--external net[{netns_ino}]:KEY)
PLACEHOLDER = re.compile(r"\{join(-fd)?:(\w+)\}")
NETNS_INO = "{netns_ino}"
TIMEOUT = 30
DAYS = 86400

# what each prepared namespace holds that the program checks after the restore (static/ns_join_*.c)
UTS_HOST, UTS_DOMAIN = "zdtm-joined", "zdtm-joined.dom"
IPC_MSGMAX = 4321  # kernel.msgmax (an IPC sysctl: objects of a dumped IPC namespace could not be joined)
NET_TTL = 93  # net.ipv4.ip_default_ttl, and lo up
TIME_OFFSET = 1000 * DAYS  # monotonic and boottime, seconds

_IPC = f"echo {IPC_MSGMAX} > /proc/sys/kernel/msgmax"
_NET = f"ip link set lo up && echo {NET_TTL} > /proc/sys/net/ipv4/ip_default_ttl"
_UTS = f"echo {UTS_HOST} > /proc/sys/kernel/hostname && echo {UTS_DOMAIN} > /proc/sys/kernel/domainname"
# kind -> (unshare's options, the mark made inside the new namespace)
KINDS = {
    "uts": ([], _UTS),
    "ipc": ([], _IPC),
    "net": ([], _NET),
    "time": (["--monotonic", str(TIME_OFFSET), "--boottime", str(TIME_OFFSET)], "true"),
}


@dataclass
class Joined:
    kind: str
    pid: int  # the holder, in the namespace
    ino: int
    proc: subprocess.Popen[str]
    fd: int = -1  # {join-fd:KIND}: ours, inherited by the engine


class Prepared:
    """The namespaces made for one item (all restores); cleanup() unmounts and removes them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.made: list[Joined] = []
        self.last: list[Joined] = []  # those of the last restore
        self.ready: list[Joined] = []  # made before the dump, for the next restore

    def prepare(self, ropts: tuple[str, ...]) -> None:
        """Make the next restore's namespaces now, while the tree still lives: a namespace's inode number is
        free for reuse once the tree's own one is gone, and the program tells the namespace it joined from
        the one it started in by that number."""
        self.ready = [self.make(m[2]) for o in ropts for m in PLACEHOLDER.finditer(o)]

    def substitute(self, ropts: tuple[str, ...]) -> tuple[str, ...]:
        """ropts with each {join:KIND} replaced by the path of a namespace made now."""
        self.last = []

        def one(m: re.Match[str]) -> str:
            j = self.ready.pop(0) if self.ready and self.ready[0].kind == m[2] else self.make(m[2])
            self.last.append(j)
            if not m[1]:
                return str(j.pid)
            j.fd = os.open(f"/proc/{j.pid}/ns/{j.kind}", os.O_RDONLY)
            os.set_inheritable(j.fd, True)  # the engine runs with close_fds=False (engine_cli.run)
            return str(j.fd)

        return tuple(PLACEHOLDER.sub(one, o) for o in ropts)

    def make(self, kind: str) -> Joined:
        """A holder in a new namespace of that kind with its mark: a shell under `unshare --fork` that waits
        on its stdin (one of "what the cycle runs": not part of the compared state)."""
        if kind not in KINDS:
            raise ValueError(f"{{join:{kind}}}: the harness makes namespaces of kinds {sorted(KINDS)} only")
        opts, mark = KINDS[kind]
        argv = ["unshare", f"--{kind}", "--fork", "--kill-child", *opts, "sh", "-c",
                f"{mark} && echo $$ && read x"]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.strip().isdigit():
            proc.kill()
            _, err = proc.communicate(timeout=TIMEOUT)
            raise RuntimeError(f"`{' '.join(argv)}` failed: {err.strip()}")
        pid = int(line)
        j = Joined(kind, pid, os.stat(f"/proc/{pid}/ns/{kind}").st_ino, proc)
        self.made.append(j)
        (self.workdir / f"joined.{kind}").write_text(f"{j.ino}\n")
        return j

    def check(self, pid: int) -> str | None:
        """Why the restored root is not in the namespaces of the last restore (None: it is)."""
        for j in self.last:
            got = os.stat(f"/proc/{pid}/ns/{j.kind}").st_ino
            if got != j.ino:
                return f"the restored root {pid} is in {j.kind} namespace {got}, not the joined {j.ino}"
        return None

    def release(self) -> None:
        """After the restore: the holders go, so the namespaces are the tree's alone (else the next dump
        would refuse a namespace shared with a process outside the tree)."""
        self._end(self.last)
        self.made = [j for j in self.made if j not in self.last]

    def cleanup(self) -> None:
        self._end(self.made)
        self.made.clear()

    def _end(self, joins: list[Joined]) -> None:
        """Each holder ends with its stdin (and is killed and reaped by its pid if it does not)."""
        for j in joins:
            if j.fd >= 0:
                os.close(j.fd)
                j.fd = -1
            if j.proc.stdin:
                j.proc.stdin.close()
            try:
                j.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                j.proc.kill()
                j.proc.wait()
            for f in (j.proc.stdout, j.proc.stderr):
                if f:
                    f.close()


def dump_opts(dopts: tuple[str, ...], root_pid: int) -> tuple[str, ...]:
    """dopts with {netns_ino} replaced by the inode of the tree's network namespace."""
    if not any(NETNS_INO in o for o in dopts):
        return dopts
    ino = str(os.stat(f"/proc/{root_pid}/ns/net").st_ino)
    return tuple(o.replace(NETNS_INO, ino) for o in dopts)


def joined_kinds(opts: tuple[str, ...]) -> set[str]:
    """The kinds the options join (--join-ns KIND:... or --join-ns=KIND:..., and {join-fd:KIND})."""
    out = {m[2] for o in opts for m in PLACEHOLDER.finditer(o) if m[1]}
    for i, o in enumerate(opts):
        val = opts[i + 1] if o == "--join-ns" and i + 1 < len(opts) else \
            o.split("=", 1)[1] if o.startswith("--join-ns=") else None
        if val:
            out.add(val.split(":", 1)[0])
    return out
