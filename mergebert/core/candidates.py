"""Stage 3 inputs: the classification units of a line conflict, their labels, and candidate decoding.

A line conflict gives one *region* unit (the whole conflict) and one *token* unit per token conflict
left by the token merge. The model scores the nine PATTERNS for every unit and, for the region unit,
a tenth class TOKEN: "take the token merge, deciding each token conflict by its own unit".
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mergebert.core.filefacts import FileFacts
from mergebert.core.languages import Language
from mergebert.core.lexer import Token, TokenSeq, code_key, tokenize
from mergebert.core.patterns import PATTERNS, squash, squash_tokens
from mergebert.core.textio import converted_line_ending, with_line_endings
from mergebert.core.tokenmerge import MergedRun, MergeItem, TokenConflict, diff3_tokens, merged_whitespace

if TYPE_CHECKING:  # numpy is not imported at run time: the merge driver starts faster without it
    import numpy as np

N_PATTERNS = len(PATTERNS)  # 9: the classes of a token unit
TOKEN_CLASS = N_PATTERNS  # index 9
CLASS_NAMES: tuple[str, ...] = tuple(pattern.name for pattern in PATTERNS) + ("TOKEN",)
N_CLASSES = len(CLASS_NAMES)  # 10: the model's outputs for every unit
CONTEXT_TOKENS = 64  # context tokens kept on each side of a unit
MAX_CONFLICT_CHARS = 20_000  # ours + base + theirs; larger conflicts are not token-merged or classified
_WHOLE_SIDE_TEXT = {
    "A": ("ours",),
    "B": ("theirs",),
    "BASE": ("base",),
    "A+B": ("ours", "theirs"),
    "B+A": ("theirs", "ours"),
}


@dataclass(frozen=True)
class Unit:
    kind: str  # "region" or "token"
    a: tuple[Token, ...]
    base: tuple[Token, ...]
    b: tuple[Token, ...]
    before: tuple[Token, ...]  # context before the unit, nearest token last
    after: tuple[Token, ...]  # context after the unit, nearest token first


@dataclass(frozen=True)
class Candidate:
    text: str
    kind: str  # "region": a pattern over the whole conflict; "token": the token merge
    patterns: tuple[str, ...]  # the region pattern, or one pattern per token conflict
    confidence: float
    respelt: bool = False  # the text is the token merge's spelling of this resolution (whitespace apart)

    def describe(self) -> str:
        if self.kind == "region":
            name = self.patterns[0]
        else:
            name = "token merge" + (f" [{', '.join(self.patterns)}]" if self.patterns else "")
        return f"{name} (whitespace as the token merge)" if self.respelt else name


@dataclass(frozen=True, eq=False)
class ConflictInput:
    """One line conflict with its surrounding lines, as the classifier sees it."""

    ours: str
    base: str
    theirs: str
    prefix: str = ""
    suffix: str = ""
    lang: Language | None = None
    file: FileFacts | None = None  # the whole file's facts, where the caller has the whole file

    @classmethod
    def from_texts(
        cls,
        ours: str,
        base: str,
        theirs: str,
        prefix: str = "",
        suffix: str = "",
        lang: Language | None = None,
    ) -> ConflictInput:
        return cls(ours, base, theirs, prefix, suffix, lang)

    @functools.cached_property
    def tokens(self) -> tuple[TokenSeq, TokenSeq, TokenSeq]:
        """Token sequences of ours (a), base and theirs (b)."""
        return (
            tokenize(self.ours, self.lang),
            tokenize(self.base, self.lang),
            tokenize(self.theirs, self.lang),
        )

    @functools.cached_property
    def merge(self) -> list[MergeItem]:
        a, base, b = self.tokens
        return diff3_tokens(a, base, b)

    @functools.cached_property
    def touching(self) -> frozenset[tuple[str, str]]:
        """The texts of neighbouring tokens that a side writes with no whitespace between them."""
        return frozenset(
            (first.text, second.text)
            for side in self.tokens
            for first, second in itertools.pairwise(side.tokens)
            if not second.lead
        )

    @functools.cached_property
    def context(self) -> tuple[tuple[Token, ...], tuple[Token, ...]]:
        before = tokenize(self.prefix, self.lang).tokens[-CONTEXT_TOKENS:]
        after = tokenize(self.suffix, self.lang).tokens[:CONTEXT_TOKENS]
        return before, after

    @functools.cached_property
    def converted_line_ending(self) -> str | None:
        """The line ending one side converted the conflict's lines to (every candidate keeps it), or None."""
        return converted_line_ending(self.ours, self.base, self.theirs)

    def with_sides_line_endings(self, text: str) -> str:
        """A candidate's text, with the line ending one side converted to where one did."""
        eol = self.converted_line_ending
        return text if eol is None else with_line_endings(text, eol)

    @functools.cached_property
    def literal_whitespace_differs(self) -> bool:
        """The sides' whitespace inside string, template or regex literals is not the same."""
        leads = [tuple(token.lead for token in side.tokens if token.in_literal) for side in self.tokens]
        return leads[0] != leads[1] or leads[2] != leads[1]

    def same_resolution_key(self, text: str) -> str:
        """Candidate texts with one key are one resolution: code's whitespace aside, and a literal's
        whitespace counted where the sides' differs (there it is a value the sides disagree on)."""
        if not self.literal_whitespace_differs:
            return squash(text)
        return code_key(text, self.lang)

    @property
    def size(self) -> int:
        return len(self.ours) + len(self.base) + len(self.theirs)

    @property
    def too_large(self) -> bool:
        return self.size > MAX_CONFLICT_CHARS

    @property
    def token_conflicts(self) -> list[TokenConflict]:
        return [item for item in self.merge if isinstance(item, TokenConflict)]


