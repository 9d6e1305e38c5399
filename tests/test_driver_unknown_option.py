"""A merge driver configured with an option it does not know, through a real `git merge`.

git takes any exit status but 0 as a conflict and keeps whatever %A then holds as the conflicted file: a
driver that wrote nothing would leave *ours* there, without markers, and theirs only in the index. So
where the three files are given, the driver writes git's own merge, as for any other failure.
"""

from __future__ import annotations

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, MERGEBERT, GitRepo

NAME = "src/App.java"


@pytest.mark.parametrize("option", ["--bogus", "--bogus=1", "-x"])
def test_unknown_option_still_gives_gits_conflict(repo: GitRepo, option: str) -> None:
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    git_alone = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver(command=f"{MERGEBERT} driver {option} %O %A %B %L %P")
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.read(NAME) == git_alone, merge.stderr
    assert repo.conflicted() == [NAME]
    (line,) = [line for line in merge.stderr.splitlines() if line.startswith("mergebert:")]
    assert f"unknown option {option.split('=')[0]!r}" in line and NAME in line


def test_fewer_than_three_files_write_nothing_and_exit_2(repo: GitRepo) -> None:
    repo.write("O", CLASH_BASE)
    repo.write("A", CLASH_OURS)
    driver = repo.mergebert("driver", "--bogus", "O", "A")
    assert driver.returncode == 2
    assert repo.read("A") == CLASH_OURS.encode()
    assert "expected BASE CURRENT OTHER" in driver.stderr
