"""The driver's decision log, `mergebert review`, `review --undo` and confirm mode, through real `git merge`,
`git rebase` and `git cherry-pick` with the driver `mergebert install` configures.

`--undo` must give back git's own conflict byte for byte: each test compares with the same operation run
by git alone.
"""

from __future__ import annotations

import gzip
import json
import os
import pty
import subprocess
from pathlib import Path

import pytest
from gitrepo import (
    MERGEBERT,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    java,
    paused_write,
    signalled_while_waiting,
    without_root_privilege,
    write_lock_held,
)

from mergebert.git import decisionlog
from mergebert.neural.policy import shipped_model_dir

NAME = "src/App.java"
PADDING = "".join(f"        step({i});\n" for i in range(8))


def body(first: str, second: str, third: str) -> str:
    """A Java class with three statements far enough apart for git to write three conflicts."""
    return (
        "public class App {\n"
        "    public static void main(String[] args) {\n"
        f"        {first}\n{PADDING}        {second}\n{PADDING}        {third}\n"
        "    }\n"
        "}\n"
    )


# conflicts 1 and 3 are token merges mergebert settles; conflict 2 changes one value both ways
BASE = body('a("x", 1, false);', "int port = 8080;", 'b("y", 2, false);')
OURS = body('a("X", 1, false);', "int port = 9090;", 'b("Y", 2, false);')
THEIRS = body('a("x", 1, true);', "int port = 7070;", 'b("y", 2, true);')


def log_of(repo: GitRepo) -> tuple[dict, list[dict]]:
    found = decisionlog.read(str(repo.path / ".git"))
    assert found is not None, "no decision log"
    return found


def git_alone(repo: GitRepo, *command: str) -> bytes:
    """The file as git alone leaves it after `command` (which must conflict); the operation is aborted."""
    assert repo.git(*command, check=False).returncode != 0
    left = repo.read(NAME)
    repo.git(command[0], "--abort")
    return left


def install(repo: GitRepo, *options: str) -> None:
    repo.mergebert("install", *options, check=True)


@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "in-process"])
def test_review_lists_exactly_the_drivers_decisions(repo: GitRepo, daemon: str) -> None:
    repo.env["MERGEBERT_DAEMON"] = daemon
    repo.diverge(NAME, BASE, OURS, THEIRS)
    install(repo)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    line = (
        "mergebert: src/App.java: resolved 2 of 3 conflicts (1 left: token conflict left; mergebert review)"
    )
    assert line in merge.stderr
    header, records = log_of(repo)
    assert header["kind"] == "merge" and header["name"] == "feature"
    assert header["commit"] == repo.git("rev-parse", "feature").stdout.strip()
    [record] = records
    details = record["conflicts_detail"]
    assert [d["text"] is not None for d in details] == [True, False, True]
    working = repo.read(NAME).decode()
    for detail in details[0], details[2]:
        assert (
            detail["text"] in working and detail["pattern"] == "token merge" and detail["confidence"] == 1.0
        )
    assert details[0]["text"] == '        a("X", 1, true);\n'
    review = repo.mergebert("review")
    assert review.returncode == 0, review.stderr
    out = review.stdout
    assert "mergebert review: merge of feature into " in out
    assert "src/App.java: resolved 2 of 3 conflicts\n" in out
    assert "  conflict 1 (line 3): resolved by token merge, confidence 1.00\n" in out
    assert "  conflict 2 (line 12): left: 1 token conflict left\n" in out
    assert "  conflict 3 (line 25): resolved by token merge, confidence 1.00\n" in out
    assert '    <<<<<<< HEAD\n              a("X", 1, false);\n' in out
    assert '    =======\n              a("x", 1, true);\n    >>>>>>> feature\n' in out
    assert '    chosen:\n              a("X", 1, true);\n' in out
    assert "\033[" not in out  # not a terminal: no colour
    assert out.count("resolved by") == 2


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3", "crlf"])
def test_undo_puts_gits_conflicts_back_byte_for_byte(repo: GitRepo, style: str) -> None:
    if style == "crlf":  # the working file has CRLF line endings, the recorded bytes LF
        repo.add_attributes("*.java text eol=crlf\n")
    else:
        repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, BASE, OURS, THEIRS)
    expected = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.read(NAME).count(b"<<<<<<<") == 1
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == expected
    assert "src/App.java: conflict 1 (line 3): git's conflict put back" in undo.stdout
    again = repo.mergebert("review", "--undo", NAME)
    assert "conflict 1: already git's conflict" in again.stdout
    assert repo.read(NAME) == expected


