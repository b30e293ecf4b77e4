"""Fault injection for tests: a source filesystem that fails, for real, where and as often as a test says.

`flaky://<local path>` is the local filesystem, except that opening a file
for reading fails with `OSError(EIO)` on the open numbers listed for it in
the state folder (`FLAKY_STATE`): the first open of a file is discovery
hashing it, the next ones are the read task's attempts. Every open is
recorded with its time, so a test can see the retries and their backoff.
The state lives in files because the opens happen in Dask worker processes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import time
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem


class FlakyFileSystem(LocalFileSystem):
    protocol = "flaky"
    root_marker = "/"

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, str) and path.startswith("flaky://"):
            path = path[len("flaky://") :]
        return super()._strip_protocol(path)

    def _open(self, path, mode="rb", **kwargs):
        if "r" in mode:
            _record_open(self._strip_protocol(path))
        return super()._open(path, mode, **kwargs)


def _state_file(path: str) -> Path:
    return Path(os.environ["FLAKY_STATE"]) / (hashlib.sha1(path.encode()).hexdigest()[:16] + ".json")


def fail_opens(state_dir: Path, path: str, opens: list[int] | str) -> None:
    """Make opens number `opens` (1-based; "all-but-first" for every open after the first) of `path` fail."""
    os.environ["FLAKY_STATE"] = str(state_dir)
    _state_file(str(Path(path))).write_text(json.dumps({"path": str(Path(path)), "fail": opens, "opens": []}))


def opens(state_dir: Path, path: str) -> list[dict]:
    os.environ["FLAKY_STATE"] = str(state_dir)
    return json.loads(_state_file(str(Path(path))).read_text())["opens"]


def _record_open(path: str) -> None:
    state_file = _state_file(path)
    if not state_file.exists():
        return
    state = json.loads(state_file.read_text())
    number = len(state["opens"]) + 1
    fail = number > 1 if state["fail"] == "all-but-first" else number in state["fail"]
    state["opens"].append({"n": number, "t": time.time(), "failed": fail, "pid": os.getpid()})
    state_file.write_text(json.dumps(state))
    if fail:
        raise OSError(errno.EIO, f"simulated I/O error (open {number})", path)


def register(state_dir: str | None = None) -> None:
    """Register `flaky://` in this process (and point it at the state folder); run it on every Dask worker too."""
    if state_dir:
        os.environ["FLAKY_STATE"] = state_dir
    fsspec.register_implementation("flaky", FlakyFileSystem, clobber=True)
