"""`<t>.desc` files: a dict literal with upstream's keys plus ours, parsed without eval."""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TIMEOUT = 30
ALL_FLAVORS = ("h", "ns", "uns")

# upstream's keys, plus 'args' (extra test arguments, where upstream uses a per-test make rule)
# and 'why': why the flavors that 'flavor' leaves out cannot run the program (ours always say it)
# 'nopre': why the program cannot run under --pre/--snaps (it is skipped there, with that reason)
_STR_KEYS = {"flags", "flavor", "opts", "dopts", "ropts", "arch", "feature", "bind", "args", "why", "nopre"}
_KNOWN_KEYS = _STR_KEYS | {"timeout", "deps"}


class DescError(Exception):
    """A .desc file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Desc:
    flags: frozenset[str] = frozenset()
    flavors: tuple[str, ...] = ALL_FLAVORS
    opts: tuple[str, ...] = ()
    dopts: tuple[str, ...] = ()
    ropts: tuple[str, ...] = ()
    timeout: int = DEFAULT_TIMEOUT
    arch: str | None = None
    features: tuple[str, ...] = ()
    deps: tuple[str, ...] = ()
    bind: str | None = None
    args: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # commands a real program needs (zdtm.real.Real.needs)
    nopre: str = ""  # why it cannot run under --pre / --snaps
    raw: dict = field(default_factory=dict, compare=False)


def parse_desc(path: Path) -> Desc:
    """Parse `path`; a missing or empty file means {}."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Desc()
    if not text.strip():
        return Desc()
    try:
        raw = ast.literal_eval(text)
    except (ValueError, SyntaxError) as e:
        raise DescError(f"{path}: not a Python literal ({e})") from None
    if not isinstance(raw, dict):
        raise DescError(f"{path}: expected a dict literal, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise DescError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; known: {sorted(_KNOWN_KEYS)}"
        )
    for key in _STR_KEYS & set(raw):
        if not isinstance(raw[key], str):
            raise DescError(f"{path}: {key!r} must be a string")
    timeout = raw.get("timeout") or DEFAULT_TIMEOUT  # upstream's driver: int(desc.get('timeout') or 30)
    if isinstance(timeout, str) and timeout.strip().isdigit():
        timeout = int(timeout)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise DescError(f"{path}: 'timeout' must be a positive int (or a string of one)")
    deps = raw.get("deps", [])
    if not isinstance(deps, list | tuple) or not all(isinstance(d, str) for d in deps):
        raise DescError(f"{path}: 'deps' must be a list of strings")
    flavors = tuple(raw.get("flavor", " ".join(ALL_FLAVORS)).split())
    bad = [f for f in flavors if f not in ALL_FLAVORS]
    if bad:
        raise DescError(f"{path}: unknown flavor(s) {bad}")
    try:
        args = tuple(shlex.split(raw.get("args", "")))
    except ValueError as e:
        raise DescError(f"{path}: 'args': {e}") from None
    return Desc(
        flags=frozenset(raw.get("flags", "").split()),
        flavors=flavors,
        opts=tuple(raw.get("opts", "").split()),
        dopts=tuple(raw.get("dopts", "").split()),
        ropts=tuple(raw.get("ropts", "").split()),
        timeout=timeout,
        arch=raw.get("arch"),
        features=tuple(raw.get("feature", "").split()),
        deps=tuple(deps),
        bind=raw.get("bind"),
        args=args,
        nopre=raw.get("nopre", ""),
        raw=raw,
    )
