"""Build steps pyproject.toml cannot express: the cffi module and the static restore helper."""

import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HELPER_SRC = "engine/helper/helper.c"
HELPER_BIN = "stasis-helper"
HELPER_CFLAGS = ["-O2", "-static", "-nostdlib", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
                 "-Wl,--build-id=none", "-Wall", "-Werror"]


def build_helper(outdir: str) -> None:
    os.makedirs(outdir, exist_ok=True)
    subprocess.check_call(["gcc", *HELPER_CFLAGS, "-o", os.path.join(outdir, HELPER_BIN), HELPER_SRC])


class BuildPyWithHelper(build_py):
    def run(self) -> None:
        super().run()
        build_helper(os.path.join(self.build_lib, "engine", "helper"))
        if self.editable_mode:
            build_helper(os.path.join("engine", "helper"))


setup(
    cffi_modules=["engine/native/build.py:ffibuilder"],
    cmdclass={"build_py": BuildPyWithHelper},
)
