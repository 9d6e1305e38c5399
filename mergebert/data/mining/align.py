"""Reading the developer's resolution of each conflict off the merge commit's file.

The merged file has each conflict replaced by one sentinel line and is line-diffed (libgit2, no
context) against the committed file. A conflict's resolution is unambiguous when its sentinel is the
only line removed in its hunk; the hunk's added lines are then the resolution. Every other hunk means
the committed file differs from the merged file outside the conflicts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pygit2

from mergebert.core.linemerge import Chunk, CleanText


@dataclass(frozen=True)
class Alignment:
    resolutions: tuple[str | None, ...]  # per conflict: the committed lines, or None when ambiguous
    clean_context: bool  # the committed file equals the merged file outside the conflicts

    @property
    def complete(self) -> bool:
        """Every conflict aligned and nothing changed outside them: the file is an exact scenario."""
        return self.clean_context and all(text is not None for text in self.resolutions)


def line_count(text: str) -> int:
    """Lines as xdiff counts them: split at "\\n", a last line without ending still counts."""
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


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
    for hunk in patch.hunks:
        removed = [ln.old_lineno for ln in hunk.lines if ln.origin == "-"]
        if len(removed) == 1 and removed[0] in sentinel_lines:
            added = "".join(ln.content for ln in hunk.lines if ln.origin == "+")
            resolutions[sentinel_lines[removed[0]]] = added
        else:
            clean = False
    return Alignment(tuple(resolutions), clean)
