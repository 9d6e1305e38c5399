"""The one way mergebert talks to a user on stderr: a line prefixed like git's own messages."""

from __future__ import annotations

import sys

PREFIX = "mergebert: "


def warn(message: str) -> None:
    """One line on stderr: `mergebert: <message>`."""
    print(f"{PREFIX}{message}", file=sys.stderr, flush=True)
