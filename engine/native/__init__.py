"""The engine's native calls: the cffi module plus thin typed wrappers that raise OSError."""

from __future__ import annotations

import os

try:
    from engine.native._stasis_native import ffi, lib
except ImportError as exc:  # pragma: no cover - a broken install, not a runtime path
    raise ImportError(
        "the native module engine.native._stasis_native is not built: install the package "
        "(pip install .) or build it in place (python setup.py build_ext --inplace)"
    ) from exc

__all__ = ["ffi", "lib", "check", "syscall", "PAGE_SIZE"]

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def check(ret: int, what: str) -> int:
    """Turn a -errno return of a native wrapper into OSError."""
    if ret < 0:
        raise OSError(-ret, f"{what}: {os.strerror(-ret)}")
    return ret


def syscall(nr: int, *args: int, what: str = "syscall") -> int:
    a = list(args) + [0] * (6 - len(args))
    return check(lib.st_syscall(nr, *a), what)
