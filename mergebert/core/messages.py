"""The one way mergebert talks to a user on stderr: a line prefixed like git's own messages."""

from __future__ import annotations

import codecs
import io
import signal
import sys
from collections.abc import Sequence

PREFIX = "mergebert: "
INTERRUPTED_STATUS = 128 + signal.SIGINT  # the exit status of a command ^C ended, as shells report it


def warn(message: str) -> None:
    """One line on stderr: `mergebert: <message>`."""
    print(f"{PREFIX}{message}", file=sys.stderr, flush=True)


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
