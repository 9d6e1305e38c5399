"""The one way mergebert talks to a user on stderr: a line prefixed like git's own messages."""

from __future__ import annotations

import sys
from collections.abc import Sequence

PREFIX = "mergebert: "


def warn(message: str) -> None:
    """One line on stderr: `mergebert: <message>`."""
    print(f"{PREFIX}{message}", file=sys.stderr, flush=True)


def some_of(names: Sequence[str], shown: int = 3) -> str:
    """The first `shown` of `names`, comma-separated, with `, ...` where there are more."""
    return ", ".join(names[:shown]) + ", ..." * (len(names) > shown)
