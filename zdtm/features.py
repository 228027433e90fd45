"""Engine feature probes for the desc `feature` key: `<engine> check --feature F`, once per process."""

from __future__ import annotations

import subprocess

from zdtm import engine_cli

_cache: dict[tuple[tuple[str, ...], str], bool] = {}


def supported(engine: list[str], feature: str) -> bool:
    key = (tuple(engine), feature)
    if key not in _cache:
        try:
            rc = subprocess.run(
                engine_cli.check_argv(engine, feature), capture_output=True, timeout=engine_cli.ENGINE_TIMEOUT
            ).returncode
        except (OSError, subprocess.TimeoutExpired):
            rc = 1
        _cache[key] = rc == 0
    return _cache[key]
