"""CRIU-compatible checkpoint images: framing, magics, schemas (proto/, generated pb/), readers, writers.

The names below are imported on first use (PEP 562): `from engine.images.pb import criu_rpc_pb2` (an RPC
VERSION answer, in a fresh process per request) does not pay for every image schema (~20 ms)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .imagedir import ImageDir
    from .kinds import FILES, SCHEMAS, ImageFile, Schema
    from .reader import Entry, read_entries, read_image, read_one
    from .writer import ImageWriter, encode_entry, header, write_image

_WHERE = {
    "ImageDir": "imagedir",
    "FILES": "kinds", "SCHEMAS": "kinds", "ImageFile": "kinds", "Schema": "kinds",
    "Entry": "reader", "read_entries": "reader", "read_image": "reader", "read_one": "reader",
    "ImageWriter": "writer", "encode_entry": "writer", "header": "writer", "write_image": "writer",
}

__all__ = [
    "FILES",
    "SCHEMAS",
    "Entry",
    "ImageDir",
    "ImageFile",
    "ImageWriter",
    "Schema",
    "encode_entry",
    "header",
    "read_entries",
    "read_image",
    "read_one",
    "write_image",
]


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
