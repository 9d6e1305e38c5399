"""The splice never alters lines git merged, and concatenations keep the sides' own line breaks."""

from __future__ import annotations

import pytest
from proposing import Proposes

from mergebert.core.candidates import CLASS_NAMES, ConflictInput, region_text, token_merge_text
from mergebert.core.languages import language_by_name
from mergebert.core.linemerge import LineConflict, merge_lines, render
from mergebert.core.resolver import resolve_text
from mergebert.core.splice import keeps, merged_lines

JAVA = language_by_name("java")
SHARED = "\t}\n\n\t@Test\n"  # the lines the issue saw deleted: both sides have them after their change
BASE = "class T {\n\tvoid a() {\n\t\tx();\n\t}\n}\n"
OURS = "class T {\n\tvoid a() {\n\t\tfoo();\n" + SHARED + "\tvoid c() {\n\t\tx();\n\t}\n}\n"
THEIRS = "class T {\n\tvoid a() {\n\t\tbar();\n" + SHARED + "\tvoid d() {\n\t\tx();\n\t}\n}\n"


def the_conflict() -> LineConflict:
    (conflict,) = [chunk for chunk in merge_lines(BASE, OURS, THEIRS) if isinstance(chunk, LineConflict)]
    return conflict


def test_the_lines_both_sides_share_are_merged_lines() -> None:
    conflict = the_conflict()
    assert SHARED in conflict.ours and SHARED in conflict.theirs, "libgit2's diff3 keeps them inside"
    segments = merged_lines(conflict)
    assert SHARED in "".join(segments)
    assert keeps(segments, conflict.ours) and keeps(segments, conflict.theirs)
    assert not keeps(segments, "\n")


def test_a_resolution_dropping_shared_lines_is_refused() -> None:
    """The issue's case at threshold 0: a conflict resolved to "\\n", deleting `\\t}`, ``, `\\t@Test`."""
    result = resolve_text(
        BASE, OURS, THEIRS, lang=JAVA, classifier=Proposes.alike("\n", confidence=0.9), threshold=0.0
    )
    assert result.left == 1 and result.resolutions[0].reason == "would alter merged lines"
    assert result.text == render(merge_lines(BASE, OURS, THEIRS))


@pytest.mark.parametrize("proposed", ["", "\n", "  \n\n"])
def test_a_resolution_that_empties_the_file_is_refused(proposed: str) -> None:
    """One side emptied the file, the other edited it: git's modify/delete in content, for a person."""
    result = resolve_text(
        BASE, OURS, "", lang=JAVA, classifier=Proposes.alike(proposed, confidence=0.9), threshold=0.0
    )
    assert result.left == 1 and result.resolutions[0].reason == "would empty the file"


def test_the_next_candidate_that_keeps_them_is_taken() -> None:
    keeping = the_conflict().ours.replace("foo();", "foo();\n\t\tbar();")
    result = resolve_text(
        BASE, OURS, THEIRS, lang=JAVA, classifier=Proposes.alike("\n", keeping, confidence=0.9), threshold=0.0
    )
    assert result.left == 0 and result.resolutions[0].text == keeping


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("a\nb\nc\n", True),
        ("a\nx\nb\nc\n", True),
        ("x\na\nb\nc\n", False),  # the shared first line must stay first
        ("a\nb\n", False),  # the shared last line must stay last
        ("a\nxb\nc\n", False),  # a merged line must be a whole line
    ],
)
def test_keeps_wants_segments_in_order_at_line_starts(text: str, kept: bool) -> None:
    assert keeps(["a\n", "b\n", "c\n"], text) is kept


def test_concatenations_of_added_imports_keep_their_line_breaks() -> None:
    """At threshold 0 two added imports came out as `import java.util.Optional;import java.util.Set;`."""
    ours, theirs = "import java.util.Optional;\n", "import java.util.Set;\n"
    conflict = ConflictInput.from_texts(ours, "", theirs, lang=JAVA)
    for name in ("A+B", "A+B-BASE"):
        assert region_text(conflict, CLASS_NAMES.index(name)) == (
            "import java.util.Optional;\nimport java.util.Set;\n"
        )
    assert region_text(conflict, CLASS_NAMES.index("B+A-BASE")) == (
        "import java.util.Set;\nimport java.util.Optional;\n"
    )


def test_token_level_concatenation_keeps_line_breaks() -> None:
    conflict = ConflictInput.from_texts(
        "import java.util.Optional;\nclass X {}\n",
        "class X {}\n",
        "import java.util.Set;\nclass X {}\n",
        lang=JAVA,
    )
    assert len(conflict.token_conflicts) == 1
    a_plus_b = CLASS_NAMES.index("A+B")
    assert token_merge_text(conflict, [a_plus_b]) == (
        "import java.util.Optional;\nimport java.util.Set;\nclass X {}\n"
    )


def test_concatenation_within_a_line_stays_on_the_line() -> None:
    conflict = ConflictInput.from_texts("f(x, 1);\n", "f(x);\n", "f(x, 2);\n", lang=JAVA)
    assert token_merge_text(conflict, [CLASS_NAMES.index("A+B")]) == "f(x, 1, 2);\n"


COMMENT_BASE = "class R {\n  void run() {\n    start();\n\n    stop(1);\n  }\n}\n"
COMMENT_OURS = "class R {\n  void run() {\n    start();\n    stop(2);\n  }\n}\n"
COMMENT_THEIRS = "class R {\n  void run() {\n    start();\n    // the pump first\n    stop(1);\n  }\n}\n"


@pytest.mark.parametrize(
    "text",
    [
        "    // the pump first    stop(2);\n",
        "    // the pump first stop(2);\n",
        "    stop(2); // the pump first stop\n",
    ],
)
def test_a_resolution_that_puts_code_inside_a_comment_is_refused(text: str) -> None:
    """A candidate whose comments hold words no side's comments hold has run code into a comment: it
    parses, and it has every token of the right resolution, but the code is gone."""
    result = resolve_text(
        COMMENT_BASE,
        COMMENT_OURS,
        COMMENT_THEIRS,
        lang=JAVA,
        classifier=Proposes.alike(text, confidence=0.9),
        threshold=0.0,
    )
    assert result.left == 1 and result.resolutions[0].reason == "would put code inside a comment"


def test_a_resolution_merging_the_words_of_both_sides_comments_is_kept() -> None:
    base = "class R {\n  // stop the pump\n  int x = 1;\n}\n"
    ours = "class R {\n  // stop the old pump\n  int x = 2;\n}\n"
    theirs = "class R {\n  // stop the pump first\n  int x = 3;\n}\n"
    text = "  // stop the old pump first\n  int x = 2;\n"
    result = resolve_text(
        base, ours, theirs, lang=JAVA, classifier=Proposes.alike(text, confidence=0.9), threshold=0.0
    )
    assert result.left == 0 and text in result.text
