"""Stage 1 against git itself: libgit2's regions and markers equal `git merge-file --diff3`."""

import subprocess
from pathlib import Path

import pytest

from mergebert.core.linemerge import (
    CleanText,
    LineConflict,
    conflict_contexts,
    conflicts_of,
    git_blocks,
    merge_bytes,
    merge_lines,
    render,
)
from mergebert.core.options import MergeOptions
from mergebert.core.textio import dominant_eol

CASES = {
    "one conflict": ("a\nb\nc\n", "a\nB1\nc\n", "a\nB2\nc\n"),
    "no final newline": ("a\nb\nc", "a\nb\nC1", "a\nb\nC2"),
    "crlf": ("a\r\nb\r\nc\r\n", "a\r\nB1\r\nc\r\n", "a\r\nB2\r\nc\r\n"),
    "add/add": ("", "x\ny\n", "x\nz\n"),
    "markers in the file": ("a\n<<<<<<< x\nb\n", "a\n<<<<<<< x\nB\n", "a\n<<<<<<< x\nC\n"),
    "two conflicts": ("1\n2\n3\n4\n5\n", "1\nx\n3\n4\ny\n", "1\nX\n3\n4\nY\n"),
    "empty ours": ("a\nb\nc\n", "a\nc\n", "a\nB\nc\n"),
    "empty theirs": ("a\nb\nc\n", "a\nB\nc\n", "a\nc\n"),
    "empty ours, whole file": ("x\n", "", "y\n"),
    "gap without letters": ("x\n", "A1\n}\n}\n}\n}\nB1\n", "A2\n}\n}\n}\n}\nB2\n"),
    "narrowed, then joined": ("a\nb\nk\nc\nd\n", "a\nS\nB1\nk\nC1\nT\nd\n", "a\nS\nB2\nk\nC2\nT\nd\n"),
    "four lines apart": ("0\n1\n2\n3\n4\n5\n", "X\n1\n2\n3\n4\nY\n", "x\n1\n2\n3\n4\ny\n"),
}


def git_merge_file(tmp_path: Path, base: str, ours: str, theirs: str, *args: str) -> str:
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        (tmp_path / name).write_bytes(text.encode())
    labels = ["-L", "ours", "-L", "base", "-L", "theirs"]
    done = subprocess.run(
        ["git", "merge-file", "-p", *labels, *args, "ours", "base", "theirs"],
        cwd=tmp_path,
        capture_output=True,
    )
    return done.stdout.decode()


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_equals_git_merge_file_diff3(tmp_path: Path, case: str) -> None:
    base, ours, theirs = CASES[case]
    eol = "\r\n" if "\r\n" in ours else "\n"
    assert render(merge_lines(base, ours, theirs), eol=eol) == git_merge_file(
        tmp_path, base, ours, theirs, "--diff3"
    )


