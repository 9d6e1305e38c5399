"""The one resolver every front-end uses: line merge, token merge, classifier, parse-checked splice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from mergebert.core import markers
from mergebert.core.candidates import Candidate, ConflictInput
from mergebert.core.classifier import Classifier, TokenMergeClassifier, rank_or_token_merge
from mergebert.core.filefacts import FileFacts
from mergebert.core.languages import Language, language_by_name, language_for_path
from mergebert.core.linemerge import (
    Chunk,
    conflict_contexts,
    conflicts_of,
    merge_bytes,
    merge_lines,
    rendered_runs,
    untouched_blocks,
)
from mergebert.core.options import DIFF3, GIT_DEFAULT, MergeOptions
from mergebert.core.splice import OursParse, SpliceCheck, splice_texts
from mergebert.core.textio import UnsupportedContent, decode_sides, dominant_eol, encode, line_endings

MAX_PARSE_CHECKS = 4  # candidates tried per conflict before it is left as it is
SUGGESTIONS = 3  # distinct candidates (whitespace aside) offered per conflict when asked
MAX_SUGGESTION_CHECKS = 12  # candidates tried for them
MAX_FILE_TOKENS = 40_000  # token-diff work per file; conflicts past it are left as git wrote them


@dataclass(frozen=True)
class Resolution:
    """What became of one line conflict: its resolved text, or None and why it was left."""

    index: int
    text: str | None
    candidate: Candidate | None
    reason: str
    suggestions: tuple[Candidate, ...] = ()  # when asked: the first distinct candidates the splice accepts


Runs = tuple[tuple[range, str], ...]  # a file written, cut by the positions of its line merge's chunks


@dataclass(frozen=True)
class MergeResult:
    runs: Runs | None  # the file written (`written_runs`); None where it was not (`render_unresolved`)
    conflicts: int
    resolutions: tuple[Resolution, ...]
    chunks: tuple[Chunk, ...] = ()  # the line merge the resolutions' indices count conflicts of

    @property
    def text(self) -> str:
        """The file written; empty where it was not."""
        return "".join(text for _, text in self.runs or ())

    @property
    def left(self) -> int:
        return sum(1 for resolution in self.resolutions if resolution.text is None)


@dataclass(frozen=True)
class BytesMergeResult:
    data: bytes
    conflicts: int
    left: int
    resolutions: tuple[Resolution, ...]
    fallback: str | None = None  # why git's own line merge was used instead, if it was
    chunks: tuple[Chunk, ...] = ()  # the line merge the resolutions' indices count conflicts of
    runs: Runs | None = None  # `data`'s text by the positions of `chunks`, where mergebert wrote it


def conflict_inputs(
    chunks: Sequence[Chunk], lang: Language | None, facts: FileFacts | None = None
) -> list[ConflictInput]:
    """The classifier's view of every line conflict among `chunks`."""
    return [
        ConflictInput(conflict.ours, conflict.base, conflict.theirs, prefix, suffix, lang, facts)
        for conflict, (prefix, suffix) in zip(conflicts_of(chunks), conflict_contexts(chunks), strict=True)
    ]


def _holds_markers(conflict: ConflictInput, marker_size: int) -> bool:
    sizes = {markers.DEFAULT_SIZE, marker_size}
    sides = (conflict.ours, conflict.base, conflict.theirs)
    return any(markers.pattern(size).search(side) for size in sizes for side in sides)


def _ends_lines_differently(conflict: ConflictInput) -> bool:
    """Ours and theirs end their lines differently, and not because one side converted base's."""
    ours, theirs = line_endings(conflict.ours), line_endings(conflict.theirs)
    return bool(ours and theirs and ours != theirs) and conflict.converted_line_ending is None


