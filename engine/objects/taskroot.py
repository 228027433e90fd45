"""Where the engine finds the restored tree's paths: the paths in the images are the tasks' own (inside
their root and mount namespace). While a tree with a mount namespace of its own is restored, every path the
engine opens, creates or removes for it goes through task_path(), which leads through the root helper's
root (/proc/<pid>/root); otherwise paths are the engine's own."""

from __future__ import annotations

_prefix = ""


def set_task_root(prefix: str) -> None:
    """From now on the tree's paths are under `prefix` ("" again: the engine's own)."""
    global _prefix
    _prefix = prefix.rstrip("/")


def task_path(path: str) -> str:
    """The engine's name for the tree's absolute `path` (relative paths are left alone)."""
    if not _prefix or not path.startswith("/"):
        return path
    return _prefix + path


def engine_path(path: str) -> str:
    """The tree's name for a path that task_path() made (the inverse, for messages and links)."""
    if _prefix and path.startswith(_prefix + "/"):
        return path[len(_prefix):]
    return path
