"""Where a repository's git folders are, read from the folders themselves (`os` only)."""

from __future__ import annotations

import os


def common_dir(git_dir: str) -> str:
    """The git folder all work trees of the repository share (a linked work tree's own git folder names it
    in its `commondir` file), with symbolic links resolved."""
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as f:
            shared = f.read().strip()
    except OSError:  # not a linked work tree
        shared = ""
    return os.path.realpath(os.path.join(git_dir, shared))
