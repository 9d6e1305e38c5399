"""A UTF-8 byte-order mark that moves to another line: every version has one, and a side adds lines before
the first line, so the mark now starts a new line. git sees the mark as part of the first line and stops
on a conflict there; mergebert must see that conflict too: resolve it (and say so, so the driver's confirm
mode stops and `mergebert review` lists it) or leave git's bytes and exit status."""

from __future__ import annotations

import pytest
from gitrepo import GitRepo

BOM = b"\xef\xbb\xbf"
BASE = BOM + b"using A;\nclass C {}\n"
CASES = {  # ours, theirs
    "theirs adds a header, ours a line after the first": (
        BOM + b"using A;\nusing B;\nclass C {}\n",
        BOM + b"// header\nusing A;\nclass C {}\n",
    ),
    "ours adds a header, theirs edits the next line": (
        BOM + b"// header\nusing A;\nclass C {}\n",
        BOM + b"using A;\nclass D {}\n",
    ),
}
NAME = "src/C.cs"


def merge_file(repo: GitRepo, ours: bytes, theirs: bytes, *options: str) -> tuple[tuple, tuple, str]:
    """(exit status, output) of `mergebert merge-file -p` and of `git merge-file -p` on the same files,
    and mergebert's stderr."""
    paths = []
    for name, data in (("current.cs", ours), ("base.cs", BASE), ("other.cs", theirs)):
        (repo.path / name).write_bytes(data)
        paths.append(name)
    mine = repo.mergebert("merge-file", "-p", *options, *paths, text=False)
    git = repo.git("merge-file", "-p", *options, *paths, check=False, text=False)
    return (mine.returncode, mine.stdout), (git.returncode, git.stdout), mine.stderr.decode()


@pytest.mark.parametrize("style", [(), ("--diff3",)], ids=["merge", "diff3"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_merge_file_resolves_the_conflict_git_stops_on_or_leaves_gits(
    repo: GitRepo, case: str, style: tuple[str, ...]
) -> None:
    mine, git, stderr = merge_file(repo, *CASES[case], *style)
    assert git[0] == 1
    assert mine == git or stderr == "mergebert: current.cs: resolved 1 of 1 conflict\n", (mine, stderr)


def test_the_resolution_keeps_the_mark_where_the_side_moved_it(repo: GitRepo) -> None:
    mine, _, stderr = merge_file(repo, *CASES["theirs adds a header, ours a line after the first"])
    assert stderr == "mergebert: current.cs: resolved 1 of 1 conflict\n"
    assert mine == (0, BOM + b"// header\nusing A;\nusing B;\nclass C {}\n")


def test_a_mark_that_stays_on_the_first_line_is_set_aside_and_put_back(repo: GitRepo) -> None:
    ours = BOM + b"using A;\nclass C { int f(int a) => g(10, 2); }\n"
    theirs = BOM + b"using A;\nclass C { int f(int a) => g(1, 20); }\n"
    base = BOM + b"using A;\nclass C { int f(int a) => g(1, 2); }\n"
    for name, data in (("current.cs", ours), ("base.cs", base), ("other.cs", theirs)):
        (repo.path / name).write_bytes(data)
    mine = repo.mergebert("merge-file", "-p", "current.cs", "base.cs", "other.cs", text=False)
    assert (mine.returncode, mine.stdout) == (0, BOM + b"using A;\nclass C { int f(int a) => g(10, 20); }\n")


def test_the_driver_stops_for_confirmation_and_review_lists_it(repo: GitRepo) -> None:
    ours, theirs = CASES["theirs adds a header, ours a line after the first"]
    repo.diverge(NAME, BASE, ours, theirs)
    repo.use_driver(confirm=True)
    head = repo.git("rev-parse", "HEAD").stdout
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0, merge.stdout
    assert repo.git("rev-parse", "HEAD").stdout == head  # nothing committed
    assert repo.conflicted() == [NAME]
    assert f"{NAME}: resolved 1 of 1 conflict (mergebert review)" in merge.stderr
    assert f"{NAME}: left unmerged for you to confirm" in merge.stderr
    assert repo.read(NAME) == BOM + b"// header\nusing A;\nusing B;\nclass C {}\n"
    review = repo.mergebert("review")
    assert review.returncode == 0 and NAME in review.stdout, review.stderr


def test_review_undo_puts_gits_conflict_back(repo: GitRepo) -> None:
    ours, theirs = CASES["theirs adds a header, ours a line after the first"]
    repo.diverge(NAME, BASE, ours, theirs)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    without = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver(confirm=True)
    repo.git("merge", "--no-edit", "feature", check=False)
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stderr
    assert repo.read(NAME) == without


MARKED = {  # base, ours, theirs: all with a mark, their first lines differ, so it stays in their texts
    "sides": (
        BOM + b"using A;\nclass C {}\n",
        BOM + b"using B;\nclass C {}\n",
        BOM + b"using C;\nclass C {}\n",
    )
}


@pytest.mark.parametrize(
    "proposed",
    [
        "\ufeffusing B;\n\ufeffusing C;\n",  # ours then theirs, each with its mark (A+B)
        "using B;\nusing C;\n",  # the mark taken with the base's tokens (A+B-BASE)
        "using B;\n\ufeffusing C;\n",  # one mark, on the second line
    ],
)
def test_a_resolution_never_moves_the_mark(proposed: str) -> None:
    """A candidate that writes a byte-order mark after the file's start, or drops the one both sides begin
    with, is refused by the splice check, as one that does not parse is; the next one is taken."""
    from proposing import Proposes

    from mergebert.core.resolver import resolve_bytes

    kept = "\ufeffusing B;\nusing C;\n"
    result = resolve_bytes(*MARKED["sides"], path="C.cs", classifier=Proposes((proposed, 0.99), (kept, 0.98)))
    assert result.data == BOM + b"using B;\nusing C;\nclass C {}\n"
    assert result.data.count(BOM) == 1


def test_a_mark_inside_a_line_is_a_string_s_and_may_repeat() -> None:
    """Not the file's byte-order mark: a U+FEFF in a string literal that each side adds on its own line;
    their union keeps both (a review's case)."""
    from proposing import Proposes

    from mergebert.core.resolver import resolve_bytes

    base = "class C {\n  int a;\n}\n"
    ours, theirs = (f'class C {{\n  int a;\n  String {name} = "\ufeff";\n}}\n' for name in "st")
    union = '  String s = "\ufeff";\n  String t = "\ufeff";\n'
    result = resolve_bytes(
        base.encode(), ours.encode(), theirs.encode(), path="C.java", classifier=Proposes((union, 0.99))
    )
    assert [resolution.reason for resolution in result.resolutions] == ["resolved"]
