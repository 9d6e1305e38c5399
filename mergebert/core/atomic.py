"""Replacing a file in one step (or in place where no copy can be made beside it), and writing several files
whole, with the standard library alone: the merge driver's warm path imports it."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
from collections.abc import Iterator

from mergebert.core import faults


class ChangedMeanwhile(Exception):
    """The file no longer held the bytes it was expected to when it was to be replaced: left as it was."""


def atomic_write(path: str | os.PathLike[str], data: bytes, *, expected: bytes | None = None) -> None:
    """Replace `path` with `data` in one step: a temporary file in the same folder, then os.replace.

    As an ordinary write would: a symbolic link is written through (its target replaced, the link
    kept), and a file this process may not write raises PermissionError, untouched (a rename needs only
    the folder's permission). With `expected`, the file must still hold those bytes right before it is
    replaced (a save the user made meanwhile is theirs), else ChangedMeanwhile, nothing written."""
    target = os.path.realpath(path) if os.path.islink(path) else os.fspath(path)
    folder, name = os.path.split(target)
    try:
        mode: int | None = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    if mode is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), target)
    tmp = ""  # the temporary file's name once it may exist
    try:
        for attempt in range(1000):
            # set before the file exists: an exception (a signal's) right after its creation removes it too
            tmp = os.path.join(folder, f".{name}.{os.getpid()}-{attempt}.mergebert")
            try:
                # a new file gets what the umask allows, as open() gives; a replaced one its own mode (below)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
                break
            except FileExistsError:
                tmp = ""
        else:
            raise FileExistsError(f"no free temporary name next to {target}")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        faults.paused("pause-write", target)  # for the tests: a save or a signal lands right here
        if expected is not None and not _holds(target, expected):
            raise ChangedMeanwhile(target)
        os.replace(tmp, target)
    except BaseException:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def overwritten(path: str | os.PathLike[str], data: bytes) -> bool:
    """Whether `data` could be written over the file at `path` in place, as git writes a file, where no copy
    can be made beside it (a full disk: the file's own blocks are reused; a folder this process may not
    write); when not, the file gets its content back. $MERGEBERT_TEST_FAULT's `overwrite` fails the write."""
    try:
        with open(path, "rb") as f:
            old = f.read()
    except OSError:
        return False
    try:
        with open(path, "wb") as f:
            if faults.injected("overwrite"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return True
    except OSError:
        with contextlib.suppress(OSError), open(path, "wb") as f:  # the space the old content took is free
            f.write(old)
        return False


def _holds(path: str, expected: bytes) -> bool:
    """Whether the file at `path` holds exactly `expected`."""
    try:
        with open(path, "rb") as f:
            return f.read(len(expected) + 1) == expected
    except OSError:
        return False


def interrupt_on_signals() -> None:
    """SIGTERM and SIGHUP (kill, a closed terminal) raise KeyboardInterrupt in this process as ^C does,
    unless they are ignored (nohup): a write they stop removes its temporary file, as the command's
    handling of ^C cleans up, where their default action would end the process at once."""
    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) is signal.SIG_DFL:
            signal.signal(number, signal.default_int_handler)


UNINTERRUPTING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # ^C, kill, a closed terminal


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """^C, kill and a closed terminal ignored until the block ends (and in the commands it runs, as `git
    add`, unless they reset them): what a command has decided to write is written whole, never some files
    and not the others; and an editor's ^C is the editor's (`interactive`)."""
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in UNINTERRUPTING}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