# three conflicts mergebert settles: 1 and 3 by merging both edits, 2 by taking theirs, line for line (its
# text is then found again inside the theirs side of git's conflict once that is put back)
SIDES = [body('a("x", 1, false);', "int x = f(1, 2);", 'b("y", 2, false);')]
SIDES += [body('a("X", 1, false);', "int x = f(10, 2);", 'b("Y", 2, false);')]
SIDES += [body('a("x", 1, true);', "int x = f(10, 20);", 'b("y", 2, true);')]
CHOSEN = "        int x = f(10, 20);\n"  # conflict 2's resolution
COPIES = {  # the same text elsewhere in the file, on every side
    "once": lambda text: text,
    "twice": lambda text: text.replace("    }\n}\n", f"{CHOSEN}    }}\n}}\n"),
}


@pytest.mark.parametrize("copies", COPIES)
@pytest.mark.parametrize("committed", [False, True], ids=["stopped", "committed"])
def test_undo_run_again_leaves_gits_conflicts_as_they_are(
    repo: GitRepo, committed: bool, copies: str
) -> None:
    repo.diverge(NAME, *map(COPIES[copies], SIDES))
    expected = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo, *(["--no-confirm"] if committed else []))
    assert (repo.git("merge", "--no-edit", "feature", check=False).returncode == 0) == committed
    assert b"<<<<<<<" not in repo.read(NAME) and b"int x = f(10, 20);" in repo.read(NAME)
    first = repo.mergebert("review", "--undo", NAME)
    assert first.returncode == 0, first.stdout + first.stderr
    assert repo.read(NAME) == expected
    assert first.stdout.count("git's conflict put back") == 3, first.stdout
    over = "src/App.java: the merge is over: git cannot hold it unmerged again; resolve it yourself, then "
    # one instruction: `git add` ends the conflict while the merge is stopped; after it, a commit must follow
    assert ("`git add src/App.java`" in first.stdout) and ((over in first.stdout) == committed), first.stdout
    assert first.stdout.count("resolve it") == 1, first.stdout
    index = stages(repo)
    for _ in range(2):  # the second and third runs
        again = repo.mergebert("review", "--undo", NAME)
        assert repo.read(NAME) == expected, again.stdout
        assert stages(repo) == index
        assert again.returncode == 0, again.stdout + again.stderr
        for number in 1, 2, 3:
            assert f"src/App.java: conflict {number}: already git's conflict\n" in again.stdout, again.stdout
        assert "put back" not in again.stdout and "resolve it" not in again.stdout, again.stdout


def test_undo_run_again_keeps_an_edit_made_inside_gits_conflict(repo: GitRepo) -> None:
    repo.diverge(NAME, *SIDES)
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.mergebert("review", "--undo", NAME).returncode == 0
    index = stages(repo)
    edited = repo.read(NAME).replace(b"int x = f(10, 2);", b"int x = f(10, 2); // mine")
    repo.write(NAME, edited)
    again = repo.mergebert("review", "--undo", NAME)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "src/App.java: conflict 2: edited since mergebert resolved it; left as it is\n" in again.stdout
    assert "conflict 1: already git's conflict" in again.stdout and "put back" not in again.stdout
    assert repo.read(NAME) == edited
    assert stages(repo) == index


def q_class(returned: str) -> str:
    return f"class Q {{\n  int f() {{\n    return {returned};\n  }}\n}}\n"


@pytest.mark.parametrize("marker", [b"<<<<<<< HEAD\n", b">>>>>>> feature\n"], ids=["start", "end"])
def test_undo_run_again_after_a_marker_of_gits_conflict_was_deleted_leaves_it(
    repo: GitRepo, marker: bytes
) -> None:
    """The resolution equals ours; after an undo the user deletes one marker line of git's conflict put back,
    so ours' lines now stand beside marker lines the driver never wrote there: a second undo takes them for
    an edit, not for the driver's resolution, and leaves the file as the user has it."""
    repo.diverge(NAME, q_class("f(a)"), q_class("g(b)"), q_class("g(a)"))
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.read(NAME) == q_class("g(b)").encode()
    assert repo.mergebert("review", "--undo", NAME).returncode == 0
    edited = repo.read(NAME).replace(marker, b"", 1)
    repo.write(NAME, edited)
    again = repo.mergebert("review", "--undo", NAME)
    assert again.returncode == 1 and f"{NAME}: conflict 1: edited since" in again.stdout, again.stdout
    assert repo.read(NAME) == edited


def four(*statements: str) -> str:
    """A Java class with four statements far enough apart for git to write four conflicts."""
    lines = PADDING.join(f"        {statement}\n" for statement in statements)
    return f"public class App {{\n    public static void main(String[] args) {{\n{lines}    }}\n}}\n"


# conflicts 1 and 4 are left, 2 and 3 settled by token merges between them
ABOUT = [four("int port = 8080;", 'a("x", 1, false);', 'b("y", 2, false);', "int size = 10;")]
ABOUT += [four("int port = 9090;", 'a("X", 1, false);', 'b("Y", 2, false);', "int size = 20;")]
ABOUT += [four("int port = 7070;", 'a("x", 1, true);', 'b("y", 2, true);', "int size = 30;")]
HALF_EDITS = {  # the user's resolution of conflict 1 in progress: its `<<<<<<<` no longer meets its end
    "end-deleted": (b">>>>>>> feature\n", b""),
    "ours-kept": (b"=======\n        int port = 7070;\n>>>>>>> feature\n", b""),
}


