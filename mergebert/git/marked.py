"""Resolve only what is still marked: put mergebert's resolutions into the conflicts a working file shows.

`mergebert resolve` runs on a file the user (or the merge driver) may already have worked on. Each of
git's line conflicts is looked for, as git writes it while unresolved, in the working file, in order; only
a conflict found there, and resolved by mergebert, is replaced. Every other byte of the working file is
kept: hand-made resolutions, edits outside the markers, conflicts mergebert left. Marker labels are not
compared (git's labels depend on the command that stopped), the marker lines themselves are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pygit2

from mergebert.core import markers
from mergebert.core.linemerge import CleanText, LineConflict, merge_lines, render
from mergebert.core.options import MergeOptions
from mergebert.core.resolver import Resolution, _splice
from mergebert.core.textio import UTF8_BOM, decode, dominant_eol


@dataclass(frozen=True)
class Region:
    """One of git's line conflicts: as it reads while unresolved, and its resolution (None: left)."""

    marked: bytes
    resolved: bytes | None


@dataclass(frozen=True)
class Applied:
    """The working file with the resolutions applied, and what was found in it."""

    data: bytes
    marked: int  # conflict blocks (start markers) in the working file
    matched: int  # of those, found as one of git's conflicts
    replaced: int  # of those, replaced by a resolution
    found: tuple[bool, ...]  # per region: still marked in the working file

    @property
    def unmatched(self) -> int:
        """Marked conflicts that match none of git's: edited inside the markers, or placed otherwise."""
        return self.marked - self.matched


def regions(
    blobs: Sequence[bytes],
    resolutions: Sequence[Resolution],
    options: MergeOptions,
    to_worktree: Callable[[bytes], bytes],
) -> list[Region]:
    """git's conflicts among the three versions (base, ours, theirs), in working-tree form."""
    base, ours, theirs = (decode(blob).text for blob in blobs)
    chunks = merge_lines(base, ours, theirs)
    eol = dominant_eol(ours)
    spliced = _splice(chunks, resolutions, eol)
    found = []
    for chunk, after in zip(chunks, spliced, strict=True):
        if not isinstance(chunk, LineConflict):
            continue
        marked = to_worktree(render([chunk], options, eol=eol).encode("utf-8"))
        resolved = to_worktree(after.text.encode("utf-8")) if isinstance(after, CleanText) else None
        found.append(Region(marked, resolved))
    return found


def _lines(data: bytes) -> list[bytes]:
    """Lines as git sees them, each with its line ending."""
    lines = [line + b"\n" for line in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _key(line: bytes, size: int) -> bytes:
    """A line compared without a marker's label."""
    kind = markers.kind(line, size)
    if kind in ("<", "|", ">"):
        ending = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
        return kind.encode() * size + ending
    return line


def _find(keys: Sequence[bytes], wanted: Sequence[bytes], start: int) -> int | None:
    for at in range(start, len(keys) - len(wanted) + 1):
        if keys[at : at + len(wanted)] == wanted:
            return at
    return None


def _blocks(keys: Sequence[bytes], size: int) -> int:
    return sum(1 for key in keys if markers.kind(key, size) == "<")


def apply(working: bytes, found: Sequence[Region], size: int) -> Applied:
    """Replace each region still marked in `working` (in order) by its resolution; keep every other byte."""
    bom = UTF8_BOM if working.startswith(UTF8_BOM) else b""
    lines = _lines(working[len(bom) :])
    keys = [_key(line, size) for line in lines]
    out: list[bytes] = [bom]
    cursor, replaced, matched, seen = 0, 0, 0, []
    for region in found:
        wanted = [_key(line, size) for line in _lines(region.marked)]
        at = _find(keys, wanted, cursor)
        seen.append(at is not None)
        if at is None:
            continue
        blocks = _blocks(wanted, size)
        matched += blocks
        end = at + len(wanted)
        if region.resolved is None:
            out.extend(lines[cursor:end])
        else:
            out.extend(lines[cursor:at])
            out.append(region.resolved)
            replaced += blocks
        cursor = end
    out.extend(lines[cursor:])
    return Applied(b"".join(out), _blocks(keys, size), matched, replaced, tuple(seen))


def resolve_working_file(
    repo: pygit2.Repository | None,
    path: str,
    working: bytes,
    blobs: Sequence[bytes],
    options: MergeOptions,
    resolutions: Sequence[Resolution],
) -> Applied:
    """`resolutions` of the three versions (base, ours, theirs) applied to the working file's bytes, with
    the repository's working-tree filters (line endings) applied to what is compared and written."""
    filters = repo.load_filter_list(path, pygit2.enums.FilterMode.TO_WORKTREE) if repo is not None else None
    to_worktree = filters.apply_to_buffer if filters is not None else bytes
    return apply(working, regions(blobs, resolutions, options, to_worktree), options.marker_size)
