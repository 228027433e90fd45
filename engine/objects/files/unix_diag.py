"""What sock_diag says about a unix socket (UNIX_DIAG_*), parsed into a record; and unix names.

Pure helpers (no socket is touched here), so they are unit-tested on hand-made answers.
"""

from __future__ import annotations

import os
import struct

from engine.objects.files.sockets import DiagMsg
from engine.record import field, record

# struct unix_diag_req { u8 family, protocol; u16 pad; u32 states, ino, show; u32 cookie[2]; }
DIAG_REQ = struct.Struct("<BBHIIIII")
# struct unix_diag_msg { u8 family, type, state, pad; u32 ino; u32 cookie[2]; }
DIAG_MSG = struct.Struct("<BBBBIII")
UDIAG_SHOW_NAME, UDIAG_SHOW_VFS, UDIAG_SHOW_PEER, UDIAG_SHOW_ICONS, UDIAG_SHOW_RQLEN = 1, 2, 4, 8, 0x10
UNIX_DIAG_NAME, UNIX_DIAG_VFS, UNIX_DIAG_PEER, UNIX_DIAG_ICONS, UNIX_DIAG_RQLEN = 0, 1, 2, 3, 4
UNIX_DIAG_SHUTDOWN = 6

# socket states in TCP numbering, as unix sockets report them
TCP_ESTABLISHED, TCP_CLOSE, TCP_LISTEN = 1, 7, 10
STATE_NAMES = {1: "ESTABLISHED", 2: "SYN_SENT", 7: "CLOSE", 10: "LISTEN"}


def request() -> bytes:
    """Every unix socket of the namespace with its name, bound inode, peer, pending connections, queue
    lengths (the shutdown bits come always)."""
    show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN
    return DIAG_REQ.pack(1, 0, 0, 0xFFFFFFFF, 0, show, 0xFFFFFFFF, 0xFFFFFFFF)


def ino_of(head: bytes) -> int:
    return DIAG_MSG.unpack_from(head)[4]


@record
class UnixDiag:
    """One unix socket as sock_diag shows it."""

    ino: int
    type: int
    state: int
    name: bytes = b""  # sun_path as bound: an abstract name with its leading NUL, a path with its NUL
    vfs_ino: int = 0  # the bound socket file (path names only)
    vfs_dev: int = 0  # as stat() shows it (st_dev)
    peer: int = 0  # the peer's inode (0: none, or a peer already closed or not yet accepted)
    has_peer: bool = False  # UNIX_DIAG_PEER was present
    icons: list[int] = field(default_factory=list)  # a listener's pending connections (client inodes)
    rqueue: int = 0  # bytes queued (stream), the first datagram's size (dgram), pending count (listener)
    wqueue: int = 0  # the backlog (listener), memory of sent skbs at the receiver (others)
    shutdown: int = 0  # sk_shutdown: RCV 1, SEND 2


def kdev_to_dev(kdev: int) -> int:
    """A kernel-internal dev_t (major << 20 | minor) as userspace's st_dev."""
    return os.makedev(kdev >> 20, kdev & 0xFFFFF)


def parse(m: DiagMsg) -> UnixDiag:
    _, type_, state, _, ino, _, _ = DIAG_MSG.unpack_from(m.head)
    d = UnixDiag(ino, type_, state)
    a = m.attrs
    if UNIX_DIAG_NAME in a:
        d.name = a[UNIX_DIAG_NAME]
    if UNIX_DIAG_VFS in a and len(a[UNIX_DIAG_VFS]) >= 8:
        vino, vdev = struct.unpack_from("<II", a[UNIX_DIAG_VFS])
        d.vfs_ino, d.vfs_dev = vino, kdev_to_dev(vdev)
    if UNIX_DIAG_PEER in a and len(a[UNIX_DIAG_PEER]) >= 4:
        d.peer, d.has_peer = struct.unpack_from("<I", a[UNIX_DIAG_PEER])[0], True
    if UNIX_DIAG_ICONS in a:
        raw = a[UNIX_DIAG_ICONS]
        d.icons = list(struct.unpack_from(f"<{len(raw) // 4}I", raw))
    if UNIX_DIAG_RQLEN in a and len(a[UNIX_DIAG_RQLEN]) >= 8:
        d.rqueue, d.wqueue = struct.unpack_from("<II", a[UNIX_DIAG_RQLEN])
    if UNIX_DIAG_SHUTDOWN in a and a[UNIX_DIAG_SHUTDOWN]:
        d.shutdown = a[UNIX_DIAG_SHUTDOWN][0]
    return d


# -- names -----------------------------------------------------------------------------------------

def is_abstract(name: bytes) -> bool:
    return name[:1] == b"\0"


def is_path(name: bytes) -> bool:
    return bool(name) and not is_abstract(name)


def path_of(name: bytes) -> bytes:
    """A path name without its terminating NUL (what bind() is given)."""
    end = name.find(b"\0")
    return name if end < 0 else name[:end]


def sockaddr_name(addr: str | bytes) -> bytes:
    """A name as Python's getsockname()/recvfrom() give it, in the image's form: a path with its NUL."""
    if isinstance(addr, str):
        addr = os.fsencode(addr)
    if not addr or is_abstract(addr):
        return addr
    return addr + b"\0"


def show(name: bytes) -> str:
    """A name for messages: @abstract (NULs as @), or the path."""
    if is_abstract(name):
        return "@" + name[1:].decode(errors="backslashreplace").replace("\0", "@")
    return path_of(name).decode(errors="backslashreplace")


def name_dir(name: bytes, file_path: str) -> str | None:
    """The directory a relative name was bound in, from the socket file's absolute path; None if that
    path does not end with the name (the file was moved since)."""
    rel = os.fsdecode(path_of(name))
    rel_norm = os.path.normpath(rel)
    if file_path == rel_norm or not file_path.endswith("/" + rel_norm):
        return None
    return file_path[:-len(rel_norm) - 1] or "/"
