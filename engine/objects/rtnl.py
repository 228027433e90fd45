"""rtnetlink over an AF_NETLINK socket of the caller's network namespace: dumps (every message as the kernel
sent it, header included: what `ip addr save` and `ip route save` write) and requests with an ACK; attribute
parsing and building. No kernel object of its own: objects/netns.py uses it in a namespace worker."""

from __future__ import annotations

import os
import socket
import struct

from engine.abi.consts import (
    NETLINK_ROUTE,
    NLA_F_NESTED,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
)

NLMSG = struct.Struct("=IHHII")  # len, type, flags, seq, pid
RTA = struct.Struct("=HH")  # len, type
IFINFO = struct.Struct("=BxHiII")  # family, type, index, flags, change
IFADDR = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
NDMSG = struct.Struct("=BxxxiHBB")  # family, ifindex, state, flags, type
FIBRULE = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, res1, res2, action, flags


def align(n: int) -> int:
    return (n + 3) & ~3


def attrs(data: bytes, off: int = 0, end: int | None = None) -> dict[int, bytes]:
    """The attributes from `off` to `end` by type (NLA_F_NESTED masked off); a repeated type keeps its
    first."""
    end = len(data) if end is None else end
    out: dict[int, bytes] = {}
    while off + RTA.size <= end:
        ln, typ = RTA.unpack_from(data, off)
        if ln < RTA.size or off + ln > end:
            break
        out.setdefault(typ & ~NLA_F_NESTED, data[off + RTA.size:off + ln])
        off += align(ln)
    return out


def attr(typ: int, payload: bytes) -> bytes:
    head = RTA.pack(RTA.size + len(payload), typ)
    return head + payload + b"\0" * (align(len(payload)) - len(payload))


def u32(v: bytes) -> int:
    return int(struct.unpack("=I", v[:4])[0])


def cstr(v: bytes) -> str:
    return v.split(b"\0", 1)[0].decode(errors="surrogateescape")


def messages(blob: bytes) -> list[bytes]:
    """Back-to-back netlink messages (a dump, or a saved image after its magic)."""
    out = []
    off = 0
    while off + NLMSG.size <= len(blob):
        ln = NLMSG.unpack_from(blob, off)[0]
        if ln < NLMSG.size or off + ln > len(blob):
            raise ValueError(f"a truncated netlink message at offset {off}")
        out.append(blob[off:off + ln])
        off += align(ln)
    return out


def msg_type(msg: bytes) -> int:
    return int(NLMSG.unpack_from(msg, 0)[1])


def body(msg: bytes) -> bytes:
    return msg[NLMSG.size:]


class Rtnl:
    """One NETLINK_ROUTE socket (in the namespace of the process that opens it)."""

    def __init__(self, protocol: int = NETLINK_ROUTE) -> None:
        self.sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)
        self.sk.bind((0, 0))
        self.sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.seq = 0

    def close(self) -> None:
        self.sk.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, typ: int, flags: int, payload: bytes) -> int:
        self.seq += 1
        self.sk.send(NLMSG.pack(NLMSG.size + len(payload), typ, flags, self.seq, 0) + payload)
        return self.seq

    def dump(self, typ: int, payload: bytes) -> list[bytes]:
        """Every message of an NLM_F_DUMP request, header included."""
        seq = self._send(typ, NLM_F_REQUEST | NLM_F_DUMP, payload)
        out: list[bytes] = []
        while True:
            for m in messages(self.sk.recv(1 << 20)):
                _, t, _, mseq, _ = NLMSG.unpack_from(m, 0)
                if mseq != seq:
                    continue
                if t == NLMSG_DONE:
                    return out
                if t == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", m, NLMSG.size)[0]
                    raise OSError(err, f"netlink dump {typ}: {os.strerror(err)}")
                out.append(m)

    def call(self, typ: int, flags: int, payload: bytes) -> None:
        """A request with an ACK; the kernel's error as OSError."""
        seq = self._send(typ, NLM_F_REQUEST | NLM_F_ACK | flags, payload)
        while True:
            for m in messages(self.sk.recv(1 << 16)):
                _, t, _, mseq, _ = NLMSG.unpack_from(m, 0)
                if mseq != seq or t != NLMSG_ERROR:
                    continue
                err = -struct.unpack_from("=i", m, NLMSG.size)[0]
                if err:
                    raise OSError(err, os.strerror(err))
                return
