"""One model policy and one report line: --model / $MERGEBERT_MODEL / git config, thresholds, and the
line every front-end prints for a file with line conflicts (through the installed command and real git)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    MERGEBERT,
    TOKEN_BASE,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
)
from test_merge_file import sides

from mergebert.neural.policy import shipped_model_dir


def merge_file(repo: GitRepo, base: str, ours: str, theirs: str, *options: str):
    return repo.mergebert("merge-file", "-p", *options, *sides(repo.path, base, ours, theirs))


def test_merge_file_reports_every_file_with_line_conflicts(repo: GitRepo) -> None:
    left = merge_file(repo, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    name = str(repo.path / "current.java")
    assert left.stderr == f"mergebert: {name}: resolved 0 of 1 conflict (1 left: token conflict left)\n"
    resolved = merge_file(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert resolved.stderr == f"mergebert: {name}: resolved 1 of 1 conflict\n"
    clean = merge_file(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_BASE)
    assert clean.returncode == 0 and clean.stderr == ""
    quiet = merge_file(repo, CLASH_BASE, CLASH_OURS, CLASH_THEIRS, "-q")
    assert quiet.returncode == 1 and quiet.stderr == ""


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "lots"])
def test_threshold_flag_that_is_not_a_finite_number_is_refused(repo: GitRepo, value: str) -> None:
    result = merge_file(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, "--threshold", value)
    assert result.returncode == 129  # a command line it cannot use, as git's merge-file says of one
    [line] = result.stderr.splitlines()
    assert "is not a threshold" in line


def test_threshold_from_the_environment_or_config_that_is_nan_is_ignored_with_a_message(
    repo: GitRepo,
) -> None:
    repo.env["MERGEBERT_THRESHOLD"] = "nan"
    result = merge_file(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert "mergebert: ignoring $MERGEBERT_THRESHOLD='nan' is not a threshold" in result.stderr
    del repo.env["MERGEBERT_THRESHOLD"]
    repo.git("config", "mergebert.threshold", "NaN")
    result = merge_file(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert "mergebert: ignoring mergebert.threshold='NaN' is not a threshold" in result.stderr


def test_model_precedence_is_flag_then_environment_then_git_config(repo: GitRepo, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-model-here")
    del repo.env["MERGEBERT_MODEL"]
    repo.git("config", "mergebert.model", missing)
    from_config = merge_file(repo, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    assert "model unavailable" in from_config.stderr and missing in from_config.stderr
    repo.env["MERGEBERT_MODEL"] = "none"
    assert "model unavailable" not in merge_file(repo, CLASH_BASE, CLASH_OURS, CLASH_THEIRS).stderr
    repo.env["MERGEBERT_MODEL"] = missing
    flagged = merge_file(repo, CLASH_BASE, CLASH_OURS, CLASH_THEIRS, "--model", "none")
    assert "model unavailable" not in flagged.stderr


def unavailable_from(repo: GitRepo, folder: str, *options: str) -> str:
    """The "model unavailable" line of `mergebert resolve --dry-run` run in `folder` of the work tree."""
    cwd = repo.path / folder
    run = subprocess.run(
        [MERGEBERT, "resolve", "--dry-run", *options], cwd=cwd, env=repo.env, capture_output=True, text=True
    )
    return "".join(line for line in run.stderr.splitlines(keepends=True) if "model unavailable" in line)


def test_model_from_git_config_is_a_path_as_git_reads_one(repo: GitRepo, tmp_path: Path) -> None:
    """`~/` expanded and a relative path taken from the work tree's top, wherever mergebert runs, as from a
    relative $MERGEBERT_MODEL; a path from --model is the command line's, from the current folder."""
    shutil.copytree(shipped_model_dir(), tmp_path / "home" / "models" / "mine")
    del repo.env["MERGEBERT_MODEL"]
    repo.stop_on({"src/App.java": (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    repo.git("config", "mergebert.model", "../home/models/mine")
    assert unavailable_from(repo, ".") == unavailable_from(repo, "src") == ""
    repo.git("config", "mergebert.model", "~/models/mine")
    assert unavailable_from(repo, "src") == ""
    repo.git("config", "mergebert.model", "None")
    assert unavailable_from(repo, "src") == ""
    assert unavailable_from(repo, "src", "--model", "../../home/models/mine") == ""
    repo.env["MERGEBERT_MODEL"] = "../home/models/mine"  # from the top, as the driver reads it
    assert unavailable_from(repo, "src") == ""
    repo.git("merge", "--abort")
    repo.use_driver()
    del repo.env["MERGEBERT_MODEL"]
    repo.git("config", "mergebert.model", "../home/models/mine")
    merge = repo.git("-C", "src", "merge", "--no-edit", "feature", check=False)
    assert "model unavailable" not in merge.stderr and merge.returncode == 0


def test_threshold_from_git_config_reaches_the_classifier(repo: GitRepo) -> None:
    repo.git("config", "mergebert.threshold", "1.5")  # above every confidence: nothing is taken
    result = merge_file(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert result.returncode == 1
    assert "(1 left: confidence below threshold)" in result.stderr
    repo.env["MERGEBERT_THRESHOLD"] = "0.5"  # the environment wins over git config
    assert merge_file(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS).returncode == 0
