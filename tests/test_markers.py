"""Conflict markers: the one reading of where git's conflict blocks lie, shared by review and eval."""

from __future__ import annotations

from mergebert.core import markers


def test_a_block_runs_from_its_start_marker_to_the_first_end_marker_after_it() -> None:
    text = "a\n<<<<<<< ours\nx\n<<<<<<< inner\n=======\ny\n>>>>>>> theirs\nb\n<<<<<<<<\n>>>>>>>\n"
    lines = text.splitlines(keepends=True)
    assert markers.blocks(lines, 7) == [(1, 7)], "an eight-character run is no marker of size 7"
    assert markers.blocks([line.encode() for line in lines], 7) == [(1, 7)]
    assert markers.blocks(lines, 8) == [], "no end marker of size 8"
    assert markers.blocks(["<<<<<<< ours\r\n", "=======\r\n", ">>>>>>>\r\n"], 7) == [(0, 3)]