def units(conflict: ConflictInput) -> list[Unit]:
    """The region unit, then one unit per token conflict, in order."""
    a, base, b = conflict.tokens
    before, after = conflict.context
    result = [Unit("region", a.tokens, base.tokens, b.tokens, before, after)]
    items = conflict.merge
    for position, item in enumerate(items):
        if isinstance(item, TokenConflict):
            inner_before = before + _ours_view(items[:position])
            inner_after = _ours_view(items[position + 1 :]) + after
            result.append(
                Unit(
                    "token",
                    item.a,
                    item.base,
                    item.b,
                    inner_before[-CONTEXT_TOKENS:],
                    inner_after[:CONTEXT_TOKENS],
                )
            )
    return result


def _ours_view(items: Sequence[MergeItem]) -> tuple[Token, ...]:
    tokens: list[Token] = []
    for item in items:
        tokens.extend(item.tokens if isinstance(item, MergedRun) else item.a)
    return tuple(tokens)


def _eol(*texts: str) -> str:
    return "\r\n" if any("\r\n" in text for text in texts) else "\n"


def join_lines(first: str, second: str) -> str:
    """Concatenate two runs of lines, ending the first one's last line if it has no line ending."""
    if first and second and not first.endswith("\n"):
        first += _eol(first)
    return first + second


def _word_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _glue(tokens: Sequence[Token], conflict: ConflictInput) -> list[Token]:
    """Tokens whose leads keep neighbouring words apart where a pattern put them side by side; two words
    that a side itself writes touching (tree-sitter splits `3Clause` into `3` and `Clause`) stay touching."""
    glued: list[Token] = []
    for token in tokens:
        if (
            glued
            and not token.lead
            and _word_char(glued[-1].text[-1:])
            and _word_char(token.text[:1])
            and (glued[-1].text, token.text) not in conflict.touching
        ):
            token = replace(token, lead=" ")
        glued.append(token)
    return glued


@functools.lru_cache(maxsize=16)
def _places(conflict: ConflictInput) -> dict[int, tuple[tuple[Token, ...], int]]:
    """Where each token of ours and theirs sits: its side and index there (tokens are known by identity)."""
    a, _, b = conflict.tokens
    return {id(token): (side, i) for side in (a.tokens, b.tokens) for i, token in enumerate(side)}


