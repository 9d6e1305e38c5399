"""Folders a process keeps for its whole life (scratch object stores, a training run's staging folder),
removed when it ends: at a normal exit, and by `exit_now`, which ends the process with `os._exit` (that
skips exit handlers). The owner holds an exclusive `flock` on a lock file inside the folder while it
lives, so that the folders of a process killed before it could remove them (SIGKILL, a crash) are removed
later by whoever can take that lock (`remove_abandoned`). The kernel releases it when the process ends,
whatever PID namespace it ran in (and a file system that shares locks between machines, as NFS does unless
mounted without them, tells a run on another machine too)."""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import os
import shutil
import signal
import sys
import tempfile
from typing import NoReturn

LOCK = "mergebert.lock"  # the lock file in every folder `make` gives
NO_LOCKS = (errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP)  # a file system without flock
_held: dict[str, int | None] = {}  # folder → the open lock file whose lock this process holds, if any


def make(prefix: str, suffix: str = "", parent: str | None = None) -> str:
    """A new folder `<prefix><random><suffix>` in `parent` (default: the temporary folder), locked by this
    process and removed when it ends (unless `move` gives it up first). On a file system without locks it
    is made unlocked: removed at exit still, but not by others if this process is killed."""
    folder = tempfile.mkdtemp(suffix, prefix, parent)
    try:
        _held[folder] = _lock(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _lock(folder: str) -> int | None:
    """Lock `folder`: its lock file is locked under another name and then renamed, so that no one finds
    it unlocked while its owner lives; None where the file system has no locks."""
    fd, path = tempfile.mkstemp(dir=folder)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as error:
        os.close(fd)
        os.remove(path)
        if error.errno in NO_LOCKS:
            return None
        raise
    os.rename(path, os.path.join(folder, LOCK))
    return fd


def move(folder: str, target: str) -> None:
    """Rename `folder` (`make`'s) to `target` and keep it there for good, without its lock file; where the
    rename fails the folder stays this process's, locked, and is removed when it ends."""
    os.rename(folder, target)
    fd = _held.pop(folder)
    if fd is not None:
        os.remove(os.path.join(target, LOCK))
        os.close(fd)


def remove(folder: str) -> None:
    """Remove `folder` (`make`'s), then let go of its lock."""
    shutil.rmtree(folder, ignore_errors=True)
    fd = _held.pop(folder)
    if fd is not None:
        os.close(fd)


def remove_all() -> None:
    """Remove every folder `make` gave this process."""
    while _held:
        remove(next(iter(_held)))


def exit_now(status: int) -> NoReturn:
    """End the process with `status` at once, without waiting for a thread that may be stuck in native code
    (a resolve past its time limit: Python would wait for it, or abort, at its exit); stderr flushed and
    the folders `make` gave removed first, as the exit handlers `os._exit` skips would."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
    remove_all()
    os._exit(status)


def die_of_sigpipe() -> NoReturn:
    """End as a program that writes to a pipe nobody reads ends (git, cat): killed by SIGPIPE, silently,
    which Python, ignoring the signal, does not do; the folders `make` gave removed first."""
    remove_all()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(128 + signal.SIGPIPE)  # not reached: the signal ends the process


def intact() -> bool:
    """Whether every folder `make` gave this process is still there, holding the lock file this process
    locked (a temporary-folder cleaner, `rm -rf $TMPDIR/mergebert-*`, may have removed them)."""
    for folder, fd in _held.items():
        try:
            found = os.lstat(os.path.join(folder, LOCK) if fd is not None else folder)
        except OSError:
            return False
        if fd is not None and not os.path.samestat(os.fstat(fd), found):
            return False
    return True


def remove_abandoned(parent: str | None = None, prefix: str = "mergebert-", suffix: str = "") -> list[str]:
    """Remove the folders named `<prefix>…<suffix>` in `parent` (default: the temporary folder) whose owner
    ended without removing them: this user's, not links, with a lock file no process holds; the paths
    removed. Folders without a lock file (older releases made those) stay."""
    parent = parent or tempfile.gettempdir()
    named = [name for name in os.listdir(parent) if name.startswith(prefix) and name.endswith(suffix)]
    return [path for path in (os.path.join(parent, name) for name in named) if _removed_if_abandoned(path)]


def _removed_if_abandoned(folder: str) -> bool:
    """Whether `folder` was abandoned and is now removed: its lock taken, then the folder removed."""
    try:
        fd = _open_lock(folder)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not os.path.samestat(os.fstat(fd), os.lstat(os.path.join(folder, LOCK))):
            return False  # removed by its owner, which held the lock until it was done
        shutil.rmtree(folder)  # refuses a link put in the folder's place
    except OSError:  # the lock is held (BlockingIOError), or the folder is gone or cannot all be removed
        return False
    finally:
        os.close(fd)
    return True


def _open_lock(folder: str) -> int:
    """The lock file of `folder`, opened: OSError where `folder` is a link, not a folder, another user's,
    or has no lock file."""
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        if os.fstat(folder_fd).st_uid != os.getuid():
            raise PermissionError(f"{folder} is another user's")
        return os.open(LOCK, os.O_RDWR | os.O_NOFOLLOW, dir_fd=folder_fd)  # RDWR: NFS locks need it
    finally:
        os.close(folder_fd)


atexit.register(remove_all)