def skip_reasons(
    inputs: Sequence[ConflictInput], marker_size: int = markers.DEFAULT_SIZE
) -> list[str | None]:
    """Why each conflict is not token-merged or classified at all, or None; the same on every run.

    A side holding marker lines (of git's default size or of the size in use) would leave markers that
    read as a conflict; sides that end their lines differently, other than by one side's conversion of
    base's line endings, would lose one side's or mix them.
    """
    reasons: list[str | None] = []
    spent = 0
    for conflict in inputs:
        if _holds_markers(conflict, marker_size):
            reasons.append("a side already holds conflict markers")
        elif _ends_lines_differently(conflict):
            reasons.append("ours and theirs end their lines differently (CRLF and LF)")
        elif conflict.too_large:
            reasons.append(f"too large to resolve ({conflict.size} characters)")
        elif (spent := spent + sum(len(side.tokens) for side in conflict.tokens)) > MAX_FILE_TOKENS:
            reasons.append(f"past the file's bound on token-diff work ({MAX_FILE_TOKENS} tokens)")
        else:
            reasons.append(None)
    return reasons


def _choose(
    index: int,
    conflict: ConflictInput,
    candidates: list[Candidate],
    chunks: Sequence[Chunk],
    threshold: float,
    eol: str,
    suggest: bool,
    ours_parse: OursParse,
) -> Resolution:
    if not candidates:
        tokens = len(conflict.token_conflicts)
        reason = f"{tokens} token conflict{'s' * (tokens != 1)} left" if tokens else "no candidate"
        return Resolution(index, None, None, reason)
    check = SpliceCheck(chunks, index, conflict.lang, eol, ours_parse)
    resolution = _first_accepted(index, candidates, check, threshold)
    if suggest:
        resolution = replace(resolution, suggestions=_suggestions(conflict, candidates, check))
    return resolution


def _because(resolution: Resolution, unranked: str | None) -> Resolution:
    """A conflict left where the classifier could not rank the file (`unranked`: why) says that first."""
    if unranked is None or resolution.text is not None:
        return resolution
    return replace(resolution, reason=f"{unranked}, token merge only: {resolution.reason}")


def below_threshold(confidence: float, threshold: float) -> str:
    """`confidence 0.40 below threshold 0.73`, with as many decimals past two as tell the two apart:
    `confidence 0.7296 below threshold 0.7300`, never `0.73 below threshold 0.73`; past 17 decimals (a
    threshold below 1e-17), each as Python writes it: `confidence 0.0 below threshold 1e-20`."""
    digits = 2
    while f"{confidence:.{digits}f}" == f"{threshold:.{digits}f}":
        if digits == 17:
            return f"confidence {confidence!r} below threshold {threshold!r}"
        digits += 1
    return f"confidence {confidence:.{digits}f} below threshold {threshold:.{digits}f}"


def _first_accepted(
    index: int, candidates: list[Candidate], check: SpliceCheck, threshold: float
) -> Resolution:
    """The best candidate the splice accepts among the first few, or why the conflict is left."""
    refusals: list[str] = []
    for candidate in candidates[:MAX_PARSE_CHECKS]:
        if not candidate.confidence >= threshold:  # a NaN passes no threshold
            return Resolution(index, None, None, below_threshold(candidate.confidence, threshold))
        refusal = check.refusal(candidate.text)
        if refusal is None:
            return Resolution(index, candidate.text, candidate, "resolved")
        refusals.append(refusal)
    return Resolution(index, None, None, refusals[0])


def _suggestions(
    conflict: ConflictInput, candidates: list[Candidate], check: SpliceCheck
) -> tuple[Candidate, ...]:
    """The first candidates of distinct resolutions (``same_resolution_key``) the splice accepts, at any
    confidence."""
    seen: dict[str, Candidate] = {}
    for candidate in candidates[:MAX_SUGGESTION_CHECKS]:
        key = conflict.same_resolution_key(candidate.text)
        if key not in seen and check.refusal(candidate.text) is None:
            seen[key] = candidate
            if len(seen) == SUGGESTIONS:
                break
    return tuple(seen.values())


