"""The engine's log: CRIU-style levels 0-4, timestamps relative to the start, written even on failure."""

from __future__ import annotations

import logging
import time

LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}
log = logging.getLogger("stasis")


_start_wall = time.time()


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        tag = {"ERROR": "Error: ", "WARNING": "Warn: ", "CRITICAL": ""}.get(record.levelname, "")
        line = f"({record.created - _start_wall:10.6f}) {tag}{record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup(path: str | None, verbosity: int) -> None:
    log.handlers.clear()
    log.setLevel(LEVELS.get(max(0, min(verbosity, 4)), logging.DEBUG))
    log.propagate = False
    if path:
        handler: logging.Handler = logging.FileHandler(path, mode="w")
    else:
        handler = logging.StreamHandler()
        # without a log file, errors reach stderr once: the command line prints them itself
        handler.addFilter(lambda record: record.levelno < logging.ERROR)
    handler.setFormatter(_Formatter())
    log.addHandler(handler)
