"""Run a command as a non-root user that keeps a few capabilities as ambient ones: the non-root restorer
(`stasis dump/restore --unprivileged`, criu's `--unprivileged`) as the kernel sees it.

    python -m zdtm.unpriv [--uid 1000] [--gid G] [--caps checkpoint_restore,sys_ptrace] -- CMD ARGS...

From root: keep-caps, no supplementary groups, setresgid/setresuid to the user, then the capabilities
in the permitted, effective and inheritable sets and raised as ambient ones, so that they survive the
exec of CMD (a non-setuid program). `preexec(uid, gid, caps)` does the same for subprocess.Popen.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import struct
import sys
from collections.abc import Callable

PR_SET_KEEPCAPS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_CLEAR_ALL = 8, 47, 2, 4
CAP_VERSION_3 = 0x20080522
CAPS = {"sys_ptrace": 19, "sys_admin": 21, "sys_resource": 24, "checkpoint_restore": 40, "setpcap": 8,
        "setuid": 7, "setgid": 6, "dac_override": 1}
DEFAULT_CAPS = ("checkpoint_restore", "sys_ptrace")
SYS_CAPSET = 126  # x86_64


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def drop_to(uid: int, gid: int, caps: tuple[str, ...] = DEFAULT_CAPS, groups: tuple[int, ...] = ()) -> None:
    """This process becomes uid/gid (and groups) with exactly `caps`, also ambient. Must be root first."""
    libc = ctypes.CDLL(None, use_errno=True)
    mask = 0
    for name in caps:
        mask |= 1 << CAPS[name]
    _check(libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)")
    os.setgroups(list(groups))
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    hdr = ctypes.create_string_buffer(struct.pack("<Ii", CAP_VERSION_3, 0))
    lo, hi = mask & 0xFFFFFFFF, mask >> 32
    data = ctypes.create_string_buffer(struct.pack("<6I", lo, lo, lo, hi, hi, hi))
    _check(libc.syscall(SYS_CAPSET, hdr, data), "capset")
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT_CLEAR_ALL)")
    for name in caps:
        _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAPS[name], 0, 0),
               f"prctl(PR_CAP_AMBIENT_RAISE, {name})")
    _check(libc.prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl(PR_SET_KEEPCAPS, 0)")


def preexec(uid: int = 1000, gid: int | None = None, caps: tuple[str, ...] = DEFAULT_CAPS,
            groups: tuple[int, ...] = ()) -> Callable[[], None]:
    """A preexec_fn for subprocess.Popen (the child drops to the user before its exec)."""
    return lambda: drop_to(uid, uid if gid is None else gid, caps, groups)


def _world_readable(path: str) -> bool:
    """Every directory on the way to path can be searched by others, and the file read."""
    path = os.path.realpath(path)
    parts = path.split("/")
    for i in range(2, len(parts)):
        d = "/".join(parts[:i])
        if not os.stat(d).st_mode & 0o001:
            return False
    return bool(os.stat(path).st_mode & 0o005)


def engine_command(repo: str) -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment that run `python -m engine` as another user: this interpreter when the
    user can execute it (and its packages), else the system's with a world-readable copy of the engine's
    packages (a tox venv is private to root: .tox is 0700, its python under /root)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    import google.protobuf

    site = os.path.dirname(os.path.dirname(os.path.dirname(google.protobuf.__file__)))
    if _world_readable(sys.executable) and _world_readable(site):
        env["PYTHONPATH"] = repo
        return [sys.executable, "-m", "engine"], env
    import _cffi_backend  # type: ignore[import-not-found]
    import blake3  # type: ignore[import-not-found]

    copy = os.path.join(repo, "build", "unpriv-site")
    if not os.path.exists(os.path.join(copy, ".done")):
        import shutil

        os.makedirs(copy, exist_ok=True)
        for src in (os.path.join(site, "google"), os.path.dirname(blake3.__file__)):
            shutil.copytree(src, os.path.join(copy, os.path.basename(src)), dirs_exist_ok=True)
        shutil.copy(_cffi_backend.__file__, copy)
        open(os.path.join(copy, ".done"), "w").close()
        for d in (os.path.join(repo, "build"), copy):
            os.chmod(d, os.stat(d).st_mode | 0o755)
    env["PYTHONPATH"] = f"{copy}:{repo}"
    return ["/usr/bin/python3", "-S", "-m", "engine"], env


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m zdtm.unpriv")
    p.add_argument("--uid", type=int, default=1000)
    p.add_argument("--gid", type=int)
    p.add_argument("--caps", default=",".join(DEFAULT_CAPS), help="comma-separated, without cap_")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        p.error("no command")
    caps = tuple(c.strip().removeprefix("cap_") for c in a.caps.split(",") if c.strip())
    unknown = [c for c in caps if c not in CAPS]
    if unknown:
        p.error(f"unknown capabilities: {unknown}")
    drop_to(a.uid, a.uid if a.gid is None else a.gid, caps)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main())