@pytest.mark.parametrize("edit", HALF_EDITS)
def test_undo_beside_a_half_edited_conflict_puts_the_resolutions_back(repo: GitRepo, edit: str) -> None:
    """The driver's untouched resolutions between a left conflict whose end the user removed and the next
    conflict's end are its own, not text inside a conflict: they are put back, the user's bytes kept."""
    repo.diverge(NAME, *ABOUT)
    gits = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.read(NAME).count(b"<<<<<<<") == 2 and b'a("X", 1, true);' in repo.read(NAME)
    old, new = HALF_EDITS[edit]
    repo.write(NAME, repo.read(NAME).replace(old, new, 1))
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == gits.replace(old, new, 1)
    gone = old.count(b"\n")  # the lines the user removed above them
    assert f"src/App.java: conflict 2 (line {16 - gone}): git's conflict put back\n" in undo.stdout
    assert f"src/App.java: conflict 3 (line {29 - gone}): git's conflict put back\n" in undo.stdout
    assert repo.conflicted() == [NAME]


def test_undo_after_a_committed_merge_keeps_the_users_edits_elsewhere(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    expected = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo, "--no-confirm")
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 0
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    repo.write(NAME, TOKEN_MERGED + "// the user's line\n")
    inside = repo.path / "src"  # a path as typed in a subfolder
    command = [MERGEBERT, "review", "--undo", "App.java"]
    undo = subprocess.run(command, cwd=inside, env=repo.env, capture_output=True, text=True, check=False)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == expected + b"// the user's line\n"
    assert "src/App.java: the merge is over: git cannot hold it unmerged again" in undo.stdout
    assert repo.conflicted() == []


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (["rebase", "main"], "rebase's pick"),
        (["cherry-pick", "feature~1"], "operation"),  # one commit: git's state shows only through HEAD
        (["cherry-pick", "main..feature"], "pick"),  # several: the sequencer's
    ],
)
def test_undo_after_a_finished_operation_says_it_is_over(
    repo: GitRepo, command: list[str], what: str
) -> None:
    repo.commit({NAME: TOKEN_BASE, NOTES: "base\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS}, "theirs")
    repo.commit({NOTES: "theirs\n"}, "notes")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: TOKEN_OURS}, "ours")
    if command[0] == "rebase":
        repo.git("checkout", "-q", "feature")
    expected = git_alone(repo, *command)
    install(repo, "--no-confirm")
    assert repo.git(*command, check=False).returncode == 0  # the driver settles it: git finishes
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == expected
    assert f"src/App.java: the {what} is over: git cannot hold it unmerged again" in undo.stdout
    assert repo.conflicted() == []


@pytest.mark.parametrize("folder", [".", "src/my dir"], ids=["top", "subfolder"])
def test_undo_suggests_a_git_add_that_works_where_the_user_is(repo: GitRepo, folder: str) -> None:
    """The `git add` that --undo suggests names the file from the user's folder, quoted for the shell: run as
    printed, there, it stages the file."""
    name = "src/my dir/App.java"
    repo.diverge(name, BASE, OURS, THEIRS)
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    here = repo.path / folder
    typed = os.path.relpath(repo.path / name, here)
    command = [MERGEBERT, "review", "--undo", typed]
    undo = subprocess.run(command, cwd=here, env=repo.env, capture_output=True, text=True, check=False)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    [line] = [line for line in undo.stdout.splitlines() if "git add" in line]
    suggested = line.partition("then `")[2].removesuffix("`")
    assert suggested == ("git add 'src/my dir/App.java'" if folder == "." else "git add App.java"), line
    added = subprocess.run(suggested, shell=True, cwd=here, env=repo.env, capture_output=True, check=False)
    assert added.returncode == 0, added.stderr
    assert repo.conflicted() == []


def test_undo_refuses_a_region_the_user_edited(repo: GitRepo) -> None:
    repo.diverge(NAME, BASE, OURS, THEIRS)
    expected = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    edited = repo.read(NAME).replace(b'a("X", 1, true);', b'a("X", 1, true, "mine");')
    repo.write(NAME, edited)
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 1
    assert "src/App.java: conflict 1: edited since mergebert resolved it; left as it is" in undo.stdout
    assert "src/App.java: conflict 3 (line " in undo.stdout
    text = repo.read(NAME)
    assert b'a("X", 1, true, "mine");' in text  # the user's edit is kept
    # conflict 3 is git's again: the file equals git's, but for the edited first region
    region = b'<<<<<<< HEAD\n        a("X", 1, false);\n=======\n        a("x", 1, true);\n>>>>>>> feature\n'
    assert region in expected
    assert text == expected.replace(region, b'        a("X", 1, true, "mine");\n')


