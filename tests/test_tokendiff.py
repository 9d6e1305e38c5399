"""The token diff (libgit2 over one token per line): valid alignments, any token text, bounded work."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mergebert.core.tokendiff import matching_blocks, opcodes

TOKENS = st.lists(st.sampled_from(["a", "b", "{", "}", "\n", "\x00", "x\ny", "\\", "1", ""]), max_size=40)


def check_blocks(x: list[str], y: list[str]) -> list[tuple[int, int, int]]:
    blocks = matching_blocks(x, y)
    assert blocks[-1] == (len(x), len(y), 0)
    at_x = at_y = 0
    for x_start, y_start, length in blocks[:-1]:
        assert length > 0 and x_start >= at_x and y_start >= at_y
        assert x[x_start : x_start + length] == y[y_start : y_start + length]
        at_x, at_y = x_start + length, y_start + length
    return blocks


@settings(max_examples=200, deadline=None)
@given(TOKENS, TOKENS)
def test_blocks_are_a_common_subsequence_and_opcodes_rebuild_y(x: list[str], y: list[str]) -> None:
    check_blocks(x, y)
    rebuilt: list[str] = []
    at_x = 0
    for tag, x1, x2, y1, y2 in opcodes(x, y):
        assert x1 == at_x
        rebuilt.extend(x[x1:x2] if tag == "equal" else y[y1:y2])
        at_x = x2
    assert at_x == len(x) and rebuilt == y


def test_tokens_holding_newlines_or_nul_are_not_confused() -> None:
    x = ["a", "b\nc", "d"]
    y = ["a", "b", "c", "d"]
    assert check_blocks(x, y) == [(0, 0, 1), (2, 3, 1), (3, 4, 0)]
    assert check_blocks(["\x00", "q"], ["\x00", "q"]) == [(0, 0, 2), (2, 2, 0)]


def test_insertion_deletion_and_replacement_are_found_minimally() -> None:
    assert opcodes(list("abcd"), list("axcde")) == [
        ("equal", 0, 1, 0, 1),
        ("replace", 1, 2, 1, 2),
        ("equal", 2, 4, 2, 4),
        ("insert", 4, 4, 4, 5),
    ]
    assert opcodes(list("ab"), []) == [("delete", 0, 2, 0, 0)]
    assert opcodes([], []) == []


def test_a_long_one_line_table_aligns_its_unchanged_rows() -> None:
    """Thousands of near-identical tokens: difflib took tens of seconds on such input."""
    base = [str(i % 10) for i in range(20_000)]
    side = base[:10_000] + ["changed"] + base[10_001:]
    blocks = check_blocks(base, side)
    assert sum(length for _, _, length in blocks) == 19_999
