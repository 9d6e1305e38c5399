"""Every front-end counts a file's conflicts as the file shows them: the conflicts mergebert resolved plus
the conflict blocks the file holds, where git's conflict style joins two of mergebert's conflicts into one
block, narrows one into two, or writes one whose sides are equal as plain text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gitrepo import MERGEBERT, GitRepo, without_root_privilege
from test_merge_file import NARROWED as NARROWED_IN_PART
from test_resolve_marked import FILLER, pair, stopped_merge
from test_resolve_marked import NAME as PAIR

NAME = "A.java"


def close(first: str, then: str) -> str:
    """Two one-line conflicts two lines apart: git's merge style joins them into one block."""
    return f"class A {{\n    void f() {{ {first} }}\n}}\nclass B {{\n    void g() {{ {then} }}\n}}\n"


def shared_middle(call: str) -> str:
    """One conflict of the line merge whose sides share four lines: git's merge style writes two blocks."""
    shared = "    s1();\n    s2();\n    s3();\n    s4();\n"
    return f"class A {{\n  void f() {{\n    alpha{call};\n{shared}    omega{call};\n  }}\n}}\n"


def equal_sides(lines: str, port: str) -> str:
    """The calls `lines` names, then a port: with "acc", "ac" and "baac" the line merge (diff3) holds a
    conflict whose sides are both `c();`, which git's merge style writes as plain text."""
    body = "".join(f"    {name}();\n" for name in lines)
    return (
        f"class A {{\n  void f() {{\n{body}  }}\n  void g() {{\n    run();\n    stop();\n"
        f"    int port = {port};\n  }}\n}}\n"
    )


JOINED = (
    close("int a = 1;", "int b = 1;"),
    close("int a = 2;", "int b = 2;"),
    close("int a = 3;", "int b = 3;"),
)
NARROWED = (
    "class A {\n  void f() {\n    alpha();\n    omega();\n  }\n}\n",
    shared_middle("(1)"),
    shared_middle("(2)"),
)
EQUAL = (equal_sides("acc", "8080"), equal_sides("ac", "9090"), equal_sides("baac", "7070"))
# (base, ours, theirs), git's conflict style, and the conflict blocks git's merge writes in it; mergebert's
# line merge holds two conflicts in each but the narrowed one's
CASES = {
    "joined": (JOINED, "merge", 1),
    "narrowed": (NARROWED, "merge", 2),
    "equal sides": (EQUAL, "merge", 1),
    "equal sides, diff3 style": (EQUAL, "diff3", 2),
    "joined, diff3 style": (JOINED, "diff3", 2),
}


def stopped(repo: GitRepo, case: str, *, driver: bool = False) -> str:
    """The case's merge, stopped by git (through the merge driver with `driver`), with nothing resolved:
    mergebert's threshold is above any confidence. Returns the merge's stderr."""
    repo.git("config", "mergebert.threshold", "2")
    if driver:
        repo.use_driver()
    (base, ours, theirs), style, blocks = CASES[case]
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, base, ours, theirs)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.read(NAME).count(b"<<<<<<<") == blocks
    return merge.stderr


def said(stderr: str) -> tuple[int, int]:
    """(resolved, conflicts) of the report line a front-end prints for the file."""
    found = re.search(rf"{NAME}: resolved (\d+) of (\d+) conflicts?", stderr)
    assert found, stderr
    return int(found.group(1)), int(found.group(2))


def table_row(stdout: str) -> tuple[int, int, int]:
    """(conflicts, resolved, left) of `resolve`'s table row for the file."""
    row = next(line for line in stdout.splitlines() if line.startswith(NAME))
    conflicts, resolved, left = row.split()[1:4]
    return int(conflicts), int(resolved), int(left)


@pytest.mark.parametrize("case", list(CASES))
def test_the_front_ends_count_the_blocks_the_file_holds(repo: GitRepo, case: str, tmp_path: Path) -> None:
    """The driver's line and `review`, `resolve`'s table and mergetool's line, on one stopped merge; and
    `merge-file`'s line and exit status on the same versions."""
    merge = stopped(repo, case, driver=True)
    blocks = CASES[case][2]
    review = repo.mergebert("review")
    resolve = repo.mergebert("resolve", "--dry-run")
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert said(merge) == (0, blocks), merge
    assert said(review.stdout) == (0, blocks), review.stdout
    assert review.stdout.count(": left:") == blocks, review.stdout
    assert table_row(resolve.stdout) == (blocks, 0, blocks), resolve.stdout
    assert resolve.returncode == 1
    assert said(tool.stderr) == (0, blocks), tool.stderr
    assert tool.returncode != 0
    (base, ours, theirs), _, _ = CASES[case]
    files = []
    for name, text in (("A.java", ours), ("base.java", base), ("other.java", theirs)):
        files.append(str(tmp_path / name))
        Path(files[-1]).write_text(text)
    merged = repo.mergebert("merge-file", "-p", *files)
    assert said(merged.stderr) == (0, blocks), merged.stderr
    assert merged.returncode == blocks


