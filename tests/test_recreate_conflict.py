"""`git checkout --conflict=STYLE`, `checkout -m` and `restore --merge` on a file of a stopped merge: the
user asks for the conflict back, and git runs the merge driver to make it. mergebert steps aside: the file
gets git's own conflict (labels `ours`/`base`/`theirs`, the style asked for), as without mergebert, and
the decision log of the merge stays for `mergebert review`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo, java

NAME = "src/App.java"
COMMANDS = {
    "checkout --conflict=diff3": ("checkout", "--conflict=diff3", "--", NAME),
    "checkout -m": ("checkout", "-m", "--", NAME),
    "checkout --merge, no --": ("checkout", "--merge", NAME),
    "restore --merge": ("restore", "--merge", NAME),
    "restore --conflict=zdiff3": ("restore", "--conflict=zdiff3", NAME),
    "checkout --conflict diff3": ("checkout", "--conflict", "diff3", "--", NAME),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_the_conflict_made_again_is_gits(repo: GitRepo, command: str) -> None:
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    repo.write(NAME, "my edit\n")
    alone = repo.git(*COMMANDS[command], check=False)
    expected = repo.read(NAME)
    assert alone.returncode == 0 and b"<<<<<<< ours" in expected
    repo.git("merge", "--abort")
    repo.use_driver(confirm=True)
    stopped = repo.git("merge", "--no-edit", "feature", check=False)
    assert stopped.returncode != 0 and b"<<<<<<<" not in repo.read(NAME), "mergebert resolved it"
    repo.write(NAME, "my edit\n")
    again = repo.git(*COMMANDS[command], check=False)
    assert (again.returncode, repo.read(NAME)) == (0, expected)
    review = repo.mergebert("review").stdout
    assert "merge of feature" in review and "resolved 1 of 1 conflict" in review


@pytest.mark.parametrize("command", COMMANDS)
def test_the_conflict_made_again_after_git_add_is_gits(repo: GitRepo, command: str) -> None:
    """After `git add` the index on disk holds the path merged (its conflict lives on in the index's
    resolve-undo record, which git reads while the driver runs): the conflict made again is still git's."""
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    repo.git("add", NAME)
    alone = repo.git(*COMMANDS[command], check=False)
    expected = repo.read(NAME)
    assert alone.returncode == 0 and b"<<<<<<< ours" in expected and repo.conflicted() == [NAME]
    repo.git("merge", "--abort")
    repo.use_driver(confirm=True)
    stopped = repo.git("merge", "--no-edit", "feature", check=False)
    assert stopped.returncode != 0 and b"<<<<<<<" not in repo.read(NAME), "mergebert resolved it"
    repo.git("add", NAME)
    again = repo.git(*COMMANDS[command], check=False)
    assert (again.returncode, repo.read(NAME), repo.conflicted()) == (0, expected, [NAME])
    assert "mergebert" not in again.stderr


def switch_after_a_committed_merge(repo: GitRepo) -> bytes:
    """A merge stopped on a conflict, settled with `git add` and committed (git keeps its resolve-undo
    record), then `git checkout -m feature` with a local edit of the same line: what the file holds."""
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    repo.commit({NAME: TOKEN_MERGED}, "merged")
    assert NAME in repo.git("ls-files", "--resolve-undo").stdout
    repo.write(NAME, java("int port = 7070;"))
    assert repo.git("checkout", "-m", "feature", check=False).returncode == 0
    return repo.read(NAME)


def test_a_branch_switch_after_a_committed_merge_is_not_that_conflict_made_again(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    """`git checkout -m BRANCH` merges local edits in a merge of its own, labelled as git labels it, though
    the index still holds an earlier conflict of the file in its resolve-undo record."""
    expected = switch_after_a_committed_merge(GitRepo.init(tmp_path / "alone", git_env))
    assert b"<<<<<<< feature\n" in expected and b">>>>>>> local\n" in expected
    repo = GitRepo.init(tmp_path / "driven", git_env)
    repo.use_driver(confirm=True)
    assert switch_after_a_committed_merge(repo) == expected


@pytest.mark.parametrize("configured", ["diff3", "zdiff3"])
@pytest.mark.parametrize("asked", [("--conflict=merge", "--"), ("--conflict=merge",)])
def test_the_style_asked_for_wins_over_the_configured_one(
    repo: GitRepo, configured: str, asked: tuple[str, ...]
) -> None:
    """`--conflict=merge` with merge.conflictStyle diff3: git writes the merge style (with `--`, driver.sh
    makes it; without, Python does)."""
    repo.git("config", "merge.conflictStyle", configured)
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    command = ("checkout", *asked, NAME)
    alone = repo.git(*command, check=False)
    expected = repo.read(NAME)
    assert alone.returncode == 0 and b"<<<<<<< ours" in expected and b"|||||||" not in expected
    repo.git("merge", "--abort")
    repo.use_driver(confirm=True)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    again = repo.git(*command, check=False)
    assert (again.returncode, repo.read(NAME)) == (0, expected)
