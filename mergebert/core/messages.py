"""The one way mergebert talks to a user on stderr: a line prefixed like git's own messages."""

from __future__ import annotations

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
