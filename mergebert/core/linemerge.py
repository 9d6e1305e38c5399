"""Stage 1: git's three-way line merge through libgit2, as `git merge-file --diff3` computes it."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pygit2
from pygit2.enums import FileMode, MergeFavor, MergeFileFlag
from pygit2.ffi import C, ffi

from mergebert.core import lineranges, markers, tempdirs
from mergebert.core.options import DEFAULT_LABELS, DIFF3, GIT_DEFAULT, MergeOptions
from mergebert.core.textio import is_binary, split_lines


@dataclass(frozen=True)
class CleanText:
    text: str


@dataclass(frozen=True)
class MarkerEnding:
    """What git looks at outside a conflict to end its marker lines with CRLF or LF (xdiff's is_cr_needed):
    whether the line before it in ours and in theirs (their first lines at the file's start) ends in CRLF,
    and whether base's first line does; None where a file cannot tell (empty, one line without ending)."""

    ours: bool | None
    theirs: bool | None
    base: bool | None

    @property
    def newline(self) -> str:
        """CRLF unless ours or theirs says LF, or base's first line does not say CRLF."""
        return "\r\n" if self.ours is not False and self.theirs is not False and self.base else "\n"


@dataclass(frozen=True)
class LineConflict:
    ours: str
    base: str
    theirs: str
    # where git would write it (None: a conflict of no file, whose markers `render` ends with its `eol`)
    ending: MarkerEnding | None = field(default=None, compare=False)


Chunk = CleanText | LineConflict


@functools.cache
def _scratch_repository() -> pygit2.Repository:
    """An in-memory repository whose object store is a throw-away folder, to hand blobs to libgit2."""
    folder = tempdirs.make("mergebert-odb-")
    odb = pygit2.Odb()
    odb.add_backend(pygit2.OdbBackendLoose(folder, 1, False), 1)
    repo = pygit2.Repository()
    repo.set_odb(odb)
    return repo


@dataclass(frozen=True)
class StoredBlobs:
    """The three versions as blobs already in a repository (base, ours, theirs), to spare writing them."""

    repository: pygit2.Repository
    ids: tuple[pygit2.Oid, pygit2.Oid, pygit2.Oid]


_FAVOUR = {
    None: MergeFavor.NORMAL,
    "ours": MergeFavor.OURS,
    "theirs": MergeFavor.THEIRS,
    "union": MergeFavor.UNION,
}


_WHITESPACE = {
    "ignore-space-change": MergeFileFlag.IGNORE_WHITESPACE_CHANGE,
    "ignore-all-space": MergeFileFlag.IGNORE_WHITESPACE,
    "ignore-space-at-eol": MergeFileFlag.IGNORE_WHITESPACE_EOL,
    "ignore-cr-at-eol": MergeFileFlag.IGNORE_WHITESPACE_EOL,  # libgit2 has no CR-only flag: the nearest
}


def _libgit2_merge(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    options: MergeOptions,
    stored: StoredBlobs | None = None,
    *,
    alnum: bool = True,
) -> tuple[bytes, bool]:
    """libgit2's git_merge_file_from_index over three blobs: (merged bytes, automergeable). In the merge
    style, conflicts are joined as `git merge-file` joins them, or with `alnum` False as `git merge` does."""
    if stored is None:
        repo = _scratch_repository()
        ids = [repo.create_blob(data) for data in (base, ours, theirs)]
    else:
        repo, ids = stored.repository, list(stored.ids)
    entries = [pygit2.IndexEntry("file", blob_id, FileMode.BLOB) for blob_id in ids]
    keep_alive = [entry._to_c() for entry in entries]
    c_options = ffi.new("git_merge_file_options *")
    c_options.version = 1
    # a label is a file name (merge-file) that may not be UTF-8: its bytes, as git writes it
    label_strings = [ffi.new("char[]", label.encode("utf-8", "surrogateescape")) for label in options.labels]
    c_options.our_label, c_options.ancestor_label, c_options.their_label = (
        label_strings[0],
        label_strings[1],
        label_strings[2],
    )
    # git merge-file also joins conflicts separated only by lines without letters or digits
    flag = {
        "merge": MergeFileFlag.STYLE_MERGE | (MergeFileFlag.SIMPLIFY_ALNUM if alnum else 0),
        "diff3": MergeFileFlag.STYLE_DIFF3,
        "zdiff3": MergeFileFlag.STYLE_ZDIFF3 | MergeFileFlag.SIMPLIFY_ALNUM,
    }[options.style]
    for ignored in options.whitespace:
        flag |= _WHITESPACE[ignored]
    c_options.flags = int(flag)
    c_options.favor = int(_FAVOUR[options.favour])
    c_options.marker_size = options.marker_size
    result = ffi.new("git_merge_file_result *")
    err = C.git_merge_file_from_index(
        result, repo._repo, keep_alive[0][0], keep_alive[1][0], keep_alive[2][0], c_options
    )
    if err < 0:
        raise RuntimeError(f"libgit2 merge failed with error {err}")
    try:
        merged = bytes(ffi.buffer(result.ptr, result.len)) if result.ptr != ffi.NULL else b""
        return merged, bool(result.automergeable)
    finally:
        C.git_merge_file_result_free(result)


def _safe_marker_size(*texts: str) -> int:
    """A marker size longer than any run of marker characters that starts a line in the inputs."""
    return max(markers.DEFAULT_SIZE, markers.longest_run(*texts) + 1)


def merge_lines(base: str, ours: str, theirs: str, stored: StoredBlobs | None = None) -> list[Chunk]:
    """Merge three texts line by line; returns clean text and conflicts exactly as git delimits them.

    `stored` names the same three texts as blobs in a repository (their UTF-8 bytes), as when mining.
    """
    size = _safe_marker_size(base, ours, theirs)
    merged, _ = _libgit2_merge(
        base.encode("utf-8"),
        ours.encode("utf-8"),
        theirs.encode("utf-8"),
        MergeOptions(size, DEFAULT_LABELS, "diff3"),
        stored,
    )
    chunks = parse_diff3(merged.decode("utf-8"), marker_size=size, sides=(ours, base, theirs))
    return _placed(chunks, MarkerEnding(*map(_first_line_crlf, (ours, theirs, base))))


def git_blocks(base: str, ours: str, theirs: str, *, alnum: bool = True) -> list[tuple[int, int]]:
    """Which conflicts of `merge_lines` each conflict block of git's merge style holds: (first, last)
    indices. git narrows each conflict to the lines where ours and theirs differ, then joins two blocks
    that no change of either side (nor a conflict whose sides are equal) separates, when three lines or
    fewer separate them, or (with `alnum`, as `git merge-file` does, not `git merge`) lines without
    letters or digits (xdiff's xdl_simplify_non_conflicts). Read from libgit2's merge-style merge, by the
    lines each block and each conflict takes of the merge with every conflict given our side."""
    size = _safe_marker_size(base, ours, theirs)
    texts = (base.encode("utf-8"), ours.encode("utf-8"), theirs.encode("utf-8"))
    diff3, _ = _libgit2_merge(*texts, MergeOptions(size, DEFAULT_LABELS, "diff3"))
    merged, _ = _libgit2_merge(*texts, MergeOptions(size, DEFAULT_LABELS, "merge"), alnum=alnum)
    conflicts = ours_spans(parse_diff3(diff3.decode("utf-8"), marker_size=size))
    blocks = ours_spans(parse_diff3(merged.decode("utf-8"), marker_size=size))
    return [(held[0], held[-1]) for held in conflicts_held(blocks, conflicts) if held]


def conflicts_held(
    blocks: Sequence[tuple[int, int]], conflicts: Sequence[tuple[int, int]]
) -> list[list[int]]:
    """Per block of git's merge (its `ours_spans`, in any style), the indices of the line merge's conflicts
    (its diff3 merge's `ours_spans`) the block holds: those whose lines meet its own (`lineranges.meet`).
    A block touching a conflict holds part of it: what git narrowed the conflict to can be a side put in
    at its start or end (no line of ours), which git joins to the block; two of its diff3 conflicts are
    at least a line apart, so no block touches a conflict it holds nothing of."""
    return [[i for i, span in enumerate(conflicts) if lineranges.meet(*span, *block)] for block in blocks]


def ours_text(chunk: Chunk) -> str:
    """A chunk as the merge with every conflict given our side shows it."""
    return chunk.ours if isinstance(chunk, LineConflict) else chunk.text


def ours_spans(chunks: Sequence[Chunk]) -> list[tuple[int, int]]:
    """Per conflict of `chunks` (a line merge's, git's blocks or its diff3 conflicts), the lines [start,
    end) its ours side takes of the merge with every conflict given our side (`ours_text`): the same lines
    whatever git's style, narrowing and joining (two of git's diff3 conflicts are at least a line apart)."""
    spans, line = [], 0
    for chunk in chunks:
        count = len(split_lines(ours_text(chunk)))
        if isinstance(chunk, LineConflict):
            spans.append((line, line + count))
        line += count
    return spans


def _first_line_crlf(text: str) -> bool | None:
    """Whether a file's first line ends in CRLF (xdiff's is_eol_crlf); None for a file without line ending."""
    first, newline, _ = text.partition("\n")
    return first.endswith("\r") if newline else None


def _placed(chunks: Sequence[Chunk], start: MarkerEnding) -> list[Chunk]:
    """`chunks` with each conflict's MarkerEnding: from the last line before it on each side (clean text is
    both sides'), or from `start` where nothing comes before it."""
    placed: list[Chunk] = []
    ours, theirs = start.ours, start.theirs
    for chunk in chunks:
        if isinstance(chunk, LineConflict):
            placed.append(replace(chunk, ending=MarkerEnding(ours, theirs, start.base)))
            ours = chunk.ours.endswith("\r\n") if chunk.ours else ours
            theirs = chunk.theirs.endswith("\r\n") if chunk.theirs else theirs
        else:
            placed.append(chunk)
            if chunk.text:
                ours = theirs = chunk.text.endswith("\r\n")
    return placed


def parse_diff3(text: str, *, marker_size: int, sides: tuple[str, str, str] | None = None) -> list[Chunk]:
    """Split diff3-style merge output into chunks.

    git adds a line ending after a side that lacks one (only possible at the end of a file); when the
    original `sides` (ours, base, theirs) are given, such a side is restored without it.
    """
    chunks: list[Chunk] = []
    clean: list[str] = []
    parts: dict[str, list[str]] = {}
    section: str | None = None
    for line in split_lines(text):
        kind = markers.kind(line, marker_size)
        if section is None and kind == "<":
            if clean:
                chunks.append(CleanText("".join(clean)))
                clean = []
            section, parts = "ours", {"ours": [], "base": [], "theirs": []}
        elif section == "ours" and kind == "|":
            section = "base"
        elif section in ("ours", "base") and kind == "=":
            section = "theirs"
        elif section == "theirs" and kind == ">":
            chunks.append(_conflict(parts))
            section = None
        elif section is None:
            clean.append(line)
        else:
            parts[section].append(line)
    if section is not None:
        raise ValueError("unterminated conflict in merge output")
    if clean:
        chunks.append(CleanText("".join(clean)))
    if sides is not None:
        _restore_missing_final_eol(chunks, sides)
    return chunks


def _conflict(parts: dict[str, list[str]]) -> LineConflict:
    return LineConflict(
        ours="".join(parts["ours"]), base="".join(parts["base"]), theirs="".join(parts["theirs"])
    )


def _restore_missing_final_eol(chunks: list[Chunk], sides: tuple[str, str, str]) -> None:
    """git ends every side of a conflict with a line ending; undo that for a file that has none.

    A side can lack its final line ending only when the conflict reaches the end of the file,
    so only a trailing conflict is touched.
    """
    if not chunks or not isinstance(chunks[-1], LineConflict):
        return
    last = chunks[-1]
    texts = [last.ours, last.base, last.theirs]
    for i, original in enumerate(sides):
        if not original or original.endswith("\n"):
            continue
        last_line = original.rsplit("\n", 1)[-1]
        for added in ("\r\n", "\n"):
            if texts[i].endswith(last_line + added):
                texts[i] = texts[i][: -len(added)]
                break
    chunks[-1] = LineConflict(ours=texts[0], base=texts[1], theirs=texts[2])


def conflicts_of(chunks: Sequence[Chunk]) -> list[LineConflict]:
    return [chunk for chunk in chunks if isinstance(chunk, LineConflict)]


def _with_eol(text: str, eol: str) -> str:
    return text if not text or text.endswith("\n") else text + eol


def render(
    chunks: Sequence[Chunk],
    options: MergeOptions = DIFF3,
    *,
    eol: str = "\n",
    alnum: bool = True,
    joined: bool = False,
    blocks: Sequence[tuple[int, int]] = (),
) -> str:
    """Write chunks back as a file, conflicts with markers as `git merge-file` writes them.

    In the "merge" and "zdiff3" styles git narrows a conflict to the lines where ours and theirs differ,
    as it is narrowed here (`_narrowed`), in the merge style joining the blocks of one conflict as `git
    merge-file` does, or with `alnum` False as `git merge` does; with `joined`, those of the conflicts
    one after the other too, and with `blocks` ((first, last) indices of the conflicts of `chunks`) those
    of each block (for conflicts no change separates, which git writes as one: `git_blocks`).
    Marker lines end as git ends them where the conflict lies (`LineConflict.ending`); those of a
    conflict of no file end with `eol`.
    """
    runs = rendered_runs(chunks, options, eol=eol, alnum=alnum, joined=joined, blocks=blocks)
    return "".join(text for _, text in runs)


def rendered_runs(
    chunks: Sequence[Chunk],
    options: MergeOptions = DIFF3,
    *,
    eol: str = "\n",
    alnum: bool = True,
    joined: bool = False,
    blocks: Sequence[tuple[int, int]] = (),
) -> list[tuple[range, str]]:
    """`render`'s text cut where it can be: per chunk, or per block written joined (from its first
    conflict to its last), the chunks' positions in `chunks` and their text."""
    count = len(conflicts_of(chunks))
    if joined and count:
        blocks = [(0, count - 1)]
    fallback = MarkerEnding(*(eol == "\r\n",) * 3)  # for a conflict of no file
    return [
        (run, _rendered(chunks[run.start : run.stop], options, fallback, alnum, together))
        for run, together in _runs(chunks, blocks)
    ]


def _runs(chunks: Sequence[Chunk], blocks: Sequence[tuple[int, int]]) -> list[tuple[range, bool]]:
    """The positions of `chunks` in runs, each with whether it is one of `blocks` (sorted; overlapping
    ones taken as one), from its first conflict to its last; every other chunk a run of its own."""
    at = [position for position, chunk in enumerate(chunks) if isinstance(chunk, LineConflict)]
    runs: list[tuple[range, bool]] = []
    start = 0
    for first, last in _coalesced(blocks):
        runs += [(range(position, position + 1), False) for position in range(start, at[first])]
        runs.append((range(at[first], at[last] + 1), True))
        start = at[last] + 1
    runs += [(range(position, position + 1), False) for position in range(start, len(chunks))]
    return runs


def _coalesced(blocks: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Blocks of conflicts, those sharing a conflict made one (a conflict git narrows to two pieces can be
    in two blocks), sorted."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(blocks):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def _rendered(
    chunks: Sequence[Chunk], options: MergeOptions, fallback: MarkerEnding, alnum: bool, joined: bool
) -> str:
    """`render` of `chunks`, their conflicts' pieces joined as git joins them with `joined`."""
    pieces: list[Chunk] = []
    for chunk in chunks:
        if isinstance(chunk, LineConflict):
            pieces.extend(_narrowed(chunk, options, chunk.ending or fallback, alnum))
        else:
            pieces.append(chunk)
    if joined and options.style == "merge":
        pieces = _simplified(pieces, alnum)
    return "".join(
        piece.text if isinstance(piece, CleanText) else _marked(piece, options, piece.ending or fallback)
        for piece in pieces
    )


def untouched_blocks(
    base: str, ours: str, theirs: str, left: Sequence[bool], *, alnum: bool = True
) -> list[tuple[int, int]]:
    """The blocks of git's merge style (`git_blocks`) that join conflicts mergebert resolved none of, by
    the indices of their conflicts among those left (`left`: per conflict of `merge_lines`, whether it
    is): what git writes of them is theirs too. Conflicts left in a block where it resolved one are
    written one by one, as `git/marked.py` looks for them; a resolution is never inside a block."""
    if sum(left) < 2:
        return []
    index = list(itertools.accumulate(left, initial=0))  # per conflict: how many left before it
    return [
        (index[first], index[last])
        for first, last in git_blocks(base, ours, theirs, alnum=alnum)
        if last > first and all(left[first : last + 1])
    ]


_ALNUM = re.compile(r"[A-Za-z0-9]")


def _joins(gap: str, alnum: bool) -> bool:
    """Whether git joins two conflicts these lines separate: three lines or fewer, or (with `alnum`)
    lines without letters or digits (xdiff's xdl_simplify_non_conflicts)."""
    return len(split_lines(gap)) <= 3 or (alnum and not _ALNUM.search(gap))


def _simplified(pieces: Sequence[Chunk], alnum: bool) -> list[Chunk]:
    """`pieces` with two conflicts and the lines between them made one where git joins them (`_joins`)."""
    out: list[Chunk] = []
    for piece in pieces:
        last = out[-1] if out else None
        before = out[-2] if len(out) > 1 else None
        if isinstance(piece, CleanText) and isinstance(last, CleanText):
            out[-1] = CleanText(last.text + piece.text)
        elif (
            isinstance(piece, LineConflict)
            and isinstance(before, LineConflict)
            and isinstance(last, CleanText)
            and _joins(last.text, alnum)
        ):
            sides = (
                getattr(before, side) + last.text + getattr(piece, side)
                for side in ("ours", "base", "theirs")
            )
            out[-2:] = [LineConflict(*sides, ending=before.ending)]
        else:
            out.append(piece)
    return out


def _narrowed(conflict: LineConflict, options: MergeOptions, start: MarkerEnding, alnum: bool) -> list[Chunk]:
    """The conflict as git writes it in `options.style` (xdiff's refinement of a conflict whose sides both
    hold lines), each conflict left placed after `start`: in "zdiff3", the lines ours and theirs share at
    its start and end taken out of it; in "merge", every line xdiff's diff of ours against theirs finds in
    both, the pieces left joined as git joins them (libgit2 merging the two sides over an empty base,
    which conflicts over all of them, as git's refinement of one conflict)."""
    if options.style == "diff3" or not conflict.ours or not conflict.theirs:
        return [conflict]
    if options.style == "zdiff3":
        return _placed(_trimmed(conflict), start)
    sides = (conflict.ours, "", conflict.theirs)
    size = _safe_marker_size(*sides)
    merged, _ = _libgit2_merge(
        b"",
        conflict.ours.encode(),
        conflict.theirs.encode(),
        replace(options, marker_size=size, labels=DEFAULT_LABELS),  # the markers are `_marked`'s to write
        alnum=alnum,
    )
    return _placed(parse_diff3(merged.decode("utf-8"), marker_size=size, sides=sides), start)


def _trimmed(conflict: LineConflict) -> list[Chunk]:
    """A conflict without the lines ours and theirs share at its start and at its end (its base whole)."""
    ours, theirs = split_lines(conflict.ours), split_lines(conflict.theirs)
    first = 0
    while first < min(len(ours), len(theirs)) and ours[first] == theirs[first]:
        first += 1
    ours_end, theirs_end = len(ours), len(theirs)
    while ours_end > first and theirs_end > first and ours[ours_end - 1] == theirs[theirs_end - 1]:
        ours_end, theirs_end = ours_end - 1, theirs_end - 1
    trimmed = LineConflict("".join(ours[first:ours_end]), conflict.base, "".join(theirs[first:theirs_end]))
    before, after = "".join(ours[:first]), "".join(ours[ours_end:])
    return [*([CleanText(before)] if before else []), trimmed, *([CleanText(after)] if after else [])]


def _marked(conflict: LineConflict, options: MergeOptions, ending: MarkerEnding) -> str:
    """One conflict with its marker lines, and a line ending after a side that lacks one, as git adds it."""
    newline, size = ending.newline, options.marker_size
    ours_label, base_label, theirs_label = options.labels

    def marker(char: str, label: str | None) -> str:  # a label, even empty, after a space: git's bytes
        return char * size + (f" {label}" if label is not None else "") + newline

    base = marker("|", base_label) + _with_eol(conflict.base, newline) if options.style != "merge" else ""
    return (
        marker("<", ours_label)
        + _with_eol(conflict.ours, newline)
        + base
        + marker("=", None)
        + _with_eol(conflict.theirs, newline)
        + marker(">", theirs_label)
    )


def merge_bytes(
    base: bytes, ours: bytes, theirs: bytes, options: MergeOptions = GIT_DEFAULT
) -> tuple[bytes, int]:
    """git's own line merge of raw bytes, the fallback for content mergebert does not handle.

    Returns the merged bytes and the number of conflicts left in them.
    Binary content is not merged: like git, our version is kept as one conflict.
    """
    if any(is_binary(data) for data in (base, ours, theirs)):
        return ours, 1  # like git: a binary file keeps our version and stays conflicted
    # joined as the merge it stands for joins conflicts: `git merge-file`'s, else git's own commands'
    merged, clean = _libgit2_merge(base, ours, theirs, options, alnum=options.alnum)
    if clean:
        return merged, 0
    return merged, max(1, len(markers.bytes_pattern(options.marker_size, "<").findall(merged)))


def conflict_contexts(chunks: Sequence[Chunk], lines: int = 30) -> list[tuple[str, str]]:
    """(prefix, suffix) per conflict: up to `lines` clean lines each side, stopping at other conflicts."""
    contexts: list[tuple[str, str]] = []
    for position, chunk in enumerate(chunks):
        if not isinstance(chunk, LineConflict):
            continue
        before = chunks[position - 1] if position > 0 else None
        after = chunks[position + 1] if position + 1 < len(chunks) else None
        prefix = "".join(split_lines(before.text)[-lines:]) if isinstance(before, CleanText) else ""
        suffix = "".join(split_lines(after.text)[:lines]) if isinstance(after, CleanText) else ""
        contexts.append((prefix, suffix))
    return contexts
