"""What the whole file says about a merge: how much each side changed outside the line conflicts.

Developers tend to resolve a file's conflicts in one direction, towards the side that did more of the
work; the classifier's second stage reads these counts (see ``neural/acceptor.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pygit2

from mergebert.core.linemerge import Chunk, LineConflict


@dataclass(frozen=True)
class FileFacts:
    ours_changed: int  # lines ours added or deleted outside the line conflicts
    theirs_changed: int  # the same for theirs
    conflicts: int  # line conflicts in the file

    @property
    def direction(self) -> float:
        """+1 when only ours changed the rest of the file, -1 when only theirs did, 0 when balanced."""
        return (self.ours_changed - self.theirs_changed) / (self.ours_changed + self.theirs_changed + 1)


def _changed_lines(old: str, new: str) -> int:
    _, additions, deletions = pygit2.Patch.create_from(old, new).line_stats
    return additions + deletions


def _line_count(text: str) -> int:
    return text.count("\n") + (not text.endswith("\n") and bool(text))


def file_facts(base: str, ours: str, theirs: str, chunks: Sequence[Chunk]) -> FileFacts:
    """Line counts of each side's changes to `base`, less the lines inside the conflicts."""
    conflicts = [chunk for chunk in chunks if isinstance(chunk, LineConflict)]
    in_ours = sum(_line_count(c.ours) + _line_count(c.base) for c in conflicts if c.ours != c.base)
    in_theirs = sum(_line_count(c.theirs) + _line_count(c.base) for c in conflicts if c.theirs != c.base)
    return FileFacts(
        max(0, _changed_lines(base, ours) - in_ours),
        max(0, _changed_lines(base, theirs) - in_theirs),
        len(conflicts),
    )
