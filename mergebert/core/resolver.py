"""The one resolver every front-end uses: line merge, token merge, classifier, parse-checked splice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mergebert.core import markers
from mergebert.core.candidates import Candidate, ConflictInput
from mergebert.core.classifier import Classifier, TokenMergeClassifier
from mergebert.core.languages import Language, language_by_name, language_for_path
from mergebert.core.linemerge import (
    DEFAULT_LABELS,
    Chunk,
    CleanText,
    LineConflict,
    conflict_contexts,
    conflicts_of,
    merge_bytes,
    merge_lines,
    render,
)
from mergebert.core.splice import ParseCheck
from mergebert.core.textio import UnsupportedContent, decode, dominant_eol, encode

MAX_PARSE_CHECKS = 4  # candidates tried per conflict before it is left as it is


@dataclass(frozen=True)
class Resolution:
    """What became of one line conflict: its resolved text, or None and why it was left."""

    index: int
    text: str | None
    candidate: Candidate | None
    reason: str


@dataclass(frozen=True)
class MergeResult:
    text: str
    conflicts: int
    resolutions: tuple[Resolution, ...]

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


def conflict_inputs(chunks: Sequence[Chunk], lang: Language | None) -> list[ConflictInput]:
    """The classifier's view of every line conflict among `chunks`."""
    return [
        ConflictInput(conflict.ours, conflict.base, conflict.theirs, prefix, suffix, lang)
        for conflict, (prefix, suffix) in zip(conflicts_of(chunks), conflict_contexts(chunks), strict=True)
    ]


def _choose(
    index: int,
    conflict: ConflictInput,
    candidates: list[Candidate],
    chunks: Sequence[Chunk],
    threshold: float,
) -> Resolution:
    if any(markers.pattern().search(side) for side in (conflict.ours, conflict.base, conflict.theirs)):
        return Resolution(index, None, None, "a side already holds conflict markers")
    if conflict.too_large:
        return Resolution(index, None, None, f"too large to resolve ({conflict.size} characters)")
    if not candidates:
        tokens = len(conflict.token_conflicts)
        reason = f"{tokens} token conflict{'s' * (tokens != 1)} left" if tokens else "no candidate"
        return Resolution(index, None, None, reason)
    check = ParseCheck(chunks, index, conflict.lang)
    for candidate in candidates[:MAX_PARSE_CHECKS]:
        if candidate.confidence < threshold:
            return Resolution(
                index, None, None, f"confidence {candidate.confidence:.2f} below threshold {threshold:.2f}"
            )
        if check.accepts(candidate.text):
            return Resolution(index, candidate.text, candidate, "resolved")
    return Resolution(index, None, None, "no candidate parses")


def _splice(chunks: Sequence[Chunk], resolutions: Sequence[Resolution], eol: str) -> list[Chunk]:
    """Chunks with every resolved conflict replaced by its text."""
    texts = iter(resolution.text for resolution in resolutions)
    spliced: list[Chunk] = []
    for position, chunk in enumerate(chunks):
        if isinstance(chunk, LineConflict):
            text = next(texts)
            if text is None:
                spliced.append(chunk)
                continue
            if text and not text.endswith("\n") and position + 1 < len(chunks):
                text += eol
            chunk = CleanText(text)
        spliced.append(chunk)
    return spliced


def resolve_text(
    base: str,
    ours: str,
    theirs: str,
    *,
    lang: Language | None,
    classifier: Classifier | None = None,
    threshold: float | None = None,
    marker_size: int = 7,
    labels: Sequence[str] = DEFAULT_LABELS,
    style: str = "diff3",
) -> MergeResult:
    """Merge three texts, resolving the conflicts the classifier answers with enough confidence.

    Without a classifier only clean token merges are taken; `threshold` defaults to the classifier's own.
    """
    chunks = merge_lines(base, ours, theirs)
    inputs = conflict_inputs(chunks, lang)
    eol = dominant_eol(ours)
    if not inputs:
        return MergeResult(render(chunks, eol=eol), 0, ())
    classifier = classifier or TokenMergeClassifier()
    ranked_small = iter(classifier.rank([conflict for conflict in inputs if not conflict.too_large]))
    ranked = [[] if conflict.too_large else next(ranked_small) for conflict in inputs]
    threshold = classifier.threshold if threshold is None else threshold
    resolutions = tuple(
        _choose(index, conflict, candidates, chunks, threshold)
        for index, (conflict, candidates) in enumerate(zip(inputs, ranked, strict=True))
    )
    text = render(
        _splice(chunks, resolutions, eol), marker_size=marker_size, labels=labels, style=style, eol=eol
    )
    return MergeResult(text, len(inputs), resolutions)


def resolve_bytes(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    path: str | None = None,
    language: str | None = None,
    classifier: Classifier | None = None,
    threshold: float | None = None,
    marker_size: int = 7,
    labels: Sequence[str] = DEFAULT_LABELS,
    style: str = "merge",
) -> BytesMergeResult:
    """resolve_text over file contents; content it cannot handle gets git's own line merge and a reason.

    `language` (a name) wins over `path`'s extension; with neither known, a simple tokenizer is used.
    """
    try:
        lang = language_by_name(language) if language else language_for_path(path or "")
        decoded = [decode(data) for data in (base, ours, theirs)]
        result = resolve_text(
            decoded[0].text,
            decoded[1].text,
            decoded[2].text,
            lang=lang,
            classifier=classifier,
            threshold=threshold,
            marker_size=marker_size,
            labels=labels,
            style=style,
        )
        return BytesMergeResult(
            encode(result.text, decoded[1].bom), result.conflicts, result.left, result.resolutions
        )
    except UnsupportedContent as err:
        reason = err.reason
    except KeyError as err:  # an unknown language name
        reason = str(err.args[0])
    except Exception as err:  # noqa: BLE001 - any failure falls back to git's own merge
        reason = f"internal error: {type(err).__name__}: {err}"
    data, left = merge_bytes(base, ours, theirs, marker_size=marker_size, labels=labels, style=style)
    return BytesMergeResult(data, left, left, (), fallback=reason)
