"""`review --undo` and `resolve -i --all` where git merges renormalized versions (`merge.renormalize`)."""

from __future__ import annotations

from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def renormalized_merge(repo: GitRepo) -> bytes:
    """The base and their side committed with CRLF, ours after `text=auto` renormalized the file to LF,
    merged with merge.renormalize by git alone (its conflict returned, the merge aborted), then with the
    merge driver in confirm mode (left in progress, the path unmerged)."""
    repo.commit({NAME: crlf(TOKEN_BASE)}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: crlf(TOKEN_THEIRS)}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.write(".gitattributes", "*.java text=auto\n")
    repo.git("add", "--renormalize", ".")
    repo.commit({".gitattributes": "*.java text=auto\n", NAME: TOKEN_OURS}, "normalize, ours")
    repo.git("config", "merge.renormalize", "true")
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode
    git_alone = repo.read(NAME)
    assert git_alone.count(b"<<<<<<<") == 1
    repo.git("merge", "--abort")
    repo.mergebert("install", check=True)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode  # stopped to confirm
    assert repo.read(NAME) == TOKEN_MERGED.encode() and repo.conflicted() == [NAME]
    return git_alone


def test_undo_after_git_add_makes_the_renormalized_merge_unmerged_again(repo: GitRepo) -> None:
    git_alone = renormalized_merge(repo)
    repo.git("add", NAME)
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == git_alone
    assert repo.conflicted() == [NAME]


def test_resolve_all_asks_about_what_the_driver_resolved_in_a_renormalized_merge(repo: GitRepo) -> None:
    renormalized_merge(repo)
    result = repo.mergebert("resolve", "-i", "--all", input="s\n")
    assert "the merge driver resolved it" in result.stdout, result.stdout + result.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_mergetool_merges_the_versions_git_renormalized(repo: GitRepo) -> None:
    renormalized_merge(repo)
    repo.git("merge", "--abort")
    repo.mergebert("uninstall", check=True)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