# the token merge settles it with theirs, line for line: the line diff of the driver's result against git's
# finds git's conflict as two insertions, one on each side of the resolved line
ONE_SIDED = tuple(java(f"int x = f({args});", "        x = x + 1;\n") for args in ("1, 2", "10, 2", "10, 20"))


def block(text: bytes) -> tuple[int, int]:
    """Where the first conflict of `text` starts and ends (its last marker line included)."""
    start = text.index(b"<<<<<<<")
    return start, text.index(b"\n", text.index(b">>>>>>>", start)) + 1


@pytest.mark.parametrize("where", ["below", "above"])
def test_undo_puts_a_conflict_back_whole_beside_a_line_the_user_added(repo: GitRepo, where: str) -> None:
    repo.diverge(NAME, *ONE_SIDED)
    expected = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    resolved, mine = b"        int x = f(10, 20);\n", b"        int y = 5; // mine\n"
    assert repo.read(NAME) == ONE_SIDED[2].encode()
    repo.write(
        NAME, repo.read(NAME).replace(resolved, resolved + mine if where == "below" else mine + resolved)
    )
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout
    start, end = block(expected)
    at = end if where == "below" else start
    assert repo.read(NAME) == expected[:at] + mine + expected[at:]


NOTES = "notes.txt"  # a file git stops on, beside the one the driver settles


def stages(repo: GitRepo) -> str:
    """The index entries of NAME: `mode id stage\tpath` lines."""
    return repo.git("ls-files", "--stage", "--", NAME).stdout


def operation(command: str) -> list[str]:
    """The command for `command` (merge, squash, rebase or cherry-pick) of branch feature, from where it
    starts."""
    return {
        "merge": ["merge", "--no-edit", "feature"],
        "squash": ["merge", "--squash", "feature"],
        "rebase": ["rebase", "main"],
        "cherry-pick": ["cherry-pick", "feature"],
    }[command]


def abort(command: str) -> list[str]:
    """The command that aborts `command` (`git merge --abort` refuses a squash merge: no MERGE_HEAD)."""
    return ["reset", "-q", "--merge"] if command == "squash" else [command, "--abort"]


@pytest.mark.parametrize("command", ["merge", "squash", "rebase", "cherry-pick"])
def test_undo_makes_the_path_unmerged_again_as_git_left_it(repo: GitRepo, command: str) -> None:
    repo.commit({NAME: TOKEN_BASE, NOTES: "base\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS, NOTES: "theirs\n"}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: TOKEN_OURS, NOTES: "ours\n"}, "ours")
    if command == "rebase":
        repo.git("checkout", "-q", "feature")
    assert repo.git(*operation(command), check=False).returncode != 0  # git alone
    expected, expected_stages = repo.read(NAME), stages(repo)
    repo.git(*abort(command))
    install(repo, "--no-confirm")
    assert repo.git(*operation(command), check=False).returncode != 0
    assert repo.conflicted() == [NOTES] and repo.read(NAME) == TOKEN_MERGED.encode()
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout
    assert repo.read(NAME) == expected
    assert stages(repo) == expected_stages and " 1\t" in expected_stages
    assert "UU src/App.java" in repo.git("status", "--porcelain").stdout
    repo.write(NOTES, "resolved\n")
    repo.git("add", NOTES)
    assert repo.git("commit", "--no-edit", check=False).returncode != 0  # git refuses: App.java is unmerged


@pytest.mark.parametrize("command", ["merge", "squash"])
def test_undo_after_git_add_makes_the_path_unmerged_again(repo: GitRepo, command: str) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.git(*operation(command), check=False)
    expected, expected_stages = repo.read(NAME), stages(repo)
    repo.git(*abort(command))
    install(repo)
    repo.git(*operation(command), check=False)
    repo.git("add", NAME)  # confirmed, then undone
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0 and "is over" not in undo.stdout, undo.stdout
    assert repo.read(NAME) == expected
    assert stages(repo) == expected_stages
    assert repo.conflicted() == [NAME]


def test_undo_where_git_cannot_change_the_index_says_so_for_each_path(repo: GitRepo) -> None:
    other = "src/Other.java"
    install(repo)
    repo.stop_on(
        {NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), other: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)}
    )
    repo.git("add", NAME, other)  # confirmed, then undone
    lock = repo.path / ".git" / "index.lock"
    lock.write_text("")  # another git command is running
    undo = repo.mergebert("review", "--undo", NAME, other)
    assert undo.returncode == 1 and undo.stderr == "", undo.stderr
    for path in NAME, other:
        assert b"<<<<<<<" in repo.read(path)
        put_back = f"{path}: conflict 1 (line 3): git's conflict put back\n"
        refused = f"{path}: cannot make it unmerged again: fatal: Unable to create '{lock}': File exists.\n"
        assert put_back in undo.stdout and refused in undo.stdout, undo.stdout
        assert undo.stdout.index(put_back) < undo.stdout.index(refused)
    lock.unlink()
    again = repo.mergebert("review", "--undo", NAME, other)  # git's conflicts are there: only the index
    assert again.returncode == 0, again.stdout
    assert sorted(repo.conflicted()) == [NAME, other]


