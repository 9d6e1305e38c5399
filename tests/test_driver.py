"""The merge driver through real `git merge`, `git rebase` and `git cherry-pick`.

Where mergebert cannot resolve, the file must be byte for byte what git alone leaves: each such test
merges once with the driver and once without it and compares.
"""

from __future__ import annotations

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
    java,
)

NAME = "src/App.java"


def test_merge_resolves_token_conflict_and_commits(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert "resolved 1 of 1 conflicts" in merge.stderr
    parents = repo.git("rev-list", "--parents", "-n1", "HEAD").stdout.split()
    assert len(parents) == 3
    assert repo.git("show", f"HEAD:{NAME}").stdout == TOKEN_MERGED


@pytest.mark.parametrize("style", ["merge", "diff3"])
def test_merge_leaves_unresolvable_conflict_exactly_as_git(repo: GitRepo, style: str) -> None:
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    without, with_driver, _ = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert b"<<<<<<< HEAD\n" in with_driver and b">>>>>>> feature\n" in with_driver
    assert repo.conflicted() == [NAME]


def test_merge_resolves_one_conflict_and_leaves_the_other(repo: GitRepo) -> None:
    padding = "".join(f"        step({i});\n" for i in range(8))
    base = java('Server s = new Server("localhost", 8080, false);', padding + "        int port = 8080;\n")
    ours = java('Server s = new Server("0.0.0.0", 8080, false);', padding + "        int port = 9090;\n")
    theirs = java('Server s = new Server("localhost", 8080, true);', padding + "        int port = 7070;\n")
    repo.diverge(NAME, base, ours, theirs)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    text = repo.read(NAME).decode()
    assert 'new Server("0.0.0.0", 8080, true);' in text
    assert text.count("<<<<<<< HEAD\n") == 1
    assert "        int port = 9090;\n=======\n        int port = 7070;\n>>>>>>> feature\n" in text
    assert repo.conflicted() == [NAME]


def test_rebase_resolves_token_conflict(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.git("checkout", "-q", "feature")
    rebase = repo.git("rebase", "main", check=False)
    assert rebase.returncode == 0, rebase.stdout + rebase.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert repo.git("rev-parse", "HEAD~1").stdout == repo.git("rev-parse", "main").stdout


def test_rebase_conflict_labels_equal_gits(repo: GitRepo) -> None:
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.git("checkout", "-q", "feature")
    without, with_driver, _ = repo.merge_both_ways(NAME, "rebase", "main")
    assert with_driver == without
    assert b"||||||| parent of " in with_driver


def test_cherry_pick_resolves_token_conflict(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    pick = repo.git("cherry-pick", "feature", check=False)
    assert pick.returncode == 0, pick.stdout + pick.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_cherry_pick_conflict_labels_equal_gits(repo: GitRepo) -> None:
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    without, with_driver, _ = repo.merge_both_ways(NAME, "cherry-pick", "feature")
    assert with_driver == without


def test_custom_marker_size_from_attributes(repo: GitRepo) -> None:
    repo.add_attributes("*.java conflict-marker-size=12\n")
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    without, with_driver, _ = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    text = with_driver.decode()
    assert "<" * 12 + " HEAD\n" in text and ">" * 12 + " feature\n" in text
    assert "<" * 13 not in text


def test_internal_failure_falls_back_to_gits_line_merge(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    without = repo.git("merge", "--no-edit", "feature", check=False)
    assert without.returncode != 0
    expected = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver()
    for fault in ("resolve", "resolve,linemerge"):
        repo.env["MERGEBERT_TEST_FAULT"] = fault
        merge = repo.git("merge", "--no-edit", "feature", check=False)
        assert merge.returncode != 0
        assert repo.read(NAME) == expected
        assert "internal error" in merge.stderr and "kept git's line merge" in merge.stderr
        assert repo.conflicted() == [NAME]
        repo.git("merge", "--abort")


def merge_with_broken_model(repo: GitRepo, tmp_path, base: str, ours: str, theirs: str) -> str:
    """git merge with the driver and a model that cannot load; what git and mergebert printed."""
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    repo.env["MERGEBERT_MODEL"] = str(broken)
    repo.diverge("src/App.java", base, ours, theirs)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    return merge.stdout + merge.stderr


def test_model_is_not_loaded_for_a_file_without_line_conflicts(repo: GitRepo, tmp_path) -> None:
    base = java("int a = 1;\n        int b = 2;\n        int c = 3;\n        int d = 4;")
    ours, theirs = base.replace("a = 1", "a = 10"), base.replace("d = 4", "d = 40")
    assert "model unavailable" not in merge_with_broken_model(repo, tmp_path, base, ours, theirs)


def test_model_is_loaded_for_a_line_conflict(repo: GitRepo, tmp_path) -> None:
    output = merge_with_broken_model(repo, tmp_path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert "model unavailable" in output
    assert repo.read("src/App.java") == TOKEN_MERGED.encode(), "the token merge still resolves it"
