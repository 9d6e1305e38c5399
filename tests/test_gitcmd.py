"""The one helper that runs git: its errors carry git's own stderr, up to the command's message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitrepo import MERGEBERT, GitRepo

from mergebert.git import gitcmd


def test_error_carries_gits_stderr(tmp_path: Path) -> None:
    with pytest.raises(
        gitcmd.GitError, match=r"git rev-parse --verify nothing-here failed \(exit 128\): fatal"
    ):
        gitcmd.git("rev-parse", "--verify", "nothing-here", cwd=tmp_path)


def test_accepted_statuses_are_returned(tmp_path: Path) -> None:
    assert gitcmd.git("diff", "--no-index", "--quiet", "/dev/null", __file__, accept=(1,)).returncode == 1


def test_check_outside_a_repository_says_what_git_said(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = subprocess.run([MERGEBERT, "check"], cwd=outside, env=repo.env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("mergebert: check: git rev-parse") and "failed (exit " in result.stderr
