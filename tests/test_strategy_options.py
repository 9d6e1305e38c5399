"""`git merge -X ours|theirs` and its kin with the merge driver installed.

git does not pass its strategy options to a merge driver. Asked for `-X theirs`, git alone settles every
conflict in favour of theirs; the driver must give the same file and the same clean exit, not a conflict
nor a resolution of its own. Each test runs the command with git alone, undoes it, runs it again with the
installed driver and compares.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo, java

NAME = "src/App.java"
SCENARIOS = {
    "token conflict": (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS),
    "clash": (CLASH_BASE, CLASH_OURS, CLASH_THEIRS),
}


def both_ways(repo: GitRepo, *command: str) -> tuple[bytes, bytes]:
    """`command` run by git alone (it must succeed), undone, then run with the installed driver (it must
    succeed too); the file both times."""
    branch = repo.git("branch", "--show-current").stdout.strip()
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    alone = repo.git(*command, check=False)
    assert alone.returncode == 0, "git alone settles it: " + alone.stdout + alone.stderr
    expected = repo.read(NAME)
    repo.git("checkout", "-q", branch)
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver()
    with_driver = repo.git(*command, check=False)
    assert with_driver.returncode == 0, with_driver.stdout + with_driver.stderr
    assert repo.conflicted() == []
    return expected, repo.read(NAME)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(
    "option", [("-X", "theirs"), ("-Xours",), ("--strategy-option=theirs",), ("--strategy-option", "ours")]
)
def test_merge_with_a_favoured_side_equals_gits(
    repo: GitRepo, option: tuple[str, ...], scenario: str
) -> None:
    repo.diverge(NAME, *SCENARIOS[scenario])
    expected, merged = both_ways(repo, "merge", "--no-edit", *option, "feature")
    assert merged == expected
    side = TOKEN_THEIRS if "theirs" in "".join(option) else TOKEN_OURS
    assert scenario != "token conflict" or merged == side.encode()


def test_merge_options_of_the_branch_are_followed(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.git("config", "branch.main.mergeOptions", "--no-ff -Xtheirs")
    expected, merged = both_ways(repo, "merge", "--no-edit", "feature")
    assert merged == expected == TOKEN_THEIRS.encode()


def test_command_line_overrides_the_branch_merge_options(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.git("config", "branch.main.mergeOptions", "-Xtheirs")
    expected, merged = both_ways(repo, "merge", "--no-edit", "-Xours", "feature")
    assert merged == expected == TOKEN_OURS.encode()


def test_pull_with_a_favoured_side_equals_gits(repo: GitRepo) -> None:
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    expected, merged = both_ways(repo, "pull", "--no-rebase", "--no-edit", "-X", "theirs", ".", "feature")
    assert merged == expected == CLASH_THEIRS.encode()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_rebase_with_a_favoured_side_equals_gits(repo: GitRepo, scenario: str) -> None:
    repo.diverge(NAME, *SCENARIOS[scenario])
    repo.git("checkout", "-q", "feature")
    expected, rebased = both_ways(repo, "rebase", "-X", "theirs", "main")
    assert rebased == expected


def test_rebase_continued_after_a_stop_keeps_the_favoured_side(repo: GitRepo) -> None:
    """`git rebase --continue` has no -X on its command line: the rebase's saved options hold it."""
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.git("checkout", "-q", "feature")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit({"notes.txt": "first\n"}, "first")  # the rebase stops after this one (edit)
    repo.commit({NAME: CLASH_THEIRS}, "theirs")
    stop_first = "sequence.editor=sed -i 1s/^pick/edit/"
    branch, start = "feature", repo.git("rev-parse", "HEAD").stdout.strip()
    results = []
    for driver in (False, True):
        if driver:
            repo.git("checkout", "-q", branch)
            repo.git("reset", "-q", "--hard", start)
            repo.use_driver()
        stopped = repo.git("-c", stop_first, "rebase", "-i", "-X", "theirs", "main")
        assert "Stopped at" in stopped.stdout + stopped.stderr
        finished = repo.git("rebase", "--continue", check=False)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        results.append(repo.read(NAME))
    assert results[1] == results[0] == CLASH_THEIRS.encode()


def test_cherry_pick_with_a_favoured_side_equals_gits(repo: GitRepo) -> None:
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    expected, picked = both_ways(repo, "cherry-pick", "-X", "theirs", "feature")
    assert picked == expected == CLASH_THEIRS.encode()


def test_other_strategy_options_leave_mergebert_resolving(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "-X", "patience", "feature", check=False)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert "resolved 1 of 1 conflict" in merge.stderr


@pytest.mark.parametrize("favour", ["ours", "theirs"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_libgit2_fallback_favours_a_side_as_git_merge_file_does(favour: str, scenario: str) -> None:
    from mergebert.core.linemerge import merge_bytes
    from mergebert.core.options import MergeOptions
    from mergebert.git.frontend import git_merge_file

    base, ours, theirs = (side.encode() for side in SCENARIOS[scenario])
    options = MergeOptions(labels=("HEAD", "base", "feature"), favour=favour)  # type: ignore[arg-type]
    assert merge_bytes(base, ours, theirs, options) == git_merge_file(base, ours, theirs, options)
    assert merge_bytes(base, ours, theirs, options)[0] == (ours if favour == "ours" else theirs)


PROBE = """\
import json
from mergebert.git import gitinfo, processes
by_proc = gitinfo.calling_git(process=processes.proc_entry)
print(json.dumps([by_proc, gitinfo.calling_git(process=processes.ps_table().get)]))
"""


def test_ps_finds_the_calling_git_as_proc_does(repo: GitRepo, tmp_path: Path) -> None:
    """Where there is no /proc (macOS), the git running mergebert, and so its `-X`, is found by `ps`."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    repo.git("config", "alias.probe", f"!{sys.executable} {probe}")
    by_proc, by_ps = json.loads(repo.git("probe", "merge", "-X", "theirs", "feature").stdout)
    assert by_proc == ["probe", "merge", "-X", "theirs", "feature"]
    assert by_ps == by_proc


WHITESPACE_BASE = java("int total = sum(1, 2);")
WHITESPACE_OURS = java("int total = sum(1, 2) + bonus();")
WHITESPACE_THEIRS = java("int total = sum(1,  2);")


@pytest.mark.parametrize("option", ["-Xignore-space-change", "-Xignore-all-space", "-Xignore-cr-at-eol"])
def test_merge_ignoring_whitespace_equals_gits(repo: GitRepo, option: str) -> None:
    """git, told to ignore whitespace, merges a whitespace-only change against a real one cleanly; with
    the driver it must too (and not stop for a confirmation of a resolution it had no need of)."""
    theirs = WHITESPACE_BASE.replace("\n", "\r\n") if "cr-at-eol" in option else WHITESPACE_THEIRS
    repo.diverge(NAME, WHITESPACE_BASE, WHITESPACE_OURS, theirs)
    branch_start = repo.git("rev-parse", "HEAD").stdout.strip()
    alone = repo.git("merge", "--no-edit", option, "feature", check=False)
    assert alone.returncode == 0
    expected = repo.read(NAME)
    repo.git("reset", "-q", "--hard", branch_start)
    repo.use_driver(confirm=True)
    with_driver = repo.git("merge", "--no-edit", option, "feature", check=False)
    assert with_driver.returncode == 0, with_driver.stderr
    assert repo.read(NAME) == expected
