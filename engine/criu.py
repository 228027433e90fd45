"""`stasis-criu`: the engine under criu's name, for runtimes that run `criu` (runc, podman's go-criu,
crun's libcriu, pycriu). Put it first on their PATH as `criu` (`stasis-criu --install DIR` makes the
DIR/criu script), or give its path to `runc --criu` (runc 1.1).

  criu --version | -V     "Version: 4.2" (the number VERSION reports: engine/rpc/__init__.py)
  criu check              "Looks good." when the engine can dump and restore here (exit 0), else 1
  criu swrk FD            the RPC session on FD (engine/rpc/server.py)
  criu service ...        the RPC daemon (engine/rpc/service.py)
  criu dump|restore|show  the engine's command line (`stasis ...`)
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    from engine import cli

    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["--version"], ["-V"]):
        from engine.rpc import MAJOR, MINOR

        print(f"Version: {MAJOR}.{MINOR}")
        return _end(0, argv)
    if args[:1] == ["check"] and not any(a.startswith("--feature") or a in ("--stages", "--fault-points")
                                          for a in args):
        return _end(_check(), argv)
    if args[:1] == ["--install"]:
        return _end(_install(args[1:]), argv)
    return cli.main(args) if argv is not None else cli.main(None)


def _check() -> int:
    from engine.check import FEATURES
    from engine.rpc.server import ESSENTIAL

    bad = 0
    for f in FEATURES:
        if not f.probe():
            essential = f.name in ESSENTIAL
            bad += essential
            sys.stderr.write(f"{'Error' if essential else 'Warn'} (stasis): {f.name} missing ({f.what}): "
                             f"{f.cost}\n")
    if bad:
        return 1
    print("Looks good.")
    return 0


def _install(args: list[str]) -> int:
    """DIR/criu: this interpreter, fixed and isolated (-I: no PYTHON* variables, no user site, no
    caller's directory on sys.path: the runtime's environment cannot change which engine runs), running
    main(). Put DIR first on the runtime's PATH."""
    if len(args) != 1:
        sys.stderr.write("usage: stasis-criu --install DIR\n")
        return 1
    os.makedirs(args[0], exist_ok=True)
    path = os.path.join(args[0], "criu")
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"#!{sys.executable} -I\nfrom engine.criu import main\nmain()\n")
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    print(path)
    return 0


def _end(rc: int, argv: list[str] | None) -> int:
    if argv is None:
        from engine.cli import _exit

        _exit(rc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
