"""Resolve only what is still marked: put mergebert's resolutions into the conflicts a working file shows.

`mergebert resolve` runs on a file the user (or the merge driver) may already have worked on. Each of
git's line conflicts is looked for, as git writes it while unresolved, in the working file, in order; only
a conflict found there, and resolved by mergebert, is replaced. Neighbouring conflicts that git writes as
one are looked for joined as `git merge-file` joins them, then as `git merge` does, then one by one (as
mergebert writes them around a conflict of theirs it resolved). Every other byte of the working file is
kept: hand-made resolutions, edits outside the markers, conflicts mergebert left. Marker labels are not
compared (git's labels depend on the command that stopped), the marker lines themselves are.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pygit2

from mergebert.core import markers
from mergebert.core.atomic import uninterrupted
from mergebert.core.linemerge import Chunk, CleanText, LineConflict, git_blocks, merge_lines, render
from mergebert.core.messages import warn
from mergebert.core.options import ConflictStyle, MergeOptions
from mergebert.core.resolver import Resolution
from mergebert.core.splice import splice_texts
from mergebert.core.textio import UTF8_BOM, decode_sides, dominant_eol, split_lines
from mergebert.git import frontend, gitinfo


@dataclass(frozen=True)
class Region:
    """Some of git's line conflicts as the working file shows them while unresolved, and their resolution."""

    indices: tuple[int, ...]  # the conflicts (resolution indices) it holds
    marked: bytes
    resolved: bytes | None  # None: mergebert resolved none of them
    settled: int = 0  # how many of them `resolved` settles
    parts: tuple[Region, ...] = ()  # the same conflicts in smaller blocks, looked for where it is not found


@dataclass(frozen=True)
class Applied:
    """The working file with the resolutions applied, and what was found in it."""

    data: bytes
    found: tuple[bool, ...]  # per conflict: still marked in the working file
    replaced: int  # conflicts replaced by their resolution
    unmatched: int  # marked blocks matching none of git's conflicts (edited inside, or placed otherwise)

    @property
    def conflicts(self) -> int:
        return sum(self.found) + self.unmatched

    @property
    def left(self) -> int:
        return self.conflicts - self.replaced

    def count(self, chunks: Sequence[Chunk], size: int) -> frontend.Count:
        """The file's conflicts as the applied data shows them (`frontend.counted`), `chunks` being git's
        line merge of it."""
        return frontend.counted(self.data, self.replaced, self.left, chunks, size)


CHANGED = "changed since it was read; left alone"


