"""Mutations of one image file, deterministic by the Random they are given: raw damage (bits, truncation,
garbage, a huge entry size) and damage that still decodes (a field of an entry set to a hostile value)."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from pathlib import Path

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from engine.errors import ImageError
from engine.images.reader import read_image
from engine.images.writer import encode_entry, header

HOSTILE_PATHS = ("/etc/shadow", "../../../../../etc/passwd", "/proc/1/environ", "/proc/self/mem", "",
                 "/dev/kmsg", "x" * 5000, "/tmp/../../etc/shadow", "relative/path", "/")
INT_VALUES = (0, 1, 2, 7, 255, 4095, 4096, 65535, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1)
SINT_VALUES = (0, 1, -1, -2, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63))


def flip(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if b:
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
    return bytes(b)


def truncate(data: bytes, rnd: random.Random) -> bytes:
    return data[:rnd.randrange(max(len(data), 1))]


def extend(data: bytes, rnd: random.Random) -> bytes:
    return data + rnd.randbytes(rnd.choice((1, 3, 4, 17, 4096)))


def huge_size(data: bytes, rnd: random.Random) -> bytes:
    """The size prefix of the first entry (after the two magics) made enormous or odd."""
    if len(data) < 12:
        return extend(data, rnd)
    return data[:8] + struct.pack("<I", rnd.choice((0xFFFFFFFF, 0x7FFFFFFF, len(data), 1))) + data[12:]


RAW: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": flip, "truncate": truncate, "extend": extend, "huge-size": huge_size,
}


def _value(fd: FieldDescriptor, rnd: random.Random) -> object:
    t = fd.type
    if t in (FieldDescriptor.TYPE_STRING,):
        return rnd.choice(HOSTILE_PATHS)
    if t == FieldDescriptor.TYPE_BYTES:
        return rnd.choice((b"", b"\0", rnd.randbytes(rnd.choice((1, 16, 300))), b"/etc/shadow\0"))
    if t == FieldDescriptor.TYPE_BOOL:
        return rnd.random() < 0.5
    if t in (FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SFIXED32):
        return rnd.choice([v for v in SINT_VALUES if -(2**31) <= v < 2**31])
    if t in (FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SFIXED64):
        return rnd.choice(SINT_VALUES)
    if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rnd.choice([v for v in INT_VALUES if v < 2**32])
    if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rnd.choice(INT_VALUES)
    if t == FieldDescriptor.TYPE_ENUM:
        return rnd.choice([v.number for v in fd.enum_type.values])
    return None


def _scalar_fields(msg: Message, prefix: str = "") -> list[tuple[Message, FieldDescriptor, str]]:
    """Every scalar field (set or not) of msg and of its set sub-messages, with a dotted name."""
    out: list[tuple[Message, FieldDescriptor, str]] = []
    for fd in msg.DESCRIPTOR.fields:
        name = f"{prefix}{fd.name}"
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            if fd.is_repeated:
                for i, sub in enumerate(getattr(msg, fd.name)):
                    out += _scalar_fields(sub, f"{name}[{i}].")
            elif msg.HasField(fd.name):
                out += _scalar_fields(getattr(msg, fd.name), f"{name}.")
        else:
            out.append((msg, fd, name))
    return out


def field_value(path: Path, data: bytes, rnd: random.Random) -> tuple[bytes, str]:
    """One field of one entry set to a hostile value, the image re-encoded: it decodes, so the damage
    reaches the code that uses the value."""
    try:
        schema, entries = read_image(path)
    except ImageError:
        return flip(data, rnd), "flip"
    if not entries:
        return extend(data, rnd), "extend"
    k = rnd.randrange(len(entries))
    msg = entries[k].message
    fields = _scalar_fields(msg)
    if not fields:
        return flip(data, rnd), "flip"
    owner, fd, name = rnd.choice(fields)
    value = _value(fd, rnd)
    if value is None:
        return flip(data, rnd), "flip"
    try:
        if fd.is_repeated:
            rep = getattr(owner, fd.name)
            if len(rep) and rnd.random() < 0.5:
                rep[rnd.randrange(len(rep))] = value
            else:
                rep.append(value)
        else:
            setattr(owner, fd.name, value)
    except (ValueError, TypeError):
        return flip(data, rnd), "flip"
    body = bytearray(header(schema.name))
    for i, e in enumerate(entries):
        body += encode_entry(e.message) if e.message.IsInitialized() else b""
        if e.extra is not None:
            body += e.extra
        _ = i
    return bytes(body), f"field {name} of entry {k} = {value!r:.60}"
