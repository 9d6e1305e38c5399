"""What the whole file says about a merge: how much each side changed outside the line conflicts.

Developers tend to resolve a file's conflicts in one direction, towards the side that did more of the
work; the classifier's second stage reads these counts (see ``neural/acceptor.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pygit2

from mergebert.core.linemerge import Chunk, LineConflict
from mergebert.core.textio import line_count


def _changed_lines(old: str, new: str) -> int:
    _, additions, deletions = pygit2.Patch.create_from(old, new).line_stats
    return additions + deletions


class FileFacts:
    """How many lines ours and theirs changed outside the line conflicts; diffed only when first read, so
    a merge without the model never pays for it."""

    def __init__(self, base: str, ours: str, theirs: str, chunks: Sequence[Chunk]) -> None:
        self._base, self._ours, self._theirs = base, ours, theirs
        self._conflicts = [chunk for chunk in chunks if isinstance(chunk, LineConflict)]

    def _outside(self, text: str, side: str) -> int:
        """Lines `text` (the side called `side`) changed against base, less the lines of the conflicts in
        which that side differs from base."""
        inside = sum(
            line_count(getattr(c, side)) + line_count(c.base)
            for c in self._conflicts
            if getattr(c, side) != c.base
        )
        return max(0, _changed_lines(self._base, text) - inside)

    @functools.cached_property
    def ours_changed(self) -> int:
        """Lines ours added or deleted outside the line conflicts."""
        return self._outside(self._ours, "ours")

    @functools.cached_property
    def theirs_changed(self) -> int:
        """The same for theirs."""
        return self._outside(self._theirs, "theirs")

    @property
    def direction(self) -> float:
        """+1 when only ours changed the rest of the file, -1 when only theirs did, 0 when balanced."""
        return (self.ours_changed - self.theirs_changed) / (self.ours_changed + self.theirs_changed + 1)
