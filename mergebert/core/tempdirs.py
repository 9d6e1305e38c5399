"""Temporary folders a process keeps for its whole life (scratch object stores), removed when it ends:
at a normal exit, and by `remove_all` before an `os._exit`, which skips exit handlers."""

from __future__ import annotations

import atexit
import shutil
import tempfile

_folders: list[str] = []


def make(prefix: str) -> str:
    """A new temporary folder, removed when the process ends."""
    folder = tempfile.mkdtemp(prefix=prefix)
    _folders.append(folder)
    return folder


def remove_all() -> None:
    """Remove every folder `make` gave this process."""
    while _folders:
        shutil.rmtree(_folders.pop(), ignore_errors=True)


atexit.register(remove_all)
