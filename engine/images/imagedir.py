"""An image directory: files named by kind and parameters (core-<tid>.img, pages-<n>.img, ...)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from google.protobuf.message import Message

from ..errors import ImageError
from .kinds import FILES, ImageFile
from .reader import Entry, open_image, read_entries, read_image, read_one
from .writer import ImageWriter, create_file, write_image


def _file(kind: str) -> ImageFile:
    try:
        return FILES[kind]
    except KeyError:
        raise ValueError(f"unknown image file kind {kind!r}; known: {', '.join(FILES)}") from None


class ImageDir:
    """Access to the images of one dump.

    >>> d = ImageDir("/tmp/dump")
    >>> d.write("core", core, tid=42)                  # core-42.img
    >>> d.read_one("mm", pid=42)                        # mm_entry from mm-42.img
    >>> with d.writer("pagemap", pid=42) as w: ...      # pagemap-42.img, entries one by one
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.root = Path(path)
        # the engine's pid -> the pid images name (the task's own, in the tree's pid namespace): files
        # named by pid or tid are named as CRIU names them while the engine works with the pids it sees
        self.virtual_pids: dict[int, int] = {}

    def _name(self, f: ImageFile, params: dict[str, object]) -> str:
        if self.virtual_pids:
            for key in ("pid", "tid"):
                v = params.get(key)
                if isinstance(v, int) and v in self.virtual_pids:
                    params = {**params, key: self.virtual_pids[v]}
        return f.filename(**params)

    def path(self, kind: str, **params: object) -> Path:
        return self.root / self._name(_file(kind), params)

    def exists(self, kind: str, **params: object) -> bool:
        return self.path(kind, **params).exists()

    # writing
    def writer(self, kind: str, **params: object) -> ImageWriter:
        f = _file(kind)
        if f.type is None:
            raise ValueError(f"{kind} is a raw image; use open_raw()")
        return ImageWriter(self.root / self._name(f, params), f.type)

    def write(
        self, kind: str, entries: Message | list[Message], extras: list[bytes] | None = None, **params: object
    ) -> Path:
        f = _file(kind)
        if f.type is None:
            raise ValueError(f"{kind} is a raw image; use open_raw()")
        path = self.root / self._name(f, params)
        write_image(path, f.type, entries, extras)
        return path

    def open_raw(self, kind: str, mode: str = "rb", **params: object) -> BinaryIO:
        """A raw image (pages-<pages_id>.img) for reading ("rb") or creating ("wb", mode 0644)."""
        f = _file(kind)
        if f.type is not None:
            raise ValueError(f"{kind} is not a raw image")
        path = self.root / self._name(f, params)
        try:
            if mode == "wb":
                return create_file(path)
            if mode == "rb":
                return os.fdopen(open_image(path), "rb")
        except FileNotFoundError:
            raise ImageError(path, "missing") from None
        except OSError as e:
            raise ImageError(path, f"cannot open: {e.strerror}") from e
        raise ValueError(f"mode must be 'rb' or 'wb', not {mode!r}")

    # reading
    def read(self, kind: str, missing_ok: bool = False, **params: object) -> list[Message]:
        """All messages of an image. ``missing_ok``: an absent file means no entries (CRIU deletes
        empty global images)."""
        f = _file(kind)
        path = self.root / self._name(f, params)
        if missing_ok and not path.exists():
            return []
        return read_entries(path, f.schema.name)

    def read_entries(self, kind: str, missing_ok: bool = False, **params: object) -> list[Entry]:
        """Entries with offsets and EXTRA payloads (pipes-data, fifo-data)."""
        f = _file(kind)
        path = self.root / self._name(f, params)
        if missing_ok and not path.exists():
            return []
        return read_image(path, f.schema.name)[1]

    def read_one(self, kind: str, **params: object) -> Message:
        f = _file(kind)
        return read_one(self.root / self._name(f, params), f.schema.name)
