"""Replacing a file in one step, with nothing but `os`: the merge driver's warm path imports it."""

from __future__ import annotations

import contextlib
import errno
import os


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data` in one step: a temporary file in the same folder, then os.replace.

    As an ordinary write would: a symbolic link is written through (its target replaced, the link
    kept), and a file this process may not write raises PermissionError, untouched (a rename needs only
    the folder's permission)."""
    target = os.path.realpath(path) if os.path.islink(path) else os.fspath(path)
    folder, name = os.path.split(target)
    try:
        mode: int | None = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    if mode is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), target)
    for attempt in range(1000):
        tmp = os.path.join(folder, f".{name}.{os.getpid()}-{attempt}.mergebert")
        try:
            # a new file gets what the umask allows, as open() gives; a replaced one its own mode (below)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name next to {target}")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
