"""Fault injection: STASIS_FAULT=<point> makes the engine fail at that point, to prove that a
failure there leaves the tree running (dump) or nothing behind (restore)."""

from __future__ import annotations

import os

from engine.errors import StasisError

DUMP_POINTS = ("dump:collect", "dump:freeze", "dump:proc", "dump:inject", "dump:objects", "dump:pages",
               "dump:images")
RESTORE_POINTS = ("restore:images", "restore:spawn", "restore:address-space", "restore:vmas",
                  "restore:pages", "restore:files", "restore:task", "restore:creds", "restore:final")


class FaultInjected(StasisError):
    pass


def point(name: str) -> None:
    if os.environ.get("STASIS_FAULT") == name:
        raise FaultInjected(f"fault injected at {name} (STASIS_FAULT)")