def now(path: str | os.PathLike[str]) -> bytes | None:
    """The working file's bytes now; None where it cannot be read (gone)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def unchanged(path: str | os.PathLike[str], read: bytes) -> bool:
    """Whether the working file at `path` still holds the bytes `read` from it earlier: one the user has
    changed since (while later questions were answered) is not written over."""
    return now(path) == read


WRITE_LOCK = os.path.join("mergebert", "write.lock")  # in the git folder
WAITING = "waiting for another mergebert resolve, mergetool or review --undo to finish writing"


def _take_lock(repo: pygit2.Repository | None) -> int | None:
    """The write lock, held: its file descriptor; None without a repository or where the lock cannot be
    made or taken (a read-only git folder, a file system without flock). Where another command holds it,
    one line says so while it waits; ^C ends the wait (KeyboardInterrupt), nothing held."""
    if repo is None:
        return None
    try:
        path = os.path.join(repo.path, WRITE_LOCK)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            warn(WAITING)
            fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def _held(fd: int | None) -> Iterator[None]:
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


@contextmanager
def one_writer(repo: pygit2.Repository | None) -> Iterator[None]:
    """Held while a command checks and writes working files and their backups (`resolve`, `mergetool`,
    `review --undo`): a second one run meanwhile waits, then finds a file changed since it read it, where it
    would have made a second backup, or had the first remove its backup as its own."""
    with _held(_take_lock(repo)):
        yield


@contextmanager
def writing(repo: pygit2.Repository | None) -> Iterator[None]:
    """`one_writer`, then `uninterrupted` until the lock is released: ^C (or a kill) while it waits for the
    lock ends the command with nothing written; once it holds the lock, what it decided is written whole."""
    fd = _take_lock(repo)
    with uninterrupted(), _held(fd):
        yield


STYLES: tuple[ConflictStyle, ...] = ("merge", "diff3", "zdiff3")


def _groups(texts: tuple[str, str, str], count: int, style: str, alnum: bool) -> list[list[int]]:
    """The conflicts (by index) each conflict git writes holds: in the merge style, neighbouring ones
    joined as git joins them (`linemerge.git_blocks`: with `alnum`, as `git merge-file`, else as `git
    merge`); in the diff3 and zdiff3 styles, one by one."""
    blocks = git_blocks(*texts, alnum=alnum) if style == "merge" and count > 1 else []
    joined = {index for first, last in blocks for index in range(first + 1, last + 1)}
    groups: list[list[int]] = []
    for index in range(count):
        if index in joined:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def regions(
    blobs: Sequence[bytes],
    resolutions: Sequence[Resolution],
    options: MergeOptions,
    to_worktree: Callable[[bytes], bytes],
) -> list[Region]:
    """git's conflicts among the three versions (base, ours, theirs), in working-tree form: each block as
    `git merge-file` writes it; as its parts, the blocks `git merge` writes of it; as theirs, their
    conflicts one by one, as mergebert writes them around a conflict of the block it resolved."""
    (base, ours, theirs), _ = decode_sides(*blobs)
    chunks = merge_lines(base, ours, theirs)
    eol = dominant_eol(ours)
    spliced = splice_texts(chunks, [r.text for r in resolutions], eol)
    where = [p for p, c in enumerate(chunks) if isinstance(c, LineConflict)]

    def region(indices: Sequence[int], alnum: bool, parts: tuple[Region, ...] = ()) -> Region:
        first, last = where[indices[0]], where[indices[-1]] + 1
        settled = sum(isinstance(spliced[where[i]], CleanText) for i in indices)

        def written(span: Sequence[Chunk], joined: bool) -> bytes:
            text = render(span, options, eol=eol, alnum=alnum, joined=joined)
            return to_worktree(text.encode("utf-8"))

        resolved = written(spliced[first:last], False) if settled else None
        return Region(tuple(indices), written(chunks[first:last], True), resolved, settled, parts)

    def one_by_one(indices: Sequence[int]) -> tuple[Region, ...]:
        return tuple(region([index], True) for index in indices)

    texts = (base, ours, theirs)
    zealous = _groups(texts, len(where), options.style, alnum=False)
    found = []
    for group in _groups(texts, len(where), options.style, alnum=True):
        parts = tuple(region(inner, False, one_by_one(inner)) for inner in zealous if inner[0] in group)
        found.append(region(group, True, parts))
    return found


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
    return len(markers.blocks(keys, size))


def apply(working: bytes, found: Sequence[Region], size: int) -> Applied:
    """Replace each region still marked in `working` (in order) by its resolution; keep every other byte.
    A region not found is looked for in its parts (conflicts git joins otherwise, or one at a time)."""
    bom = UTF8_BOM if working.startswith(UTF8_BOM) else b""
    lines = split_lines(working[len(bom) :])
    keys = [_key(line, size) for line in lines]
    out: list[bytes] = [bom]
    cursor, replaced, matched = 0, 0, 0
    still: dict[int, bool] = {}

    def put(region: Region) -> None:
        nonlocal cursor, replaced, matched
        wanted = _keys(region.marked, size)
        at = _find(keys, wanted, cursor)
        if at is None:
            for part in region.parts:
                put(part)
            return
        still.update(dict.fromkeys(region.indices, True))
        matched += _blocks(wanted, size)
        end = at + len(wanted)
        out.extend(lines[cursor:at])
        if region.resolved is None:
            out.extend(lines[at:end])
        else:
            out.append(region.resolved)
            replaced += region.settled
        cursor = end

    for region in found:
        put(region)
    out.extend(lines[cursor:])
    total = max((i for region in found for i in region.indices), default=-1) + 1
    flags = tuple(still.get(i, False) for i in range(total))
    return Applied(b"".join(out), flags, replaced, _blocks(keys, size) - matched)


def resolve_working_file(
    repo: pygit2.Repository | None,
    path: str,
    working: bytes,
    blobs: Sequence[bytes],
    options: MergeOptions,
    resolutions: Sequence[Resolution],
) -> Applied:
    """`resolutions` of the three versions (base, ours, theirs) applied to the working file's bytes, with
    the repository's working-tree filters (line endings) applied to what is compared and written.

    git writes conflicts in the configured style, or in another (`git -c merge.conflictStyle=diff3`,
    `checkout --conflict=zdiff3`): the configured style is tried first, then the others, and the one
    that finds the most of the file's conflicts wins."""
    tried = []
    for style in _styles_from(options):
        found = worktree_regions(repo, path, blobs, replace(options, style=style), resolutions)
        applied = apply(working, found, options.marker_size)
        if not applied.unmatched:
            return applied
        tried.append(applied)
    return min(tried, key=lambda applied: applied.unmatched)


