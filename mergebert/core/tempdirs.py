"""Temporary folders a process keeps for its whole life (scratch object stores), removed when it ends:
at a normal exit, and by `remove_all` before an `os._exit`, which skips exit handlers. A folder names its
process and machine, so that those of a process killed before it could remove them (SIGKILL, a crash)
are removed later (`remove_abandoned`)."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import stat
import tempfile

_folders: list[str] = []
# mergebert-<what>-<process id>@<host>.<random>, as `make` names a folder
_NAME = re.compile(r"mergebert-[a-z]+-(\d+)@(.+)\.\w+")


def make(prefix: str) -> str:
    """A new temporary folder, removed when the process ends; `prefix` is `mergebert-<what>-`."""
    folder = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}@{socket.gethostname()}.")
    _folders.append(folder)
    return folder


def remove_all() -> None:
    """Remove every folder `make` gave this process."""
    while _folders:
        shutil.rmtree(_folders.pop(), ignore_errors=True)


def remove_abandoned() -> None:
    """Remove the folders `make` gave this user's processes on this machine that have ended without
    removing them (another machine's processes, and another user's folders, are not ours to judge)."""
    host = socket.gethostname()
    with os.scandir(tempfile.gettempdir()) as entries:
        for entry in entries:
            found = _NAME.fullmatch(entry.name)
            if found and found[2] == host and _mine(entry) and not _running(int(found[1])):
                shutil.rmtree(entry.path, ignore_errors=True)


def _mine(entry: os.DirEntry[str]) -> bool:
    """Whether `entry` is a folder (not a link to one) of this user's."""
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()


def _running(pid: int) -> bool:
    """Whether process `pid` runs (one of another user's does; one ended but not yet reaped does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether process `pid` has ended and waits for its parent to reap it (where /proc tells)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[:1] == [b"Z"]
    except OSError:
        return False


atexit.register(remove_all)
