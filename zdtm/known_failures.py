"""Known engine failures in C/R mode: (test, flavor) -> reason. Such items are xfail(strict=True), so a
fix that makes one pass fails the run until its line here is removed. The engine's author keeps this."""

from __future__ import annotations

KNOWN_FAILURES: dict[tuple[str, str], str] = {
    # ("static/env00", "h"): "why it fails, and the issue that will fix it",
}


def reason(test: str, flavor: str) -> str | None:
    return KNOWN_FAILURES.get((test, flavor))
