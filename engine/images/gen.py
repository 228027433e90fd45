"""Regenerate engine/images/pb/*_pb2.py from engine/images/proto/*.proto.

Run: ``python -m engine.images.gen`` (needs grpcio-tools == GRPCIO_TOOLS in the running interpreter).
The pinned grpcio-tools bundles protoc 31.0, whose Python gencode asks for protobuf runtime >= 6.31.0,
which is the lower bound of the project's ``protobuf>=6.31,<8`` dependency.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

GRPCIO_TOOLS = "1.73.1"

HERE = Path(__file__).resolve().parent
PROTO_DIR = HERE / "proto"
PB_DIR = HERE / "pb"

# protoc emits `import ids_pb2 as ids__pb2`; the package needs `from . import ids_pb2 as ids__pb2`
_ABS_IMPORT = re.compile(r"^import (\w+_pb2) as (\w+)$", re.MULTILINE)


def _relative_imports(source: str) -> str:
    return _ABS_IMPORT.sub(r"from . import \1 as \2", source)


def generate(out_dir: Path = PB_DIR) -> list[Path]:
    """Run protoc on every schema and write package-relative modules into out_dir."""
    try:
        from grpc_tools import protoc
    except ImportError as e:
        raise SystemExit(f"needs grpcio-tools: pip install grpcio-tools=={GRPCIO_TOOLS}") from e
    have = metadata.version("grpcio-tools")
    if have != GRPCIO_TOOLS:
        raise SystemExit(f"grpcio-tools {have} found, {GRPCIO_TOOLS} pinned")
    protos = sorted(PROTO_DIR.glob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        # .pyi stubs too: a type checker follows the messages' fields
        args = ["protoc", f"-I{PROTO_DIR}", f"--python_out={tmp}", f"--pyi_out={tmp}",
                *(p.name for p in protos)]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in [*out_dir.glob("*_pb2.py"), *out_dir.glob("*_pb2.pyi")]:
            old.unlink()
        written = []
        for gen in sorted([*Path(tmp).glob("*_pb2.py"), *Path(tmp).glob("*_pb2.pyi")]):
            dst = out_dir / gen.name
            dst.write_text(_relative_imports(gen.read_text()))
            written.append(dst)
    written.append(write_descriptors(out_dir))
    shutil.rmtree(out_dir / "__pycache__", ignore_errors=True)
    return written


_SERIALIZED = re.compile(r"AddSerializedFile\((b'.*?')\)\n", re.DOTALL)
_DEP = re.compile(r"^from \. import (\w+)_pb2 as ", re.MULTILINE)


def write_descriptors(out_dir: Path = PB_DIR) -> Path:
    """_descriptors.py: each generated module's serialized FileDescriptorProto and the modules it
    depends on, so that engine.images.pb can build message classes without the protobuf runtime."""
    import ast

    lines = ['"""Written by python -m engine.images.gen from the *_pb2.py next to it. Do not edit."""', "",
             "FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {"]
    for mod in sorted(out_dir.glob("*_pb2.py")):
        src = mod.read_text()
        m = _SERIALIZED.search(src)
        if not m:
            raise SystemExit(f"{mod}: no serialized descriptor")
        blob = ast.literal_eval(m[1])
        deps = tuple(_DEP.findall(src))
        lines.append(f"    {mod.stem.removesuffix('_pb2')!r}: ({blob!r}, {deps!r}),")
    lines.append("}")
    dst = out_dir / "_descriptors.py"
    dst.write_text("\n".join(lines) + "\n")
    return dst


def main() -> int:
    if sys.argv[1:] == ["--descriptors"]:
        print(write_descriptors().relative_to(HERE.parent.parent))
        return 0
    for path in generate():
        print(path.relative_to(HERE.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
