"""`git mergetool --tool mergebert --no-prompt` with the config `mergebert install` writes."""

from __future__ import annotations

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

NAME = "src/App.java"


def conflicted_merge(repo: GitRepo, base: str, ours: str, theirs: str) -> bytes:
    """A merge git alone stops on; then mergebert's mergetool config. Returns git's conflicted file."""
    repo.diverge(NAME, base, ours, theirs)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.mergebert("install", check=True)
    return repo.read(NAME)


def test_mergetool_resolves_and_git_marks_it_resolved(repo: GitRepo) -> None:
    conflicted_merge(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert repo.conflicted() == []
    assert repo.git("diff", "--cached", "--name-only").stdout.split() == [NAME]
    repo.git("commit", "-q", "--no-edit")
    assert repo.git("show", f"HEAD:{NAME}").stdout == TOKEN_MERGED


def test_mergetool_fails_when_conflicts_are_left(repo: GitRepo) -> None:
    before = conflicted_merge(repo, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0
    assert repo.conflicted() == [NAME]
    assert repo.read(NAME) == before
