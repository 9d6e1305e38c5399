"""A squash merge is logged as one however git was told to squash (`branch.<name>.mergeOptions`), and a squash
the previous release logged is still taken for the squash git has stopped in."""

from __future__ import annotations

import json

import pytest
from gitrepo import TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

from mergebert.git import decisionlog

NAME = "src/App.java"


def unmerged(repo: GitRepo) -> str:
    """The index entries of NAME: `mode id stage\tpath` lines."""
    return repo.git("ls-files", "--stage", "--", NAME).stdout


@pytest.mark.parametrize(
    ("merge_options", "command_line", "squash"),
    [("--squash", [], True), ("--no-squash --sq", [], True), ("--squash", ["--no-squash"], False)],
    ids=["--squash", "abbreviated", "--no-squash on the command line wins"],
)
def test_a_squash_the_branch_s_merge_options_ask_for_is_logged_as_a_squash(
    repo: GitRepo, merge_options: str, command_line: list[str], squash: bool
) -> None:
    """git reads branch.<name>.mergeOptions before its command line, whose options win; the log keys the
    merge as git makes it, so that review --undo finds the squash git has stopped in (no MERGE_HEAD)."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.mergebert("install", check=True)  # confirm mode: git stops after the file the driver resolved
    repo.git("config", "branch.main.mergeOptions", merge_options)
    assert repo.git("merge", "--no-edit", *command_line, "feature", check=False).returncode != 0
    assert (repo.path / ".git" / ("SQUASH_MSG" if squash else "MERGE_HEAD")).exists()
    header, records = decisionlog.read(str(repo.path / ".git")) or ({}, [])
    assert header["key"].split()[0] == ("squash" if squash else "merge"), header
    assert [record.get("squash", False) for record in records] == [squash]
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0 and "is over" not in undo.stdout, undo.stdout
    assert unmerged(repo).count(NAME) == 3


def as_the_previous_release_logged(repo: GitRepo) -> None:
    """Rewrite the log of a squash as the release before squashes were keyed apart wrote it: the header
    keyed `merge <head> <ids>`, records without `squash` and the merged versions' `blobs`."""
    path = repo.path / ".git" / decisionlog.LOG
    header, *records = [json.loads(line) for line in path.read_text().splitlines()]
    assert header["key"].startswith("squash ")
    header["key"] = "merge " + header["key"].removeprefix("squash ")
    for record in records:
        del record["squash"], record["blobs"]
    path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in [header, *records]))


def test_a_squash_the_previous_release_logged_is_still_the_one_git_has_stopped_in(repo: GitRepo) -> None:
    """Upgraded while git is stopped in a `git merge --squash`: review --undo still gives git's conflict
    back and makes the path unmerged again, which needs the operation in progress to be the logged one."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git("merge", "--squash", "feature", check=False).returncode != 0  # git alone
    expected, expected_stages = repo.read(NAME), unmerged(repo)
    repo.git("reset", "-q", "--merge")
    repo.mergebert("install", "--no-confirm", check=True)  # git adds the file the driver resolved
    repo.git("merge", "--squash", "feature")  # all resolved: git stops before the commit, as a squash does
    assert repo.conflicted() == [] and b"<<<<<<<" not in repo.read(NAME)
    as_the_previous_release_logged(repo)
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0 and "is over" not in undo.stdout, undo.stdout
    assert repo.read(NAME) == expected
    assert unmerged(repo) == expected_stages
