"""Fault injection: STASIS_FAULT=<point> makes the engine fail at that point, to prove that a
failure there leaves the tree running (dump) or nothing behind (restore).

The points are not listed here: dump's come from its STEPS, restore's from its fixed points and the
stages of the object registry (engine.check.fault_points(), `stasis check --fault-points`).
"""

from __future__ import annotations

import os

from engine.errors import StasisError


class FaultInjected(StasisError):
    pass


def point(name: str) -> None:
    if os.environ.get("STASIS_FAULT") == name:
        raise FaultInjected(f"fault injected at {name} (STASIS_FAULT)")
