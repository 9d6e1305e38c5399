"""A `$MERGEBERT_THREADS` that is not a whole number is named and ignored, as a bad `$MERGEBERT_THRESHOLD`
is: the model still decides (with ONNX Runtime's own number of threads)."""

from __future__ import annotations

import pytest
from gitrepo import TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"


def mergebert_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("mergebert:")]


@pytest.mark.parametrize("value", ["abc", "-2", "1.5"])
def test_bad_threads_setting_is_named_and_the_model_still_decides(repo: GitRepo, value: str) -> None:
    for name, text in (("ours.java", TOKEN_OURS), ("base.java", TOKEN_BASE), ("theirs.java", TOKEN_THEIRS)):
        repo.write(name, text)
    del repo.env["MERGEBERT_MODEL"]  # the shipped model, whose session takes the threads setting
    repo.env["MERGEBERT_THREADS"] = value
    merged = repo.mergebert("merge-file", "-p", "ours.java", "base.java", "theirs.java")
    said = mergebert_lines(merged.stderr)
    assert [line for line in said if "MERGEBERT_THREADS" in line] == [
        f"mergebert: ignoring $MERGEBERT_THREADS={value!r} (not a whole number of threads)"
    ], merged.stderr
    assert not any("model unavailable" in line for line in said), merged.stderr


def test_bad_threads_setting_is_named_by_the_merge_driver(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    del repo.env["MERGEBERT_MODEL"]
    repo.env["MERGEBERT_THREADS"] = "abc"
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    said = mergebert_lines(merge.stderr)
    named = "mergebert: ignoring $MERGEBERT_THREADS='abc' (not a whole number of threads)"
    assert named in said, merge.stderr
    assert not any("model unavailable" in line for line in said), merge.stderr
