"""Which of mergebert's conflicts each of git's blocks holds: the relations of line ranges, defined once,
and the blocks `linemerge.git_blocks` finds against those `git merge-file` writes."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from gitrepo import GitRepo

from mergebert.core import lineranges
from mergebert.core.linemerge import conflicts_of, git_blocks, merge_lines

# (start, end) pairs of half-open ranges, and whether they overlap, meet, and the first lies within the second
RELATIONS = [
    ((0, 2), (1, 3), True, True, False),
    ((0, 2), (2, 4), False, True, False),  # touching: they share no line
    ((2, 4), (0, 2), False, True, False),
    ((0, 1), (2, 3), False, False, False),  # a line apart
    ((2, 2), (0, 2), True, True, True),  # an empty range at the other's end
    ((0, 2), (2, 2), True, True, False),
    ((0, 0), (0, 2), True, True, True),  # at its start
    ((1, 1), (0, 2), True, True, True),  # inside
    ((3, 3), (0, 2), False, False, False),
    ((1, 1), (1, 1), True, True, True),
    ((1, 2), (0, 3), True, True, True),
    ((0, 3), (1, 2), True, True, False),
]


@pytest.mark.parametrize(("first", "second", "overlap", "meet", "within"), RELATIONS)
def test_line_range_relations(
    first: tuple[int, int], second: tuple[int, int], overlap: bool, meet: bool, within: bool
) -> None:
    assert lineranges.overlap(*first, *second) is overlap
    assert lineranges.overlap(*second, *first) is overlap
    assert lineranges.meet(*first, *second) is meet
    assert lineranges.meet(*second, *first) is meet
    assert lineranges.within(*first, *second) is within


def gits_blocks(folder: Path, base: str, ours: str, theirs: str) -> int:
    """The conflict blocks `git merge-file` writes in its merge style."""
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        (folder / name).write_text(text)
    done = subprocess.run(
        ["git", "-c", "merge.conflictStyle=merge", "merge-file", "-p", "ours", "base", "theirs"],
        cwd=folder,
        capture_output=True,
        check=False,
    )
    return done.stdout.count(b"<<<<<<<")


def edited(lines: list[str], rng: random.Random) -> list[str]:
    """`lines` with one to three lines deleted, put in or changed."""
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(lines) + 1)
        choice = rng.random()
        if choice < 0.35 and at < len(lines):
            del lines[at]
        elif choice < 0.7:
            lines.insert(at, rng.choice(["a", "b", "X", "Y", "{"]))
        elif at < len(lines):
            lines[at] = rng.choice(["a", "b", "X", "}"])
    return lines


def test_git_blocks_are_the_blocks_git_writes(tmp_path: Path) -> None:
    """Small merges with sides deleted, put in and changed next to each other (empty sides at the edges of
    conflicts): `git_blocks` finds as many blocks as git writes, each holding neighbouring conflicts, every
    conflict in at most one."""
    rng = random.Random(11)
    checked = 0
    while checked < 150:
        base = [rng.choice(["a", "b", "c", "{", "}"]) for _ in range(rng.randint(1, 8))]
        texts = [
            "".join(line + "\n" for line in lines) for lines in (base, edited(base, rng), edited(base, rng))
        ]
        conflicts = len(conflicts_of(merge_lines(*texts)))
        if not conflicts:
            continue
        checked += 1
        found = git_blocks(*texts)
        assert len(found) == gits_blocks(tmp_path, *texts), texts
        held = [index for first, last in found for index in range(first, last + 1)]
        assert held == sorted(set(held)) and all(0 <= index < conflicts for index in held), (texts, found)


def test_review_gives_a_block_the_reasons_of_every_conflict_it_holds(repo: GitRepo) -> None:
    """git's block ends where the second conflict of the line merge starts: its narrowed part (their
    `b(2);`, put in before the line the conflict starts with) is at the block's end, which holds it."""
    base = ["a(1, 2);", "x = y + z;", "c(4, 5, 6);", "a(1);", "a(1);", "c(3);", "}"]
    ours = ["a(1, 2);", "}", "x = y + z;", "c(4, 5, 6);", "a(1);", "c(3);", "}"]
    theirs = ["x = y + z;", "c(4, 5, 6);", "b(2);", "a(1);", "c(3);", "}"]
    repo.use_driver()
    repo.git("config", "mergebert.model", "none")
    repo.diverge("A.java", *("".join(line + "\n" for line in side) for side in (base, ours, theirs)))
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.read("A.java").count(b"<<<<<<<") == 1
    assert "b(2);\n>>>>>>> feature\n" in repo.read("A.java").decode()
    assert "(1 left: token conflict left, would alter merged lines;" in merge.stderr, merge.stderr
    review = repo.mergebert("review")
    assert (
        "  conflict 1 (line 1): left: 1 token conflict left; would alter merged lines\n" in review.stdout
    ), review.stdout
