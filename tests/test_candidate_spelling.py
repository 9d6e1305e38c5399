"""A candidate's text spells its tokens as the sides do: words a pattern puts side by side are kept apart,
words a side itself writes touching are not."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import GitRepo

from mergebert.core.candidates import CLASS_NAMES, ConflictInput, region_text, token_merge_text
from mergebert.core.languages import language_by_name

JS = language_by_name("javascript")
SHIPPED = Path(__file__).resolve().parent.parent / "mergebert" / "neural" / "model"

# Lines inside a block comment: alone, the conflict's lines parse as code, and tree-sitter splits
# `3Clause` into the number `3` and the word `Clause` with no whitespace between them.
BASE = " * of its license (BSD-3Clause, see <a/b>).\n"
OURS = " * of the license (BSD-3Clause, see <a/b>).\n"
THEIRS = " * of its license (BSD-3Clause, see <c/b>).\n"
MERGED = " * of the license (BSD-3Clause, see <c/b>).\n"


def test_the_token_merge_keeps_words_a_side_writes_touching() -> None:
    conflict = ConflictInput.from_texts(OURS, BASE, THEIRS, "/*\n", " */\n", JS)
    assert [t.text for t in conflict.tokens[0].tokens][7:9] == ["3", "Clause"], "the split this test needs"
    assert conflict.token_conflicts == []
    assert token_merge_text(conflict, ()) == MERGED


def test_a_pattern_keeps_words_a_side_writes_touching() -> None:
    conflict = ConflictInput.from_texts(" * of (BSD-3Clause, see\n", " * x\n", " * y (BSD-3Clause\n", lang=JS)
    assert region_text(conflict, CLASS_NAMES.index("A-BASE")) == " of (BSD-3Clause, see\n"
    assert region_text(conflict, CLASS_NAMES.index("B+A-BASE")) == " y (BSD-3Clause\n of (BSD-3Clause, see\n"


def test_words_a_pattern_puts_side_by_side_stay_apart() -> None:
    conflict = ConflictInput.from_texts("f(x, 1, p);\n", "f(a, 0, p);\n", "f(y, 2, p);\n", lang=JS)
    choices = [CLASS_NAMES.index("A+B"), CLASS_NAMES.index("B")]
    assert token_merge_text(conflict, choices) == "f(x y, 2, p);\n"


def test_merge_file_keeps_the_sides_spelling(repo: GitRepo) -> None:
    paths = []
    for name, text in (("current", OURS), ("base", BASE), ("other", THEIRS)):
        (repo.path / f"{name}.js").write_text(f"/*\n{text} */\n")
        paths.append(str(repo.path / f"{name}.js"))
    merged = repo.mergebert("merge-file", "-p", "--model", "none", *paths)
    assert (merged.returncode, merged.stdout) == (0, f"/*\n{MERGED} */\n")


@pytest.mark.skipif(not (SHIPPED / "model.onnx").exists(), reason="no model shipped")
def test_the_shipped_models_pick_keeps_the_sides_spelling(repo: GitRepo) -> None:
    """QA's case (echarts): the model picked theirs, spelt as the token merge spells it, which put a space
    into `3Clause`; whichever candidate it picks at threshold 0, no candidate holds that space."""
    texts = (
        " * of its license (BSD-3Clause, see </b>).\n",
        BASE,
        " * of the licence (BSD-3Clause, see\n * <c/b>).\n",
    )
    paths = []
    for name, text in zip(("current", "base", "other"), texts, strict=True):
        (repo.path / f"{name}.js").write_text(f"/*\n{text} */\n")
        paths.append(str(repo.path / f"{name}.js"))
    merged = repo.mergebert("merge-file", "-p", "--model", str(SHIPPED), "--threshold", "0", *paths)
    assert merged.returncode in (0, 1), merged.stderr
    assert "3 Clause" not in merged.stdout
