"""When the interactive commands (`resolve -i`, `mergetool --interactive`, `review`) may use colour."""

from __future__ import annotations

import os
import sys


def wants_colour() -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
