"""Another user's repository, which git uses only where `safe.directory` trusts it: libgit2 reads that
setting from fewer places than git (not from `git -c`, nor from a GIT_CONFIG_GLOBAL file), so mergebert
asks git. The driver, which git runs only in a repository it trusts, then reads the repository as git
does; a command the user runs keeps refusing a repository git refuses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="making a repository another user's takes root (chown)"
)

NAME = "src/App.java"


def give_away(repo: GitRepo) -> None:
    """Make the repository another user's: git refuses it unless safe.directory names it."""
    subprocess.run(["chown", "-R", "12345:12345", str(repo.path)], check=True)
    assert "dubious ownership" in repo.git("status", check=False).stderr


def trust(repo: GitRepo, tmp_path: Path, how: str) -> None:
    """safe.directory=* for every command run in `repo`: as `git -c` passes it to the commands git runs
    (GIT_CONFIG_PARAMETERS), or in the file GIT_CONFIG_GLOBAL names."""
    if how == "-c":
        repo.env["GIT_CONFIG_PARAMETERS"] = "'safe.directory'='*'"
    else:
        (tmp_path / "global.cfg").write_text("[safe]\n\tdirectory = *\n")
        repo.env["GIT_CONFIG_GLOBAL"] = str(tmp_path / "global.cfg")


@pytest.mark.parametrize("how", ["-c", "GIT_CONFIG_GLOBAL"])
def test_the_driver_reads_a_repository_git_trusts_as_git_does(
    repo: GitRepo, tmp_path: Path, how: str
) -> None:
    """git's labels and the repository's merge.conflictStyle=diff3, not `ours`/`theirs` in merge style."""
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    give_away(repo)
    trust(repo, tmp_path, how)
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert b"<<<<<<< HEAD\n" in without and b"||||||| " in without
    assert with_driver == without, stderr
    assert "cannot read the repository" not in stderr


def test_resolve_opens_another_users_repository_only_where_git_trusts_it(repo: GitRepo) -> None:
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    conflicted = repo.read(NAME)
    give_away(repo)
    refused = repo.mergebert("resolve", "--no-backup")
    assert refused.returncode != 0 and repo.read(NAME) == conflicted
    repo.env["GIT_CONFIG_PARAMETERS"] = "'safe.directory'='*'"
    done = repo.mergebert("resolve", "--no-backup")
    assert done.returncode == 0, done.stdout + done.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_a_repository_git_refuses_is_refused_where_libgit2_trusts_it(repo: GitRepo, tmp_path: Path) -> None:
    """libgit2 reads safe.directory from ~/.gitconfig even where git reads another global file
    (GIT_CONFIG_GLOBAL, as CI jobs set it): git's refusal counts."""
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    conflicted = repo.read(NAME)
    give_away(repo)
    with open(tmp_path / "home" / ".gitconfig", "a") as config:  # what libgit2 reads
        config.write("[safe]\n\tdirectory = *\n")
    (tmp_path / "ci.cfg").write_text("[user]\n\tname = ci\n")
    repo.env["GIT_CONFIG_GLOBAL"] = str(tmp_path / "ci.cfg")  # what git reads instead
    assert "dubious ownership" in repo.git("status", check=False).stderr
    refused = repo.mergebert("resolve", "--no-backup")
    assert refused.returncode != 0 and repo.read(NAME) == conflicted, refused.stdout
    assert len(refused.stderr.splitlines()) == 1 and "safe.directory" in refused.stderr, refused.stderr


def test_merge_file_in_a_repository_git_refuses_merges_as_outside_one(repo: GitRepo, tmp_path: Path) -> None:
    """`git merge-file` needs no repository: in one git refuses it merges all the same, and so must
    mergebert's (where it resolves nothing, with git's bytes and exit status)."""
    give_away(repo)
    for name, text in (("ours.java", CLASH_OURS), ("base.java", CLASH_BASE), ("theirs.java", CLASH_THEIRS)):
        (tmp_path / name).write_text(text)
    files = [str(tmp_path / name) for name in ("ours.java", "base.java", "theirs.java")]
    alone = repo.git("merge-file", "-p", *files, check=False)
    ours = repo.mergebert("merge-file", "-p", *files)
    assert (ours.returncode, ours.stdout) == (alone.returncode, alone.stdout), ours.stderr
    assert "Traceback" not in ours.stderr


@pytest.mark.parametrize("command", [["review"], ["resolve"], ["check", "src/App.java"]])
def test_a_command_in_a_repository_git_refuses_says_so_in_one_line(repo: GitRepo, command: list[str]) -> None:
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    give_away(repo)
    refused = repo.mergebert(*command)
    assert refused.returncode != 0
    assert len(refused.stderr.splitlines()) == 1, refused.stderr
    assert "safe.directory" in refused.stderr, refused.stderr
