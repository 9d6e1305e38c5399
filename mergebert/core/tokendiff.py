"""The one token alignment: libgit2's (xdiff's Myers) diff over one token per line, as git merges lines.

Every token becomes one line holding a number that names its text, so no line holds a newline or a NUL
whatever the tokens contain, and xdiff's bounded-cost heuristics keep the work near linear where
`difflib` went quadratic or worse (one-line tables, deeply nested brackets).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import pygit2

Block = tuple[int, int, int]  # (start in x, start in y, length)
Opcode = tuple[str, int, int, int, int]  # difflib's (tag, x_start, x_end, y_start, y_end)


def _as_lines(tokens: Sequence[Hashable], names: dict[Hashable, int]) -> str:
    return "".join(f"{names.setdefault(token, len(names))}\n" for token in tokens)


def _start(start: int, length: int) -> int:
    """0-based first line of a hunk side; an empty side's start names the line before it."""
    return start if length == 0 else start - 1


def matching_blocks(x: Sequence[Hashable], y: Sequence[Hashable]) -> list[Block]:
    """Runs of equal tokens shared by x and y, in order, ending with the sentinel (len(x), len(y), 0)."""
    blocks: list[Block] = []
    if x == y:
        blocks.append((0, 0, len(x)))
    else:
        names: dict[Hashable, int] = {}
        patch = pygit2.Patch.create_from(
            _as_lines(x, names), _as_lines(y, names), context_lines=0, interhunk_lines=0
        )
        at_x = at_y = 0
        for hunk in patch.hunks:
            x_start = _start(hunk.old_start, hunk.old_lines)
            y_start = _start(hunk.new_start, hunk.new_lines)
            blocks.append((at_x, at_y, x_start - at_x))
            at_x, at_y = x_start + hunk.old_lines, y_start + hunk.new_lines
        blocks.append((at_x, at_y, len(x) - at_x))
    blocks = [block for block in blocks if block[2] > 0]
    blocks.append((len(x), len(y), 0))
    return blocks


def opcodes(x: Sequence[Hashable], y: Sequence[Hashable]) -> list[Opcode]:
    """difflib-style edit script turning x into y: 'equal', 'replace', 'delete' and 'insert' spans."""
    codes: list[Opcode] = []
    at_x = at_y = 0
    for x_start, y_start, length in matching_blocks(x, y):
        if at_x < x_start or at_y < y_start:
            tag = "replace" if at_x < x_start and at_y < y_start else "delete" if at_x < x_start else "insert"
            codes.append((tag, at_x, x_start, at_y, y_start))
        if length:
            codes.append(("equal", x_start, x_start + length, y_start, y_start + length))
        at_x, at_y = x_start + length, y_start + length
    return codes
