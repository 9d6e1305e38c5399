"""A merge driver configured with an option it does not know, through a real `git merge`.

git takes any exit status but 0 as a conflict and keeps whatever %A then holds as the conflicted file: a
driver that wrote nothing would leave *ours* there, without markers, and theirs only in the index. So
where git's three temporary files are given, the driver writes git's own merge, as for any other failure;
only where it cannot tell which they are does it write nothing (a guess could let git commit ours alone).
"""

from __future__ import annotations

import subprocess

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, MERGEBERT, GitRepo

NAME = "src/App.java"


def merge_with_driver(repo: GitRepo, arguments: str) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """`git merge` of clashing branches through `mergebert driver ARGUMENTS`, and what git alone writes."""
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    git_alone = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver(command=f"{MERGEBERT} driver {arguments}")
    return repo.git("merge", "--no-edit", "feature", check=False), git_alone


@pytest.mark.parametrize("option", ["--bogus", "--bogus=1", "-x"])
def test_unknown_option_still_gives_gits_conflict(repo: GitRepo, option: str) -> None:
    merge, git_alone = merge_with_driver(repo, f"{option} %O %A %B %L %P")
    assert merge.returncode != 0
    assert repo.read(NAME) == git_alone, merge.stderr
    assert repo.conflicted() == [NAME]
    (line,) = [line for line in merge.stderr.splitlines() if line.startswith("mergebert:")]
    assert f"unknown option {option.split('=')[0]!r}" in line and NAME in line


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ("--threshhold 0.9", "unknown option '--threshhold', then '0.9' before the files"),
        ("--model-dir /tmp", "unknown option '--model-dir', then '/tmp' before the files"),
        ("--bogus 1 2 --", "unknown option '--bogus', then '1', '2' before the files"),
    ],
)
def test_unknown_option_with_a_value_still_gives_gits_conflict(
    repo: GitRepo, options: str, named: str
) -> None:
    """The option's value is not taken for the base: the files are git's three temporary files, wherever
    they start."""
    merge, git_alone = merge_with_driver(repo, f"{options} %O %A %B %L %P")
    assert merge.returncode != 0
    assert repo.read(NAME) == git_alone, merge.stderr
    assert repo.conflicted() == [NAME]
    (line,) = [line for line in merge.stderr.splitlines() if line.startswith("mergebert:")]
    assert line.startswith(f"mergebert: {NAME}: ") and f"1 left: {named}; kept git's line merge" in line


@pytest.mark.parametrize(
    "template",
    [
        "--bogus %O %A %B %P",
        "--bogus %O %A %B %P %L",
        "--threshhold 0.9 %O %A %B %L %P",
        "--bogus %O %A %B %L %P",
    ],
)
def test_unknown_option_in_any_template_gives_gits_conflict_never_a_clean_merge(
    repo: GitRepo, template: str
) -> None:
    """%P, an existing file, right after %B is not taken for a file: the three are git's temporary files."""
    merge, git_alone = merge_with_driver(repo, template)
    assert merge.returncode != 0, merge.stdout
    assert repo.read(NAME) == git_alone, merge.stderr
    assert repo.conflicted() == [NAME]
    assert "unknown option" in merge.stderr and "kept git's line merge" in merge.stderr


