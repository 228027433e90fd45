"""crit-style decoding of images to plain dicts/JSON, for ``stasis show FILE|DIR``.

Integers stay numbers (json_format's proto3 mapping would turn 64-bit ones into strings, crit does not),
enums print by name, bytes as base64, only fields present on the wire appear.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from ..errors import ImageError, StasisError
from .reader import read_image

_RAW_NAMES = re.compile(r"pages-\d+\.img$|.*\.tar\.gz$|(ifaddr|route6?|rule|nftables)-\d+\.img$")


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_dict(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        named = field.enum_type.values_by_number.get(value)
        return named.name if named is not None else value
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode()
    if isinstance(value, bytes):  # a string field that is not UTF-8 (CRIU writes file names raw)
        return value.decode("utf-8", "surrogateescape")
    return value


def to_dict(msg: Message) -> dict[str, Any]:
    """The fields present in ``msg``, by their schema names, in field-number order."""
    out: dict[str, Any] = {}
    for field, value in msg.ListFields():
        if field.is_repeated:
            out[field.name] = [_value(field, v) for v in value]
        else:
            out[field.name] = _value(field, value)
    return out


def show_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"magic": NAME, "entries": [...]}`` like ``crit show``; EXTRA payloads appear as base64 "extra"."""
    schema, entries = read_image(path, strict=False)
    shown = []
    for e in entries:
        d = to_dict(e.message)
        if e.extra is not None:
            d["extra"] = base64.b64encode(e.extra).decode()
        shown.append(d)
    return {"magic": schema.name, "entries": shown}


def show_dir(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Every file of an image directory by name; raw images by size, undecodable ones as {"error": ...}."""
    out: dict[str, Any] = {}
    for f in sorted(Path(path).iterdir()):
        if f.is_symlink() and f.name == "parent":
            out[f.name] = {"parent": os.readlink(f)}
        elif not f.is_file():
            continue
        elif _RAW_NAMES.match(f.name):
            out[f.name] = {"raw": True, "size": f.stat().st_size}
        else:
            try:
                out[f.name] = show_file(f)
            except StasisError as e:
                out[f.name] = {"error": str(e)}
    return out


def show(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Decode one image file or a whole image directory."""
    p = Path(path)
    if p.is_dir():
        return show_dir(p)
    if not p.exists():
        raise ImageError(p, "missing")
    return show_file(p)


def show_json(path: str | os.PathLike[str], indent: int | None = 4) -> str:
    return json.dumps(show(path), indent=indent)
