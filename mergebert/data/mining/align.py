"""Reading the developer's resolution of each conflict off the merge commit's file.

The merged file has each conflict replaced by one sentinel line and is line-diffed (libgit2, no
context) against the committed file. A conflict's resolution is read off when its sentinel is the
only line removed in its hunk; the hunk's added lines are then the resolution. Every other hunk means
the committed file differs from the merged file outside the conflicts.

A resolution read off that way can still be a guess: when the equal lines between a conflict's hunk and
a neighbouring hunk occur more than once in the committed text the two hunks span, the diff could have
"slid" them, so where the resolution starts or ends is arbitrary. Such conflicts are listed as `sliding`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pygit2

from mergebert.core.linemerge import Chunk, CleanText
from mergebert.core.textio import line_count


@dataclass(frozen=True)
class Alignment:
    resolutions: tuple[str | None, ...]  # per conflict: the committed lines, or None when ambiguous
    clean_context: bool  # the committed file equals the merged file outside the conflicts
    sliding: frozenset[int] = frozenset()  # conflicts whose resolution boundaries are a guess

    @property
    def complete(self) -> bool:
        """Every conflict aligned and nothing changed outside them: the file is an exact scenario."""
        return self.clean_context and all(text is not None for text in self.resolutions)


def align(chunks: Sequence[Chunk], resolved: str) -> Alignment:
    """Align each conflict of `chunks` (git's line merge) with the committed file `resolved`."""
    tag = uuid.uuid4().hex
    parts: list[str] = []
    sentinel_lines: dict[int, int] = {}  # 1-based line of the sentinel -> conflict index
    line = 1
    for chunk in chunks:
        if isinstance(chunk, CleanText):
            parts.append(chunk.text)
            line += line_count(chunk.text)
        else:
            sentinel_lines[line] = len(sentinel_lines)
            parts.append(f"@@mergebert-conflict-{len(sentinel_lines)}-{tag}@@\n")
            line += 1
    resolutions: list[str | None] = [None] * len(sentinel_lines)
    clean = True
    patch = pygit2.Patch.create_from("".join(parts), resolved, context_lines=0, interhunk_lines=0)
    hunk_conflicts: list[int | None] = []  # per hunk: the conflict it resolves, if any
    for hunk in patch.hunks:
        removed = [ln.old_lineno for ln in hunk.lines if ln.origin == "-"]
        if len(removed) == 1 and removed[0] in sentinel_lines:
            added = "".join(ln.content for ln in hunk.lines if ln.origin == "+")
            resolutions[sentinel_lines[removed[0]]] = added
            hunk_conflicts.append(sentinel_lines[removed[0]])
        else:
            clean = False
            hunk_conflicts.append(None)
    sliding = _sliding(patch.hunks, hunk_conflicts, resolved.splitlines(keepends=True))
    return Alignment(tuple(resolutions), clean, sliding)


def _new_span(hunk: pygit2.DiffHunk) -> tuple[int, int]:
    """The hunk's lines in the new text, 0-based and half-open (empty where it only removes lines)."""
    start = hunk.new_start - 1 if hunk.new_lines else hunk.new_start
    return start, start + hunk.new_lines


def _occurrences(block: list[str], lines: list[str]) -> int:
    return sum(lines[i : i + len(block)] == block for i in range(len(lines) - len(block) + 1))


def _sliding(
    hunks: Sequence[pygit2.DiffHunk], conflicts: Sequence[int | None], new_lines: list[str]
) -> frozenset[int]:
    """Conflicts whose hunk and a neighbouring hunk are separated by equal lines that occur more than
    once in the new text the two hunks span."""
    guessed: set[int] = set()
    for (first, one), (second, two) in zip(
        zip(hunks, conflicts, strict=True), zip(hunks[1:], conflicts[1:], strict=True), strict=False
    ):
        if one is None and two is None:
            continue
        start, gap_start = _new_span(first)
        gap_end, end = _new_span(second)
        gap = new_lines[gap_start:gap_end]
        if gap and _occurrences(gap, new_lines[start:end]) > 1:
            guessed.update(index for index in (one, two) if index is not None)
    return frozenset(guessed)
