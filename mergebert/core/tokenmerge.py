"""Stage 2b: three-way merge of token sequences (diff3), MergeBERT's token-level merge."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mergebert.core.lexer import Token, TokenSeq
from mergebert.core.tokendiff import matching_blocks


@dataclass(frozen=True)
class MergedRun:
    tokens: tuple[Token, ...]
    source: str  # "base" (unchanged), "both" (same change on both sides), "a" or "b"


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
    """Merge a (ours) and b (theirs) against base, token by token, whitespace ignored.

    Unchanged stretches take ours' tokens (and so ours' whitespace); a change made on one side only is
    taken from that side; changes on both sides that differ become a TokenConflict.
    """
    ta, tbase, tb = a.texts(), base.texts(), b.texts()
    items: list[MergeItem] = []
    ia = ib = iz = 0
    for z_start, z_end, a_start, a_end, b_start, b_end in _sync_regions(tbase, ta, tb):
        took_theirs = False
        if a_start > ia or b_start > ib or z_start > iz:
            a_changed = ta[ia:a_start] != tbase[iz:z_start]
            b_changed = tb[ib:b_start] != tbase[iz:z_start]
            if not b_changed or ta[ia:a_start] == tb[ib:b_start]:
                _append(items, a.tokens[ia:a_start], "both" if b_changed else "a")
            elif not a_changed:
                _append(items, b.tokens[ib:b_start], "b")
                took_theirs = True
            else:
                items.append(
                    TokenConflict(a.tokens[ia:a_start], base.tokens[iz:z_start], b.tokens[ib:b_start])
                )
        unchanged = a.tokens[a_start:a_end]
        if unchanged and took_theirs:
            # the whitespace after theirs' change is theirs, also where they only deleted: a deleted
            # token may have held the line break, which theirs then put before the next one
            unchanged = (Token(unchanged[0].text, b.tokens[b_start].lead), *unchanged[1:])
        _append(items, unchanged, "base")
        ia, ib, iz = a_end, b_end, z_end
    return items


def _append(items: list[MergeItem], tokens: tuple[Token, ...], source: str) -> None:
    if tokens:
        items.append(MergedRun(tokens, source))


def token_conflicts(items: Sequence[MergeItem]) -> list[TokenConflict]:
    return [item for item in items if isinstance(item, TokenConflict)]
