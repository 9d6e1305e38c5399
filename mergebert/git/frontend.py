"""The one call every git front-end makes: merge three blobs, never fail, say what happened.

`merge_blobs` runs the resolver and, when it resolves nothing or anything inside it raises, gives git's own
line merge (`git merge-file`, libgit2 if git cannot run), so a driver or command built on it always has a
complete merge result to write: the worst case is exactly what git alone would have produced.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergebert.core import faults, markers
from mergebert.core.messages import warn as warn  # the front-ends' one warn, re-exported
from mergebert.core.options import MergeOptions
from mergebert.core.textio import is_binary
from mergebert.git import gitcmd, gitinfo

if TYPE_CHECKING:
    import pygit2

    from mergebert.core.classifier import Classifier
    from mergebert.core.linemerge import Chunk
    from mergebert.core.resolver import Resolution, Runs


@dataclass(frozen=True)
class Count:
    """A file's conflicts as it shows them, which every front-end reports (`counted`): those mergebert
    resolved, and those left as the conflict blocks the file holds."""

    resolved: int
    left: int
    unpaired: int = 0  # of those left, the blocks the user half-edited, shown by marker lines alone

    @property
    def conflicts(self) -> int:
        return self.resolved + self.left


@dataclass(frozen=True)
class Outcome:
    """A complete merge result: the bytes to write, and how many conflicts it still holds."""

    data: bytes
    conflicts: int
    left: int
    resolutions: tuple[Resolution, ...] = ()
    message: str | None = None
    chunks: tuple[Chunk, ...] = ()  # the resolver's line merge, which `resolutions` index
    git: tuple[bytes, int] | None = None  # git's own line merge (`line_merge`), where it was made
    blocks: int | None = None  # the conflicts `data` holds where they are not `left` (`counted`)
    unpaired: int = 0  # of those it holds, the ones shown by marker lines without their block (`counted`)
    runs: Runs = ()  # `data` as mergebert wrote it, by the positions of `chunks` (`resolver.written_runs`)

    @property
    def resolved(self) -> int:
        """Conflicts mergebert settled."""
        return self.conflicts - self.left

    @property
    def held(self) -> int:
        """The conflicts `data` holds, as `git merge-file` counts them (its exit status): `left`, or the
        conflict blocks written where mergebert resolved some (`counted`)."""
        return self.left if self.blocks is None else self.blocks

    @property
    def count(self) -> Count:
        """The file's conflicts as it shows them."""
        return Count(self.resolved, self.held, self.unpaired)


def _fault(stage: str) -> None:
    if faults.injected(stage):
        raise RuntimeError(f"fault injected by {faults.VARIABLE}={stage}")