def test_a_file_resolve_cannot_write_counts_the_blocks_it_keeps(repo: GitRepo) -> None:
    """The file keeps git's conflict: the table counts the blocks git wrote (the one conflict it narrowed
    into two counts two), not the conflicts of mergebert's line merge."""
    repo.git("config", "mergebert.model", "none")
    repo.diverge(NAME, *NARROWED_IN_PART)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    before = repo.read(NAME)
    assert before.count(b"<<<<<<<") == 3
    (repo.path / NAME).chmod(0o444)
    result = repo.run(*without_root_privilege(), MERGEBERT, "resolve", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert repo.read(NAME) == before
    assert "cannot write" in result.stdout
    assert table_row(result.stdout) == (3, 0, 3), result.stdout


def without_lines(text: str, *deleted: str) -> str:
    """`text` without the first line starting with each of `deleted` (the first block's marker lines)."""
    for marker in deleted:
        at = text.index(marker)
        text = text[:at] + text[text.index("\n", at) + 1 :]
    return text


def half_edited(repo: GitRepo, *deleted: str, style: str = "merge") -> str:
    """A merge git stops on (in conflict `style`) with two conflicts mergebert resolves, the first one's
    `deleted` marker lines deleted by the user; then mergebert's install. Returns the file as the user
    left it with the second resolved."""
    repo.git("config", "merge.conflictStyle", style)
    edited = without_lines(stopped_merge(repo), *deleted)
    repo.write(PAIR, edited)
    repo.mergebert("install", check=True)
    start, end = edited.rindex("<<<<<<<"), edited.index("\n", edited.rindex(">>>>>>>")) + 1
    return edited[:start] + "    void g() { other(10, 20); }\n" + edited[end:]


# the first block's marker lines the user deleted, and the conflict style git wrote it in: what is left of
# it is one conflict (a lone `=======`, or a `|||||||` and `=======` pair)
HALF_EDITS = {
    "start": (("<<<<<<<",), "merge"),
    "end": ((">>>>>>>",), "merge"),
    "start and end": (("<<<<<<<", ">>>>>>>"), "merge"),
    "start and end, diff3 style": (("<<<<<<<", ">>>>>>>"), "diff3"),
}
UNPAIRED = "1 left: marker lines without their block (one deleted?)"


@pytest.mark.parametrize("edit", list(HALF_EDITS))
def test_a_block_missing_marker_lines_is_a_conflict_left_to_mergetool(repo: GitRepo, edit: str) -> None:
    """The user deleted marker lines of a conflict and mergebert resolved the other: the file still shows a
    conflict, so the tool fails, git keeps it unmerged, and the partial result survives."""
    deleted, style = HALF_EDITS[edit]
    partial = half_edited(repo, *deleted, style=style)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0, tool.stderr
    assert f"mergebert: {PAIR}: resolved 1 of 2 conflicts ({UNPAIRED})" in tool.stderr, tool.stderr
    assert repo.conflicted() == [PAIR]
    assert repo.read(PAIR).decode() == partial


@pytest.mark.parametrize("edit", list(HALF_EDITS))
def test_a_block_missing_marker_lines_is_a_conflict_left_to_resolve(repo: GitRepo, edit: str) -> None:
    """`resolve --add` writes the other conflict's resolution, counts the half-edited one as left and
    stages nothing."""
    deleted, style = HALF_EDITS[edit]
    partial = half_edited(repo, *deleted, style=style)
    result = repo.mergebert("resolve", "--add", "--no-backup")
    assert result.returncode == 1, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith(PAIR))
    assert row.split()[1:4] == ["2", "1", "1"], result.stdout
    assert UNPAIRED in row
    assert "not where mergebert finds git's conflicts" not in row
    assert repo.conflicted() == [PAIR]
    assert repo.read(PAIR).decode() == partial


def test_a_half_edited_block_before_another_counts_apart(repo: GitRepo) -> None:
    """The first block's `>>>>>>>` deleted, nothing resolved: two conflicts left, not one block running on to
    the second's end; mergetool, resolve and the reason say so alike."""
    repo.git("config", "mergebert.threshold", "2")
    edited = without_lines(stopped_merge(repo), ">>>>>>>")
    repo.write(PAIR, edited)
    repo.mergebert("install", check=True)
    resolve = repo.mergebert("resolve", "--dry-run")
    row = next(line for line in resolve.stdout.splitlines() if line.startswith(PAIR))
    assert row.split()[1:4] == ["2", "0", "2"], resolve.stdout
    assert "1 left: marker lines without their block (one deleted?)" in row
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0
    assert f"{PAIR}: resolved 0 of 2 conflicts (2 left: " in tool.stderr, tool.stderr
    assert "marker lines without their block (one deleted?)" in tool.stderr
    assert repo.read(PAIR).decode() == edited


NOTE = "    /* notes\n=======\n    */\n"  # a comment of the file's own, its heading underlined
EXTRA = "    int extra = 0;\n"


