"""A conflict whose sides are equal, left beside one mergebert resolves: every front-end writes it as git
writes it (plain text in the merge style, a block in diff3 and in zdiff3, whose block git 2.39 writes
with empty sides and the base) and exits as git does with the file it wrote, which holds a conflict only
where a block is written.

mergebert's line merge (diff3) holds such a conflict where both sides made the same change but git's diffs
place it apart: here both drop one of two equal lines under a heading, each a different one. mergebert
leaves it where `resolver.skip_reasons` gives a reason its sides can have (marker lines, or too large; not
line endings, which equal sides share), and resolves the port line's conflict.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gitrepo import GitRepo

NAME = "notes.txt"


def notes(heading: str, port: str) -> str:
    """A heading, then a settings section with a port line."""
    return f"{heading}\n\nSettings\n--------\n\nport = {port}\nend\n"


def sides(line: str) -> tuple[str, str, str]:
    """(base, ours, theirs): `line` twice under the heading in base; each side keeps one of them."""
    return (
        notes(f"Notes\n{line}\n{line}", "8080,"),
        notes(f"Notes\n{line}", "8080, 9090,"),
        notes(f"Intro\nNotes\nNotes\n{line}", "7070, 8080,"),
    )


# the versions, and why mergebert leaves the conflict whose sides are equal
CASES = {
    "marker lines": (sides("======="), "a side already holds conflict markers"),
    "too large": (sides(f"![logo](data:image/png;base64,{'A' * 7000})"), "too large to resolve"),
}
PORT = b"port = 7070, 8080, 9090,\n"  # the port line's conflict, resolved by the token merge
STYLES = ["merge", "diff3", "zdiff3"]
HELD = {"merge": 0, "diff3": 1, "zdiff3": 1}  # the blocks left in git's merge with the port line resolved


def port_resolved(gits: bytes) -> bytes:
    """git's own merge with its last block (the port line's) replaced by mergebert's resolution."""
    blocks = list(re.finditer(rb"^<<<<<<< .*?^>>>>>>> [^\n]*\n", gits, re.MULTILINE | re.DOTALL))
    assert blocks and b"port = " in blocks[-1].group(0), gits
    return gits[: blocks[-1].start()] + PORT + gits[blocks[-1].end() :]


def git_alone(repo: GitRepo, case: str, style: str) -> bytes:
    """The case's merge as git alone writes it in `style` (it stops on the port line); the merge aborted."""
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, *CASES[case][0])
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    gits = repo.read(NAME)
    repo.git("merge", "--abort")
    return gits


def said(stderr: str, case: str, style: str) -> str:
    """The line every front-end prints for the file: the conflicts counted as the file shows them."""
    if HELD[style]:
        return f"{NAME}: resolved 1 of 2 conflicts (1 left: {CASES[case][1]}"
    return f"{NAME}: resolved 1 of 1 conflict"


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "in-process"])
def test_the_driver_exits_as_git_with_the_file_it_wrote(
    repo: GitRepo, case: str, style: str, daemon: str
) -> None:
    """git merges the file where no block is left in it (the merge style) and stops on it where one is."""
    expected = port_resolved(git_alone(repo, case, style))
    assert expected.count(b"<<<<<<<") == HELD[style]
    repo.env["MERGEBERT_DAEMON"] = daemon
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.read(NAME) == expected
    assert said(merge.stderr, case, style) in merge.stderr
    if HELD[style]:
        assert merge.returncode != 0
        assert repo.conflicted() == [NAME]
    else:
        assert merge.returncode == 0, merge.stderr
        assert repo.conflicted() == []
        assert repo.git("show", f"HEAD:{NAME}", text=False).stdout == expected


@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "in-process"])
def test_the_driver_stops_to_confirm_a_file_without_a_block_left(repo: GitRepo, daemon: str) -> None:
    """Confirm mode: git stops on the file mergebert resolved something in, and the driver says why, as it
    does for a file it resolved whole."""
    expected = port_resolved(git_alone(repo, "marker lines", "merge"))
    repo.env["MERGEBERT_DAEMON"] = daemon
    repo.use_driver(confirm=True)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.read(NAME) == expected
    assert repo.conflicted() == [NAME]
    assert f"{NAME}: left unmerged for you to confirm" in merge.stderr


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("style", STYLES)
def test_merge_file_exits_with_the_blocks_it_wrote(
    repo: GitRepo, tmp_path: Path, case: str, style: str
) -> None:
    """`mergebert merge-file` equals `git merge-file` with the port line resolved; its exit status counts
    the blocks it wrote."""
    base, ours, theirs = CASES[case][0]
    files = []
    for name, text in ((NAME, ours), ("base.txt", base), ("theirs.txt", theirs)):
        files.append(str(tmp_path / name))
        Path(files[-1]).write_text(text)
    flags = [] if style == "merge" else [f"--{style}"]
    gits = repo.git("merge-file", "-p", *flags, *files, check=False, text=False)
    assert gits.returncode == HELD[style] + 1
    merged = repo.mergebert("merge-file", "-p", *flags, *files, text=False)
    assert merged.stdout == port_resolved(gits.stdout)
    assert merged.returncode == HELD[style]
    assert said(merged.stderr.decode(), case, style) in merged.stderr.decode()


@pytest.mark.parametrize("style", STYLES)
def test_mergetool_exits_with_the_blocks_it_wrote(repo: GitRepo, style: str) -> None:
    """`git mergetool` marks the file resolved where no block is left in it."""
    expected = port_resolved(git_alone(repo, "marker lines", style))
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert said(tool.stderr, "marker lines", style) in tool.stderr
    assert (tool.returncode != 0) == bool(HELD[style]), tool.stderr
    assert repo.conflicted() == ([NAME] if HELD[style] else [])
    if not HELD[style]:
        assert repo.read(NAME) == expected


@pytest.mark.parametrize("style", ["diff3", "zdiff3"])
def test_a_file_git_stops_on_only_in_its_style_is_not_settled_by_the_merge_style(
    repo: GitRepo, style: str
) -> None:
    """The driver's first `git merge-file` merges in the configured style: a file whose one conflict has
    equal sides, which git's diff3 and zdiff3 styles keep as a block and the merge style writes as text,
    reaches mergebert, which resolves it and, in confirm mode, stops for it as git alone does."""
    versions = sides("a line")[0], sides("a line")[1].replace("9090,", "8080,"), sides("a line")[2]
    versions = tuple(text.replace("7070, ", "") for text in versions)
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, *versions)
    alone = repo.git("merge", "--no-edit", "feature", check=False)
    assert alone.returncode != 0 and repo.conflicted() == [NAME], alone.stderr
    repo.git("merge", "--abort")
    repo.use_driver(confirm=True)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0, merge.stderr
    assert repo.conflicted() == [NAME]
    assert f"{NAME}: resolved 1 of 1 conflict" in merge.stderr
