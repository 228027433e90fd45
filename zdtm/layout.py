"""Where the harness keeps things: the repo root and the build/run directories under it."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LIB_DIR = REPO_ROOT / "zdtm" / "lib"
BUILD_DIR = REPO_ROOT / "build" / "zdtm"
BIN_DIR = BUILD_DIR / "bin"
# ZDTM_RUN_DIR: the items' work dirs elsewhere (the kernel matrix keeps them on a guest's own tmpfs)
RUN_DIR = Path(os.environ["ZDTM_RUN_DIR"]) if os.environ.get("ZDTM_RUN_DIR") else BUILD_DIR / "run"
EXCL_LOCK = BUILD_DIR / "excl.lock"


def work_dir(flavor: str, group: str, name: str) -> Path:
    return RUN_DIR / flavor / group / name
