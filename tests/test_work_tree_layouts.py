"""The front-ends in work trees whose `.git` is not the git folder itself: `git init --separate-git-dir`
(`.git` a file naming the folder), a `.git` symbolic link to it (as the Android `repo` tool makes), and a
`git worktree add` work tree. They work on the work tree git uses, never on the git folder's parent."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"


@pytest.fixture(params=["separate-git-dir", "git-symlink", "linked-worktree"])
def work(request: pytest.FixtureRequest, tmp_path: Path, git_env: dict[str, str]) -> GitRepo:
    """An empty work tree on branch main, in one of the layouts, its git folder in `tmp_path / "store"`."""
    store, path = tmp_path / "store", tmp_path / "work"
    store.mkdir()
    if request.param == "separate-git-dir":
        GitRepo(tmp_path, git_env).git(
            "init", "-q", "-b", "main", f"--separate-git-dir={store / 'repo.git'}", "work"
        )
    elif request.param == "git-symlink":
        GitRepo(tmp_path, git_env).git("init", "-q", "-b", "main", "--bare", str(store / "repo.git"))
        path.mkdir()
        (path / ".git").symlink_to(store / "repo.git")
        GitRepo(path, git_env).git("config", "core.bare", "false")
    else:
        main = GitRepo.init(store / "main", git_env)
        main.commit({"README": "main work tree\n"})
        main.git("checkout", "-q", "--detach")
        main.git("worktree", "add", "-q", str(path), "main")
    return GitRepo(path, git_env)


def git_folder(repo: GitRepo) -> Path:
    return Path(repo.git("rev-parse", "--absolute-git-dir").stdout.strip()).resolve()


def test_the_layouts_are_what_they_claim(work: GitRepo) -> None:
    assert git_folder(work).parent != work.path.resolve()
    assert work.git("rev-parse", "--show-toplevel").stdout.strip() == str(work.path)


def test_resolve_works_on_the_work_tree_and_nothing_beside_the_git_folder(work: GitRepo) -> None:
    work.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert work.git("merge", "--no-edit", "feature", check=False).returncode != 0
    # a file of the user's where libgit2 would take the work tree to be, holding the same conflict
    decoy = git_folder(work).parent / NAME
    decoy.parent.mkdir(parents=True, exist_ok=True)
    decoy.write_bytes(work.read(NAME) + b"// the user's own notes\n")
    before = decoy.read_bytes()
    result = work.mergebert("resolve", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert work.read(NAME) == TOKEN_MERGED.encode()
    assert decoy.read_bytes() == before


def test_the_drivers_result_is_reviewed_undone_and_merged_again_in_the_work_tree(work: GitRepo) -> None:
    work.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    work.mergebert("install", check=True)  # confirm mode: git stops on the file the driver resolved
    assert work.git("merge", "--no-edit", "feature", check=False).returncode != 0
    assert work.read(NAME) == TOKEN_MERGED.encode()
    asked = work.mergebert("resolve", "-i", "--all", "--no-backup", NAME, input="s\n")
    assert "the merge driver resolved it" in asked.stdout, asked.stdout + asked.stderr
    undone = work.mergebert("review", "--undo", NAME)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert work.read(NAME).count(b"<<<<<<<") == 1
    tool = work.git("mergetool", "--tool", "mergebert", "--no-prompt", NAME, check=False)
    assert f"mergebert: {NAME}: resolved 1 of 1 conflict" in tool.stderr.splitlines(), tool.stderr
    assert tool.returncode == 0 and work.read(NAME) == TOKEN_MERGED.encode() and work.conflicted() == []
