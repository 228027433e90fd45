"""Reading image files. Every problem becomes an ImageError naming the file and the byte offset."""

from __future__ import annotations

import errno
import os
import stat
import struct
from collections.abc import Iterator
from typing import NamedTuple

from google.protobuf.message import DecodeError, Message

from ..errors import ImageError
from . import magic
from .kinds import SCHEMAS, Schema, schema_for_magic

_U32 = struct.Struct("<I")


class Entry(NamedTuple):
    offset: int  # byte offset of the entry's size prefix
    message: Message
    extra: bytes | None  # raw payload after the entry, for types that carry one


class Header(NamedTuple):
    head_magic: int | None  # IMG_COMMON / IMG_SERVICE, None when absent (inventory, v1 images)
    type_magic: int
    size: int  # bytes taken by the magics


def open_image(path: str | os.PathLike[str]) -> int:
    """An fd of an image file, which must be a regular file: a FIFO, a device or a symlink in an image
    directory would block the reader or lead it elsewhere (O_NONBLOCK: opening a FIFO never waits)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise ImageError(path, "missing") from None
    except OSError as e:
        why = "a symbolic link, not an image file" if e.errno == errno.ELOOP else f"cannot open: {e.strerror}"
        raise ImageError(path, why) from e
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ImageError(path, "not a regular file")
    return fd


def _load(path: str | os.PathLike[str]) -> bytes:
    fd = open_image(path)
    try:
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError as e:
        raise ImageError(path, f"cannot read: {e.strerror}") from e
    finally:
        os.close(fd)


def parse_header(path: str | os.PathLike[str], data: bytes) -> Header:
    """Decode the magics the way crit does: a leading IMG_COMMON/IMG_SERVICE is optional."""
    if len(data) < 4:
        raise ImageError(path, f"too short for a magic ({len(data)} bytes)", 0)
    (first,) = _U32.unpack_from(data, 0)
    if first not in (magic.IMG_COMMON, magic.IMG_SERVICE):
        return Header(None, first, 4)
    if len(data) < 8:
        raise ImageError(path, "truncated header: no type magic after the first magic", 4)
    (second,) = _U32.unpack_from(data, 4)
    return Header(first, second, 8)


def _check_header(path: str | os.PathLike[str], hdr: Header, schema: Schema) -> None:
    if hdr.type_magic != schema.magic:
        found = magic.name_of(hdr.type_magic) or "unknown"
        raise ImageError(
            path,
            f"magic {hdr.type_magic:#010x} ({found}) is not {schema.name} ({schema.magic:#010x})",
            hdr.size - 4,
        )
    want = magic.head_magic(schema.name)
    if hdr.head_magic != want:
        shown = "none" if hdr.head_magic is None else f"{hdr.head_magic:#010x}"
        expect = "none" if want is None else f"{want:#010x}"
        raise ImageError(path, f"first magic {shown}, expected {expect} for {schema.name}", 0)


def decode_entries(
    path: str | os.PathLike[str], data: bytes, schema: Schema, start: int, strict: bool = True
) -> Iterator[Entry]:
    """Entries from ``start`` to a clean EOF; ``strict`` also rejects messages lacking required fields."""
    pos, index, end = start, 0, len(data)
    while pos < end:
        if end - pos < 4:
            raise ImageError(path, f"truncated size prefix of entry {index} ({end - pos} of 4 bytes)", pos)
        (size,) = _U32.unpack_from(data, pos)
        body = pos + 4
        if body + size > end:
            raise ImageError(path, f"truncated entry {index}: size {size}, only {end - body} bytes left", pos)
        cls = schema.head if (index == 0 and schema.head is not None) else schema.message
        msg = cls()
        try:
            msg.ParseFromString(data[body : body + size])
        except (DecodeError, RuntimeError, ValueError) as e:
            raise ImageError(path, f"corrupt {cls.DESCRIPTOR.name} (entry {index}): {e}", pos) from None
        if strict and not msg.IsInitialized():
            missing = ", ".join(msg.FindInitializationErrors())
            raise ImageError(path, f"{cls.DESCRIPTOR.name} (entry {index}) lacks required {missing}", pos)
        nxt = body + size
        extra = None
        if schema.extra is not None and cls is schema.message:
            n = schema.extra(msg)
            if nxt + n > end:
                raise ImageError(
                    path,
                    f"truncated extra payload of entry {index}: {n} bytes announced, {end - nxt} left",
                    pos,
                )
            extra = data[nxt : nxt + n]
            nxt += n
        yield Entry(pos, msg, extra)
        pos, index = nxt, index + 1


def read_image(
    path: str | os.PathLike[str], type_name: str | None = None, strict: bool = True
) -> tuple[Schema, list[Entry]]:
    """Decode a whole image file. With ``type_name`` the magics must match it; without, the type magic
    selects the schema (as in ``crit show``)."""
    data = _load(path)
    hdr = parse_header(path, data)
    if type_name is None:
        schema = schema_for_magic(hdr.type_magic)
        if schema is None:
            name = magic.name_of(hdr.type_magic)
            why = f"no schema for {name} images" if name else f"unknown magic {hdr.type_magic:#010x}"
            raise ImageError(path, why, hdr.size - 4)
    else:
        schema = SCHEMAS[type_name]
        _check_header(path, hdr, schema)
    return schema, list(decode_entries(path, data, schema, hdr.size, strict))


def read_entries(path: str | os.PathLike[str], type_name: str, strict: bool = True) -> list[Message]:
    """The messages of an image, checked to be of ``type_name`` (e.g. "PAGEMAP": head first)."""
    return [e.message for e in read_image(path, type_name, strict)[1]]


def read_one(path: str | os.PathLike[str], type_name: str, strict: bool = True) -> Message:
    """The single message of a one-entry image (core, mm, ids, fs, inventory, ...)."""
    schema, entries = read_image(path, type_name, strict)
    if len(entries) != 1:
        raise ImageError(path, f"{schema.name} image must hold exactly one entry, found {len(entries)}")
    return entries[0].message