def git_merge_file(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """git's own `git merge-file -p`: the merged bytes and the number of conflicts git counted."""
    with tempfile.TemporaryDirectory(prefix="mergebert-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        # merge-file reads merge.conflictStyle inside a repository, and has no option for the merge style
        args = ["-c", f"merge.conflictStyle={options.style}", "merge-file", "-p"]
        args.append(f"--marker-size={options.marker_size}")
        if options.style != "merge":
            args.append(f"--{options.style}")
        if options.favour:
            args.append(f"--{options.favour}")
        for label in options.labels:
            args += ["-L", label]
        proc = gitcmd.git(*args, *paths, accept=range(128))
    return proc.stdout, proc.returncode


def line_merge(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """git's own line merge by git (`gits_merge`), the reference mergebert must equal where it resolves
    nothing; libgit2 when git cannot do it, and binary content kept as ours with one conflict, as git does."""
    from mergebert.core import linemerge

    if any(is_binary(data) for data in (base, ours, theirs)):
        return linemerge.merge_bytes(base, ours, theirs, options)
    try:
        _fault("linemerge")
        return gits_merge(base, ours, theirs, options)
    except Exception:  # any failure here still has a correct fallback
        return linemerge.merge_bytes(base, ours, theirs, options)


def gits_merge(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """git's own line merge by git itself, as `options.engine` says git merges: the ort strategy's, or the
    Myers one of `checkout -m` and the recursive strategy, ignoring the whitespace `options.whitespace`
    names (`ortmerge`; `git merge-file` where git is too old for them), else `git merge-file`'s. `git
    merge-file` cannot ignore whitespace: told to, libgit2's merge ignoring it stands in."""
    if options.engine in ("ort", "myers"):
        from mergebert.git import ortmerge

        try:
            return ortmerge.merge(base, ours, theirs, options)
        except Exception:  # a git before 2.38 has no merge-tree --write-tree: merge-file is the nearest
            pass
    if options.whitespace:
        from mergebert.core import linemerge

        return linemerge.merge_bytes(base, ours, theirs, options)
    return git_merge_file(base, ours, theirs, options)


def merge_blobs(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    path: str | None,
    options: MergeOptions,
    language: str | None = None,
    classifier: Classifier | None = None,
    suggest: bool = False,
    git: tuple[bytes, int] | None = None,
) -> Outcome:
    """Resolve what mergebert can. Where it resolves nothing, for content it cannot handle, on any
    internal error (the latter two with a one-line message), where `options.favour` settles every
    conflict or `options.whitespace` changes git's merge, and where git's own merge (with the ort engine)
    leaves no conflict, the result is git's own line merge (`git`, where the caller has made it). So it is
    where a resolution would change a line git's own merge (ort's, or the Myers one of `checkout -m`) leaves
    clean (`keeps_clean_lines`). With `suggest`, the resolutions list their suggestions (the interactive
    commands)."""
    if options.favour or options.whitespace:  # git was told how to merge: its merge's conflicts stand
        data, left = git or line_merge(base, ours, theirs, options)
        return Outcome(data, left, left, message=_told(path, options) if left else None, git=(data, left))
    gits = git or (line_merge(base, ours, theirs, options) if options.engine == "ort" else None)
    if gits is not None and gits[1] == 0:  # ort merges cleanly where merge-file (or libgit2) does not
        return Outcome(gits[0], 0, 0, git=gits)
    where = f"{path}: " if path else ""
    try:
        _fault("resolve")
        from mergebert.core import resolver

        result = resolver.resolve_bytes(
            base,
            ours,
            theirs,
            path=path,
            language=language,
            classifier=classifier,
            options=options,
            suggest=suggest,
            render_unresolved=False,  # git's own merge is written where nothing is resolved
        )
        # nothing resolved; or mergebert's line merge clean (Myers) where git's own (ort's, checkout -m's)
        # may conflict: what git leaves to the user stays so (merge-file's is mergebert's own line merge)
        untouched = result.left == result.conflicts and (result.conflicts or options.engine != "merge-file")
        if result.fallback or untouched:
            data, left = gits or line_merge(base, ours, theirs, options)
            message = f"{where}{result.fallback}; kept git's line merge" if result.fallback else None
            return Outcome(data, left, left, tuple(result.resolutions), message, result.chunks, (data, left))
        if gits is None and options.engine == "myers":  # checkout -m, am -3: git's merge, to hold it to
            gits = line_merge(base, ours, theirs, options)
        sides = (base, ours, theirs)
        if gits is not None and not keeps_clean_lines(gits[0], result.data, options.marker_size, *sides):
            return _gits_kept(gits, result.resolutions, result.chunks, where)
        resolutions = tuple(result.resolutions)
        resolved, size = result.conflicts - result.left, options.marker_size
        count = counted(result.data, resolved, result.left, result.chunks, size)
        return Outcome(
            result.data,
            result.conflicts,
            result.left,
            resolutions,
            chunks=result.chunks,
            git=gits,
            blocks=count.left,
            unpaired=count.unpaired,
            runs=result.runs or (),
        )
    except Exception as error:  # the contract: never fail, fall back to git's line merge
        data, left = gits or line_merge(base, ours, theirs, options)
        message = f"{where}internal error ({type(error).__name__}: {error}); kept git's line merge"
        return Outcome(data=data, conflicts=left, left=left, message=message, git=(data, left))


CHANGES_CLEAN = "a resolution would change lines git merged cleanly; kept git's line merge"


def keeps_clean_lines(gits: bytes, data: bytes, size: int, *sides: bytes) -> bool:
    """Whether `data` (mergebert's merge of `sides`) holds each run of lines that `gits` (git's own merge of
    them) leaves clean, unchanged and in order, the first at its start and the last at its end, and none
    inside a conflict block `data` leaves (`markers.blocks`): what it changes lies only where git's
    conflicts are. False where git's merge has no conflict block (nothing may change) and, since the blocks
    cannot then be told from the text, where a side holds a `<<<<<<<` or `>>>>>>>` line of `size`."""
    if data == gits:
        return True
    marked = markers.bytes_pattern(size, "<>")
    if b"\0" in gits or any(marked.search(side) for side in sides):
        return False
    first, *runs = _between_blocks(gits, size)
    if not runs:
        return False
    *runs, last = runs
    text = b"\0".join(_between_blocks(data, size))  # no run can match across a block of `data`
    at, end = len(first), len(text) - len(last)
    if not (text.startswith(first) and text.endswith(last) and (not last or _starts_line(text, end))):
        return False
    for run in filter(None, runs):
        found = text.find(run, at)
        while found > 0 and not _starts_line(text, found):
            found = text.find(run, found + 1)
        if found < 0:
            return False
        at = found + len(run)
    return at <= end


def _between_blocks(data: bytes, size: int) -> list[bytes]:
    """`data`'s text before its first conflict block, between each two and after the last, in whole lines."""
    lines = data.split(b"\n")
    starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    edges = [0, *(edge for block in markers.blocks(lines, size) for edge in block), len(lines)]
    return [data[starts[a] : min(starts[b], len(data))] for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _starts_line(text: bytes, at: int) -> bool:
    """Whether offset `at` of `_between_blocks`' runs joined by NUL starts a line."""
    return at == 0 or text[at - 1 : at] in (b"\n", b"\0")


def _gits_kept(
    gits: tuple[bytes, int], resolutions: Sequence[Resolution], chunks: Sequence[Chunk], where: str
) -> Outcome:
    """git's own merge for a file where a resolution would change lines it merged cleanly: each conflict
    mergebert resolved is left, for that reason (where git merges the file cleanly, its merge alone)."""
    data, left = gits
    if not left:
        return Outcome(data, 0, 0, git=gits)
    unresolved = tuple(
        r if r.text is None else replace(r, text=None, candidate=None, reason=CHANGES_CLEAN)
        for r in resolutions
    )
    return Outcome(data, left, left, unresolved, f"{where}{CHANGES_CLEAN}", tuple(chunks), gits)


def _told(path: str | None, options: MergeOptions) -> str:
    """Why the conflicts of a merge told to ignore whitespace are left: `src/A.java: git's merge with -X
    ignore-space-change stands` (the model does not run)."""
    given = " ".join(f"-X {kind}" for kind in options.whitespace)
    return f"{path + ': ' if path else ''}git's merge with {given} stands"


def counted(data: bytes, resolved: int, left: int, chunks: Sequence[Chunk], size: int) -> Count:
    """`data`'s conflicts as it shows them, where mergebert resolved `resolved` of the line merge's
    conflicts (`chunks`) and left `left`: those left are the conflict blocks `data` holds (git's style
    joins two conflicts into one block, narrows one into two, writes one whose sides are equal as plain
    text) and each block the user half-edited, shown by what is left of its marker lines (`markers.scan`: a
    lone `=======`, a `<<<<<<<` without its `>>>>>>>`), as git's `diff --check` flags them. A kind of marker
    line that the line merge's clean text or a conflict's side holds may be the file's own, so it is not
    read as a marker; where that kind is `<<<<<<<` or `>>>>>>>`, the blocks are those git delimits
    (`markers.blocks`), none half-edited, or `left` where the clean text holds it (it would count too)."""
    from mergebert.core.linemerge import CleanText, LineConflict

    clean = "".join(chunk.text for chunk in chunks if isinstance(chunk, CleanText))
    if markers.pattern(size, "<>").search(clean):
        return Count(resolved, left)
    sides = [side for c in chunks if isinstance(c, LineConflict) for side in (c.ours, c.base, c.theirs)]
    own = {
        kind for kind in markers.KINDS for text in (clean, *sides) if markers.pattern(size, kind).search(text)
    }
    if own & {"<", ">"}:
        return Count(resolved, len(markers.blocks(data.split(b"\n"), size)))
    read = "".join(kind for kind in markers.KINDS if kind not in own)
    if not markers.bytes_pattern(size, read).search(data):  # no marker line: no line to scan
        return Count(resolved, 0)
    found, unpaired = markers.scan(data.split(b"\n"), size, read)
    return Count(resolved, len(found) + unpaired, unpaired)


def unpaired(working: bytes, blobs: Sequence[bytes], size: int) -> int:
    """The blocks half-edited in `working` (`counted`), `blobs` being the versions merged (base, ours,
    theirs); none where they are not text mergebert reads."""
    from mergebert.core.linemerge import merge_lines
    from mergebert.core.textio import UnsupportedContent, decode_sides

    try:
        texts, _ = decode_sides(*blobs)
    except UnsupportedContent:
        return 0
    return counted(working, 0, 0, merge_lines(*texts), size).unpaired


UNPAIRED = "marker lines without their block (one deleted?)"  # why a half-edited block is left


def pick_classifier(
    model: str | None = None, threshold: float | None = None, repo: pygit2.Repository | None = None
) -> Classifier:
    """The classifier the model policy chooses (flag, environment, `repo`'s git config, shipped model),
    loaded only when a conflict needs it."""
    from mergebert.neural import policy

    return policy.LazyClassifier(policy.choose(model, threshold, config=gitinfo.settings(repo)))


def _why(reason: str) -> str:
    """A left conflict's reason without its figures: `confidence below threshold`, `no candidate parses`."""
    words = re.sub(r"\([^)]*\)|\b\d+(?:\.\d+)?\b", " ", reason)
    return re.sub(r"\bconflicts\b", "conflict", " ".join(words.split()))


REVIEW = "mergebert review"


def report_line(path: str, outcome: Outcome, *, review: bool = False) -> str | None:
    """What every front-end prints for a file that had line conflicts (None for one that had none):
    `src/App.java: resolved 2 of 3 conflicts (1 left: confidence below threshold)`, the conflicts counted
    as the file shows them (`Outcome.count`; those left: merge-file's exit status); with `review` (the
    merge driver, which records its decisions) the parenthesis ends with `mergebert review`:
    `src/App.java: resolved 3 of 3 conflicts (mergebert review)`."""
    if not outcome.conflicts:
        return None
    count = outcome.count
    plural = "s" if count.conflicts != 1 else ""
    line = f"{path}: resolved {count.resolved} of {count.conflicts} conflict{plural}"
    notes = [REVIEW] if review else []
    if count.left:
        reasons = [_why(r.reason) for r in outcome.resolutions if r.text is None]
        reasons += [UNPAIRED] if count.unpaired else []
        if outcome.message and not reasons:
            reasons = [outcome.message.removeprefix(f"{path}: ")]
        why = ", ".join(dict.fromkeys(reasons))
        notes.insert(0, f"{count.left} left{': ' + why if why else ''}")
    return f"{line} ({'; '.join(notes)})" if notes else line


def report(path: str, outcome: Outcome, review: bool = True) -> list[str]:
    """The lines to print for a file: the report line every front-end prints (pointing to `mergebert
    review` where the decisions are logged: `review`), and the outcome's message unless the report line
    already says it."""
    line = report_line(path, outcome, review=review)
    message = outcome.message
    if message and line and message.removeprefix(f"{path}: ") in line:
        message = None
    return [text for text in (message, line) if text]


def left_in_record(detail: Mapping[str, Any]) -> bool:
    """Whether a conflict of a decision record (`decision_record`'s details, or a block `review` lists) was
    left: no text chosen and no pattern (a slim record, `decisionlog.slim`, keeps the pattern only)."""
    return detail.get("text") is None and detail.get("pattern") is None


def decision_record(
    path: str, blobs: tuple[bytes, bytes, bytes], options: MergeOptions, outcome: Outcome
) -> dict[str, Any] | None:
    """What the merge driver decided for one file, for its log (`decisionlog`; None without conflicts):
    each line conflict's sides and chosen text, pattern and confidence, or why it was left; and, where
    mergebert resolved something, the lines each takes of the file written (conflicts left written joined
    each take the whole block's), the bytes written and git's own line merge of the file (for `--undo`)."""
    from mergebert.core.linemerge import LineConflict, conflicts_of
    from mergebert.core.textio import line_count
    from mergebert.git import decisionlog

    if not outcome.conflicts:
        return None
    record: dict[str, Any] = {
        "path": path,
        "conflicts": outcome.conflicts,
        "left": outcome.left,
        "message": outcome.message,
        "labels": list(options.labels),
        "style": options.style,
        "marker_size": options.marker_size,
        "conflicts_detail": [],
    }
    if not outcome.resolutions:  # git's line merge only (content mergebert does not handle, an error)
        return record
    chunks = outcome.chunks
    spans: list[tuple[int, int] | None] = [None] * len(outcome.resolutions)
    if outcome.runs:  # mergebert's file: where each conflict lies in it, by line (a block's, joined)
        positions = [position for position, chunk in enumerate(chunks) if isinstance(chunk, LineConflict)]
        index = {position: conflict for conflict, position in enumerate(positions)}
        line = 0
        for run, text in outcome.runs:
            for position in run:
                if position in index:
                    spans[index[position]] = (line, line + line_count(text))
            line += text.count("\n")
        git, _ = outcome.git or line_merge(*blobs, options)
        record.update(output=decisionlog.pack(outcome.data), git=decisionlog.pack(git))
    for conflict, resolution, span in zip(conflicts_of(chunks), outcome.resolutions, spans, strict=True):
        candidate = resolution.candidate
        record["conflicts_detail"].append(
            {
                "index": resolution.index,
                "ours": conflict.ours,
                "base": conflict.base,
                "theirs": conflict.theirs,
                "text": resolution.text,
                "pattern": candidate.describe() if candidate else None,
                "confidence": candidate.confidence if candidate else None,
                "reason": resolution.reason,
                "lines": list(span) if span else None,
            }
        )
    return record