def noted(first: str, second: str, tail: str) -> str:
    """`pair`, then `tail` at the end of the class, far enough from the second call to conflict apart."""
    return pair(first, second).removesuffix("}\n") + FILLER + tail + "}\n"


@pytest.mark.parametrize("command", ["mergetool", "resolve"])
def test_a_sides_own_equals_line_is_no_conflict_left(repo: GitRepo, command: str) -> None:
    """Ours adds a comment holding a `=======` line where theirs adds a field: the user resolves that
    conflict by hand, keeping both, and mergebert the other two; the comment's line is the file's own, so
    mergetool succeeds and `resolve --add` stages the file."""
    base, ours = noted("call(1, 2);", "other(1, 2);", ""), noted("call(10, 2);", "other(10, 2);", NOTE)
    repo.diverge(PAIR, base, ours, noted("call(1, 20);", "other(1, 20);", EXTRA))
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    text = repo.read(PAIR).decode()
    start, end = text.rindex("<<<<<<<"), text.index("\n", text.rindex(">>>>>>>")) + 1
    assert "=======\n    */\n=======\n" in text[start:end], text
    repo.write(PAIR, text[:start] + NOTE + EXTRA + text[end:])
    repo.mergebert("install", check=True)
    if command == "mergetool":
        done = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
        assert f"{PAIR}: resolved 2 of 2 conflicts\n" in done.stderr, done.stderr
    else:
        done = repo.mergebert("resolve", "--add", "--no-backup")
        assert "staged" in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert repo.conflicted() == []
    assert repo.read(PAIR).decode() == noted("call(10, 20);", "other(10, 20);", NOTE + EXTRA)


def test_an_equals_line_of_gits_clean_text_is_no_conflict_left(repo: GitRepo) -> None:
    """A heading underlined with `=======` in every version: merge-file resolves the one conflict and
    counts none left (exit 0), where the line would otherwise read as a lone marker line."""
    heading = "/*\nNotes\n=======\n*/\n"
    for name, call in (
        ("cur.java", "call(10, 2);"),
        ("base.java", "call(1, 2);"),
        ("other.java", "call(1, 20);"),
    ):
        (repo.path / name).write_text(heading + pair(call, "other(1, 2);"))
    merged = repo.mergebert("merge-file", "-p", "cur.java", "base.java", "other.java")
    assert merged.returncode == 0, merged.stderr
    assert "resolved 1 of 1 conflict\n" in merged.stderr, merged.stderr
    assert merged.stdout == heading + pair("call(10, 20);", "other(1, 2);")


@pytest.mark.parametrize("deleted", [(">>>>>>>",), ("<<<<<<<", ">>>>>>>")])
def test_a_file_left_with_only_a_half_edited_block_is_said_to_be_one(
    repo: GitRepo, deleted: tuple[str, ...]
) -> None:
    """No whole block left, only a `<<<<<<<` line whose `>>>>>>>` the user deleted, or a lone `=======`:
    mergetool and resolve say so, where they said the file held no markers (resolved by hand?)."""
    edited = without_lines(stopped_merge(repo), *deleted)
    start, stop = edited.rindex("<<<<<<<"), edited.index("\n", edited.rindex(">>>>>>>")) + 1
    written = edited[:start] + "    void g() { other(10, 20); }\n" + edited[stop:]
    repo.write(PAIR, written)
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0, tool.stderr
    assert f"{PAIR}: marker lines without their block (one deleted?); left as it is" in tool.stderr, (
        tool.stderr
    )
    resolve = repo.mergebert("resolve", "--add")
    assert "marker lines without their block (one deleted?); left alone" in resolve.stdout, resolve.stdout
    assert resolve.returncode == 1
    assert repo.conflicted() == [PAIR]
    assert repo.read(PAIR).decode() == written


def test_a_side_ending_in_a_marker_like_line_without_a_final_newline_counts_once(repo: GitRepo) -> None:
    """Files without a final newline, theirs ending in a `>>>>>>>`-like line of its own: the conflict
    mergebert leaves there is one, as git counts it, never one more for that side's line."""
    head = "class A {\n  int x = {x};\n  int a;\n  int b;\n  int c;\n  int d;\n}\n"
    texts = (head.replace("{x}", "1 + 2") + "tail", head.replace("{x}", "10 + 2") + "p")
    texts += (head.replace("{x}", "1 + 20") + ">>>>>>> z",)
    for name, text in zip(("base.java", "cur.java", "other.java"), texts, strict=True):
        (repo.path / name).write_text(text)
    git = repo.git("merge-file", "-p", "cur.java", "base.java", "other.java", check=False)
    mine = repo.mergebert("merge-file", "-p", "--model", "none", "cur.java", "base.java", "other.java")
    assert "int x = 10 + 20;" in mine.stdout
    assert (mine.returncode, git.returncode) == (1, 2)  # git also counts the first conflict, resolved here
    assert "resolved 1 of 2 conflicts (1 left" in mine.stderr, mine.stderr