def _concatenate(parts: Sequence[Sequence[Token]], conflict: ConflictInput) -> list[Token]:
    """The parts one after another, keeping the sides' line breaks where they meet: where a part ended a
    line of its side, or the next part began one (but not after a `return` its side continued on its line:
    `Token.holds_its_line_end`), the next part starts on a new line."""
    eol = _eol(conflict.ours, conflict.theirs)
    tokens: list[Token] = []
    for part in parts:
        if tokens and part and "\n" not in part[0].lead:
            ended_line = _line_end_after(tokens[-1], conflict) is not None
            began_line = (
                _places(conflict).get(id(part[0]), ((), -1))[1] == 0 and not tokens[-1].holds_its_line_end
            )
            if ended_line or began_line:
                part = [Token(part[0].text, eol + part[0].lead), *part[1:]]
        tokens.extend(part)
    return tokens


def _render(tokens: Sequence[Token], conflict: ConflictInput) -> str:
    """The tokens as text, with their own leading whitespace and the trailing whitespace of the sides
    that have tokens (as either side changed it: a final line break added or taken away is kept);
    nothing at all when no token is left (not a side's stray line break)."""
    if not tokens:
        return ""
    a, base, b = conflict.tokens
    if a.tokens and b.tokens:
        trail = merged_whitespace(a.trail, base.trail, b.trail)
    else:
        trail = a.trail if a.tokens else b.trail
    return conflict.with_sides_line_endings("".join(t.lead + t.text for t in _glue(tokens, conflict)) + trail)


def region_text(conflict: ConflictInput, pattern_index: int) -> str:
    """The whole conflict resolved by one pattern; the plain patterns keep the sides' lines verbatim."""
    pattern = PATTERNS[pattern_index]
    if pattern.name in _WHOLE_SIDE_TEXT:
        text = ""
        for side in _WHOLE_SIDE_TEXT[pattern.name]:
            text = join_lines(text, getattr(conflict, side))
        return conflict.with_sides_line_endings(text)
    a, base, b = conflict.tokens
    return _render(_concatenate(pattern.parts(a.tokens, b.tokens, base.tokens), conflict), conflict)


def token_merge_text(conflict: ConflictInput, choices: Sequence[int]) -> str:
    """The token merge with token conflict i resolved by PATTERNS[choices[i]]."""
    tokens: list[Token] = []
    chosen = iter(choices)
    after_conflict = False
    for item in conflict.merge:
        if isinstance(item, MergedRun):
            run = item.tokens
            if not tokens and item.lead_alone is not None:  # nothing written before it
                run = (replace(run[0], lead=item.lead_alone), *run[1:])
            tokens.extend(_after_resolution(tokens, run, conflict) if after_conflict else run)
        else:
            tokens.extend(_concatenate(PATTERNS[next(chosen)].parts(item.a, item.b, item.base), conflict))
        after_conflict = isinstance(item, TokenConflict)
    return _render(tokens, conflict)


def _after_resolution(
    before: Sequence[Token], run: tuple[Token, ...], conflict: ConflictInput
) -> Sequence[Token]:
    """The merged run after a token conflict's resolution, on a new line where the token ending the
    resolution ended a line of its side and that line break is part of the program (a line comment's last
    word, a `return` in JavaScript: `Token.holds_its_line_end`), with the whitespace that side wrote after
    it."""
    if not before or not run or "\n" in run[0].lead or run[0].in_literal or not before[-1].holds_its_line_end:
        return run
    after = _line_end_after(before[-1], conflict)
    if after is None:
        return run
    return (replace(run[0], lead=after or _eol(conflict.ours, conflict.theirs) + run[0].lead), *run[1:])


def _line_end_after(token: Token, conflict: ConflictInput) -> str | None:
    """Where `token` ends a line of its side, the whitespace that side writes after it ("" at the side's
    end); None where its line goes on, or where it is no side's token."""
    side, i = _places(conflict).get(id(token), ((), -1))
    if i < 0:
        return None
    if i + 1 == len(side):
        return ""
    return side[i + 1].lead if "\n" in side[i + 1].lead else None