@pytest.mark.parametrize(
    "case",
    [
        "add/add",
        "crlf",
        "no final newline",
        "one conflict",
        "empty ours",
        "empty theirs",
        "empty ours, whole file",
        "gap without letters",
    ],
)
def test_merge_style_narrows_conflicts_like_git(tmp_path: Path, case: str) -> None:
    base, ours, theirs = CASES[case]
    assert render(merge_lines(base, ours, theirs), MergeOptions()) == git_merge_file(
        tmp_path, base, ours, theirs
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_merge_style_with_gits_blocks_equals_git_merge_file(tmp_path: Path, case: str) -> None:
    """Conflicts rendered with the blocks git joins them into are `git merge-file`'s bytes."""
    base, ours, theirs = CASES[case]
    chunks, blocks = merge_lines(base, ours, theirs), git_blocks(base, ours, theirs)
    eol = "\r\n" if "\r\n" in ours else "\n"
    assert render(chunks, MergeOptions(), eol=eol, blocks=blocks) == git_merge_file(
        tmp_path, base, ours, theirs
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_zdiff3_style_equals_git_merge_file(tmp_path: Path, case: str) -> None:
    base, ours, theirs = CASES[case]
    assert render(merge_lines(base, ours, theirs), MergeOptions(style="zdiff3")) == git_merge_file(
        tmp_path, base, ours, theirs, "--zdiff3"
    )


def test_merge_style_rendering_with_marker_size() -> None:
    chunks = merge_lines(*CASES["one conflict"])
    expected = "a\n<<<<<<<<<< ours\nB1\n==========\nB2\n>>>>>>>>>> theirs\nc\n"
    assert render(chunks, MergeOptions(marker_size=10)) == expected


def test_merge_bytes_equals_git_merge_file(tmp_path: Path) -> None:
    base, ours, theirs = CASES["two conflicts"]
    expected = git_merge_file(tmp_path, base, ours, theirs, "--marker-size=10")
    data, left = merge_bytes(base.encode(), ours.encode(), theirs.encode(), MergeOptions(marker_size=10))
    assert (data.decode(), left) == (expected, 1), "git joins conflicts close together in merge style"


def test_chunks_keep_sides_exactly() -> None:
    chunks = merge_lines(*CASES["no final newline"])
    assert chunks == [CleanText("a\nb\n"), LineConflict(ours="C1", base="c", theirs="C2")]


def test_binary_content_keeps_ours() -> None:
    assert merge_bytes(b"\0a", b"\0ours", b"\0theirs") == (b"\0ours", 1)


def test_lines_split_at_newline_only_like_git() -> None:
    prefix = "".join(f"p{i}\u2028x\rq\n" for i in range(40))
    chunks = merge_lines(prefix + "b\n", prefix + "B1\n", prefix + "B2\n")
    assert chunks[0] == CleanText(prefix)
    [(before, after)] = conflict_contexts(chunks)
    assert before == "".join(f"p{i}\u2028x\rq\n" for i in range(10, 40)) and after == ""


# git writes a conflict's marker lines (and the line ending it adds to a side lacking one) with CRLF only
# when the lines before the conflict in ours and in theirs (or their first lines, at the file's start) and
# base's first line end in CRLF (xdiff's is_cr_needed): not after the conflict's own lines.
MIXED_ENDINGS = {
    "crlf conflict in an lf file": ("a\nb\r\nc\n", "a\nB1\r\nc\n", "a\nB2\r\nc\n"),
    "lf side in a crlf file": ("a\r\nb\r\nc\r\n", "a\r\nB1\r\nc\r\n", "a\r\nB2\nc\r\n"),
    "base's first line lf": ("h\na\r\nb\r\nc\r\n", "h\na\r\nB1\r\nc\r\n", "h\na\r\nB2\r\nc\r\n"),
    "conflict first, lf": ("b\r\nc\n", "B1\nc\n", "B2\r\nc\n"),
    "conflict first, crlf": ("b\r\nc\n", "B1\r\nc\n", "B2\r\nc\n"),
    "empty ours first": ("b\r\nc\r\n", "c\r\n", "B\r\nc\r\n"),
    "narrowed after an lf line": ("a\r\nb\r\nc\r\n", "a\r\nX\nB1\r\nc\r\n", "a\r\nX\nB2\r\nc\r\n"),
    "no final line ending, crlf": ("a\r\nb", "a\r\nB1", "a\r\nB2"),
    "no final line ending, lf before": ("a\r\nx\nb", "a\r\nx\nB1", "a\r\nx\nB2"),
    "lone line without ending": ("b", "B1", "B2"),
    "two conflicts": (
        "a\r\nb\r\n1\n2\n3\n4\nc\nd\r\n",
        "a\r\nB1\n1\n2\n3\n4\nc\nD1\r\n",
        "a\r\nB2\n1\n2\n3\n4\nc\nD2\r\n",
    ),
}


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
@pytest.mark.parametrize("case", sorted(MIXED_ENDINGS))
def test_marker_line_endings_are_gits_in_mixed_files(tmp_path: Path, case: str, style: str) -> None:
    base, ours, theirs = MIXED_ENDINGS[case]
    rendered = render(merge_lines(base, ours, theirs), MergeOptions(style=style), eol=dominant_eol(ours))
    flags = () if style == "merge" else (f"--{style}",)
    assert rendered == git_merge_file(tmp_path, base, ours, theirs, *flags)


def test_marker_line_endings_of_a_conflict_rendered_alone_are_those_of_its_place() -> None:
    chunks = merge_lines(*MIXED_ENDINGS["crlf conflict in an lf file"])
    (conflict,) = conflicts_of(chunks)
    assert render([conflict], MergeOptions()) == "<<<<<<< ours\nB1\r\n=======\nB2\r\n>>>>>>> theirs\n"
