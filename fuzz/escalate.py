"""Edits of a non-root process's images that would give it more than its restorer has: each must be refused by
`stasis restore --unprivileged` run as that user (engine/unpriv.py), with the message given here.

`ESCALATIONS[kind] = (edit, expected)`: edit(images, rnd, scratch) changes the images in place (scratch: a
directory the restorer can read, for the symlink case) and returns what it did; the refusal's one line must
contain `expected`. The digests are rewritten afterwards by the caller (an unprivileged restore without a key
trusts nothing of the images but their digests against damage).
"""

from __future__ import annotations

import os
import random
import stat
from collections.abc import Callable
from pathlib import Path

from google.protobuf.message import Message

from engine.images.pb import fdinfo_pb2
from engine.images.reader import read_image
from engine.images.writer import encode_entry, header

FULL_CAPS = (0xFFFFFFFF, 0x1FF)


def rewrite(path: Path, change: Callable[[Message], bool]) -> int:
    """Apply change() to every entry of one image file; how many it changed. The file keeps its mode."""
    schema, entries = read_image(path)
    n = 0
    body = bytearray(header(schema.name))
    for e in entries:
        n += bool(change(e.message))
        body += encode_entry(e.message)
        if e.extra is not None:
            body += e.extra
    path.write_bytes(bytes(body))
    return n


def _cores(images: Path) -> list[Path]:
    return sorted(p for p in images.iterdir() if p.name.startswith("core-") and p.name.endswith(".img"))


def _creds(images: Path, rnd: random.Random, edit: Callable[[Message], None]) -> None:
    core = rnd.choice(_cores(images))

    def change(m: Message) -> bool:
        edit(m.thread_core.creds)  # type: ignore[attr-defined]
        return True

    rewrite(core, change)


def _regs(images: Path) -> list[fdinfo_pb2.file_entry]:
    return [e.message for e in read_image(images / "files.img")[1]  # type: ignore[misc]
            if e.message.type == fdinfo_pb2.REG]  # type: ignore[attr-defined]


def _path(images: Path, rnd: random.Random, new: str | Callable[[bool], str]) -> str:
    """One regular file of the images (an fd, the cwd, the exe, a mapping) renamed to `new` (or to what
    new(is_directory) says)."""
    regs = {e.reg.name: stat.S_ISDIR(e.reg.mode) for e in _regs(images)}
    old = rnd.choice(sorted(regs))
    if callable(new):
        new = new(regs[old])

    def change(m: Message) -> bool:
        if m.type == fdinfo_pb2.REG and m.reg.name == old:  # type: ignore[attr-defined]
            m.reg.name = new  # type: ignore[attr-defined]
            return True
        return False

    rewrite(images / "files.img", change)
    return f"{old} -> {new}"


def uid0(images: Path, rnd: random.Random, scratch: Path) -> str:
    field = rnd.choice(("uid", "euid", "suid", "fsuid"))
    _creds(images, rnd, lambda c: setattr(c, field, 0))
    return f"{field} = 0"


def gid0(images: Path, rnd: random.Random, scratch: Path) -> str:
    field = rnd.choice(("gid", "egid", "sgid", "fsgid"))
    _creds(images, rnd, lambda c: setattr(c, field, 0))
    return f"{field} = 0"


def groups(images: Path, rnd: random.Random, scratch: Path) -> str:
    _creds(images, rnd, lambda c: c.groups.append(0))
    return "group 0 added"


def caps(images: Path, rnd: random.Random, scratch: Path) -> str:
    field = rnd.choice(("cap_prm", "cap_eff", "cap_inh", "cap_amb"))

    def edit(c: Message) -> None:
        rep = getattr(c, field)
        del rep[:]
        rep.extend(FULL_CAPS)

    _creds(images, rnd, edit)
    return f"{field} full"


def bounding(images: Path, rnd: random.Random, scratch: Path) -> str:
    def edit(c: Message) -> None:
        del c.cap_bnd[:]  # type: ignore[attr-defined]
        c.cap_bnd.extend((0xFFFFFFFF, 0x1FF))  # type: ignore[attr-defined]

    _creds(images, rnd, edit)
    return "bounding set full"


def securebits(images: Path, rnd: random.Random, scratch: Path) -> str:
    bits = rnd.choice((0x1, 0x4, 0x10, 0x2F))
    _creds(images, rnd, lambda c: setattr(c, "secbits", bits))
    return f"secbits = {bits:#x}"


def no_new_privs(images: Path, rnd: random.Random, scratch: Path) -> str:
    _creds(images, rnd, lambda c: setattr(c, "no_new_privs", 0))
    return "no_new_privs cleared"


def shadow(images: Path, rnd: random.Random, scratch: Path) -> str:
    return _path(images, rnd, lambda isdir: "/root" if isdir else rnd.choice(("/etc/shadow", "/etc/gshadow")))


def dotdot(images: Path, rnd: random.Random, scratch: Path) -> str:
    return _path(images, rnd, rnd.choice(("/tmp/../../etc/passwd", "/usr/../etc/passwd", "/./etc/passwd",
                                          "etc/passwd", "//etc/passwd")))


def symlink(images: Path, rnd: random.Random, scratch: Path) -> str:
    link = scratch / f"link{rnd.randrange(1 << 30)}"
    link.symlink_to(rnd.choice(("/etc/passwd", "/etc/shadow", "/proc/1/environ", "../../../../etc/passwd")))
    return _path(images, rnd, str(link))


def proc_other(images: Path, rnd: random.Random, scratch: Path) -> str:
    return _path(images, rnd, rnd.choice(("/proc/1/environ", "/proc/1/mem", "/proc/self/environ",
                                          "/proc/thread-self/mem", "/proc/2/root")))


# kind -> (edit, what the refusal says)
ESCALATIONS: dict[str, tuple[Callable[[Path, random.Random, Path], str], str]] = {
    "uid0": (uid0, "is not the caller's"),
    "gid0": (gid0, "is not the caller's"),
    "groups": (groups, "supplementary groups"),
    "caps": (caps, "that the caller does not have"),
    "bounding": (bounding, "that the caller does not have"),
    "securebits": (securebits, "securebits"),
    "no_new_privs": (no_new_privs, "without no_new_privs"),
    "shadow": (shadow, "permission denied to uid"),
    "dotdot": (dotdot, "plain paths"),
    "symlink": (symlink, "a symlink or magic link on the way"),
    "proc": (proc_other, "refused in an unprivileged restore"),
}


def apply(kind: str, images: Path, rnd: random.Random, scratch: Path) -> str:
    os.makedirs(scratch, exist_ok=True)
    return ESCALATIONS[kind][0](images, rnd, scratch)
