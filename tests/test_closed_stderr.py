"""A stderr nobody reads any more (a closed pipe: `git merge 2>&1 | head -1`) or no stderr at all (`2>&-`)
costs the user a line of mergebert's, never a side, a file or an exit status: every front-end writes first
and says so after, and a line that cannot be written is dropped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    MERGEBERT,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
)
from test_merge_file import sides

CLOSED_PIPE, NO_STDERR = "closed pipe", "no stderr"


def run_without_stderr(
    repo: GitRepo, how: str, *command: str, stdout: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """`command` in the work tree with stdout captured and stderr (stdout too, with `stdout`) a pipe whose
    reader has gone (CLOSED_PIPE), or closed (NO_STDERR, the shell's `2>&-`)."""
    if how == NO_STDERR:
        closing = '"$@" >&- 2>&-' if stdout else '"$@" 2>&-'
        return subprocess.run(
            ["sh", "-c", closing, "sh", *command], cwd=repo.path, env=repo.env, stdout=subprocess.PIPE
        )
    reader, writer = os.pipe()
    os.close(reader)
    try:
        out = writer if stdout else subprocess.PIPE
        return subprocess.run(list(command), cwd=repo.path, env=repo.env, stdout=out, stderr=writer)
    finally:
        os.close(writer)


@pytest.mark.parametrize("how", [CLOSED_PIPE, NO_STDERR])
@pytest.mark.parametrize(
    ("texts", "merged", "status"),
    [
        ((TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), TOKEN_MERGED, 0),
        ((CLASH_BASE, CLASH_OURS, CLASH_THEIRS), None, 1),
    ],
    ids=["resolved", "left"],
)
def test_merge_file_writes_current_as_with_a_stderr(
    repo: GitRepo, how: str, texts: tuple[str, str, str], merged: str | None, status: int
) -> None:
    current, base, other = sides(repo.path, *texts)
    expected = merged or repo.git("merge-file", "-p", current, base, other, check=False).stdout
    result = run_without_stderr(repo, how, MERGEBERT, "merge-file", "--model", "none", current, base, other)
    assert (result.returncode, Path(current).read_text()) == (status, expected)


@pytest.mark.parametrize("how", [CLOSED_PIPE, NO_STDERR])
def test_merge_file_prints_only_the_merge_without_a_stderr(repo: GitRepo, how: str) -> None:
    paths = sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    git = repo.git("merge-file", "-p", *paths, check=False)
    result = run_without_stderr(repo, how, MERGEBERT, "merge-file", "-p", "--model", "none", *paths)
    assert (result.returncode, result.stdout.decode()) == (git.returncode, git.stdout) == (1, git.stdout)


SOLVED, CLASH = "src/Solved.java", "src/Clash.java"


def merged_into_a_closed_pipe(repo: GitRepo, *, driver: bool) -> dict[str, bytes]:
    """`git merge feature` of SOLVED (a conflict the token merge settles) and CLASH (one nothing settles)
    with git's stdout and stderr a pipe whose reader has gone, with mergebert's driver or without; the
    files it leaves, and nothing else untracked."""
    repo.commit({SOLVED: TOKEN_BASE, CLASH: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({SOLVED: TOKEN_THEIRS, CLASH: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({SOLVED: TOKEN_OURS, CLASH: CLASH_OURS}, "ours")
    if driver:
        repo.use_driver()
    reader, writer = os.pipe()
    os.close(reader)
    try:
        subprocess.run(
            ["git", "-c", "mergebert.model=none", "merge", "--no-edit", "feature"],
            cwd=repo.path,
            env=repo.env,
            stdout=writer,
            stderr=writer,
        )
    finally:
        os.close(writer)
    untracked = repo.git("ls-files", "--others", "--exclude-standard").stdout.split()
    assert untracked == [], "files the merge left behind"
    return {name: repo.read(name) for name in (SOLVED, CLASH)}


def test_driver_writes_every_file_and_leaves_nothing_behind(repo: GitRepo, tmp_path: Path) -> None:
    git_alone = merged_into_a_closed_pipe(GitRepo.init(tmp_path / "alone", repo.env), driver=False)
    files = merged_into_a_closed_pipe(repo, driver=True)
    assert files == {SOLVED: TOKEN_MERGED.encode(), CLASH: git_alone[CLASH]}


def test_driver_that_cannot_start_writes_gits_conflict(repo: GitRepo, tmp_path: Path) -> None:
    git_alone = merged_into_a_closed_pipe(GitRepo.init(tmp_path / "alone", repo.env), driver=False)
    repo.env["MERGEBERT_TEST_FAULT"] = "start"
    assert merged_into_a_closed_pipe(repo, driver=True) == git_alone


NAME = "src/App.java"


@pytest.mark.parametrize("how", [CLOSED_PIPE, NO_STDERR])
def test_resolve_writes_and_exits_as_with_its_streams(repo: GitRepo, how: str) -> None:
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    command = [MERGEBERT, "resolve", "--model", "none", "--add"]
    result = run_without_stderr(repo, how, *command, stdout=True)  # the table goes nowhere either
    assert (result.returncode, repo.read(NAME), repo.conflicted()) == (0, TOKEN_MERGED.encode(), [])


@pytest.mark.parametrize("how", [CLOSED_PIPE, NO_STDERR])
def test_mergetool_exits_as_with_a_stderr(repo: GitRepo, tmp_path: Path, how: str) -> None:
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    versions = []
    for stage, name in ((1, "base"), (2, "local"), (3, "remote")):
        versions.append(tmp_path / name)
        versions[-1].write_text(repo.git("show", f":{stage}:{NAME}").stdout)
    tool = [MERGEBERT, "mergetool", "--model", "none", *map(str, versions), NAME]
    result = run_without_stderr(repo, how, *tool)
    assert (result.returncode, repo.read(NAME)) == (0, TOKEN_MERGED.encode())


@pytest.mark.parametrize("how", [CLOSED_PIPE, NO_STDERR])
def test_check_refuses_a_marker_without_a_stderr(repo: GitRepo, how: str) -> None:
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.write(NAME, CLASH_BASE + "<<<<<<< ours\n")
    repo.git("add", NAME)
    result = run_without_stderr(repo, how, MERGEBERT, "check")
    assert (result.returncode, result.stdout) == (1, b"")


@pytest.mark.parametrize("how", [CLOSED_PIPE, NO_STDERR])
def test_review_undo_makes_the_file_unmerged_again_without_its_streams(repo: GitRepo, how: str) -> None:
    """--undo reports on stdout: with nobody reading it, the file still gets git's conflict back and the
    index its three stages (its lines came between the two)."""
    repo.commit({NAME: TOKEN_BASE, CLASH: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS, CLASH: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: TOKEN_OURS, CLASH: CLASH_OURS}, "ours")
    repo.use_driver()
    repo.git("-c", "mergebert.model=none", "merge", "--no-edit", "feature", check=False)
    assert repo.read(NAME) == TOKEN_MERGED.encode() and repo.conflicted() == [CLASH]
    result = run_without_stderr(repo, how, MERGEBERT, "review", "--undo", NAME, stdout=True)
    assert result.returncode == 0
    assert repo.read(NAME).count(b"<<<<<<<") == 1 and sorted(repo.conflicted()) == sorted([CLASH, NAME])


def test_gits_binary_warning_to_a_stdout_nobody_reads_keeps_the_record(repo: GitRepo) -> None:
    """git's own `Cannot merge binary files` line, which the driver prints for a merge the user's
    attributes make binary (on stdout, as ort prints it), costs only itself: the decision is logged."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.mergebert("install", "--no-confirm", check=True)
    user_file = Path(repo.env["XDG_CONFIG_HOME"], "git", "attributes")
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text("*.java binary\n")
    reader, writer = os.pipe()
    os.close(reader)
    try:
        merge = subprocess.run(
            ["git", "merge", "--no-edit", "feature"], cwd=repo.path, env=repo.env, stdout=writer,
            stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert b"mergebert ended" not in merge.stderr and b"Traceback" not in merge.stderr
    assert f"{NAME}: resolved 0 of 1 conflict" in repo.mergebert("review").stdout


@pytest.mark.parametrize("how", [CLOSED_PIPE, NO_STDERR])
def test_resolve_dry_run_exits_as_with_its_streams(repo: GitRepo, how: str) -> None:
    """--dry-run's diff on a stdout nobody reads: the file stays as it is, and the exit status is 0."""
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    before = repo.read(NAME)
    result = run_without_stderr(repo, how, MERGEBERT, "resolve", "--dry-run", "--model", "none", stdout=True)
    assert (result.returncode, repo.read(NAME)) == (0, before)
