"""The driver's time bounds through real git: one deadline per file across every stage (the daemon's queue
included), a bound on the whole git operation, and a daemon folder it cannot use said once."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitrepo import (
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    daemon_pids,
    threads,
    wait_until,
)

NAME = "src/App.java"
FILES = [f"src/F{i}.java" for i in range(4)]
OPERATION = "($MERGEBERT_OPERATION_TIMEOUT)"


def gits_merge(repo: GitRepo, *command: str) -> dict[str, bytes]:
    """What git alone writes for `command` (which must stop on conflicts), undone: the conflicted files."""
    assert repo.git(*command, check=False).returncode != 0
    files = {name: repo.read(name) for name in repo.conflicted()}
    repo.git("merge", "--abort")
    return files


def test_a_driver_queued_behind_a_stuck_request_keeps_its_own_deadline(repo: GitRepo) -> None:
    """`git merge-tree` (stuck past its 20 s) holds the daemon; a `git merge` started meanwhile, with 3 s,
    ends at its own deadline with git's merge, while the daemon still holds the other, not after it."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.git("branch", "feature2", "feature")
    expected = gits_merge(repo, "merge", "--no-edit", "feature")
    repo.use_driver()
    repo.env["MERGEBERT_DAEMON_IDLE"] = "300"  # the daemon this merge starts stays for the next requests
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 0
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    (daemon,) = daemon_pids(Path(repo.env["MERGEBERT_DAEMON_DIR"]))
    assert wait_until(lambda: threads(daemon) == 1, 120), "an idle daemon only waits for a request"
    repo.git("reset", "-q", "--hard", "HEAD~1")
    # 20 s: the merge below (git, a cold driver, its 3 s) must end well within it on a loaded machine
    stuck = {**repo.env, "MERGEBERT_TEST_FAULT": "stall", "MERGEBERT_DRIVER_TIMEOUT": "20"}
    tree = subprocess.Popen(
        ["git", "merge-tree", "--write-tree", "main", "feature2"],
        cwd=repo.path,
        env=stuck,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # its request has reached the daemon once the daemon runs a thread to resolve it
        assert wait_until(lambda: threads(daemon) == 2, 120)
        repo.env["MERGEBERT_DRIVER_TIMEOUT"] = "3"
        merge = repo.git("merge", "--no-edit", "feature", check=False, timeout=120)
        held = (threads(daemon), tree.poll())
        _, err = tree.communicate(timeout=120)
    finally:
        tree.kill()
    assert held == (2, None), "the merge ends while the daemon still holds the stuck request"
    assert tree.returncode == 1 and "not resolved within 20 s" in err, err
    assert merge.returncode != 0
    assert {NAME: repo.read(NAME)} == expected
    assert "not resolved within 3 s ($MERGEBERT_DRIVER_TIMEOUT)" in merge.stderr


def test_the_whole_operation_is_bounded(repo: GitRepo) -> None:
    """Files that never finish: the first gets the per-file limit, the next the operation's time left,
    the others git's merge at once, each with one line saying why."""
    repo.stop_on({name: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS) for name in FILES})
    expected = {name: repo.read(name) for name in FILES}
    repo.git("merge", "--abort")
    repo.use_driver()
    repo.env.update(
        MERGEBERT_TEST_FAULT="stall", MERGEBERT_DRIVER_TIMEOUT="1.5", MERGEBERT_OPERATION_TIMEOUT="2"
    )
    merge = repo.git("merge", "--no-edit", "feature", check=False, timeout=120)
    assert merge.returncode != 0
    assert {name: repo.read(name) for name in FILES} == expected
    lines = merge.stderr.splitlines()
    assert sum("not resolved within 1.5 s ($MERGEBERT_DRIVER_TIMEOUT)" in line for line in lines) == 1
    spent = [line for line in lines if OPERATION in line]
    assert len(spent) == 3, merge.stderr
    assert sum("the time for this git operation (2 s) is spent" in line for line in spent) >= 2, merge.stderr
    assert all("kept git's line merge" in line for line in spent)


def budget_spent_by_a_merge(repo: GitRepo) -> None:
    """A merge whose stalled files spend its whole budget (1 s), aborted; the next command resolves."""
    repo.stop_on({name: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS) for name in FILES[:2]})
    repo.git("merge", "--abort")
    repo.use_driver()
    repo.env.update(
        MERGEBERT_TEST_FAULT="stall", MERGEBERT_DRIVER_TIMEOUT="1", MERGEBERT_OPERATION_TIMEOUT="1"
    )
    assert OPERATION in repo.git("merge", "--no-edit", "feature", check=False, timeout=120).stderr
    repo.git("merge", "--abort")
    del repo.env["MERGEBERT_TEST_FAULT"]


def test_another_operation_gets_a_budget_of_its_own(repo: GitRepo) -> None:
    budget_spent_by_a_merge(repo)
    repo.git("checkout", "-q", "feature")
    rebase = repo.git("rebase", "main", check=False, timeout=120)
    assert rebase.returncode == 0 and OPERATION not in rebase.stderr, rebase.stderr


def test_a_merge_made_again_at_once_gets_a_budget_of_its_own(repo: GitRepo) -> None:
    budget_spent_by_a_merge(repo)
    again = repo.git("merge", "--no-edit", "feature", check=False, timeout=120)
    assert again.returncode == 0 and OPERATION not in again.stderr, again.stderr


def test_a_daemon_folder_others_can_enter_is_said_once(repo: GitRepo, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    repo.env["MERGEBERT_DAEMON_DIR"] = str(shared)
    repo.stop_on({name: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS) for name in FILES[:3]})
    repo.git("merge", "--abort")
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert all(repo.read(name) == TOKEN_MERGED.encode() for name in FILES[:3])
    said = [line for line in merge.stderr.splitlines() if str(shared) in line]
    assert len(said) == 1, merge.stderr
    assert f"chmod 700 {shared}" in said[0] and "$MERGEBERT_DAEMON_DIR" in said[0]
    assert list(shared.iterdir()) == []
