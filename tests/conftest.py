"""Shared fixtures: an isolated HOME and a fresh git repository (see tests/gitrepo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import GitRepo, isolated_env


@pytest.fixture
def git_env(tmp_path: Path) -> dict[str, str]:
    """Environment for git and mergebert with HOME in the test's folder and no system config."""
    return isolated_env(tmp_path / "home")


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> GitRepo:
    """An empty repository on branch main."""
    return GitRepo.init(tmp_path / "repo", git_env)
