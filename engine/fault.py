"""Fault injection: STASIS_FAULT=<point> makes the engine fail at that point, to prove that a
failure there leaves the tree running (dump) or nothing behind (restore).

The points are not listed here: dump's come from its STEPS, restore's from its fixed points and the
stages of the object registry (`stasis check --fault-points` prints them all).
"""

from __future__ import annotations

import os

from engine.errors import StasisError


def all_points() -> list[str]:
    """Every point, dump then restore, in the order the engine passes them."""
    from engine import dump, restore

    return [*(f"dump:{s}" for s in dump.STEPS), *restore.points()]


class FaultInjected(StasisError):
    pass


def point(name: str) -> None:
    if os.environ.get("STASIS_FAULT") == name:
        raise FaultInjected(f"fault injected at {name} (STASIS_FAULT)")
