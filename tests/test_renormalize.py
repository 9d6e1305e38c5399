"""`merge.renormalize`: git merges each version in its canonical form, and so must every front-end that
reads the versions from the index or from git mergetool (`review.as_git_merged`)."""

from __future__ import annotations

import os

import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def stopped_on_renormalized_merge(repo: GitRepo, name: str = NAME) -> bytes:
    """The base and their side committed with CRLF, ours after `text=auto` renormalized the file to LF,
    merged by git alone with merge.renormalize: git's conflicted file, the merge left in progress."""
    repo.commit({name: crlf(TOKEN_BASE)}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({name: crlf(TOKEN_THEIRS)}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.write(".gitattributes", "*.java text=auto\n")
    repo.git("add", "--renormalize", ".")
    repo.commit({".gitattributes": "*.java text=auto\n", name: TOKEN_OURS}, "normalize, ours")
    repo.git("config", "merge.renormalize", "true")
    assert repo.git("merge", "--no-edit", "feature", check=False, errors="surrogateescape").returncode
    git_alone = repo.read(name)
    assert git_alone.count(b"<<<<<<<") == 1
    return git_alone


def unmerged(repo: GitRepo) -> list[str]:
    """The paths git holds unmerged, as the file system names them."""
    listing = repo.git("ls-files", "-u", "-z", errors="surrogateescape").stdout
    return sorted({entry.partition("\t")[2] for entry in listing.split("\0") if entry})


def driver_merge_to_confirm(repo: GitRepo, name: str = NAME) -> bytes:
    """`stopped_on_renormalized_merge` aborted, then merged again with the installed driver in confirm mode
    (left in progress, the path unmerged); git's conflicted file."""
    git_alone = stopped_on_renormalized_merge(repo, name)
    repo.git("merge", "--abort")
    repo.mergebert("install", check=True)
    merge = repo.git("merge", "--no-edit", "feature", check=False, errors="surrogateescape")
    assert merge.returncode  # stopped to confirm
    assert repo.read(name) == TOKEN_MERGED.encode() and unmerged(repo) == [name]
    return git_alone


@pytest.mark.parametrize("safecrlf", ["false", "true"])
def test_resolve_merges_the_versions_git_renormalized(repo: GitRepo, safecrlf: str) -> None:
    """git's renormalization never checks core.safecrlf (libgit2's to-index filter would refuse CRLFs)."""
    repo.git("config", "core.safecrlf", safecrlf)
    stopped_on_renormalized_merge(repo)
    result = repo.mergebert("resolve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_mergetool_merges_the_versions_git_renormalized(repo: GitRepo) -> None:
    stopped_on_renormalized_merge(repo)
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_undo_after_git_add_makes_the_renormalized_merge_unmerged_again(repo: GitRepo) -> None:
    git_alone = driver_merge_to_confirm(repo)
    repo.git("add", NAME)
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == git_alone
    assert repo.conflicted() == [NAME]


def test_resolve_all_asks_about_what_the_driver_resolved_in_a_renormalized_merge(repo: GitRepo) -> None:
    driver_merge_to_confirm(repo)
    result = repo.mergebert("resolve", "-i", "--all", input="s\n")
    assert "the merge driver resolved it" in result.stdout, result.stdout + result.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


LATIN1 = os.fsdecode(b"src/caf\xe9.java")  # a file name in Latin-1: not UTF-8


def test_undo_and_resolve_a_renormalized_merge_of_a_file_named_in_latin1(repo: GitRepo) -> None:
    git_alone = driver_merge_to_confirm(repo, LATIN1)
    repo.git("add", "--", LATIN1)
    undo = repo.mergebert("review", "--undo", LATIN1, errors="surrogateescape")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(LATIN1) == git_alone
    assert unmerged(repo) == [LATIN1]
    result = repo.mergebert("resolve", errors="surrogateescape")
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.read(LATIN1) == TOKEN_MERGED.encode()