def label_units(conflict: ConflictInput, resolution: str) -> list[frozenset[int]] | None:
    """The correct classes of every unit (same order as `units`), or None when no class is correct."""
    wanted = squash(resolution)
    region = {i for i in range(len(PATTERNS)) if squash(region_text(conflict, i)) == wanted}
    token_labels = _token_labels(conflict, wanted)
    if token_labels is not None:
        region.add(TOKEN_CLASS)
    if not region:
        return None
    per_conflict = token_labels or [frozenset()] * len(conflict.token_conflicts)
    return [frozenset(region), *per_conflict]


def _token_labels(conflict: ConflictInput, wanted: str) -> list[frozenset[int]] | None:
    """Per token conflict, the patterns on some way of spelling `wanted` as the token merge; None if none."""
    pieces: list[str | list[str]] = []  # merged text, or the nine pattern outputs of a token conflict
    for item in conflict.merge:
        if isinstance(item, MergedRun):
            text = squash_tokens(item.tokens)
            if pieces and isinstance(pieces[-1], str):
                pieces[-1] += text
            else:
                pieces.append(text)
        else:
            pieces.append([squash_tokens(p.apply(item.a, item.b, item.base)) for p in PATTERNS])
    # forward: positions in `wanted` reachable after each piece
    reach: list[set[int]] = [{0}]
    for piece in pieces:
        options = [piece] if isinstance(piece, str) else piece
        reach.append({at + len(o) for at in reach[-1] for o in options if wanted.startswith(o, at)})
    if len(wanted) not in reach[-1]:
        return None
    # backward: keep the choices that lie on a complete path
    alive = {len(wanted)}
    labels: list[frozenset[int]] = []
    for piece, starts in zip(reversed(pieces), reversed(reach[:-1]), strict=True):
        if isinstance(piece, str):
            alive = {at for at in starts if wanted.startswith(piece, at) and at + len(piece) in alive}
            continue
        good = {
            i
            for i, o in enumerate(piece)
            for at in starts
            if wanted.startswith(o, at) and at + len(o) in alive
        }
        alive = {at for at in starts for o in piece if wanted.startswith(o, at) and at + len(o) in alive}
        labels.append(frozenset(good))
    return labels[::-1]


def decode(conflict: ConflictInput, unit_probs: Sequence[np.ndarray], beam: int = 8) -> list[Candidate]:
    """Candidates ranked by confidence from the units' class probabilities (the region unit first, then
    one row per token conflict, as ``units`` orders them); candidates of one resolution
    (``same_resolution_key``) add up, spelt as the likeliest token merge among them spells it: it keeps
    the whitespace edits of both sides, where a whole side keeps only that side's."""
    region_probs = unit_probs[0]
    token_probs = [row[:N_PATTERNS] / max(float(row[:N_PATTERNS].sum()), 1e-9) for row in unit_probs[1:]]
    scored: list[Candidate] = [
        Candidate(region_text(conflict, i), "region", (PATTERNS[i].name,), float(region_probs[i]))
        for i in range(N_PATTERNS)
    ]
    for choices, probability in _beam(token_probs, beam):
        scored.append(
            Candidate(
                token_merge_text(conflict, choices),
                "token",
                tuple(PATTERNS[i].name for i in choices),
                float(region_probs[TOKEN_CLASS]) * probability,
            )
        )
    merged: dict[str, Candidate] = {}
    respelt: set[str] = set()
    for candidate in sorted(scored, key=lambda c: -c.confidence):
        key = conflict.same_resolution_key(candidate.text)
        if key in merged:
            best = merged[key]
            if candidate.kind == "token" and best.kind != "token" and key not in respelt:
                respelt.add(key)
                best = replace(best, text=candidate.text, respelt=candidate.text != best.text)
            merged[key] = replace(best, confidence=best.confidence + candidate.confidence)
        else:
            merged[key] = candidate
    return sorted(merged.values(), key=lambda c: -c.confidence)


def _beam(token_probs: Sequence[np.ndarray], width: int) -> list[tuple[tuple[int, ...], float]]:
    """The `width` most probable joint pattern choices for the token conflicts of one region."""
    states: list[tuple[tuple[int, ...], float]] = [((), 1.0)]
    for probs in token_probs:
        expanded = [(choices + (i,), p * float(probs[i])) for choices, p in states for i in range(N_PATTERNS)]
        states = heapq.nlargest(width, expanded, key=lambda state: state[1])
    return states
