"""A relative `$MERGEBERT_MODEL` names one folder, from the work tree's top, in every front-end, run from
whichever folder: git runs the merge driver and `git mergetool` at the top, `resolve` and `merge-file` run
where the user stands."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from gitrepo import MERGEBERT, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

from mergebert.neural import policy

NAME = "src/sub/App.java"
UNAVAILABLE = "model unavailable"
TOP_MODELS_SAYING = "below threshold"  # the top's model leaves the conflict: sure of nothing below 1


def in_subfolder(repo: GitRepo, *command: str) -> str:
    """`command`'s stdout and stderr, run in src/sub with MERGEBERT_MODEL=m: the top's m is the shipped
    model at threshold 1, which leaves the conflict (TOP_MODELS_SAYING), src/sub's m an empty folder, which
    is no model (UNAVAILABLE: the token merge would resolve it)."""
    env = {**repo.env, policy.MODEL_ENV: "m"}
    run = subprocess.run(command, cwd=repo.path / "src" / "sub", env=env, capture_output=True, text=True)
    return run.stdout + run.stderr


def conflicted(repo: GitRepo) -> None:
    """A merge git stops on in src/sub/App.java, with the model folders `in_subfolder` names."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    top = shutil.copytree(policy.shipped_model_dir(), repo.path / "m")
    config = json.loads((top / "config.json").read_text())
    (top / "config.json").write_text(json.dumps({**config, "threshold": 1.0}))
    (repo.path / "src" / "sub" / "m").mkdir()
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 1


def test_resolve_takes_it_from_the_top(repo: GitRepo) -> None:
    conflicted(repo)
    said = in_subfolder(repo, MERGEBERT, "resolve", "--dry-run")
    assert UNAVAILABLE not in said and TOP_MODELS_SAYING in said


def test_merge_file_takes_it_from_the_top(repo: GitRepo, tmp_path: Path) -> None:
    conflicted(repo)
    sides = []
    for stage, name in ((2, "ours"), (1, "base"), (3, "theirs")):
        sides.append(tmp_path / f"{name}.java")
        sides[-1].write_text(repo.git("show", f":{stage}:{NAME}").stdout)
    said = in_subfolder(repo, MERGEBERT, "merge-file", "-p", *map(str, sides))
    assert UNAVAILABLE not in said and TOP_MODELS_SAYING in said


def test_mergetool_takes_it_from_the_top(repo: GitRepo) -> None:
    conflicted(repo)
    repo.mergebert("install", check=True)
    said = in_subfolder(repo, "git", "mergetool", "--tool", "mergebert", "--no-prompt")
    assert UNAVAILABLE not in said and TOP_MODELS_SAYING in said


def test_driver_takes_it_from_the_top(repo: GitRepo) -> None:
    conflicted(repo)
    repo.git("merge", "--abort")
    repo.use_driver()
    said = in_subfolder(repo, "git", "merge", "--no-edit", "feature")
    assert UNAVAILABLE not in said and TOP_MODELS_SAYING in said
