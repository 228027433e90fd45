"""Generated protobuf modules (python -m engine.images.gen). Do not edit the *_pb2.py files.

`from engine.images.pb import core_pb2` does not run the generated module: it gets a stand-in with
the same message classes and top-level enum values, built straight on upb (google._upb._message)
from the serialized descriptors in _descriptors.py. Importing the protobuf runtime that the
generated modules need (descriptor_pool, python_message, text_format, ...) costs ~14 ms, more than a
small dump's whole work. The stand-in is registered in sys.modules, so every importer of a module gets
the same classes. Without upb the generated module is imported as usual.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_pool: Any = None


def _upb() -> Any:
    try:
        from google._upb import _message
    except ImportError:
        return None
    return _message


def _add_file(name: str, message_mod: Any, files: dict[str, tuple[bytes, tuple[str, ...]]]) -> Any:
    global _pool
    if _pool is None:
        _pool = message_mod.DescriptorPool()
    try:
        return _pool.FindFileByName(f"{name}.proto")
    except KeyError:
        pass
    blob, deps = files[name]
    for dep in deps:
        _add_file(dep, message_mod, files)
    return _pool.AddSerializedFile(blob)


def _message_class(desc: Any, message_mod: Any, base: type) -> type:
    # only the module's top-level messages: upb makes the class of a nested or field message type
    # itself, when it is first used (and records it on the descriptor, like this one)
    cls = getattr(desc, "_concrete_class", None)
    if cls is not None:
        return cls
    return message_mod.MessageMeta(desc.name, (base,), {"DESCRIPTOR": desc, "__module__": None})


_files: Any = False


def _described() -> dict[str, tuple[bytes, tuple[str, ...]]] | None:
    """_descriptors.FILES if it describes every generated module here; else None, and every module is the
    generated one (one pool: a stand-in and a generated module cannot depend on each other)."""
    global _files
    if _files is False:
        _files = None
        try:
            from ._descriptors import FILES
        except ImportError:  # not written yet (python -m engine.images.gen writes it)
            return None
        import os

        here = {n.removesuffix("_pb2.py") for n in os.listdir(os.path.dirname(__file__)) if n.endswith("_pb2.py")}
        if here == set(FILES):
            _files = FILES
    return _files  # type: ignore[no-any-return]


def _stand_in(modname: str) -> types.ModuleType | None:
    message_mod = _upb()
    if message_mod is None:
        return None
    from google.protobuf.message import Message

    files = _described()
    if files is None:
        return None
    name = modname.removesuffix("_pb2")
    if name not in files:
        return None
    FILES = files
    fd = _add_file(name, message_mod, FILES)
    mod = types.ModuleType(f"{__name__}.{modname}", f"stand-in for the generated {modname} (upb)")
    mod.DESCRIPTOR = fd  # type: ignore[attr-defined]
    for mname, desc in fd.message_types_by_name.items():
        setattr(mod, mname, _message_class(desc, message_mod, Message))
    for ename, edesc in fd.enum_types_by_name.items():
        setattr(mod, ename, edesc)
        for vname, value in edesc.values_by_name.items():
            setattr(mod, vname, value.number)
    return mod


def __getattr__(name: str) -> types.ModuleType:
    if not name.endswith("_pb2"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    full = f"{__name__}.{name}"
    mod = sys.modules.get(full) or _stand_in(name)
    if mod is None:
        mod = importlib.import_module(full)
    sys.modules[full] = mod
    globals()[name] = mod
    return mod
