"""Fault injection: STASIS_FAULT=<point> makes the engine fail at that point, to prove that a
failure there leaves the tree running (dump) or nothing behind (restore)."""

from __future__ import annotations

import os

from engine.errors import StasisError

DUMP_POINTS = ("dump:collect", "dump:freeze", "dump:proc", "dump:inject", "dump:objects", "dump:pages",
               "dump:images")
# every point restore.py passes, in order: restore:<stage> after each of its stages
RESTORE_POINTS = ("restore:images", "restore:spawn", "restore:address-space", "restore:tree", "restore:vdso",
                  "restore:vmas", "restore:pages", "restore:protections", "restore:mm", "restore:files",
                  "restore:fs", "restore:rlimits", "restore:process", "restore:signals", "restore:timers",
                  "restore:threads", "restore:sched", "restore:thread-signals", "restore:thread",
                  "restore:seccomp", "restore:creds", "restore:after-creds", "restore:engine-fd",
                  "restore:dumpable", "restore:final")


def all_points() -> list[str]:
    """Every point, dump then restore, in the order the engine passes them."""
    return [*DUMP_POINTS, *RESTORE_POINTS]


class FaultInjected(StasisError):
    pass


def point(name: str) -> None:
    if os.environ.get("STASIS_FAULT") == name:
        raise FaultInjected(f"fault injected at {name} (STASIS_FAULT)")
