"""Compiling test programs: cached by a hash of everything that goes into the binary, safe under xdist."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zdtm import upstream
from zdtm.desc import Desc
from zdtm.layout import BIN_DIR, BUILD_DIR, LIB_DIR

CC = "gcc"
CFLAGS = ("-O2", "-g", "-Wall", "-Werror", "-D_GNU_SOURCE")
LIB_ARCHIVE = LIB_DIR / "libzdtmtst.a"

_lib_built = False


class BuildError(Exception):
    """Compiling or linking failed; the message holds the command and its output."""


@contextmanager
def flocked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, mode)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _lib_sources() -> list[Path]:
    return sorted(p for p in LIB_DIR.iterdir() if p.suffix in (".c", ".h") or p.name == "Makefile")


def build_lib() -> None:
    """`make -C zdtm/lib`, once per process; make itself decides what is stale."""
    global _lib_built
    if _lib_built:
        return
    with flocked(BUILD_DIR / "lib.lock"):
        proc = subprocess.run(["make", "-s", "-C", str(LIB_DIR)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"make -C {LIB_DIR} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    _lib_built = True


def _local_includes(source: Path) -> list[Path]:
    """Sibling files a program #includes "like this" (one program reusing another's code)."""
    names = re.findall(r'^\s*#\s*include\s+"([^"]+)"', source.read_text(errors="replace"), re.MULTILINE)
    return sorted(p for p in (source.parent / n for n in names) if p.is_file())


def _aux_sources(source: Path) -> list[Path]:
    """The .c beside each local header a program includes (get_smaps_bits.h -> get_smaps_bits.c), compiled
    into it: upstream's AUX_SRC, found without a list."""
    return [c for h in _local_includes(source) if h.suffix == ".h" and (c := h.with_suffix(".c")).is_file()
            and c != source]


def _fingerprint(source: Path, desc_path: Path) -> str:
    name = source.name.removesuffix(source.suffix)
    h = hashlib.sha256()
    h.update(repr((CC, CFLAGS, upstream.cflags(name), upstream.libs(name))).encode())
    for p in [source, desc_path, *_local_includes(source), *_aux_sources(source), *_lib_sources()]:
        h.update(str(p.name).encode() + b"\0")
        h.update(p.read_bytes() if p.exists() else b"<none>")
    return h.hexdigest()


def binary_path(group: str, name: str) -> Path:
    return BIN_DIR / group / name


def build_program(group: str, source: Path) -> Path:
    """Return the binary for `source`, compiling it if anything it depends on changed."""
    build_lib()
    name = source.name.removesuffix(source.suffix)
    out = binary_path(group, name)
    stamp = out.with_name(f".{name}.hash")
    fingerprint = _fingerprint(source, source.with_suffix(".desc"))
    with flocked(out.with_name(f".{name}.lock")):
        if out.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            return out
        tmp = out.with_name(f".{name}.tmp{os.getpid()}")
        cmd = [CC, *CFLAGS, *upstream.cflags(name), "-I", str(LIB_DIR), "-o", str(tmp), str(source),
               *map(str, _aux_sources(source)), str(LIB_ARCHIVE), "-pthread", *upstream.libs(name)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BuildError(f"{' '.join(cmd)}\nexit {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        os.replace(tmp, out)  # atomic: a running copy of the old binary is never overwritten in place
        stamp.write_text(fingerprint)
    return out


_OPT_RE = re.compile(r"TEST_OPTION\(\s*(filename|dirname)\s*,")


def _with_included(source: Path) -> str:
    """The program's text and that of the .c files next to it that it includes (a variant of a program
    built from its source with other defines takes its options from there)."""
    text = source.read_text(errors="replace")
    for inc in _local_includes(source):
        if inc.suffix == ".c":
            text += inc.read_text(errors="replace")
    return text


def program_args(source: Path, desc: Desc) -> list[str]:
    """The test's arguments after argv[0], as upstream's Makefile rules give them."""
    name = source.name.removesuffix(source.suffix)
    wanted = set(_OPT_RE.findall(_with_included(source)))
    args = [f"--pidfile={name}.pid", f"--outfile={name}.out"]
    if wanted == {"filename", "dirname"}:  # upstream's TST_DIR_FILE
        args += [f"--dirname={name}.dir.test", f"--filename={name}.test"]
    elif "dirname" in wanted:
        args.append(f"--dirname={name}.test")
    elif "filename" in wanted:
        args.append(f"--filename={name}.test")
    return args + upstream.args(name) + list(desc.args)