def test_two_windows_of_gits_temporary_files_write_nothing_and_exit_2(repo: GitRepo) -> None:
    """A path named as git names its temporary files makes %A %B %P a second candidate: no guess is made,
    %A stays ours and git marks the file conflicted, theirs kept in the index."""
    name = ".merge_file_abc123"
    repo.diverge(name, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.use_driver(".merge_file_*", command=f"{MERGEBERT} driver --bogus %O %A %B %P")
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0, merge.stdout
    assert repo.read(name) == CLASH_OURS.encode()
    assert repo.conflicted() == [name]
    assert repo.git("show", f":3:{name}").stdout == CLASH_THEIRS
    (line,) = [line for line in merge.stderr.splitlines() if line.startswith("mergebert:")]
    assert "2 runs of three of git's temporary files (.merge_file_XXXXXX): which is %A is unknown" in line, (
        line
    )


def test_files_git_did_not_name_are_not_taken_after_an_unknown_option(repo: GitRepo) -> None:
    """Three existing files followed by the marker size, but not git's temporary files: nothing written."""
    for name, content in (("O", CLASH_BASE), ("A", CLASH_OURS), ("B", CLASH_THEIRS)):
        repo.write(name, content)
    driver = repo.mergebert("driver", "--bogus", "O", "A", "B", "7", "App.java")
    assert driver.returncode == 2
    assert repo.read("A") == CLASH_OURS.encode()
    (line,) = driver.stderr.splitlines()
    assert "no three of git's temporary files (.merge_file_XXXXXX) in a row; nothing written" in line, line


def test_unknown_option_whose_value_is_a_file_is_not_taken_for_the_base(repo: GitRepo) -> None:
    """A value that names an existing file is not taken for the base: the files are git's three temporary
    files."""
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    git_alone = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver(command=f"{MERGEBERT} driver --config extra.cfg %O %A %B %L %P")
    repo.write("extra.cfg", "")
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.read(NAME) == git_alone, merge.stderr
    assert "unknown option '--config', then 'extra.cfg' before the files" in merge.stderr


BASE, OURS, THEIRS = (
    ".merge_file_Oa1b2c",
    ".merge_file_Ad3e4f",
    ".merge_file_B5g6h7",
)  # named as git names them


def test_path_like_an_option_after_the_files_is_the_path(repo: GitRepo) -> None:
    """After an unknown option, a %P such as `--help.ts` is still the path, not an option."""
    for name, content in ((BASE, CLASH_BASE), (OURS, CLASH_OURS), (THEIRS, CLASH_THEIRS)):
        repo.write(name, content)
    gits = repo.git(
        "merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs", OURS, BASE, THEIRS, check=False
    )
    driver = repo.mergebert("driver", "--bogus", BASE, OURS, THEIRS, "7", "--help.ts")
    assert driver.returncode == 1, driver.stderr
    assert (
        "mergebert: --help.ts: resolved 0 of 1 conflict (1 left: unknown option '--bogus';" in driver.stderr
    )
    assert repo.read(OURS) == gits.stdout.encode()


def test_no_three_files_after_an_unknown_option_write_nothing_and_exit_2(repo: GitRepo) -> None:
    """Where no three existing files follow the unknown option, none of the arguments is known to be %A."""
    repo.write(BASE, CLASH_BASE)
    repo.write(OURS, CLASH_OURS)
    driver = repo.mergebert("driver", "--bogus", BASE, OURS, THEIRS, "7", "P")
    assert driver.returncode == 2
    assert repo.read(OURS) == CLASH_OURS.encode()
    assert "after the unknown option, no three of git's temporary files" in driver.stderr


@pytest.mark.parametrize("size", ["²", "٣"])
def test_marker_size_in_other_digits_is_not_a_number(repo: GitRepo, size: str) -> None:
    """git writes %L in ASCII digits: another script's digit is a bad marker size, not a crash."""
    for name, content in (("O", CLASH_BASE), ("A", CLASH_OURS), ("B", CLASH_THEIRS)):
        repo.write(name, content)
    driver = repo.mergebert("driver", "O", "A", "B", size, "App.java")
    assert driver.returncode in (0, 1), driver.stderr
    assert f"marker size {size!r} is not a positive number; using 7" in driver.stderr


def test_help_lists_every_option_the_driver_knows(repo: GitRepo) -> None:
    """An option `--help` does not list would be the only way to learn it is not unknown."""
    from mergebert.git import driver

    shown = repo.mergebert("driver", "--help")
    assert shown.returncode == 0
    listed = [line.split()[0].rstrip(",") for line in shown.stdout.splitlines() if line.startswith("  -")]
    assert set(driver.KNOWN_OPTIONS) <= set(listed), listed
