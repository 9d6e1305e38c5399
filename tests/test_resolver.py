"""The resolver over texts and bytes, with a real tree-sitter parse check and git's fallback."""

from proposing import Proposes

from mergebert.core.languages import language_by_name
from mergebert.core.options import MergeOptions
from mergebert.core.resolver import resolve_bytes, resolve_text

JAVA = language_by_name("java")
BASE = "class A {\n  void f() {\n    foo(a, b);\n  }\n}\n"
OURS = BASE.replace("foo(a, b)", "foo(a2, b)")
THEIRS = BASE.replace("foo(a, b)", "foo(a, b3)")
RESOLVED = BASE.replace("foo(a, b)", "foo(a2, b3)")


def test_token_merge_resolves_a_line_conflict() -> None:
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA)
    assert (result.text, result.conflicts, result.left) == (RESOLVED, 1, 0)
    assert result.resolutions[0].candidate.describe() == "token merge"


def test_unresolved_conflict_is_written_like_git() -> None:
    theirs = BASE.replace("foo(a, b)", "foo(c, b)")
    result = resolve_text(BASE, OURS, theirs, lang=JAVA, options=MergeOptions(labels=("HEAD", "", "topic")))
    assert result.left == 1 and result.resolutions[0].reason == "1 token conflict left"
    assert "<<<<<<< HEAD\n    foo(a2, b);\n=======\n    foo(c, b);\n>>>>>>> topic\n" in result.text


def test_candidate_that_breaks_the_parse_is_skipped() -> None:
    broken = ("    foo(a2, b3;\n", 0.9)
    good = ("    foo(a2, b3);\n", 0.8)
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA, classifier=Proposes(broken, good))
    assert result.text == RESOLVED
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA, classifier=Proposes(broken))
    assert result.left == 1 and result.resolutions[0].reason == "no candidate parses"


def test_threshold_leaves_unsure_conflicts() -> None:
    classifier = Proposes(("    foo(a2, b3);\n", 0.4))
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA, classifier=classifier, threshold=0.5)
    assert result.left == 1 and "below threshold" in result.resolutions[0].reason


def test_a_confidence_that_is_not_a_number_passes_no_threshold() -> None:
    """A NaN compares false with everything: it must leave the conflict, not take the candidate."""
    classifier = Proposes(("    foo(a2, b3);\n", float("nan")), threshold=0.5)
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA, classifier=classifier)
    assert result.left == 1 and "<<<<<<<" in result.text


def test_crlf_bom_and_missing_final_newline_are_kept() -> None:
    def crlf(text: str) -> bytes:
        return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").rstrip("\r\n").encode()

    result = resolve_bytes(crlf(BASE), crlf(OURS), crlf(THEIRS), path="A.java")
    assert result.data == crlf(RESOLVED) and result.left == 0


def test_sides_holding_markers_are_left_alone() -> None:
    ours = OURS.replace("    foo(a2, b);\n", "<<<<<<< HEAD\n    foo(a2, b);\n=======\n")
    result = resolve_text(BASE, ours, THEIRS, lang=JAVA)
    assert result.left == result.conflicts == 1
    assert result.resolutions[0].reason == "a side already holds conflict markers"


def test_add_add_conflict_with_empty_base() -> None:
    result = resolve_text("", "int x = 1;\n", "int x = 2;\n", lang=JAVA)
    assert result.left == 1


def test_non_utf8_and_binary_fall_back_to_git() -> None:
    latin = resolve_bytes(b"a\n\xe9\n", b"b\n\xe9\n", b"c\n\xe9\n", path="A.java")
    assert latin.fallback.startswith("not UTF-8") and latin.left == 1
    assert latin.data == b"<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n\xe9\n"
    binary = resolve_bytes(b"\0a", b"\0ours", b"\0theirs", path="A.java")
    assert (binary.fallback, binary.data, binary.left) == ("binary content", b"\0ours", 1)


def test_unknown_extension_uses_the_simple_tokenizer() -> None:
    result = resolve_bytes(b"f(a, b)\n", b"f(a2, b)\n", b"f(a, b3)\n", path="x.unknown")
    assert result.data == b"f(a2, b3)\n" and result.fallback is None


def test_unknown_language_name_falls_back_with_its_reason() -> None:
    result = resolve_bytes(BASE.encode(), OURS.encode(), THEIRS.encode(), language="cobol")
    assert result.fallback.startswith("unknown language 'cobol'") and result.left == 1


def test_huge_conflicts_are_left_without_classifying() -> None:
    ours = OURS.replace("foo(a2, b);", "foo(a2, b);" + " x();" * 5000)
    result = resolve_text(BASE, ours, THEIRS, lang=JAVA)
    assert result.left == 1 and result.resolutions[0].reason.startswith("too large to resolve")
