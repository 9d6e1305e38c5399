"""The resolver's suggestions: up to three distinct candidates the splice accepts, only when asked."""

from __future__ import annotations

from proposing import Proposes

from mergebert.core.languages import language_by_name
from mergebert.core.resolver import resolve_text

JAVA = language_by_name("java")
BASE = "class A {\n  void f() {\n    foo(a, b);\n  }\n}\n"
OURS = BASE.replace("foo(a, b)", "foo(a2, b)")
THEIRS = BASE.replace("foo(a, b)", "foo(a, b3)")


CANDIDATES = (
    ("    foo(a2, b3);\n", 0.4),
    ("    foo(a2,b3);\n", 0.3),  # the same text, whitespace aside
    ("    foo(a2, b3;\n", 0.1),  # does not parse
    ("    foo(a2, b);\n", 0.1),
    ("    foo(a, b3);\n", 0.05),
    ("    foo(a, b);\n", 0.05),
)
PROPOSES = Proposes(*CANDIDATES, threshold=0.5)


def test_suggestions_are_distinct_accepted_and_ignore_the_threshold() -> None:
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA, classifier=PROPOSES, suggest=True)
    (resolution,) = result.resolutions
    assert resolution.text is None and "below threshold" in resolution.reason
    texts = tuple(suggestion.text for suggestion in resolution.suggestions)
    assert texts == ("    foo(a2, b3);\n", "    foo(a2, b);\n", "    foo(a, b3);\n")
    assert [suggestion.confidence for suggestion in resolution.suggestions] == [0.4, 0.1, 0.05]


def test_suggestions_only_when_asked() -> None:
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA, classifier=PROPOSES)
    assert result.resolutions[0].suggestions == ()


def test_a_resolved_conflict_suggests_its_resolution_first() -> None:
    result = resolve_text(BASE, OURS, THEIRS, lang=JAVA, suggest=True)
    (resolution,) = result.resolutions
    assert resolution.suggestions == (resolution.candidate,)
    assert resolution.text == "    foo(a2, b3);\n"
