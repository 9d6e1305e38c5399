"""Units, labels and candidate decoding for the classifier."""

import numpy as np

from mergebert.core.candidates import (
    CLASS_NAMES,
    TOKEN_CLASS,
    ConflictInput,
    decode,
    join_lines,
    label_units,
    region_text,
    token_merge_text,
    units,
)
from mergebert.core.languages import language_by_name

JAVA = language_by_name("java")
CONFLICT = ConflictInput.from_texts(
    "    foo(x, b2);\n", "    foo(a, b);\n", "    foo(y, b);\n", "class A {\n  void f() {\n", "  }\n}\n", JAVA
)


def names(classes) -> set[str]:
    return {CLASS_NAMES[i] for i in classes}


def test_units_are_the_region_then_each_token_conflict() -> None:
    region, token = units(CONFLICT)
    assert (region.kind, token.kind) == ("region", "token")
    assert [t.text for t in token.a] == ["x"] and [t.text for t in token.b] == ["y"]
    assert [t.text for t in token.before][-3:] == ["{", "foo", "("]
    assert [t.text for t in token.after][:3] == [",", "b2", ")"]


def test_labels_of_a_token_level_resolution() -> None:
    region, token = label_units(CONFLICT, "    foo(y, b2);\n")
    assert names(region) == {"TOKEN"}
    assert names(token) == {"B", "B-BASE"}


def test_labels_of_a_whole_side_resolution() -> None:
    region, token = label_units(CONFLICT, "foo(y,b);")
    assert names(region) == {"B"}
    assert token == frozenset(), "the token merge cannot give theirs here"


def test_several_token_conflicts_are_labelled_jointly() -> None:
    conflict = ConflictInput.from_texts("f(x, 1, p);\n", "f(a, 0, p);\n", "f(y, 2, p);\n", lang=JAVA)
    region, first, second = label_units(conflict, "f(x y, 2, p);\n")
    assert TOKEN_CLASS in region
    assert names(first) == {"A+B", "A+B-BASE"} and names(second) == {"B", "B-BASE"}


def test_inexpressible_resolution_has_no_label() -> None:
    assert label_units(CONFLICT, "    somethingElse();\n") is None


def test_decode_ranks_and_adds_up_identical_texts() -> None:
    region = np.full(10, 0.02)
    region[TOKEN_CLASS] = 0.82
    token = np.array([0.1, 0.7, 0.05, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02])
    ranked = decode(CONFLICT, [region, token])
    best = ranked[0]
    assert best.text == "    foo(y, b2);\n" and best.kind == "token" and best.patterns == ("B",)
    assert abs(best.confidence - 0.82 * (0.7 + 0.02)) < 1e-6, "B and B-BASE give the same text"
    assert [c.confidence for c in ranked] == sorted((c.confidence for c in ranked), reverse=True)


def test_whole_side_patterns_keep_lines_verbatim() -> None:
    conflict = ConflictInput.from_texts("a(1);", "a(0);\n", "b(2);\n", lang=JAVA)
    assert region_text(conflict, CLASS_NAMES.index("A+B")) == "a(1);\nb(2);\n"
    assert join_lines("x\r\ny", "z\r\n") == "x\r\ny\r\nz\r\n"


def _fifty_fifty(conflict: ConflictInput) -> list[np.ndarray]:
    """A model that is 50/50 between ours and theirs on every unit (no token merge)."""
    row = np.zeros(10)
    row[0] = row[1] = 0.5
    return [row] * len(units(conflict))


def test_candidates_differing_in_a_literals_whitespace_stay_apart() -> None:
    """ours and theirs each change the whitespace inside one string: A, B and BASE are three programs,
    not one candidate (whose text could be base's) at the sum of their probabilities."""
    conflict = ConflictInput.from_texts('  s = "a  b";\n', '  s = "a b";\n', '  s = "a\tb";\n', lang=JAVA)
    ranked = decode(conflict, _fifty_fifty(conflict))
    assert [c.confidence for c in ranked[:2]] == [0.5, 0.5]
    assert {c.text for c in ranked[:2]} == {'  s = "a  b";\n', '  s = "a\tb";\n'}


