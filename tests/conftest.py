"""Shared fixtures: an isolated HOME and a fresh git repository (see tests/gitrepo.py)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitrepo import GitRepo, isolated_env, mergebert_setting, stop_daemons

# A test run started in the background of a shell inherits SIGINT ignored, which every command it starts
# would keep through exec, so the ^C tests' commands would never see their ^C; a handler of this process's
# own instead is reset to the default at exec.
signal.signal(signal.SIGINT, signal.default_int_handler)

# Nor does any test inherit the settings of the environment the tests run in (a CI's NO_COLOR or
# MERGEBERT_MODEL): those run in this process (click's CliRunner) read os.environ itself.
for name in [name for name in os.environ if mergebert_setting(name)]:
    del os.environ[name]


@pytest.fixture
def git_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for git and mergebert with HOME in the test's folder and no system config; resolver
    daemons get a private folder of their own and are stopped when the test ends."""
    env = isolated_env(tmp_path / "home")
    daemons = Path(tempfile.mkdtemp(prefix="mb-"))  # short: Unix socket paths are limited to ~100 bytes
    env["MERGEBERT_DAEMON_DIR"] = str(daemons)
    yield env
    stop_daemons(daemons)
    shutil.rmtree(daemons, ignore_errors=True)


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> GitRepo:
    """An empty repository on branch main."""
    return GitRepo.init(tmp_path / "repo", git_env)
