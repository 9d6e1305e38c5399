"""The merge driver falls back to the line merge git alone makes: ort's (histogram diff) in `git merge`,
`rebase`, `cherry-pick`, and the Myers one of `checkout -m`, `am -3` and `-s recursive`. Ort and
`git merge-file` place conflicts differently in about one conflicted file in fourteen of the shared
validation data, and now and then one merges cleanly where the other conflicts; `git merge-file` alone
joins conflicts across more than three lines without letters or digits. Each test runs git alone, then
the driver.
"""

from __future__ import annotations

import os

import pytest
from gitrepo import GitRepo

from mergebert.git import install

NAME = "src/A.java"
# ort (histogram) and merge-file (Myers) both conflict here, at different lines
PLACED = ("\n{\n\nx();\nint a;\n", "\n{\n\nx();\n", "\n\n{\nint a;\n")
# ort merges this cleanly; merge-file conflicts
CLEAN_FOR_ORT = (
    "{\ny();\nint a;\n\ny();\ny();\n\nreturn;\n",
    "{\nint a;\ny();\n\ny();\n    }\n\nreturn;\n",
    "{\ny();\nint a;\n\nif (c) {\ny();\ny();\n\nreturn;\n",
)

# merge-file merges this cleanly; ort conflicts (an empty side against a blank line)
CONFLICT_FOR_ORT = ("{\nif (c) {\n    }\n{\n\n", "{\nif (c) {\n{\n\n", "{\n\nif (c) {\n{\n\n")


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
@pytest.mark.parametrize("strategy", [(), ("-s", "recursive")])
def test_a_conflict_left_is_placed_as_git_places_it(
    repo: GitRepo, style: str, strategy: tuple[str, ...]
) -> None:
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, *PLACED)
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", *strategy, "feature")
    assert "resolved 0 of" in stderr
    assert with_driver == without


# two clashes four lines apart, with no letter or digit between them: `git merge-file` joins them into one
# conflict; git's own merges (ll_merge: ort, recursive, `am -3`, `checkout -m`) leave two
APART = tuple(f"class A {{\n    int x = {v};\n}}\n}}\n}}\n}}\n    int y = {v};\n}}\n" for v in (1, 2, 3))


def _two_conflicts(data: bytes) -> None:
    assert data.count(b"\n<<<<<<< ") + data.startswith(b"<<<<<<< ") == 2, data.decode()


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
@pytest.mark.parametrize(
    "command", [("merge", "--no-edit", "-s", "recursive", "feature"), ("merge", "--no-edit", "feature")]
)
def test_conflicts_git_keeps_apart_are_kept_apart(
    repo: GitRepo, style: str, command: tuple[str, ...]
) -> None:
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, *APART)
    without, with_driver, stderr = repo.merge_both_ways(NAME, *command)
    _two_conflicts(without)
    assert "resolved 0 of" in stderr
    assert with_driver == without


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
def test_a_conflict_made_again_is_git_own(repo: GitRepo, style: str) -> None:
    """`git checkout -m` / `--conflict=STYLE` of a file the merge left conflicted writes git's ll_merge."""
    repo.diverge(NAME, *APART)
    repo.git("merge", "--no-edit", "feature", check=False)
    repo.git("checkout", f"--conflict={style}", "--", NAME)
    without = repo.read(NAME)
    _two_conflicts(without)
    repo.use_driver()
    repo.git("checkout", f"--conflict={style}", "--", NAME)
    assert repo.read(NAME) == without
    repo.git("-c", f"merge.conflictStyle={style}", "checkout", "-m", "--", NAME)
    assert repo.read(NAME) == without


@pytest.mark.parametrize(
    "command", [("checkout", "-m"), ("restore", "--merge"), ("checkout", "-qm")], ids=lambda c: " ".join(c)
)
def test_a_conflict_made_again_in_forms_python_reads_is_git_own(
    repo: GitRepo, command: tuple[str, ...]
) -> None:
    """Forms `driver.sh` leaves to Python (no `--`, joined short options) make git's conflict too."""
    repo.diverge(NAME, *APART)
    repo.git("merge", "--no-edit", "feature", check=False)
    repo.git(*command, NAME)
    without = repo.read(NAME)
    _two_conflicts(without)
    repo.use_driver()
    repo.git(*command, NAME)
    assert repo.read(NAME) == without


