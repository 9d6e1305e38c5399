"""`mergebert resolve` after a real `git merge`, for every language: the case folders of tests/cases
(Left on main, Right on a branch) merged by git, then resolved in place with the token merge."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import GitRepo
from test_cases import case_dirs


@pytest.mark.parametrize("case", case_dirs(), ids=lambda case: f"{case.parent.name}/{case.name}")
def test_resolve_after_git_merge(case: Path, repo: GitRepo) -> None:
    ext = next(case.glob("Base.*")).suffix
    base, left, right, expected = (
        (case / f"{n}{ext}").read_text() for n in ("Base", "Left", "Right", "Expected")
    )
    name = f"src/{case.name}{ext}"
    repo.diverge(name, base, left, right)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 1
    conflicted = repo.read(name)
    result = repo.mergebert("resolve", "--add")
    if "<<<<<<<" in expected:
        assert result.returncode == 1 and repo.read(name) == conflicted, "left as git wrote it"
        assert repo.conflicted() == [name]
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert repo.read(name).decode() == expected
        assert repo.conflicted() == []