def test_candidates_the_same_but_for_code_whitespace_add_up_spelt_as_the_likeliest_token_merge() -> None:
    """theirs re-indents, ours edits: the whole ours (A) and the token merge are one resolution but for
    theirs' indentation, which only the token merge's spelling keeps."""
    conflict = ConflictInput.from_texts("  f(1, 3);\n", "  f(1, 2);\n", "\tf(1, 2);\n", lang=JAVA)
    region = np.zeros(10)
    region[0], region[TOKEN_CLASS] = 0.6, 0.4
    best = decode(conflict, [region])[0]
    assert (best.text, best.patterns, round(best.confidence, 6)) == ("\tf(1, 3);\n", ("A",), 1.0)
    assert best.describe() == "A (whitespace as the token merge)"


def test_a_candidate_spelt_as_it_is_names_its_pattern_alone() -> None:
    conflict = ConflictInput.from_texts("  f(1, 3);\n", "  f(1, 2);\n", "  f(1, 2);\n", lang=JAVA)
    region = np.zeros(10)
    region[0], region[TOKEN_CLASS] = 0.6, 0.4
    assert decode(conflict, [region])[0].describe() == "A"


def test_a_token_merge_goes_on_a_new_line_after_a_resolution_ending_in_a_line_comment() -> None:
    """Both sides insert before `stop`, ours on its line, theirs a comment line: whatever side's tokens a
    resolution ends with, `stop();` follows them as that side wrote it, never inside theirs' comment."""
    conflict = ConflictInput.from_texts("  a(); stop();\n", "\n  stop();\n", "  // b\n  stop();\n", lang=JAVA)
    assert len(conflict.token_conflicts) == 1
    texts = {
        name: token_merge_text(conflict, (CLASS_NAMES.index(name),)) for name in ("A", "B", "A+B", "B+A")
    }
    assert texts == {
        "A": "  a(); stop();\n",
        "B": "  // b\n  stop();\n",
        "A+B": "  a();\n  // b\n  stop();\n",
        "B+A": "  // b\n  a(); stop();\n",
    }


JAVASCRIPT = language_by_name("javascript")


def test_a_resolution_ending_a_line_keeps_its_line_break_where_the_base_token_after_it_is_taken_away() -> (
    None
):
    """theirs inserts `if (!doc) return` before `await`, ours takes `await` away: after A+B-BASE, theirs'
    `return` still ends its line (joined, JavaScript would return `db.put(doc)`)."""
    conflict = ConflictInput.from_texts(
        "  db.put(doc)\n",
        "  await db.put(doc)\n",
        "  if (!doc) return\n  await db.put(doc)\n",
        lang=JAVASCRIPT,
    )
    (choice,) = [i for i, name in enumerate(CLASS_NAMES) if name == "A+B-BASE"]
    assert token_merge_text(conflict, (choice,) * len(conflict.token_conflicts)) == (
        "  if (!doc) return\n  db.put(doc)\n"
    )


def test_a_part_is_not_put_on_a_new_line_after_a_token_that_keeps_to_its_line() -> None:
    """ours' `return` is followed on its line by the call; theirs' `self.` began its line: put after
    `return` on a new line, JavaScript would return nothing."""
    conflict = ConflictInput.from_texts(
        "  return cb(null, value)\n", "  cb(null, value)\n", "  self.cb(null, value)\n", lang=JAVASCRIPT
    )
    texts = [
        token_merge_text(conflict, (i,) * len(conflict.token_conflicts)) for i in range(len(CLASS_NAMES) - 1)
    ]
    assert not any("return\n" in text for text in texts), texts


def test_a_resolution_that_keeps_nothing_of_a_token_conflict_starts_with_no_blank_line() -> None:
    """ours drops `const x =`, theirs makes it `let x =`: taking ours, the text starts at `compute`, with
    no line break before it, and CRLF stays CRLF."""
    conflict = ConflictInput.from_texts(
        "  compute()\r\n", "  const x = compute()\r\n", "  let x = compute()\r\n", lang=JAVASCRIPT
    )
    (choice,) = [i for i, name in enumerate(CLASS_NAMES) if name == "A"]
    assert token_merge_text(conflict, (choice,) * len(conflict.token_conflicts)) == "  compute()\r\n"


def test_a_line_break_the_token_merge_adds_in_a_crlf_conflict_is_crlf() -> None:
    conflict = ConflictInput.from_texts(
        "    compute()\r\n", "  const x = compute()\r\n", "  let x = compute()\r\n", lang=JAVASCRIPT
    )
    texts = [
        token_merge_text(conflict, (i,) * len(conflict.token_conflicts)) for i in range(len(CLASS_NAMES) - 1)
    ]
    assert all(text.count("\n") == text.count("\r\n") for text in texts), texts
