"""unix_diag: sock_diag answers of unix sockets parsed into records, and unix names."""

from __future__ import annotations

import os
import socket
import struct

from engine.objects.files import unix_diag
from engine.objects.files.sockets import DiagMsg, parse_attrs


def _nla(typ: int, payload: bytes) -> bytes:
    raw = struct.pack("<HH", 4 + len(payload), typ) + payload
    return raw + b"\0" * (-len(raw) % 4)


def test_parse_listener() -> None:
    head = unix_diag.DIAG_MSG.pack(socket.AF_UNIX, socket.SOCK_STREAM, unix_diag.TCP_LISTEN, 0, 4242, 1, 2)
    attrs = (_nla(unix_diag.UNIX_DIAG_NAME, b"\0abc")
             + _nla(unix_diag.UNIX_DIAG_ICONS, struct.pack("<3I", 7, 0, 9))
             + _nla(unix_diag.UNIX_DIAG_RQLEN, struct.pack("<II", 3, 128))
             + _nla(unix_diag.UNIX_DIAG_SHUTDOWN, b"\x02"))
    d = unix_diag.parse(DiagMsg(head, parse_attrs(attrs, 0)))
    assert (d.ino, d.type, d.state) == (4242, socket.SOCK_STREAM, unix_diag.TCP_LISTEN)
    assert d.name == b"\0abc" and unix_diag.is_abstract(d.name) and not unix_diag.is_path(d.name)
    assert d.icons == [7, 0, 9]
    assert (d.rqueue, d.wqueue, d.shutdown) == (3, 128, 2)
    assert not d.has_peer and d.peer == 0
    assert unix_diag.ino_of(head) == 4242


def test_parse_peer_and_vfs() -> None:
    head = unix_diag.DIAG_MSG.pack(socket.AF_UNIX, socket.SOCK_DGRAM, unix_diag.TCP_ESTABLISHED, 0, 5, 0, 0)
    kdev = 8 << 20 | 3
    attrs = (_nla(unix_diag.UNIX_DIAG_NAME, b"/tmp/s\0")
             + _nla(unix_diag.UNIX_DIAG_VFS, struct.pack("<II", 99, kdev))
             + _nla(unix_diag.UNIX_DIAG_PEER, struct.pack("<I", 0)))
    d = unix_diag.parse(DiagMsg(head, parse_attrs(attrs, 0)))
    assert d.has_peer and d.peer == 0  # a peer that is gone: the attribute is there, its inode 0
    assert (d.vfs_ino, d.vfs_dev) == (99, os.makedev(8, 3))
    assert unix_diag.path_of(d.name) == b"/tmp/s" and unix_diag.show(d.name) == "/tmp/s"


def test_request() -> None:
    fam, proto, _, states, ino, show, c0, c1 = unix_diag.DIAG_REQ.unpack(unix_diag.request())
    assert (fam, proto, states, ino) == (socket.AF_UNIX, 0, 0xFFFFFFFF, 0)
    assert show == 0x1F and (c0, c1) == (0xFFFFFFFF, 0xFFFFFFFF)


def test_names() -> None:
    assert unix_diag.sockaddr_name("rel/x") == b"rel/x\0"
    assert unix_diag.sockaddr_name(b"\0ab\0c") == b"\0ab\0c"
    assert unix_diag.sockaddr_name("") == b""
    assert unix_diag.show(b"\0ab\0c") == "@ab@c"
    assert unix_diag.name_dir(b"sub/sock\0", "/work/t/sub/sock") == "/work/t"
    assert unix_diag.name_dir(b"./sock\0", "/work/t/sock") == "/work/t"
    assert unix_diag.name_dir(b"sock\0", "/sock") == "/"
    assert unix_diag.name_dir(b"sock\0", "/work/t/other") is None  # moved since
    assert unix_diag.name_dir(b"../x/sock\0", "/a/x/sock") is None


def test_against_the_kernel() -> None:
    """A real socketpair and a bound dgram socket, read from this process's own namespace."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"\0stasis-unit-{os.getpid()}".encode()
    c.bind(name)
    try:
        a.send(b"hello")
        b.shutdown(socket.SHUT_WR)
        nsfd = os.open("/proc/self/ns/net", os.O_RDONLY)
        try:
            from engine.objects.files.sockets import diag_dump

            table = {unix_diag.ino_of(m.head): unix_diag.parse(m)
                     for m in diag_dump(nsfd, unix_diag.request(), unix_diag.DIAG_MSG.size)}
        finally:
            os.close(nsfd)
        ia, ib, ic = (os.fstat(s.fileno()).st_ino for s in (a, b, c))
        assert table[ia].peer == ib and table[ib].peer == ia
        assert table[ib].rqueue == 5  # stream: bytes queued
        assert table[ib].shutdown == 2 and table[ia].shutdown == 1  # SEND on b, RCV mirrored on a
        assert table[ic].name == name and table[ic].state == unix_diag.TCP_CLOSE and not table[ic].has_peer
    finally:
        a.close()
        b.close()
        c.close()
