"""The engine's log: CRIU-style levels 0-4, timestamps relative to the start, written even on failure."""

from __future__ import annotations

import logging
import time

LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}
log = logging.getLogger("stasis")
_start = time.monotonic()


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        tag = {"ERROR": "Error: ", "WARNING": "Warn: ", "CRITICAL": ""}.get(record.levelname, "")
        return f"({record.created - _start_wall:10.6f}) {tag}{record.getMessage()}"


_start_wall = time.time()


def setup(path: str | None, verbosity: int) -> None:
    log.handlers.clear()
    log.setLevel(LEVELS.get(max(0, min(verbosity, 4)), logging.DEBUG))
    log.propagate = False
    if path:
        handler: logging.Handler = logging.FileHandler(path, mode="w")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(_Formatter())
    log.addHandler(handler)