def _styles_from(options: MergeOptions) -> tuple[ConflictStyle, ...]:
    """The conflict styles git may have written a file in: the configured one first."""
    return (options.style, *(style for style in STYLES if style != options.style))


def resolved_file(
    repo: pygit2.Repository | None,
    path: str,
    working: bytes,
    blobs: Sequence[bytes],
    options: MergeOptions,
    outcome: frontend.Outcome,
    remerge: Callable[[MergeOptions], frontend.Outcome],
) -> Applied:
    """`outcome`'s resolutions put into the working file (`resolve_working_file`), or, where some of its
    marked blocks match none of mergebert's conflicts and it is git's own merge untouched, the whole file's
    merge (`as_gits_own_merge`): what `resolve` and `mergetool` write."""
    applied = resolve_working_file(repo, path, working, blobs, options, outcome.resolutions)
    if not applied.unmatched:
        return applied
    return as_gits_own_merge(repo, path, working, blobs, options, outcome, remerge) or applied


def as_gits_own_merge(
    repo: pygit2.Repository | None,
    path: str,
    working: bytes,
    blobs: Sequence[bytes],
    options: MergeOptions,
    outcome: frontend.Outcome,
    remerge: Callable[[MergeOptions], frontend.Outcome],
) -> Applied | None:
    """mergebert's merge of the whole file (`outcome`, made with its own line merge), as the merge driver
    writes it, where `working` is git's own merge untouched (`git merge`'s, the ort strategy's, whose
    conflicts its histogram diff may place otherwise than mergebert's finds them; labels aside; in any
    conflict style, the conflicts mergebert leaves then written in it by `remerge`) and the resolutions
    change no line that merge left clean (`frontend.keeps_clean_lines`); None otherwise."""
    if not outcome.resolved:
        return None
    shown = gitinfo.to_worktree(repo, path)
    for style in _styles_from(options):
        gits, left = frontend.line_merge(*blobs[:3], replace(options, style=style, engine="ort"))
        if left and _keys(shown(gits), options.marker_size) == _keys(working, options.marker_size):
            break
    else:
        return None
    if style != options.style and outcome.left:
        outcome = remerge(replace(options, style=style))
    if not frontend.keeps_clean_lines(gits, outcome.data, options.marker_size, *blobs[:3]):
        return None
    return Applied(shown(outcome.data), (True,) * len(outcome.resolutions), outcome.resolved, 0)


def unmatched_note(count: int) -> str:
    """What is said of `count` marked blocks that match none of mergebert's line conflicts."""
    return (
        f"{count} marked conflict(s) not where mergebert finds git's conflicts (edited inside the markers, "
        "or placed otherwise by git's own merge); kept as they are"
    )


def _keys(data: bytes, size: int) -> list[bytes]:
    return [_key(line, size) for line in split_lines(data)]


def worktree_regions(
    repo: pygit2.Repository | None,
    path: str,
    blobs: Sequence[bytes],
    options: MergeOptions,
    resolutions: Sequence[Resolution],
) -> list[Region]:
    """`regions` in working-tree form: through the repository's filters (line endings) for `path`."""
    return regions(blobs, resolutions, options, gitinfo.to_worktree(repo, path))
