"""unix_view: path names of unix sockets bound and read in another process's mount namespace."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile

import pytest

from engine.errors import RestoreError
from engine.objects.files import unix_view
from tests.unit.conftest import needs_root


def test_own_view_runs_here() -> None:
    v = unix_view.open_view(os.getpid())
    assert isinstance(v, unix_view.View) and v.mntfd == unix_view.HERE
    assert unix_view.run(v, os.getpid, "here", RestoreError) == os.getpid()


@needs_root
def test_bind_in_another_mount_namespace() -> None:
    """A name bound in the view of a process with a tmpfs of its own: the socket has the name as given,
    its file is in that process's tmpfs and not in the engine's directory under it."""
    d = tempfile.mkdtemp(prefix="stasis-unix-view-")
    p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                          f"mount -t tmpfs stasis_unix_view {d} && echo ready && exec sleep 60"],
                         stdout=subprocess.PIPE, text=True)
    v = None
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        v = unix_view.open_view(p.pid)
        assert isinstance(v, unix_view.View) and v.mntfd != unix_view.HERE
        path = os.path.join(d, "sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sk:
            unix_view.run(v, lambda: sk.bind(path), "bind", RestoreError)
            assert sk.getsockname() == path
            assert not os.path.exists(path)  # not in the engine's view
            assert unix_view.run(v, lambda: os.path.exists(path), "stat", RestoreError)

            def refused() -> None:
                raise RestoreError("refused there")

            with pytest.raises(RestoreError, match="refused there"):
                unix_view.run(v, refused, "raise", RestoreError)
            with pytest.raises(OSError):
                unix_view.run(v, lambda: sk.bind(path), "bind again", RestoreError)
    finally:
        unix_view.close(v if isinstance(v, unix_view.View) else None)
        p.kill()
        p.wait()
        os.rmdir(d)
