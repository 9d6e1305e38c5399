"""The nine primitive patterns: apply, and label recovering every pattern from its own output."""

import pytest

from mergebert.core.languages import language_by_name
from mergebert.core.lexer import tokenize
from mergebert.core.patterns import PATTERN_BY_NAME, PATTERNS, label, minus_base

JAVA = language_by_name("java")


def toks(text: str):
    return tokenize(text, JAVA).tokens


A, BASE, B = toks("call(x, y);"), toks("call(x);"), toks("call(x, z, w);")


def texts(tokens) -> list[str]:
    return [t.text for t in tokens]


def test_the_nine_patterns_in_model_order() -> None:
    assert [p.name for p in PATTERNS] == [
        "A", "B", "BASE", "A+B", "B+A", "A-BASE", "B-BASE", "A+B-BASE", "B+A-BASE",
    ]  # fmt: skip


def test_apply() -> None:
    assert texts(PATTERN_BY_NAME["A+B"].apply(A, B, BASE)) == texts(A) + texts(B)
    assert texts(PATTERN_BY_NAME["B+A"].apply(A, B, BASE)) == texts(B) + texts(A)
    assert texts(minus_base(A, BASE)) == [",", "y"]
    assert texts(PATTERN_BY_NAME["A+B-BASE"].apply(A, B, BASE)) == [",", "y", ",", "z", ",", "w"]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_label_finds_the_pattern_that_made_a_resolution(pattern) -> None:
    resolution = pattern.apply(A, B, BASE)
    assert pattern in label(A, B, BASE, resolution)
    spaced = " ".join(texts(resolution))
    assert pattern in label(A, B, BASE, spaced), "labels ignore whitespace"


def test_label_is_empty_when_no_pattern_fits() -> None:
    assert label(A, B, BASE, "somethingElse();") == []
