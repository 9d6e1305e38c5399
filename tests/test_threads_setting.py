"""A `$MERGEBERT_THREADS` that is not a positive whole number in the digits 0-9 is named and ignored, as a
bad `$MERGEBERT_THRESHOLD` is: the model still decides (with ONNX Runtime's own number of threads); one
above the CPUs the process may run on is named and lowered to them."""

from __future__ import annotations

import os

import pytest
from gitrepo import TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"


def mergebert_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("mergebert:")]


IGNORED = "(not a positive whole number of threads in the digits 0-9)"


@pytest.mark.parametrize("value", ["abc", "-2", "-1", "1.5", "²", "٣"])
def test_bad_threads_setting_is_named_and_the_model_still_decides(repo: GitRepo, value: str) -> None:
    for name, text in (("ours.java", TOKEN_OURS), ("base.java", TOKEN_BASE), ("theirs.java", TOKEN_THEIRS)):
        repo.write(name, text)
    del repo.env["MERGEBERT_MODEL"]  # the shipped model, whose session takes the threads setting
    repo.env["MERGEBERT_THREADS"] = value
    merged = repo.mergebert("merge-file", "-p", "ours.java", "base.java", "theirs.java")
    said = mergebert_lines(merged.stderr)
    assert [line for line in said if "MERGEBERT_THREADS" in line] == [
        f"mergebert: ignoring $MERGEBERT_THREADS={value!r} {IGNORED}"
    ], merged.stderr
    assert not any("model unavailable" in line for line in said), merged.stderr


@pytest.mark.parametrize("value", ["99999999999", "100000"])
def test_more_threads_than_cpus_are_lowered_and_the_model_still_decides(repo: GitRepo, value: str) -> None:
    for name, text in (("ours.java", TOKEN_OURS), ("base.java", TOKEN_BASE), ("theirs.java", TOKEN_THEIRS)):
        repo.write(name, text)
    del repo.env["MERGEBERT_MODEL"]
    repo.env["MERGEBERT_THREADS"] = value
    merged = repo.mergebert("merge-file", "-p", "ours.java", "base.java", "theirs.java")
    said = mergebert_lines(merged.stderr)
    cpus = len(os.sched_getaffinity(0))
    assert [line for line in said if "MERGEBERT_THREADS" in line] == [
        f"mergebert: $MERGEBERT_THREADS={value} is more than the {cpus} CPUs this process may run on;"
        f" using {cpus}"
    ], merged.stderr
    assert not any("model unavailable" in line for line in said), merged.stderr


def test_bad_threads_setting_is_named_by_the_merge_driver(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    del repo.env["MERGEBERT_MODEL"]
    repo.env["MERGEBERT_THREADS"] = "abc"
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    said = mergebert_lines(merge.stderr)
    named = f"mergebert: ignoring $MERGEBERT_THREADS='abc' {IGNORED}"
    assert named in said, merge.stderr
    assert not any("model unavailable" in line for line in said), merge.stderr