def test_a_conflict_made_again_without_a_scratch_folder_is_still_gits(repo: GitRepo, tmp_path) -> None:
    """Where no temporary folder can be made, `git merge-file`'s conflict stands in, quietly."""
    repo.diverge(NAME, *APART)
    repo.git("merge", "--no-edit", "feature", check=False)
    repo.use_driver()
    repo.env["TMPDIR"] = str(tmp_path / "gone")
    remade = repo.git("checkout", "-m", "--", NAME)
    text = repo.read(NAME)
    assert b"int x = 2;" in text and b"int x = 3;" in text and b"<<<<<<< ours" in text
    assert remade.stderr == "", remade.stderr


@pytest.mark.parametrize("strategy", ["ort", "recursive"])
def test_a_branch_named_in_bytes_that_are_not_utf8_labels_gits_conflict(repo: GitRepo, strategy: str) -> None:
    branch = os.fsdecode(b"feat-\xe9")
    repo.diverge(NAME, *APART)
    repo.git("branch", "-m", "feature", branch)
    merge = ("merge", "--no-edit", "-s", strategy, branch)
    assert repo.git(*merge, check=False, errors="surrogateescape").returncode == 1
    without = repo.read(NAME)
    _two_conflicts(without)
    repo.git("merge", "--abort")
    repo.use_driver()
    merged = repo.git(*merge, check=False, errors="surrogateescape")
    assert "resolved 0 of" in merged.stderr
    assert repo.read(NAME) == without


@pytest.mark.parametrize("strategy", ["ort", "recursive"])
def test_conflicts_kept_apart_with_whitespace_ignored(repo: GitRepo, strategy: str) -> None:
    """`-X ignore-space-change` makes git's merge one `git merge-file` cannot make (a real `git merge -X`
    makes it): its conflicts are still joined as git merge joins them."""
    repo.diverge(NAME, *APART)
    without, with_driver, stderr = repo.merge_both_ways(
        NAME, "merge", "--no-edit", "-s", strategy, "-X", "ignore-space-change", "feature"
    )
    _two_conflicts(without)
    assert with_driver == without


@pytest.mark.parametrize("strategy", ["ort", "recursive"])
def test_a_conflict_left_beside_one_resolved_is_written_as_git_writes_it(
    repo: GitRepo, strategy: str
) -> None:
    """Where mergebert resolves one conflict and leaves another, the one left is narrowed and joined as
    git merge writes it (two blocks across four `}` lines), not as `git merge-file` would."""
    keep = "".join(f"        keep({n});\n" for n in range(6))
    texts = [
        f"class A {{\n    void run() {{\n        f({a}, {b});\n{keep}{tail}    }}\n}}\n"
        for a, b, tail in (
            ("a", "b", "        z();\n"),
            ("x", "b", "        x1();\n}\n}\n}\n}\n        y1();\n"),
            ("a", "y", "        x2();\n}\n}\n}\n}\n        y2();\n"),
        )
    ]
    repo.diverge(NAME, *texts)
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "-s", strategy, "feature")
    assert "resolved 1 of" in stderr
    assert with_driver.split(b"keep(5);\n", 1)[1] == without.split(b"keep(5);\n", 1)[1]
    assert with_driver.count(b"<<<<<<< ") == 2


def test_a_patch_applied_with_three_way_fallback_conflicts_as_git_alone(repo: GitRepo, tmp_path) -> None:
    repo.diverge(NAME, *APART)
    repo.git("format-patch", "-q", "-1", "feature", "-o", str(tmp_path / "patches"))
    (patch,) = (tmp_path / "patches").iterdir()
    assert repo.git("am", "-3", str(patch), check=False).returncode != 0
    without = repo.read(NAME)
    _two_conflicts(without)
    repo.git("am", "--abort")
    repo.use_driver()
    applied = repo.git("am", "-3", str(patch), check=False)
    assert "resolved 0 of" in applied.stderr
    assert repo.read(NAME) == without


@pytest.mark.parametrize(
    "command", [("merge", "--no-edit", "feature"), ("cherry-pick", "feature"), ("rebase", "main")]
)
def test_a_file_git_merges_cleanly_is_merged_as_git_merges_it(
    repo: GitRepo, command: tuple[str, ...]
) -> None:
    repo.diverge(NAME, *CLEAN_FOR_ORT)
    if command[0] == "rebase":
        repo.git("checkout", "-q", "feature")
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    alone = repo.git(*command, check=False)
    assert alone.returncode == 0
    expected = repo.read(NAME)
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver(confirm=True)
    with_driver = repo.git(*command, check=False)
    assert with_driver.returncode == 0, with_driver.stderr
    assert repo.read(NAME) == expected


