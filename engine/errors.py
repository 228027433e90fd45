"""Stasis exceptions. ``str(e)`` is one line a user can act on; no traceback is needed to understand it."""

from __future__ import annotations

import os


class StasisError(Exception):
    """Base of every error Stasis reports to the user."""


class ImageError(StasisError):
    """An image is missing, truncated, corrupt or of the wrong kind, or a message to write is incomplete."""

    def __init__(self, path: str | os.PathLike[str], problem: str, offset: int | None = None) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.offset = offset
        where = self.path if offset is None else f"{self.path} at byte offset {offset}"
        super().__init__(f"image {where}: {problem}")


class DumpError(StasisError):
    """Checkpointing a task failed."""


class RestoreError(StasisError):
    """Restoring a task failed."""


class UnsupportedError(StasisError):
    """The task uses something Stasis cannot checkpoint or restore (yet)."""