def resolve_text(
    base: str,
    ours: str,
    theirs: str,
    *,
    lang: Language | None,
    classifier: Classifier | None = None,
    threshold: float | None = None,
    options: MergeOptions = DIFF3,
    suggest: bool = False,
    render_unresolved: bool = True,
) -> MergeResult:
    """Merge three texts, resolving the conflicts the classifier answers with enough confidence.

    Without a classifier only clean token merges are taken; `threshold` defaults to the classifier's own.
    With `suggest`, each classified conflict's Resolution also lists its suggestions. Without
    `render_unresolved`, a merge that resolves none of its conflicts is not written (no `runs`): for a
    caller that writes git's own line merge there (`frontend.merge_blobs`), it spares git's blocks and
    the narrowing of each conflict.
    """
    texts = (base, ours, theirs)
    chunks = merge_lines(base, ours, theirs)
    eol = dominant_eol(ours)
    if not conflicts_of(chunks):
        return MergeResult(tuple(written_runs(texts, chunks, [], options, eol)), 0, (), tuple(chunks))
    inputs = conflict_inputs(chunks, lang, FileFacts(base, ours, theirs, chunks))
    classifier = classifier or TokenMergeClassifier()
    skipped = skip_reasons(inputs, options.marker_size)
    kept = [conflict for conflict, skip in zip(inputs, skipped, strict=True) if skip is None]
    ranking, unranked = rank_or_token_merge(classifier, kept)
    ranked = iter(ranking)
    threshold = classifier.threshold if threshold is None else threshold
    ours_parse = OursParse()
    resolutions = tuple(
        Resolution(index, None, None, skip)
        if skip is not None
        else _because(
            _choose(index, conflict, next(ranked), chunks, threshold, eol, suggest, ours_parse), unranked
        )
        for index, (conflict, skip) in enumerate(zip(inputs, skipped, strict=True))
    )
    resolved = [resolution.text for resolution in resolutions]
    written = render_unresolved or any(text is not None for text in resolved)
    runs = tuple(written_runs(texts, chunks, resolved, options, eol)) if written else None
    return MergeResult(runs, len(inputs), resolutions, tuple(chunks))


def written_runs(
    texts: tuple[str, str, str],
    chunks: Sequence[Chunk],
    resolved: Sequence[str | None],
    options: MergeOptions,
    eol: str,
) -> list[tuple[range, str]]:
    """The file written for the line merge `chunks` of `texts` (base, ours, theirs) with each conflict's
    resolved text (None: left), as `linemerge.rendered_runs` (by the positions of `chunks`): a conflict
    left is joined as the merge `options` stands for joins (`MergeOptions.alnum`: `git merge-file`'s, else
    git's commands'), and a block of git's none of whose conflicts was resolved is written as git writes
    it (`untouched_blocks`)."""
    spliced = splice_texts(chunks, resolved, eol)
    left = [text is None for text in resolved]
    alnum = options.alnum
    blocks = untouched_blocks(*texts, left, alnum=alnum) if options.style == "merge" else []
    return rendered_runs(spliced, options, eol=eol, alnum=alnum, blocks=blocks)


def resolve_bytes(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    path: str | None = None,
    language: str | None = None,
    classifier: Classifier | None = None,
    options: MergeOptions = GIT_DEFAULT,
    suggest: bool = False,
    render_unresolved: bool = True,
) -> BytesMergeResult:
    """resolve_text over file contents; content it cannot handle gets git's own line merge and a reason.

    `language` (a name) wins over `path`'s extension; with neither known, a simple tokenizer is used.
    Where the merge is not written (`render_unresolved`), `data` is empty.
    """
    try:
        lang = language_by_name(language) if language else language_for_path(path or "")
        texts, bom = decode_sides(base, ours, theirs)
        result = resolve_text(
            *texts,
            lang=lang,
            classifier=classifier,
            options=options,
            suggest=suggest,
            render_unresolved=render_unresolved,
        )
        data = encode(result.text, bom) if result.runs is not None else b""
        return BytesMergeResult(
            data, result.conflicts, result.left, result.resolutions, chunks=result.chunks, runs=result.runs
        )
    except UnsupportedContent as err:
        reason = err.reason
    except KeyError as err:  # an unknown language name
        reason = str(err.args[0])
    except Exception as err:  # noqa: BLE001 - any failure falls back to git's own merge
        reason = f"internal error: {type(err).__name__}: {err}"
    data, left = merge_bytes(base, ours, theirs, options)
    return BytesMergeResult(data, left, left, (), fallback=reason)
