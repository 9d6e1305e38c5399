"""`git merge-tree --write-tree A B` runs the merge driver too (tools ask it whether branches merge).
A conflict mergebert leaves reads as git alone writes it in the tree, and the driver's log of the user's
own operation stays: merge-tree is nobody's operation on the work tree."""

from __future__ import annotations

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"
CLASH = "src/Clash.java"


def merged_file(repo: GitRepo, name: str) -> tuple[int, bytes]:
    done = repo.git("merge-tree", "--write-tree", "main", "feature", check=False)
    tree = done.stdout.split("\n", 1)[0]
    return done.returncode, repo.git("cat-file", "blob", f"{tree}:{name}", text=False).stdout


def test_merge_tree_leaves_the_log_and_gits_labels(repo: GitRepo) -> None:
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.stop_on(
        {NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), CLASH: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)}
    )
    repo.git("merge", "--abort")
    alone = merged_file(repo, CLASH)
    assert alone[0] == 1 and b"<<<<<<< main\n" in alone[1]
    repo.use_driver(confirm=True)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    review = repo.mergebert("review").stdout
    assert "merge of feature" in review
    assert merged_file(repo, CLASH) == alone
    assert repo.mergebert("review").stdout == review


def file_section(output: str, name: str) -> str:
    """The old `git merge-tree <base> <a> <b>` output's section about `name`: its header and its diff."""
    [section] = [part for part in output.split("changed in both\n") if f" {name}\n" in part.split("@@")[0]]
    return section


@pytest.mark.parametrize("style", [None, "diff3", "zdiff3"])
def test_the_old_merge_tree_leaves_a_conflict_with_its_own_labels(repo: GitRepo, style: str | None) -> None:
    """The trivial mode (`git merge-tree <base> <branch1> <branch2>`, deprecated, still run by scripts to
    preview a merge) labels a conflict `.our` and `.their`, in the merge style whatever merge.conflictStyle
    says: git alone's bytes where mergebert resolves nothing."""
    if style:
        repo.git("config", "merge.conflictStyle", style)
    repo.stop_on(
        {NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), CLASH: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)}
    )
    repo.git("merge", "--abort")
    base = repo.git("merge-base", "main", "feature").stdout.strip()
    alone = repo.git("merge-tree", base, "main", "feature").stdout
    assert "+<<<<<<< .our\n" in file_section(alone, CLASH) and "+>>>>>>> .their\n" in file_section(
        alone, CLASH
    )
    assert "|||||||" not in alone
    repo.use_driver()
    for command in [], ["--trivial-merge"]:
        driven = repo.git("merge-tree", *command, base, "main", "feature").stdout
        assert file_section(driven, CLASH) == file_section(alone, CLASH), command
        assert "<<<<<<<" not in file_section(driven, NAME)
