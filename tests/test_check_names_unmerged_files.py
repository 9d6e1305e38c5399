"""`mergebert check` without FILES at a stop: it checks what is staged, and says in one line which unmerged
files (git commits none of them) still hold conflict markers, so that silence is no false all-clear."""

from __future__ import annotations

from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo


def test_check_at_a_stop_names_the_unmerged_files_that_hold_markers(repo: GitRepo) -> None:
    repo.stop_on(
        {
            "P.java": (CLASH_BASE, CLASH_OURS, CLASH_THEIRS),
            "Q.java": (CLASH_BASE, CLASH_OURS, CLASH_THEIRS),
            "T.java": (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS),
        }
    )
    repo.write("T.java", TOKEN_OURS)  # settled by hand, not yet added: no markers, nothing to say
    checked = repo.mergebert("check")
    assert checked.returncode == 0, checked.stderr  # unmerged files are not to be committed: git refuses them
    assert checked.stderr.splitlines() == [
        "mergebert: check: 2 unmerged files still hold conflict markers (not checked: not staged): "
        "P.java, Q.java"
    ]


def test_check_says_nothing_of_unmerged_files_without_markers(repo: GitRepo) -> None:
    repo.stop_on({"T.java": (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    repo.write("T.java", TOKEN_OURS)
    checked = repo.mergebert("check")
    assert (checked.returncode, checked.stderr) == (0, "")
