"""The engine's log: CRIU-style levels 0-4, timestamps relative to the start, written even on failure.

Not the logging module: importing it (with traceback, string, weakref...) costs ~3.5 ms of every run,
and the engine needs one logger writing one file. Every line is flushed as it is written.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

CRITICAL, ERROR, WARNING, INFO, DEBUG = 50, 40, 30, 20, 10
LEVELS = {0: CRITICAL, 1: ERROR, 2: WARNING, 3: INFO, 4: DEBUG}
_TAGS = {ERROR: "Error: ", WARNING: "Warn: "}

_start_wall = time.time()


class Log:
    def __init__(self) -> None:
        self.level = WARNING
        self.out: TextIO | None = None
        self.max_level = CRITICAL + 1  # records at this level or above are not written (see setup)
        self._owned = False

    def setLevel(self, level: int) -> None:  # noqa: N802 (the logging.Logger spelling)
        self.level = level

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802
        return level >= self.level

    def _emit(self, level: int, msg: str, args: tuple[Any, ...], exc: bool = False) -> None:
        if level < self.level or level >= self.max_level or self.out is None:
            return
        text = msg % args if args else msg
        line = f"({time.time() - _start_wall:10.6f}) {_TAGS.get(level, '')}{text}"
        if exc and sys.exc_info()[0] is not None:
            import traceback

            line += "\n" + "".join(traceback.format_exception(*sys.exc_info())).rstrip("\n")
        try:
            self.out.write(line + "\n")
            self.out.flush()
        except (OSError, ValueError):
            pass

    def log(self, level: int, msg: str, *args: Any) -> None:
        self._emit(level, msg, args)

    def debug(self, msg: str, *args: Any) -> None:
        self._emit(DEBUG, msg, args)

    def info(self, msg: str, *args: Any) -> None:
        self._emit(INFO, msg, args)

    def warning(self, msg: str, *args: Any) -> None:
        self._emit(WARNING, msg, args)

    def error(self, msg: str, *args: Any) -> None:
        self._emit(ERROR, msg, args)

    def exception(self, msg: str, *args: Any) -> None:
        self._emit(ERROR, msg, args, exc=True)

    def close(self) -> None:
        if self.out is not None and self._owned:
            try:
                self.out.close()
            except OSError:
                pass
        self.out, self._owned = None, False


log = Log()


def setup(path: str | None, verbosity: int) -> None:
    log.close()
    log.setLevel(LEVELS.get(max(0, min(verbosity, 4)), DEBUG))
    if path:
        log.out, log._owned = open(path, "w", errors="backslashreplace"), True  # noqa: SIM115
        log.max_level = CRITICAL + 1
    else:
        # without a log file, errors reach stderr once: the command line prints them itself
        log.out, log.max_level = sys.stderr, ERROR


def shutdown() -> None:
    log.close()
