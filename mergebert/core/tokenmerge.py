"""Stage 2b: three-way merge of token sequences (diff3), MergeBERT's token-level merge."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from mergebert.core.lexer import Token, TokenSeq
from mergebert.core.tokendiff import matching_blocks


@dataclass(frozen=True)
class MergedRun:
    tokens: tuple[Token, ...]
    source: str  # "base" (unchanged), "both" (same change on both sides), "a" or "b"
    lead_alone: str | None = None  # the first token's lead where nothing is written before it (None: its own)


@dataclass(frozen=True)
class TokenConflict:
    a: tuple[Token, ...]
    base: tuple[Token, ...]
    b: tuple[Token, ...]


MergeItem = MergedRun | TokenConflict


def _sync_regions(base: Sequence[str], a: Sequence[str], b: Sequence[str]) -> Iterator[tuple[int, ...]]:
    """Stretches of base matched in both a and b: (base_start, base_end, a_start, a_end, b_start, b_end)."""
    a_matches, b_matches = matching_blocks(base, a), matching_blocks(base, b)
    ia = ib = 0
    while ia < len(a_matches) and ib < len(b_matches):
        a_base, a_start, a_len = a_matches[ia]
        b_base, b_start, b_len = b_matches[ib]
        start, end = max(a_base, b_base), min(a_base + a_len, b_base + b_len)
        if start < end:
            a_at, b_at = a_start + start - a_base, b_start + start - b_base
            yield start, end, a_at, a_at + end - start, b_at, b_at + end - start
        if a_base + a_len < b_base + b_len:
            ia += 1
        else:
            ib += 1
    yield len(base), len(base), len(a), len(a), len(b), len(b)


def diff3_tokens(a: TokenSeq, base: TokenSeq, b: TokenSeq) -> list[MergeItem]:
    """Merge a (ours) and b (theirs) against base, token by token, code's whitespace aside.

    Tokens are compared by ``Token.key``: whitespace inside a string, template or regex literal counts.
    A change made on one side only is taken from that side; changes on both sides that differ become a
    TokenConflict. Unchanged stretches take ours' tokens, each with the whitespace before it as either
    side changed it (ours' where both did), so a side's re-indenting is kept like its other edits; the
    first token after a change is placed on its line by `_first_lead` and `_line_break_kept`.
    """
    ta, tbase, tb = a.keys(), base.keys(), b.keys()
    items: list[MergeItem] = []
    eol = ""  # the sides' line ending, found where first needed
    ia = ib = iz = 0
    for z_start, z_end, a_start, a_end, b_start, b_end in _sync_regions(tbase, ta, tb):
        changer: TokenSeq | None = None  # the one side whose change comes right before this stretch
        if a_start > ia or b_start > ib or z_start > iz:
            a_changed = ta[ia:a_start] != tbase[iz:z_start]
            b_changed = tb[ib:b_start] != tbase[iz:z_start]
            if not b_changed or ta[ia:a_start] == tb[ib:b_start]:
                _append(items, a.tokens[ia:a_start], "both" if b_changed else "a")
                changer = None if b_changed else a
            elif not a_changed:
                _append(items, b.tokens[ib:b_start], "b")
                changer = b
            else:
                items.append(
                    TokenConflict(a.tokens[ia:a_start], base.tokens[iz:z_start], b.tokens[ib:b_start])
                )
        unchanged = _merged_leads(
            a.tokens[a_start:a_end], base.tokens[z_start:z_end], b.tokens[b_start:b_end]
        )
        start = a_start if changer is a else b_start
        alone = None
        if unchanged and items and not unchanged[0].in_literal:
            alone = unchanged[0].lead  # a token conflict before it may be resolved to nothing
            eol = eol or _line_ending(a, base, b)
            first = _first_lead(
                (a.tokens[a_start], base.tokens[z_start], b.tokens[b_start]),
                (a_start, z_start, b_start),
                None if changer is None else (changer.tokens[start].lead, start),
                eol,
            )
            unchanged = (replace(unchanged[0], lead=first), *unchanged[1:])
        if unchanged and changer is not None and start and changer.tokens[start - 1].holds_its_line_end:
            unchanged = (_line_break_kept(unchanged[0], changer.tokens[start].lead), *unchanged[1:])
        if unchanged:
            items.append(MergedRun(unchanged, "base", alone if alone != unchanged[0].lead else None))
        ia, ib, iz = a_end, b_end, z_end
    return items


def merged_whitespace(ours: str, base: str, theirs: str) -> str:
    """The whitespace either side changed it to; ours where both did."""
    return theirs if ours == base else ours


def _merged_leads(a: tuple[Token, ...], base: tuple[Token, ...], b: tuple[Token, ...]) -> tuple[Token, ...]:
    """Ours' tokens of a stretch unchanged on both sides, each lead merged three ways."""
    return tuple(
        ta if ta.lead == tb.lead else replace(ta, lead=merged_whitespace(ta.lead, tz.lead, tb.lead))
        for ta, tz, tb in zip(a, base, b, strict=True)
    )


def _first_lead(
    tokens: tuple[Token, Token, Token],
    places: tuple[int, int, int],
    changer: tuple[str, int] | None,
    eol: str,
) -> str:
    """The merged lead of the first token of an unchanged stretch that other tokens of the merge come
    before. A side's first token begins a line though its lead holds no line break (the conflict starts a
    line): its lead counts as one line ending longer, so that the token is not joined onto what a change put
    before it. Where one side's change comes before it (`changer`: that side's lead there, and the token's
    place in it) and that side wrote its change and the token on one line (`return compute()`), they stay
    on one. `eol`: the conflict's line ending."""
    leads = [token.lead for token in tokens]

    def full(lead: str, at: int) -> str:
        return eol + lead if at == 0 else lead

    merged = merged_whitespace(*(full(lead, at) for lead, at in zip(leads, places, strict=True)))
    if changer is None:
        return merged
    changers = full(*changer)
    return changers if "\n" in merged and "\n" not in changers else merged


def _line_ending(*sides: TokenSeq) -> str:
    """The sides' line ending: CRLF where one of their line breaks is one."""
    crlf = any("\r\n" in token.lead for side in sides for token in side.tokens)
    return "\r\n" if crlf or any("\r\n" in side.trail for side in sides) else "\n"


def _line_break_kept(token: Token, changers_lead: str) -> Token:
    """The first token after one side's change that ends in a line comment (or a JavaScript `return`),
    starting a line where that side starts it on one: the comment must not swallow the token."""
    if "\n" in token.lead or "\n" not in changers_lead:
        return token
    return replace(token, lead=changers_lead)


def _append(items: list[MergeItem], tokens: tuple[Token, ...], source: str) -> None:
    if tokens:
        items.append(MergedRun(tokens, source))


def token_conflicts(items: Sequence[MergeItem]) -> list[TokenConflict]:
    return [item for item in items if isinstance(item, TokenConflict)]