@pytest.mark.skipif(
    install.git_version() < install.LABELS_SINCE,
    reason="git merge-file diffs with histogram from git 2.44; before, a file it merges cleanly is written",
)
def test_a_file_git_leaves_conflicted_is_not_merged_cleanly_by_the_shell_entry_point(repo: GitRepo) -> None:
    repo.diverge(NAME, *CONFLICT_FOR_ORT)
    without, with_driver, _ = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert repo.conflicted() == [NAME]


@pytest.mark.parametrize("case", ["placed", "clean for ort"])
@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_a_favoured_side_gets_orts_conflicts(repo: GitRepo, case: str, side: str) -> None:
    """`-X ours|theirs` gives each of ort's conflicts to that side: where merge-file's conflict is
    wider, its favoured merge drops a line git keeps."""
    repo.diverge(NAME, *(PLACED if case == "placed" else CLEAN_FOR_ORT))
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    assert repo.git("merge", "--no-edit", f"-X{side}", "feature", check=False).returncode == 0
    expected = repo.read(NAME)
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver(confirm=True)
    merged = repo.git("merge", "--no-edit", f"-X{side}", "feature", check=False)
    assert merged.returncode == 0, merged.stderr
    assert repo.read(NAME) == expected


def test_past_the_time_limit_the_file_gets_orts_merge(repo: GitRepo) -> None:
    repo.diverge(NAME, *CLEAN_FOR_ORT)
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 0
    expected = repo.read(NAME)
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver(confirm=True)
    repo.env.update(MERGEBERT_DRIVER_TIMEOUT="0.001", MERGEBERT_DAEMON="0")
    merged = repo.git("merge", "--no-edit", "feature", check=False)
    assert merged.returncode == 0, merged.stderr
    assert "not resolved within" in merged.stderr
    assert repo.read(NAME) == expected


def test_a_rebase_continued_keeps_its_recursive_strategy(repo: GitRepo) -> None:
    """`git rebase -s recursive` saves its strategy; the pick `--continue` merges is Myers' merge then."""
    repo.commit({NAME: CLEAN_FOR_ORT[0], "notes.txt": "base\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"notes.txt": "feature\n"}, "notes")
    repo.commit({NAME: CLEAN_FOR_ORT[2]}, "code")
    repo.git("checkout", "-q", "main")
    repo.git("rm", "-q", "notes.txt")
    repo.commit({NAME: CLEAN_FOR_ORT[1]}, "main")

    def rebase() -> tuple[int, bytes]:
        assert repo.git("rebase", "-s", "recursive", "main", "feature", check=False).returncode != 0
        repo.git("rm", "-q", "notes.txt")  # the first pick stops on a modify/delete; settled by hand
        done = repo.git("-c", "core.editor=true", "rebase", "--continue", check=False)
        return done.returncode, repo.read(NAME)

    alone = rebase()
    assert alone[0] != 0, "the recursive strategy's (Myers') merge of the second pick conflicts"
    repo.git("rebase", "--abort")
    repo.use_driver(confirm=True)
    repo.env["MERGEBERT_MODEL"] = "none"
    assert rebase()[0] != 0
    assert repo.conflicted() == [NAME]


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_a_favoured_side_without_a_last_line_break_keeps_none(repo: GitRepo, side: str, eol: str) -> None:
    """ort's conflict markers end each side with a line break; git's favoured merge does not add one."""
    base, ours, theirs = (
        text.replace("\n", eol)
        for text in (
            "class A {\n  int x = 1;\n}",
            "class A {\n  int x = 2;\n}\n// ours",
            "class A {\n  int x = 3;\n}\n// theirs",
        )
    )
    repo.diverge(NAME, base, ours, theirs)
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    assert repo.git("merge", "--no-edit", f"-X{side}", "feature", check=False).returncode == 0
    expected = repo.read(NAME)
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver()
    assert repo.git("merge", "--no-edit", f"-X{side}", "feature", check=False).returncode == 0
    assert repo.read(NAME) == expected
