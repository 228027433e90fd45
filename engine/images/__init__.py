"""CRIU-compatible checkpoint images: framing, magics, schemas (proto/, generated pb/), readers, writers."""

from .imagedir import ImageDir
from .kinds import FILES, SCHEMAS, ImageFile, Schema
from .reader import Entry, read_entries, read_image, read_one
from .writer import ImageWriter, encode_entry, header, write_image

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
