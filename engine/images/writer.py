"""Writing image files: header magics, then ``u32 size + message [+ EXTRA]`` per entry, mode 0600."""

from __future__ import annotations

import os
import struct
from types import TracebackType
from typing import BinaryIO

from google.protobuf.message import Message

from ..errors import ImageError
from . import magic
from .kinds import SCHEMAS, Schema

_U32 = struct.Struct("<I")  # host order; x86_64 only
IMAGE_MODE = 0o600  # images hold memory and secrets of the tree: for the owner only


def header(type_name: str) -> bytes:
    """The bytes an image of this type starts with (inventory: its magic only)."""
    first = magic.head_magic(type_name)
    body = _U32.pack(magic.magic_of(type_name))
    return body if first is None else _U32.pack(first) + body


def encode_entry(msg: Message, path: str | os.PathLike[str] = "<memory>", offset: int | None = None) -> bytes:
    """``u32 size + serialized msg``; every required field must be set (CRIU and go-criu reject gaps)."""
    if not msg.IsInitialized():
        missing = ", ".join(msg.FindInitializationErrors())
        raise ImageError(path, f"{msg.DESCRIPTOR.name} lacks required field(s): {missing}", offset)
    data = msg.SerializeToString()
    return _U32.pack(len(data)) + data


def create_file(path: str | os.PathLike[str]) -> BinaryIO:
    """Create (truncate) an image file with mode 0600 regardless of umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, IMAGE_MODE)
    try:
        os.fchmod(fd, IMAGE_MODE)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


class ImageWriter:
    """Writes one protobuf image; use as a context manager or call close().

    >>> with ImageWriter(path, "PAGEMAP") as w:
    ...     w.write(pagemap_pb2.pagemap_head(pages_id=1))
    ...     w.write(entry)
    """

    def __init__(self, path: str | os.PathLike[str], type_name: str) -> None:
        if type_name not in SCHEMAS:
            raise ValueError(f"no schema for image type {type_name!r}")
        self.path = os.fspath(path)
        self.schema: Schema = SCHEMAS[type_name]
        self.count = 0
        try:
            self._file = create_file(self.path)
            self._file.write(header(type_name))
        except OSError as e:
            raise ImageError(self.path, f"cannot create: {e.strerror}") from e
        self.offset = len(header(type_name))

    def write(self, msg: Message, extra: bytes | bytearray | memoryview | None = None) -> None:
        """Append one entry; ``extra`` is the raw payload that this image type carries after entries."""
        expected = self.schema.head if (self.count == 0 and self.schema.head) else self.schema.message
        if not isinstance(msg, expected):
            raise ImageError(
                self.path, f"entry {self.count} is {msg.DESCRIPTOR.name}, expected {expected.DESCRIPTOR.name}"
            )
        if self.schema.extra is not None and expected is self.schema.message:
            want = self.schema.extra(msg)
            got = 0 if extra is None else len(extra)
            if got != want:
                raise ImageError(self.path, f"entry {self.count} announces {want} extra bytes, got {got}")
        elif extra:
            raise ImageError(self.path, f"{self.schema.name} entries carry no extra payload")
        data = encode_entry(msg, self.path, self.offset)
        try:
            self._file.write(data)
            if extra:
                self._file.write(extra)
        except OSError as e:
            raise ImageError(self.path, f"write failed: {e.strerror}", self.offset) from e
        self.offset += len(data) + (len(extra) if extra else 0)
        self.count += 1

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as e:
            raise ImageError(self.path, f"write failed: {e.strerror}") from e

    def __enter__(self) -> ImageWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_image(
    path: str | os.PathLike[str],
    type_name: str,
    entries: Message | list[Message] | tuple[Message, ...],
    extras: list[bytes] | None = None,
) -> None:
    """Write a whole image: one message or a sequence (extras, if given, parallel to entries)."""
    if isinstance(entries, Message):
        entries = [entries]
    with ImageWriter(path, type_name) as w:
        for i, msg in enumerate(entries):
            w.write(msg, extras[i] if extras is not None else None)
