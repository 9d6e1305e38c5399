"""The nine primitive merge patterns of MergeBERT, as data with `apply` and `label`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mergebert.core.lexer import Token
from mergebert.core.tokendiff import matching_blocks

Tokens = tuple[Token, ...]
_WHITESPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Text with all whitespace removed: how resolutions are compared."""
    return _WHITESPACE.sub("", text)


def squash_tokens(tokens: Sequence[Token]) -> str:
    return squash("".join(token.text for token in tokens))


def minus_base(side: Tokens, base: Tokens) -> Tokens:
    """The tokens of `side` that it does not share with base (by the token diff)."""
    shared: set[int] = set()
    for _, start, length in matching_blocks([t.text for t in base], [t.text for t in side]):
        shared.update(range(start, start + length))
    return tuple(token for i, token in enumerate(side) if i not in shared)


@dataclass(frozen=True)
class Pattern:
    name: str
    _parts: Callable[[Tokens, Tokens, Tokens], tuple[Tokens, ...]]

    def parts(self, a: Tokens, b: Tokens, base: Tokens) -> tuple[Tokens, ...]:
        """The runs of tokens the pattern puts one after another, each from one side."""
        return self._parts(a, b, base)

    def apply(self, a: Tokens, b: Tokens, base: Tokens) -> Tokens:
        parts = self._parts(a, b, base)
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]


PATTERNS: tuple[Pattern, ...] = (
    Pattern("A", lambda a, b, base: (a,)),
    Pattern("B", lambda a, b, base: (b,)),
    Pattern("BASE", lambda a, b, base: (base,)),
    Pattern("A+B", lambda a, b, base: (a, b)),
    Pattern("B+A", lambda a, b, base: (b, a)),
    Pattern("A-BASE", lambda a, b, base: (minus_base(a, base),)),
    Pattern("B-BASE", lambda a, b, base: (minus_base(b, base),)),
    Pattern("A+B-BASE", lambda a, b, base: (minus_base(a, base), minus_base(b, base))),
    Pattern("B+A-BASE", lambda a, b, base: (minus_base(b, base), minus_base(a, base))),
)
PATTERN_BY_NAME = {pattern.name: pattern for pattern in PATTERNS}
_SIDE = re.compile(r"\b[AB]\b")


def mirrored(name: str) -> str:
    """The pattern that does with ours and theirs swapped what ``name`` does: A+B-BASE becomes B+A-BASE."""
    return _SIDE.sub(lambda side: "B" if side.group() == "A" else "A", name)


def label(a: Tokens, b: Tokens, base: Tokens, resolution: Tokens | str) -> list[Pattern]:
    """The patterns whose output equals `resolution`, whitespace ignored (none when no pattern fits)."""
    wanted = squash(resolution) if isinstance(resolution, str) else squash_tokens(resolution)
    return [pattern for pattern in PATTERNS if squash_tokens(pattern.apply(a, b, base)) == wanted]