def test_review_and_undo_take_folders_and_refuse_paths_they_do_not_know(repo: GitRepo) -> None:
    repo.diverge(NAME, BASE, OURS, THEIRS)
    expected = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    by_driver = repo.read(NAME)
    for folder in "src", ".":
        listed = repo.mergebert("review", folder)
        assert listed.returncode == 0 and "src/App.java: resolved 2 of 3 conflicts" in listed.stdout
    elsewhere = str(repo.path.parent / "Elsewhere.java")
    for args in ["src/Other.java"], [elsewhere], ["--undo", "src/Other.java"], ["--undo", "src", elsewhere]:
        refused = repo.mergebert("review", *args)
        assert refused.returncode == 1 and refused.stdout == "", refused.stdout
        [line] = refused.stderr.splitlines()
        assert args[-1] in line
    assert repo.read(NAME) == by_driver  # nothing undone by a refused command
    undo = repo.mergebert("review", "--undo", "src")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == expected


def test_rebase_of_two_picks_is_one_operation_with_a_record_per_pick(repo: GitRepo) -> None:
    other = "src/Other.java"
    repo.commit({NAME: TOKEN_BASE, other: TOKEN_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    first = repo.commit({NAME: TOKEN_THEIRS}, "first pick")
    second = repo.commit({other: TOKEN_THEIRS}, "second pick")
    repo.git("checkout", "-q", "main")
    onto = repo.commit({NAME: TOKEN_OURS, other: TOKEN_OURS}, "ours")
    repo.git("checkout", "-q", "feature")
    install(repo, "--no-confirm")
    rebase = repo.git("rebase", "main", check=False)
    assert rebase.returncode == 0, rebase.stderr
    assert repo.read(NAME) == repo.read(other) == TOKEN_MERGED.encode()
    header, records = log_of(repo)
    assert header["kind"] == "rebase" and header["key"].startswith(f"rebase {second} {onto} ")
    assert [(r["path"], r["commit"]) for r in records] == [(NAME, first), (other, second)]
    assert records[0]["labels"][2] == f"{first[:7]} (first pick)"
    out = repo.mergebert("review").stdout
    assert f"mergebert review: rebase onto {onto[:7]}" in out
    assert f"src/App.java: resolved 1 of 1 conflict (applying {first[:7]} (first pick))" in out
    assert f"src/Other.java: resolved 1 of 1 conflict (applying {second[:7]} (second pick))" in out


def test_rebase_stopped_in_confirm_mode_keeps_one_log_across_picks(repo: GitRepo) -> None:
    other = "src/Other.java"
    repo.commit({NAME: TOKEN_BASE, other: TOKEN_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS}, "first pick")
    repo.commit({other: TOKEN_THEIRS}, "second pick")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: TOKEN_OURS, other: TOKEN_OURS}, "ours")
    repo.git("checkout", "-q", "feature")
    install(repo)
    assert repo.git("rebase", "main", check=False).returncode != 0  # stopped at the first pick
    assert repo.conflicted() == [NAME] and repo.read(NAME) == TOKEN_MERGED.encode()
    repo.git("add", NAME)
    assert repo.git("-c", "core.editor=true", "rebase", "--continue", check=False).returncode != 0
    assert repo.conflicted() == [other]
    _, records = log_of(repo)
    assert [r["path"] for r in records] == [NAME, other]


def test_cherry_pick_is_recorded_and_undone(repo: GitRepo) -> None:
    repo.diverge(NAME, BASE, OURS, THEIRS)
    expected = git_alone(repo, "cherry-pick", "feature")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)  # an earlier operation, then a new one
    repo.git("merge", "--abort")
    assert repo.git("cherry-pick", "feature", check=False).returncode != 0
    header, records = log_of(repo)
    assert header["kind"] == "head"  # a single cherry-pick shows git's state only through HEAD
    assert header["head"] == repo.git("rev-parse", "HEAD").stdout.strip()
    assert len(records) == 1 and records[0]["labels"][2].endswith(" (theirs)")
    assert repo.mergebert("review", "--undo", NAME).returncode == 0
    assert repo.read(NAME) == expected


