"""Conflict markers: the one reading of where git's conflict blocks lie, shared by review and eval."""

from __future__ import annotations

import pytest

from mergebert.core import markers


def test_a_block_runs_from_its_start_marker_to_the_first_end_marker_after_it() -> None:
    text = "a\n<<<<<<< ours\nx\n<<<<<<< inner\n=======\ny\n>>>>>>> theirs\nb\n<<<<<<<<\n>>>>>>>\n"
    lines = text.splitlines(keepends=True)
    assert markers.blocks(lines, 7) == [(1, 7)], "an eight-character run is no marker of size 7"
    assert markers.blocks([line.encode() for line in lines], 7) == [(1, 7)]
    assert markers.blocks(lines, 8) == [], "no end marker of size 8"
    assert markers.blocks(["<<<<<<< ours\r\n", "=======\r\n", ">>>>>>>\r\n"], 7) == [(0, 3)]


def lines_of(*kinds: str) -> list[str]:
    """A line of text, then each of `kinds`' marker line with a line of text after it."""
    marker = {"<": "<<<<<<< ours", "|": "||||||| base", "=": "=======", ">": ">>>>>>> theirs"}
    return ["text\n"] + [line for kind in kinds for line in (f"{marker[kind]}\n", "text\n")]


# the marker lines of a file (a block's, or what the user left of one), and the conflicts they show:
# (blocks, half-edited blocks)
SCANS = [
    ("<=>", 1, 0),
    ("<|=>", 1, 0),
    ("=", 0, 1),  # its `<<<<<<<` and `>>>>>>>` lines deleted
    ("|=", 0, 1),  # the same in the diff3 style: one conflict, not two
    ("=>", 0, 1),
    ("<=", 0, 1),
    ("<=<=>", 1, 1),  # the first block's end deleted: it ends where the next one starts
    ("<=>=<|=>|", 2, 2),
    ("<>", 1, 0),  # its `=======` deleted: still a block
]


@pytest.mark.parametrize(("kinds", "whole", "half"), SCANS)
def test_each_run_of_marker_lines_in_block_order_is_one_conflict(kinds: str, whole: int, half: int) -> None:
    found, unpaired = markers.scan(lines_of(*kinds), 7)
    assert (len(found), unpaired) == (whole, half)


def test_marker_lines_of_kinds_not_read_are_text() -> None:
    """Where the file's own text holds `=======` lines, they are not read as markers: a block's own one is
    its text, a lone one counts nothing."""
    assert markers.scan(lines_of("<", "=", "=", ">"), 7, "<|>") == ([(1, 8)], 0)
    assert markers.scan(lines_of("=", "<", "=", ">"), 7, "<|>") == ([(3, 8)], 0)
    assert markers.scan(lines_of("<", "=", "=", ">"), 7) == ([], 2)
