"""Known engine failures in C/R mode: (test, flavor) -> reason. Such items are xfail(strict=True), so a
fix that makes one pass fails the run until its line here is removed. The engine's author keeps this."""

from __future__ import annotations

from zdtm import upstream

KNOWN_FAILURES: dict[tuple[str, str], str] = {
    # ("static/env00", "h"): "why it fails, and the issue that will fix it",
}
# upstream-protocol programs the engine cannot check and restore yet (zdtm/upstream.py SET_KNOWN_FAILING)
for _name, (_, _why) in upstream.SET_KNOWN_FAILING.items():
    KNOWN_FAILURES.update({(f"static/{_name}", flavor): _why for flavor in ("h", "ns", "uns")})


def reason(test: str, flavor: str) -> str | None:
    return KNOWN_FAILURES.get((test, flavor))