def test_confirm_mode_is_the_default_and_stops_before_the_commit(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    install(repo)
    assert repo.git("config", "mergebert.confirm").stdout.strip() == "true"
    head = repo.git("rev-parse", "HEAD").stdout
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.git("rev-parse", "HEAD").stdout == head  # nothing committed
    assert repo.conflicted() == [NAME]
    assert repo.read(NAME) == TOKEN_MERGED.encode()  # mergebert's resolution, no markers
    assert "src/App.java: left unmerged for you to confirm: check it (mergebert review)" in merge.stderr
    repo.git("add", NAME)
    repo.git("commit", "--no-edit")
    assert repo.git("show", f"HEAD:{NAME}").stdout == TOKEN_MERGED


@pytest.mark.parametrize("how", ["install", "config", "-c"])
def test_confirm_off_commits_at_once(repo: GitRepo, how: str) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    install(repo, *(["--no-confirm"] if how == "install" else []))
    if how == "config":
        repo.git("config", "mergebert.confirm", "false")
    flags = ["-c", "mergebert.confirm=false"] if how == "-c" else []
    merge = repo.git(*flags, "merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert len(repo.git("rev-list", "--parents", "-n1", "HEAD").stdout.split()) == 3
    assert "confirm" not in merge.stderr


def test_confirm_mode_changes_nothing_where_mergebert_resolves_nothing(repo: GitRepo) -> None:
    base, ours, theirs = (body("int port = 8080;", x, "z();") for x in ("f(1);", "f(2);", "f(3);"))
    repo.diverge(NAME, base.replace("8080", "1"), ours.replace("8080", "2"), theirs.replace("8080", "3"))
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    repo.git("merge", "--abort")
    install(repo)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0 and repo.read(NAME) == without
    assert "confirm" not in merge.stderr
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0
    assert undo.stdout == "src/App.java: nothing to undo (mergebert resolved nothing)\n"


def test_a_log_that_cannot_be_written_changes_nothing(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    install(repo, "--no-confirm")
    (repo.path / ".git" / "mergebert").write_text("a file where the log's folder should be")
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert "src/App.java: cannot write the decision log" in merge.stderr


def test_the_log_never_grows_past_its_cap(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.commit({"a.txt": "a\n"})
    monkeypatch.chdir(repo.path)
    monkeypatch.setattr(decisionlog, "MAX_BYTES", 50_000)
    monkeypatch.setattr(decisionlog, "SLIM_ROOM", 5_000)
    detail = {"index": 0, "ours": "x" * 10_000, "base": "", "theirs": "", "text": "x", "pattern": "A"}
    record = {"path": "a.java", "conflicts": 1, "left": 0, "conflicts_detail": [detail]}
    environ = {"GITHEAD_" + "1" * 40: "feature"}
    paths = [decisionlog.append({**record, "path": f"{i}.java"}, environ) for i in range(100)]
    log = repo.path / ".git" / "mergebert" / "decisions.jsonl"
    assert log.stat().st_size <= 55_000
    assert paths[0] == str(log) and paths[-1] is None  # full: dropped
    _, records = decisionlog.read(str(repo.path / ".git"))
    assert any(r.get("slim") for r in records) and "ours" not in records[-1]["conflicts_detail"][0]
    decisionlog.append(record, {})  # another operation replaces the log
    header, records = decisionlog.read(str(repo.path / ".git"))
    assert header["kind"] == "head" and len(records) == 1


def _in_terminal(repo: GitRepo, env: dict[str, str]) -> bytes:
    """`mergebert review` with its stdout on a pseudo-terminal; what it printed."""
    main, child = pty.openpty()
    proc = subprocess.Popen([MERGEBERT, "review"], cwd=repo.path, env=env, stdout=child, stderr=child)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait()
    os.close(main)
    return out


def test_colour_only_in_a_terminal_and_never_with_no_color(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    env = {**repo.env, "TERM": "xterm"}
    assert b"\033[32mresolved\033[0m" in _in_terminal(repo, env)
    assert b"\033[" not in _in_terminal(repo, {**env, "NO_COLOR": "1"})


def test_review_without_a_log_says_so(repo: GitRepo) -> None:
    repo.commit({"a.txt": "a\n"})
    review = repo.mergebert("review")
    assert review.returncode == 1 and "no decisions recorded" in review.stderr


def test_undo_says_which_file_it_cannot_write_and_undoes_the_others(repo: GitRepo) -> None:
    other = "src/Other.java"
    install(repo)
    repo.stop_on(
        {NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), other: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)}
    )
    resolved = repo.read(NAME)
    (repo.path / NAME).chmod(0o444)
    undo = repo.run(*without_root_privilege(), MERGEBERT, "review", "--undo", NAME, other, check=False)
    assert undo.returncode == 1 and "Traceback" not in undo.stderr, undo.stderr
    assert f"{NAME}: cannot write it (Permission denied); nothing put back" in undo.stdout, undo.stdout
    assert repo.read(NAME) == resolved
    assert b"<<<<<<<" in repo.read(other)


def test_review_shows_a_line_holding_a_lone_carriage_return_as_one_line(repo: GitRepo) -> None:
    """git splits lines at "\\n" only; so does what review shows of the sides and of the choice."""
    install(repo)
    sides = (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.stop_on({NAME: tuple(text.replace("8080,", "8080,\r") for text in sides)})
    shown = repo.mergebert("review", check=True, text=False).stdout.decode().split("\n")  # "\r" kept
    assert any(line.endswith('new Server("0.0.0.0", 8080,\r true);') for line in shown), shown
    assert not any(line.strip() in ("false);", "true);") for line in shown), shown


def test_undo_leaves_a_file_saved_while_it_writes(repo: GitRepo) -> None:
    install(repo)
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    mine = b"class App { /* resolved by hand */ }\n"
    undo = paused_write(
        repo, NAME, ["review", "--undo", NAME], lambda _: (repo.path / NAME).write_bytes(mine)
    )
    assert repo.read(NAME) == mine
    assert f"{NAME}: changed while it was undone; left as it is" in undo.stdout, undo.stdout
    assert undo.returncode == 1


def test_undo_waits_for_a_resolve_writing_files(repo: GitRepo) -> None:
    """`review --undo` writes working files under the lock `resolve` and `mergetool` hold while they check
    and write theirs (`marked.one_writer`): held by another command, the undo waits for it."""
    install(repo)
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    resolved = repo.read(NAME)
    with write_lock_held(repo):
        undo = subprocess.Popen(
            [MERGEBERT, "review", "--undo", NAME], cwd=repo.path, env=repo.env, stdout=subprocess.PIPE
        )
        try:
            assert undo.wait(timeout=3) is None
        except subprocess.TimeoutExpired:  # still waiting for the lock, the file untouched
            assert repo.read(NAME) == resolved
    out, _ = undo.communicate(timeout=60)
    assert undo.returncode == 0, out
    assert b"<<<<<<<" in repo.read(NAME)


@pytest.mark.parametrize("number", [2, 15], ids=["SIGINT", "SIGTERM"])
def test_undo_waiting_for_another_writer_can_be_interrupted(repo: GitRepo, number: int) -> None:
    """^C (or a kill) while `review --undo` waits for the lock ends it as `resolve`: nothing written."""
    install(repo)
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    resolved = repo.read(NAME)
    status, first, said = signalled_while_waiting(repo, [MERGEBERT, "review", "--undo", NAME], number)
    assert "waiting for another mergebert" in first
    assert (status, said) == (130, "mergebert: interrupted: nothing written\n")
    assert repo.read(NAME) == resolved


def entries(review: str) -> list[str]:
    """The conflict entries `mergebert review` lists (their first lines)."""
    return [line for line in review.splitlines() if line.startswith("  conflict ")]


def block_lines(data: bytes) -> list[int]:
    """The line numbers (from 1) at which the file's conflict blocks start."""
    return [at + 1 for at, line in enumerate(data.split(b"\n")) if line.startswith(b"<<<<<<< ")]


def method(*statements: str) -> str:
    return "class A {\n    int f() {\n" + "".join(f"        {s}\n" for s in statements) + "    }\n}\n"


# two values both sides changed, a line apart: one block of git's, two conflicts of mergebert's
JOINED = [
    method("int t = 10;", "x();", "int r = 3;", "return 0;"),
    method("int t = 20;", "x();", "int r = 5;", "return 0;"),
    method("int t = 30;", "x();", "int r = 7;", "return 0;"),
]
# one region both sides changed, its middle alike on both: one conflict of mergebert's, two blocks of git's
SPLIT = [
    method("a(0);", "b();", "c(0);"),
    method("a(1);", *["m(1);"] * 4, "c(1);"),
    method("a(2);", *["m(1);"] * 4, "c(2);"),
]


@pytest.mark.parametrize("sides", [JOINED, SPLIT], ids=["git-joins", "git-splits"])
def test_review_lists_the_conflicts_the_file_holds_where_nothing_was_resolved(
    repo: GitRepo, sides: list[str]
) -> None:
    repo.diverge("A.java", *sides)
    install(repo)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    starts = block_lines(repo.read("A.java"))
    count = len(starts)
    plural = "s" if count != 1 else ""
    assert f"A.java: resolved 0 of {count} conflict{plural} (" in merge.stderr
    out = repo.mergebert("review").stdout
    assert f"A.java: resolved 0 of {count} conflict{plural}\n" in out
    listed = entries(out)
    assert [entry.split(":")[0] for entry in listed] == [
        f"  conflict {n} (line {line})" for n, line in enumerate(starts, 1)
    ], out
    assert all(" token conflict" in entry.partition(": left: ")[2] for entry in listed), out


def test_undo_names_a_conflict_git_placed_otherwise_by_its_number(repo: GitRepo) -> None:
    # conflict 1 is a token merge mergebert settles; below it two values it leaves and, between them, a call
    # it settles, each a line apart: git writes the three as one block, mergebert its two values as two
    # blocks around its resolution; --undo puts git's block back in place of all three
    sides = [
        body(
            first,
            f"int t = {t};\n        x();\n        g({call});\n        y();\n        int r = {r};",
            "z();",
        )
        for first, t, call, r in (
            ('a("x", 1, false);', 10, "1, 2", 3),
            ('a("X", 1, false);', 20, "10, 2", 5),
            ('a("x", 1, true);', 30, "1, 20", 7),
        )
    ]
    repo.diverge(NAME, *sides)
    expected = git_alone(repo, "merge", "--no-edit", "feature")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.read(NAME).count(b"<<<<<<<") == 2 and b"g(10, 20);" in repo.read(NAME)
    out = repo.mergebert("review").stdout
    assert "src/App.java: resolved 2 of 4 conflicts\n" in out
    assert [entry.split(":")[0] for entry in entries(out)] == [
        "  conflict 1 (line 3)",
        "  conflict 2 (line 12)",
        "  conflict 3 (line 18)",
        "  conflict 4 (line 20)",
    ], out
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert repo.read(NAME) == expected
    first, second = block_lines(expected)
    assert undo.stdout.splitlines()[:2] == [
        f"src/App.java: conflict 1 (line {first}): git's conflict put back",
        f"src/App.java: conflicts 2, 3, 4 (line {second}): git's conflict put back",
    ], undo.stdout
    again = repo.mergebert("review", "--undo", NAME)
    assert repo.read(NAME) == expected, again.stdout
    assert again.stdout.splitlines() == [
        "src/App.java: conflict 1: already git's conflict",
        "src/App.java: conflicts 2, 3, 4: already git's conflict",
    ], again.stdout


def test_review_counts_a_conflict_left_as_two_blocks_twice(repo: GitRepo) -> None:
    # conflict 1 is a token merge mergebert settles; the second, whose middle lines both sides wrote alike,
    # it leaves, written as git writes it: two blocks
    sides = [
        body(first, middle, "z();")
        for first, middle in (
            ('a("x", 1, false);', "a(0);\n        b();\n        c(0);"),
            ('a("X", 1, false);', "a(1);\n" + "        m(1);\n" * 4 + "        c(1);"),
            ('a("x", 1, true);', "a(2);\n" + "        m(1);\n" * 4 + "        c(2);"),
        )
    ]
    repo.diverge(NAME, *sides)
    install(repo)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    starts = block_lines(repo.read(NAME))
    assert len(starts) == 2
    assert "src/App.java: resolved 1 of 3 conflicts (" in merge.stderr
    out = repo.mergebert("review").stdout
    assert "src/App.java: resolved 1 of 3 conflicts\n" in out
    assert [entry.split(":")[0] for entry in entries(out)] == [
        "  conflict 1 (line 3)",
        *(f"  conflict {n} (line {line})" for n, line in enumerate(starts, 2)),
    ], out


SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SHIPPED = Path(shipped_model_dir())


def real_record(split: str, number: int) -> dict:
    """Record `number` (from 0) of the shared data set's `split` (train, train2)."""
    with gzip.open(SHARED / f"{split}.scenarios.jsonl.gz", "rt", encoding="utf-8") as lines:
        for at, line in enumerate(lines):
            if at == number:
                return json.loads(line)
    raise AssertionError(f"{split}:{number} is not in the data set")


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared data set (../shared/data) is not present")
@pytest.mark.skipif(not (SHIPPED / "model.onnx").exists(), reason="no model shipped")
def test_a_left_conflict_placed_over_lines_git_merges_cleanly_gives_gits_merge(repo: GitRepo) -> None:
    # train:2858: mergebert settles conflict 1 and leaves conflict 2, whose block starts 6 lines above git's
    # (placed by ort's diff), over lines git's merge leaves clean: the file gets git's merge instead
    # (`frontend.keeps_clean_lines`), which `review` says, and `review --undo` has nothing to put back
    repo.env["MERGEBERT_MODEL"] = str(SHIPPED)  # the decisions QA saw: the shipped model's
    record = real_record("train", 2858)
    name = record["path"]
    repo.diverge(name, record["base"], record["ours"], record["theirs"])
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    expected = repo.read(name)
    index = repo.git("ls-files", "--stage", "--", name).stdout
    repo.git("merge", "--abort")
    install(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    assert repo.read(name) == expected
    assert repo.git("ls-files", "--stage", "--", name).stdout == index
    out = repo.mergebert("review").stdout
    assert f"{name}: a resolution would change lines git merged cleanly; kept git's line merge" in out, out
    undo = repo.mergebert("review", "--undo", name)
    assert (repo.read(name), repo.git("ls-files", "--stage", "--", name).stdout) == (expected, index)
    assert undo.returncode == 0, undo.stdout + undo.stderr
