"""Where mergebert resolves nothing, or nothing more than git, its bytes and exit status are git's own
(`git merge-file` on the same input, same labels, marker size and style): issue 10's list."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import GitRepo

BOM = b"\xef\xbb\xbf"
BODY = b"class A {\n    int a = 1;\n    int b = 2;\n    int c = 3;\n    int d = 4;\n}\n"


def both(repo: GitRepo, base: bytes, ours: bytes, theirs: bytes, *options: str) -> tuple[tuple, tuple]:
    """(exit status, output) of `mergebert merge-file -p` and of `git merge-file -p` on the same files."""
    paths = []
    for name, data in (("current.java", ours), ("base.java", base), ("other.java", theirs)):
        (repo.path / name).write_bytes(data)
        paths.append(name)
    ours_run = repo.mergebert("merge-file", "-p", "-q", *options, *paths, text=False)
    git_run = repo.git("merge-file", "-p", *options, *paths, check=False, text=False)
    return (ours_run.returncode, ours_run.stdout), (git_run.returncode, git_run.stdout)


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_a_bom_added_on_one_side_is_kept_as_git_keeps_it(repo: GitRepo, side: str) -> None:
    edited = BODY.replace(b"d = 4", b"d = 40")
    ours, theirs = (BOM + BODY, edited) if side == "ours" else (edited, BOM + BODY)
    mine, git = both(repo, BODY, ours, theirs)
    assert mine == git and git[0] == 0 and git[1].startswith(BOM)


def test_a_bom_added_on_one_side_is_kept_beside_a_resolved_conflict(repo: GitRepo) -> None:
    ours = BODY.replace(b"int a = 1;", b"int a = f(10, 2);")
    theirs = BOM + BODY.replace(b"int a = 1;", b"int a = f(1, 20);")
    base = BODY.replace(b"int a = 1;", b"int a = f(1, 2);")
    mine, _ = both(repo, base, ours, theirs)
    assert mine == (0, BOM + BODY.replace(b"int a = 1;", b"int a = f(10, 20);"))


@pytest.mark.parametrize("style", [(), ("--diff3",)])
@pytest.mark.parametrize(
    "sides",
    [
        (b"a\nb\nc\n", b"a\nc\n", b"a\nB\nc\n"),  # ours empty in the conflict
        (b"a\nb\nc\n", b"a\nB\nc\n", b"a\nc\n"),  # theirs empty
        (b"x\n", b"", b"y\n"),  # ours an empty file
    ],
    ids=["empty ours", "empty theirs", "empty ours file"],
)
def test_an_empty_side_keeps_its_label(
    repo: GitRepo, sides: tuple[bytes, ...], style: tuple[str, ...]
) -> None:
    mine, git = both(repo, *sides, *style)
    assert mine == git and git[0] == 1


def test_an_empty_side_keeps_its_label_beside_a_resolved_conflict(repo: GitRepo) -> None:
    keep = b"".join(b"keep %d;\n" % i for i in range(5))
    base = b"f(1, 2);\n" + keep + b"gone();\n" + keep
    ours = b"f(10, 2);\n" + keep + keep
    theirs = b"f(1, 20);\n" + keep + b"changed();\n" + keep
    (exit_status, output), (_, git_output) = both(repo, base, ours, theirs)
    assert exit_status == 1 and output.startswith(b"f(10, 20);\n")
    assert b"<<<<<<< current.java\n=======\nchanged();\n>>>>>>> other.java\n" in git_output
    assert b"<<<<<<< current.java\n=======\nchanged();\n>>>>>>> other.java\n" in output


def test_exit_status_does_not_count_marker_lines_of_the_content(repo: GitRepo) -> None:
    base = b"a\n<<<<<<< x\nb\n>>>>>>> y\n"
    mine, git = both(repo, base, base.replace(b"b\n", b"B\n"), base.replace(b"b\n", b"C\n"))
    assert mine == git and git[0] == 1


def test_nothing_resolved_gives_gits_bytes_where_libgit2_places_conflicts_otherwise(repo: GitRepo) -> None:
    base = b"".join(b"line %d\n" % i for i in range(12))
    ours = base.replace(b"line 3\n", b"ours 3\n").replace(b"line 5\n", b"ours 5\n")
    theirs = base.replace(b"line 3\n", b"theirs 3\n").replace(b"line 5\n", b"theirs 5\n")
    for marker_size in ("7", "9"):
        mine, git = both(repo, base, ours, theirs, "--marker-size", marker_size)
        assert mine == git and git[0] == 1, "git joins the two conflicts into one, libgit2 does not"


def test_threshold_nan_in_merge_file_is_refused(repo: GitRepo, tmp_path: Path) -> None:
    result = repo.mergebert("merge-file", "--threshold", "nan", "a", "b", "c")
    assert result.returncode == 129 and "not a threshold" in result.stderr  # a usage error, as git says


@pytest.mark.parametrize("style", ["diff3", "zdiff3"])
def test_conflict_style_from_config_includes_zdiff3(repo: GitRepo, style: str) -> None:
    repo.git("config", "merge.conflictStyle", style)
    base = b"a\nb\nc\nd\n"
    mine, git = both(repo, base, b"a\nX\nc\nY\n", b"a\nX\nc\nZ\n")
    assert mine == git and git[0] == 1 and b"|||||||" in git[1]


@pytest.mark.parametrize("style", [(), ("--diff3",), ("--zdiff3",)])
@pytest.mark.parametrize("variant", ["crlf lines in an lf file", "an lf line in a crlf file"])
def test_a_conflict_left_beside_a_resolved_one_ends_its_markers_as_git_does(
    repo: GitRepo, variant: str, style: tuple[str, ...]
) -> None:
    # git ends marker lines as the lines before the conflict end (and base's first line), whatever the
    # conflict's own lines end with
    keep = b"".join(b"keep %d;\n" % i for i in range(5))
    base = b"f(1, 2);\n" + keep + b"int port = 8080;\r\n" + keep
    ours = base.replace(b"f(1, 2)", b"f(10, 2)").replace(b"8080", b"9090")
    theirs = base.replace(b"f(1, 2)", b"f(1, 20)").replace(b"8080", b"7070")
    if variant == "an lf line in a crlf file":
        base, ours, theirs = (side.replace(b";\n", b";\r\n") for side in (base, ours, theirs))
        theirs = theirs.replace(b"7070;\r\n", b"7070;\n")
    (exit_status, output), (_, git_output) = both(repo, base, ours, theirs, *style)
    assert exit_status == 1 and output.startswith(b"f(10, 20);")
    left = git_output[git_output.rindex(b"<<<<<<<") :]
    assert git_output.count(b"<<<<<<<") == 2 and output.endswith(left)


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
@pytest.mark.parametrize("variant", ["crlf lines in an lf file", "an lf line in a crlf file"])
def test_a_conflict_the_driver_leaves_ends_its_markers_as_git_merge_does(
    repo: GitRepo, variant: str, style: str
) -> None:
    keep = "".join(f"    int keep{i} = {i};\n" for i in range(5))
    base = f"class A {{\n    int a = f(1, 2);\n{keep}    int port = 8080;\r\n{keep}}}\n"
    ours = base.replace("f(1, 2)", "f(10, 2)").replace("8080", "9090")
    theirs = base.replace("f(1, 2)", "f(1, 20)").replace("8080", "7070")
    if variant == "an lf line in a crlf file":
        base, ours, theirs = (
            side.replace(";\n", ";\r\n").replace("{\n", "{\r\n") for side in (base, ours, theirs)
        )
        theirs = theirs.replace("7070;\r\n", "7070;\n")
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge("A.java", base, ours, theirs)
    git_alone, by_driver, _ = repo.merge_both_ways("A.java", "merge", "--no-edit", "feature")
    assert b"f(10, 20)" in by_driver and by_driver.count(b"<<<<<<<") == 1
    left = git_alone[git_alone.rindex(b"<<<<<<<") :]
    assert git_alone.count(b"<<<<<<<") == 2 and by_driver.endswith(left)
    undo = repo.mergebert("review", "--undo", "A.java")
    assert undo.returncode == 0 and "conflict ?" not in undo.stdout + undo.stderr, undo.stdout + undo.stderr
    assert repo.read("A.java") == git_alone, "--undo gives back git's conflicts"
