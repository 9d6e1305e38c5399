"""A conflict mergebert leaves beside one it resolved is written as git writes it: the pieces git joins
into one block (three lines or fewer apart, or, for `git merge-file` only, apart by lines without letters
or digits) stay one block, and the exit status and report count it once. The merge driver's decision
record knows the block: `review` lists it once, `review --undo` gives git's conflicts back, and `resolve`
and `mergetool` find it."""

from __future__ import annotations

import pytest
from gitrepo import GitRepo

NAME = "A.java"
KEEP = "".join(f"  // s{n}\n" for n in range(1, 5))


def _sides(gap: str) -> tuple[str, str, str]:
    """(base, ours, theirs): a call each side edits (resolved at token level), then two clashing lines
    `gap` apart, which git's merge style writes as one block."""
    base, ours, theirs = (
        f"class C {{\n  void f() {{ g({call}); }}\n{KEEP}  int a = {v};\n{gap}  int c = {v};\n}}\n"
        for call, v in (("1, 2", 0), ("10, 2", 1), ("1, 20", 2))
    )
    return base, ours, theirs


SHARED_LINE = "  int b = 0;\n"
NO_ALNUM = "  }\n  }\n  }\n  }\n"  # four lines: only `git merge-file` joins across them


def _merge_file(repo: GitRepo, texts: tuple[str, str, str], *options: str) -> tuple[tuple[int, str], str]:
    """(exit status, output) of `mergebert merge-file -p --model none`, and `git merge-file -p`'s output."""
    paths = []
    for name, text in (("cur.java", texts[1]), ("base.java", texts[0]), ("other.java", texts[2])):
        (repo.path / name).write_text(text)
        paths.append(name)
    mine = repo.mergebert("merge-file", "-p", "--model", "none", *options, *paths)
    git = repo.git("merge-file", "-p", *options, *paths, check=False)
    return (mine.returncode, mine.stdout), git.stdout


def _after_keep(text: str | bytes) -> str:
    """What follows the clean lines after the first conflict."""
    text = text.decode() if isinstance(text, bytes) else text
    return text[text.index(KEEP) + len(KEEP) :]


@pytest.mark.parametrize("gap", [SHARED_LINE, NO_ALNUM], ids=["a shared line", "lines without letters"])
@pytest.mark.parametrize("style", [(), ("--diff3",), ("--zdiff3",)], ids=["merge", "diff3", "zdiff3"])
def test_merge_file_writes_a_conflict_left_as_git_joins_it(
    repo: GitRepo, gap: str, style: tuple[str, ...]
) -> None:
    (status, output), git = _merge_file(repo, _sides(gap), *style)
    assert output.startswith("class C {\n  void f() { g(10, 20); }\n"), "the first conflict is resolved"
    left = _after_keep(git)
    assert _after_keep(output) == left
    assert status == left.count("<<<<<<< ") == (1 if not style else 2)


def test_merge_file_in_place_counts_the_joined_block_once(repo: GitRepo) -> None:
    texts = _sides(SHARED_LINE)
    (_, printed), _ = _merge_file(repo, texts)
    in_place = repo.mergebert("merge-file", "--model", "none", "cur.java", "base.java", "other.java")
    assert in_place.returncode == 1 and (repo.path / "cur.java").read_text() == printed
    assert "resolved 1 of 2 conflicts (1 left" in in_place.stderr, in_place.stderr


DRIVER_CASES = [
    pytest.param(style, gap, id=f"{style}-{name}")
    for style in ("merge", "diff3", "zdiff3")
    for gap, name in ((SHARED_LINE, "a shared line"), (NO_ALNUM, "lines without letters"))
]


def _merged_by_driver(repo: GitRepo, style: str, gap: str) -> tuple[bytes, bytes]:
    """git merge's file alone, then with the driver (left in progress), which resolves the first conflict
    and reports the blocks it leaves."""
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, *_sides(gap))
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    blocks = _blocks_left(style, gap)
    assert f"resolved 1 of {1 + blocks} conflicts ({blocks} left" in stderr, stderr
    assert b"g(10, 20);" in with_driver, stderr
    return without, with_driver


def _blocks_left(style: str, gap: str) -> int:
    """The blocks `git merge` writes of the two clashes: one in the merge style across a shared line; two
    across four lines without letters (only `git merge-file` joins there) and in the diff3 styles."""
    return 1 if (style, gap) == ("merge", SHARED_LINE) else 2


