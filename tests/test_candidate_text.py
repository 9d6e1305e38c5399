"""What a candidate's text shows against the conflict's sides: the features the acceptor reads beside the
encoder's scores."""

from __future__ import annotations

import pytest

from mergebert.neural.candidate_text import TEXT_FEATURE_NAMES, ConflictText

BASE = "int total = count;\n"
OURS = "int total = count;\nlog.info(total);\n"
THEIRS = "int total = count;\nmetrics.record(total);\n"
PREFIX = "void run() {\n  int count = 3;\n"
SUFFIX = "  return total;\n}\n"


def _row(conflict: ConflictText, text: str, others: tuple[str, ...] = ()) -> dict[str, float]:
    rows = conflict.rows([text, *others])
    assert all(len(row) == len(TEXT_FEATURE_NAMES) for row in rows)
    return dict(zip(TEXT_FEATURE_NAMES, rows[0], strict=True))


def test_each_sides_change_kept_or_lost() -> None:
    conflict = ConflictText(OURS, BASE, THEIRS, PREFIX, SUFFIX)
    both = _row(conflict, OURS + "metrics.record(total);\n")
    ours = _row(conflict, OURS)
    assert (both["ours_added_lines_kept"], both["theirs_added_lines_kept"]) == (1.0, 1.0)
    assert (ours["ours_added_lines_kept"], ours["theirs_added_lines_kept"]) == (1.0, 0.0)
    assert ours["theirs_added_words_kept"] < 1.0 == ours["ours_added_words_kept"]
    assert both["novel_lines"] == 0.0 == ours["novel_words"]
    assert _row(conflict, "int total = fresh;\n")["novel_words"] > 0.0, "a word that no side has"


def test_repeated_lines_and_lines_of_the_surroundings() -> None:
    added = "cache.clear(key);\n"
    conflict = ConflictText(BASE + added, BASE, BASE + added + "audit(key);\n", PREFIX, added + SUFFIX)
    doubled = _row(conflict, BASE + added + added + "audit(key);\n")
    assert doubled["duplicated_lines"] > 0.0, "a line twice where no side has it twice"
    assert doubled["repeats_suffix"] > 0.0, "an added line the merged lines right after already hold"
    single = _row(conflict, BASE + "audit(key);\n" + added)
    assert single["duplicated_lines"] == 0.0
    assert single["last_line_repeats_suffix"] == 1.0 and doubled["last_line_repeats_suffix"] == 0.0


def test_brackets_that_balance_unlike_either_side() -> None:
    conflict = ConflictText("if (a) {\n", "if (b) {\n", "if (c) {\n", "", "")
    assert _row(conflict, "if (a) {\nif (c) {\n")["braces_unlike_sides"] == 1.0
    assert _row(conflict, "if (a && c) {\n")["braces_unlike_sides"] == 0.0
    assert _row(conflict, "if (a && c {\n")["parentheses_unlike_sides"] == 1.0


def test_the_last_features_compare_a_candidate_with_the_others() -> None:
    conflict = ConflictText(OURS, BASE, THEIRS, PREFIX, SUFFIX)
    both = OURS + "metrics.record(total);\n"
    rows = [dict(zip(TEXT_FEATURE_NAMES, row, strict=True)) for row in conflict.rows([OURS, both, "x();\n"])]
    assert [row["coverage_gap"] for row in rows][1] == 0.0, "the candidate keeping both changes covers most"
    assert rows[0]["coverage_gap"] > 0.0 and rows[2]["coverage_gap"] > rows[0]["coverage_gap"]
    assert rows[2]["novel_words_gap"] > 0.0 == rows[0]["novel_words_gap"]


def test_sorted_import_blocks() -> None:
    ours = "import a.B;\nimport a.C;\n"
    theirs = "import a.A;\nimport a.B;\n"
    conflict = ConflictText(ours, "import a.B;\n", theirs, "", "")
    in_order = _row(conflict, "import a.A;\nimport a.B;\nimport a.C;\n")
    out_of_order = _row(conflict, "import a.B;\nimport a.C;\nimport a.A;\n")
    assert in_order["import_lines"] == 1.0 and in_order["sides_sorted"] == 1.0
    assert in_order["candidate_sorted"] == 1.0 > out_of_order["candidate_sorted"]


@pytest.mark.parametrize("text", ["", "\n\n", "}\n"])
def test_empty_and_trivial_candidates_give_finite_rows(text: str) -> None:
    conflict = ConflictText("", "", "", "", "")
    row = _row(conflict, text)
    assert all(value == value and abs(value) < 1e6 for value in row.values())
