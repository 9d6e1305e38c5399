"""The one way mergebert talks to a user: a line on stderr prefixed like git's own messages, or a report's
line on stdout; one that nobody can read is dropped, and never stops the work."""

from __future__ import annotations

import codecs
import io
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

PREFIX = "mergebert: "
INTERRUPTED_STATUS = 128 + signal.SIGINT  # the exit status of a command ^C ended, as shells report it


@contextmanager
def ctrl_c_says(what: str) -> Iterator[None]:
    """A ^C inside ends the command with one line, `interrupted: <what>` (what the user has now), and
    INTERRUPTED_STATUS."""
    try:
        yield
    except KeyboardInterrupt:
        warn(f"interrupted: {what}")
        raise SystemExit(INTERRUPTED_STATUS) from None


def warn(message: str) -> None:
    """One line on stderr: `mergebert: <message>`."""
    say(f"{PREFIX}{message}")


def say(text: str, *, stdout: bool = False) -> None:
    """`text` as a line on stderr (a report's line on stdout, with `stdout`), where there is one to write
    to: without it (`2>&-`), or with one nobody reads any more (a closed pipe: `| head -1`), the line is
    lost, never the work or the exit status that follow, and never written to stdout instead (print's
    fallback where sys.stderr is None)."""
    name = "stdout" if stdout else "stderr"
    stream = getattr(sys, name)
    if stream is None:  # Python started without that file descriptor
        return
    try:
        stream.write(f"{text}\n")
        stream.flush()
    except (OSError, ValueError):  # EPIPE, EBADF, a full disk; ValueError: the stream was closed
        _silence(name, stream)


def _silence(name: str, stream: TextIO) -> None:
    """Point the stream `sys.<name>` that failed at /dev/null: what it still buffers (which Python would
    flush at exit, then exit 120 when that fails) and every later line, a child process's too, go nowhere."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
        stream.flush()
    except (OSError, ValueError):  # not a file descriptor's stream: stop writing to it at all
        setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (open to the end)


def some_of(names: Sequence[str], shown: int = 3) -> str:
    """The first `shown` of `names`, comma-separated, with `, ...` where there are more."""
    return ", ".join(names[:shown]) + ", ..." * (len(names) > shown)


NAMES_AS_BYTES = "mergebert-names-as-bytes"


def _names_as_bytes(error: UnicodeError) -> tuple[str | bytes, int]:
    """The error handler `write_names_as_bytes` sets: a file name's bytes that are not UTF-8 (which Python
    reads as surrogate escapes) written as those bytes, anything else a stream cannot encode escaped."""
    if isinstance(error, UnicodeEncodeError) and all(
        "\udc80" <= char <= "\udcff" for char in error.object[error.start : error.end]
    ):
        return codecs.lookup_error("surrogateescape")(error)
    return codecs.lookup_error("backslashreplace")(error)


def write_names_as_bytes() -> None:
    """Have stdout and stderr write a file name that is not UTF-8 as its bytes, as git writes it in its
    messages (`CONFLICT (content): Merge conflict in <name>`); Python would write `\\udce9` escapes on
    stderr, and fail on stdout in a UTF-8 locale other than C.UTF-8."""
    codecs.register_error(NAMES_AS_BYTES, _names_as_bytes)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=NAMES_AS_BYTES)


def open_standard_fds() -> None:
    """/dev/null on file descriptors 0, 1 and 2 where they are closed (`2>&-`), as git opens it at its
    start: a file mergebert opens never takes one's number, where a library's or a child's output to it
    would land; and sys.stdin, stdout and stderr, None where Python started without them, on those."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            os.set_inheritable(os.open(os.devnull, os.O_RDWR), True)  # the lowest number free: `fd`
        if getattr(sys, name) is None:  # Python started without it: its stream, on that /dev/null
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", encoding="utf-8", closefd=False))  # noqa: SIM115