@pytest.mark.parametrize(("style", "gap"), DRIVER_CASES)
def test_the_driver_writes_a_conflict_left_as_git_merge_writes_it(
    repo: GitRepo, style: str, gap: str
) -> None:
    without, with_driver = _merged_by_driver(repo, style, gap)
    assert _after_keep(with_driver) == _after_keep(without)
    assert _after_keep(without).count("<<<<<<< ") == _blocks_left(style, gap)


@pytest.mark.parametrize(("style", "gap"), DRIVER_CASES)
def test_the_conflicts_the_driver_leaves_are_found_and_undone(repo: GitRepo, style: str, gap: str) -> None:
    """`review` lists the blocks the driver left as the file shows them, `resolve` and `mergetool` find
    them, and `review --undo` gives git's conflicts back byte for byte."""
    without, with_driver = _merged_by_driver(repo, style, gap)
    blocks = _blocks_left(style, gap)
    review = repo.mergebert("review", NAME)
    assert f"{NAME}: resolved 1 of {1 + blocks} conflicts" in review.stdout, review.stdout
    assert review.stdout.count(": left:") == blocks, review.stdout
    again = repo.mergebert("resolve", NAME)
    assert "not where mergebert finds git's conflicts" not in again.stdout, (
        "resolve finds the conflicts the driver left"
    )
    assert "2:left" in again.stdout and "3:left" in again.stdout, again.stdout
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert f"resolved 0 of {blocks} conflict" in tool.stderr, tool.stderr
    assert repo.read(NAME) == with_driver
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == without, "--undo gives back git's conflicts"


def test_a_resolution_is_never_written_inside_a_block_left(repo: GitRepo) -> None:
    """Three clashes git writes as one block; mergebert resolves the middle one and leaves the others
    apart, each narrowed as git narrows it, with its resolution between them as plain lines."""
    base, ours, theirs = (
        f"class C {{\n  int a = {v};\n  int x;\n  void f() {{ g({call}); }}\n  int y;\n  int c = {v};\n}}\n"
        for call, v in (("1, 2", 0), ("10, 2", 1), ("1, 20", 2))
    )
    (status, output), git = _merge_file(repo, (base, ours, theirs))
    assert git.count("<<<<<<< ") == 1
    block = "<<<<<<< cur.java\n  int {0} = 1;\n=======\n  int {0} = 2;\n>>>>>>> other.java\n"
    middle = "  int x;\n  void f() { g(10, 20); }\n  int y;\n"
    assert (status, output) == (2, f"class C {{\n{block.format('a')}{middle}{block.format('c')}}}\n")


NARROWED_HEAD = "class C {\n  void f() { g(%s); }\n" + "".join(f"  // s{n}\n" for n in range(5))


def narrowed_version(call: str, value: int, middle: str) -> str:
    """Conflicts A (a, p), B (`middle`) and C (q, c) around lines all sides share; the call a token merge
    settles."""
    return NARROWED_HEAD % call + (
        f"  int a = {value};\n  int k;\n  int p = {value};\n{middle}"
        f"  int q = {value};\n  int k2;\n  int c = {value};\n}}\n"
    )


def test_a_conflict_git_narrows_into_two_blocks_stays_in_both(repo: GitRepo) -> None:
    """git narrows conflict B to two pieces, the first joined with A, the second with C (two blocks that
    share B); mergebert resolves the call and none of A, B, C: both blocks are written as git writes them,
    B once (a review's case)."""
    old, new = ("".join(f"  {word}{i}();\n" for i in range(4)) for word in ("x", "m"))
    versions = {
        "base": narrowed_version("1, 2", 0, old),
        "cur": narrowed_version("10, 2", 1, new),
        "other": narrowed_version("1, 20", 2, new),
    }
    for name, text in versions.items():
        (repo.path / name).write_text(text)
    mine = repo.mergebert("merge-file", "-p", "--model", "none", "cur", "base", "other")
    gits = repo.git("merge-file", "-p", "cur", "base", "other", check=False)
    assert mine.stdout.startswith("class C {\n  void f() { g(10, 20); }\n")
    assert mine.stdout.split("// s4\n", 1)[1] == gits.stdout.split("// s4\n", 1)[1]
    assert mine.returncode == gits.returncode - 1 == 2
