"""`mergebert resolve -i` against the state git and the merge driver leave: which of the driver's resolutions
`--all` reopens (only the operation's own, for the commit being applied, each conflict whole), and what an
interrupted session writes (nothing). Real merges and rebases with the driver `mergebert install`
configures, on the token merge (no model), so which conflicts the driver settles is fixed.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, MERGEBERT, GitRepo, java

NAME = "src/App.java"
PADDING = "".join(f"        step({i});\n" for i in range(8))


def body(first: str, second: str, third: str) -> str:
    """A Java class with three statements far enough apart for git to write three conflicts."""
    return java(f"{first}\n{PADDING}        {second}\n{PADDING}        {third}")


# conflicts 1 and 3 are token merges the driver settles; conflict 2 changes one value both ways
BASE = body('a("x", 1, false);', "int port = 8080;", 'b("y", 2, false);')
OURS = body('a("X", 1, false);', "int port = 9090;", 'b("Y", 2, false);')
TOKENS = body('a("x", 1, true);', "int port = 8080;", 'b("y", 2, true);')  # theirs, 1 and 3 only
CLASH = body('a("x", 1, false);', "int port = 7070;", 'b("y", 2, false);')  # theirs, 2 only
THEIRS = body('a("x", 1, true);', "int port = 7070;", 'b("y", 2, true);')  # theirs, all three


def answers(count: int, key: str = "s") -> str:
    return f"{key}\n" * count


def assert_all_asks_only_about_the_conflict_left(repo: GitRepo) -> None:
    """`resolve -i --all`, every answer "skip": one question, about the one conflict git left, and the
    file as it was."""
    before = repo.read(NAME)
    assert before.count(b"<<<<<<<") == 1 and b'a("X", 1, true);' in before
    result = repo.mergebert("resolve", "-i", "--all", "--no-backup", input=answers(3))
    assert repo.read(NAME) == before, result.stdout
    assert "(1/1) Resolve this conflict" in result.stdout
    assert "the merge driver resolved it" not in result.stdout


def test_all_in_a_rebase_reopens_nothing_of_an_earlier_pick(repo: GitRepo) -> None:
    repo.commit({NAME: BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKENS}, "first pick")
    repo.commit({NAME: TOKENS.replace("8080", "7070")}, "second pick")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: OURS}, "ours")
    repo.git("checkout", "-q", "feature")
    repo.mergebert("install", check=True)
    assert repo.git("rebase", "main", check=False).returncode != 0  # confirm mode: stopped at pick 1
    assert b"<<<<<<<" not in repo.read(NAME)
    repo.git("add", NAME)
    assert repo.git("rebase", "--continue", check=False).returncode != 0  # pick 2: conflict 2, left
    assert_all_asks_only_about_the_conflict_left(repo)


def test_all_reopens_nothing_of_an_earlier_merge(repo: GitRepo) -> None:
    repo.diverge(NAME, BASE, OURS, TOKENS)
    repo.git("branch", "other", "main~1")
    repo.mergebert("install", check=True)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.git("add", NAME)
    repo.git("commit", "-q", "--no-edit")  # merge 1: the driver's resolutions, confirmed and committed
    repo.git("checkout", "-q", "other")
    repo.commit({NAME: CLASH}, "clash")
    repo.git("checkout", "-q", "main")
    repo.mergebert("uninstall", check=True)  # merge 2 without the driver: the log is merge 1's
    assert repo.git("merge", "--no-edit", "other", check=False).returncode != 0
    assert_all_asks_only_about_the_conflict_left(repo)


@pytest.mark.parametrize("merge", ["--no-edit", "--squash"])
def test_all_reopens_the_drivers_resolutions_of_the_merge_in_progress(repo: GitRepo, merge: str) -> None:
    repo.diverge(NAME, BASE, OURS, THEIRS)
    repo.mergebert("install", check=True)
    assert repo.git("merge", merge, "feature", check=False).returncode != 0
    before = repo.read(NAME)
    assert before.count(b"<<<<<<<") == 1 and b'a("X", 1, true);' in before
    result = repo.mergebert("resolve", "-i", "--all", "--no-backup", input=answers(3))
    assert repo.read(NAME) == before, result.stdout
    assert "(3/3) Resolve this conflict" in result.stdout
    assert result.stdout.count("the merge driver resolved it") == 2


# the token merge settles it with theirs, line for line: git's conflict lies around the resolved line
ONE_SIDED = tuple(java(f"int x = f({args});", "        x = x + 1;\n") for args in ("1, 2", "10, 2", "10, 20"))
RESOLVED, MINE = "        int x = f(10, 20);\n", "        int y = 5; // mine\n"


def test_all_asks_about_a_conflict_whole_beside_a_line_the_user_added(repo: GitRepo) -> None:
    repo.mergebert("install", check=True)
    repo.stop_on({NAME: ONE_SIDED})
    assert repo.read(NAME).decode() == ONE_SIDED[2]
    edited = ONE_SIDED[2].replace(RESOLVED, RESOLVED + MINE)
    repo.write(NAME, edited)
    kept = repo.mergebert("resolve", "-i", "--all", input=answers(2))
    assert repo.read(NAME).decode() == edited, kept.stdout
    assert not (repo.path / (NAME + ".orig")).exists()
    assert "(1/1) Resolve this conflict" in kept.stdout
    ours = repo.mergebert("resolve", "-i", "--all", "--no-backup", input=answers(1, "o"))
    assert ours.returncode == 0, ours.stdout
    assert repo.read(NAME).decode() == edited.replace(RESOLVED, "        int x = f(10, 2);\n")


# git's merge (ort: histogram diff) writes one conflict where mergebert's line merge (Myers) finds two, the
# first of which the token merge settles
PLACED_OTHERWISE = (
    "x = 1;\na(1, 2);\n{\n\n\nreturn;\n{\nc(1, 2);\na(1, 2);\n",
    "x = 4;\nc(1, 2);\na(1, 2);\n{\n\n\n{\nc(1, 2);\n",
    "x = 1;\na(4, 2);\n\n{\n\n\nreturn;\n{\nc(1, 2);\na(8, 2);\n",
)


def test_all_leaves_the_file_as_it_is_where_gits_conflict_is_placed_otherwise(repo: GitRepo) -> None:
    repo.mergebert("install", check=True)
    repo.stop_on({NAME: PLACED_OTHERWISE})
    before = repo.read(NAME)
    assert b"a(4, 2);" in before and before.count(b"<<<<<<<") == 1, "the driver settled conflict 1"
    result = repo.mergebert("resolve", "-i", "--all", input=answers(4))
    assert repo.read(NAME) == before, result.stdout
    assert not (repo.path / (NAME + ".orig")).exists()
    assert "placed otherwise" in result.stdout


def read_until(proc: subprocess.Popen[bytes], wanted: bytes, count: int) -> bytes:
    """What `proc` prints until `wanted` has appeared `count` times."""
    assert proc.stdout is not None
    shown = b""
    while shown.count(wanted) < count:
        ready, _, _ = select.select([proc.stdout], [], [], 120)  # a bound on waiting, not a measurement
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        assert chunk, f"no more output; so far:\n{shown.decode(errors='replace')}"
        shown += chunk
    return shown


OTHER = "src/Other.java"


@contextmanager
def at_the_second_file(repo: GitRepo) -> Iterator[subprocess.Popen[bytes]]:
    """`resolve -i` over two conflicted files, the first answered (theirs), at the second's question."""
    clash = (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.stop_on({NAME: clash, OTHER: clash})
    command = [MERGEBERT, "resolve", "-i"]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, cwd=repo.path, env=repo.env, **pipes) as proc:
        assert proc.stdin is not None
        proc.stdin.write(b"t\n")
        proc.stdin.flush()
        read_until(proc, b"Resolve this conflict", 2)
        yield proc


def test_ctrl_c_at_a_prompt_aborts_without_writing_anything(repo: GitRepo) -> None:
    with at_the_second_file(repo) as proc:
        before = repo.read(NAME), repo.read(OTHER)
        assert proc.stderr is not None
        proc.send_signal(signal.SIGINT)
        assert proc.wait(120) == 130
        said = proc.stderr.read().decode()
    assert (repo.read(NAME), repo.read(OTHER)) == before
    assert not (repo.path / (NAME + ".orig")).exists()
    assert said == "mergebert: interrupted: nothing written\n"


def test_a_file_edited_while_later_questions_are_answered_is_left_alone(repo: GitRepo) -> None:
    by_hand = CLASH_OURS.replace("9090", "1234")
    with at_the_second_file(repo) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        repo.write(NAME, by_hand)  # meanwhile the user resolves the first file by hand
        proc.stdin.write(b"t\n")
        proc.stdin.close()
        table = proc.stdout.read().decode()
        assert proc.wait(120) == 1
    assert repo.read(NAME) == by_hand.encode()
    assert not (repo.path / (NAME + ".orig")).exists()
    assert repo.read(OTHER) == CLASH_THEIRS.encode()
    [row] = [line for line in table.splitlines() if line.startswith(NAME)]
    assert row.endswith("changed since it was read; left alone"), table


# an editor in which the user presses Ctrl-C, which the terminal sends to the whole foreground process group:
# one that handles it (vim cancels a command) carries on, and the answer is saved; one that does not dies
EDITORS = {
    "handled": "#!/bin/sh\ntrap '' INT\nkill -INT 0\nprintf '        int port = 1;\\n' > \"$1\"\n",
    "fatal": "#!/bin/sh\nkill -INT 0\nprintf '        int port = 1;\\n' > \"$1\"\n",
}


@pytest.mark.parametrize("editor", EDITORS)
def test_ctrl_c_in_the_editor_is_the_editors_as_in_git(repo: GitRepo, tmp_path: Path, editor: str) -> None:
    repo.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    before = repo.read(NAME)
    script = tmp_path / "editor"
    script.write_text(EDITORS[editor])
    script.chmod(0o755)
    env = {**repo.env, "GIT_EDITOR": str(script)}
    command = [MERGEBERT, "resolve", "-i"]
    # a session of its own: the editor's Ctrl-C reaches mergebert and its editor only
    run = subprocess.run(
        command,
        cwd=repo.path,
        env=env,
        input=b"e\n",
        capture_output=True,
        start_new_session=True,
        timeout=120,
    )
    if editor == "handled":
        assert run.returncode == 0, run.stderr
        assert repo.read(NAME) == CLASH_OURS.replace("9090", "1").encode()
    else:  # as git: the editor ended by Ctrl-C ends the command
        assert run.returncode == 130 and run.stderr == b"mergebert: interrupted: nothing written\n"
        assert repo.read(NAME) == before and not (repo.path / (NAME + ".orig")).exists()


def test_ctrl_c_while_the_answered_files_are_staged_leaves_every_file_written(repo: GitRepo) -> None:
    """The Ctrl-C comes during --add's git add, after the writes (ignoring it during the writes themselves
    is not tested: nothing can stop a write loop at a given file without timing it)."""
    clash = (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.stop_on({NAME: clash, OTHER: clash})
    # staging the files presses Ctrl-C: the terminal sends it to the whole foreground process group
    repo.git("config", "filter.ctrl-c.clean", "kill -INT 0; cat")
    repo.add_attributes(f"{NAME} filter=ctrl-c\n")
    command = [MERGEBERT, "resolve", "-i", "--add"]
    # a session of its own: the Ctrl-C reaches mergebert and its git only
    run = subprocess.run(
        command, cwd=repo.path, env=repo.env, input=b"t\nt\n", capture_output=True, start_new_session=True
    )
    repo.git("config", "--unset", "filter.ctrl-c.clean")  # git's next reading of the file is the test's
    assert run.returncode == 130
    assert (
        run.stderr
        == b"mergebert: interrupted while staging: every file is written; git status shows what is staged\n"
    )
    assert repo.read(NAME) == repo.read(OTHER) == CLASH_THEIRS.encode()
    assert repo.read(NAME + ".orig") == repo.read(OTHER + ".orig")
    assert sorted(repo.conflicted()) == [NAME, OTHER]  # git add stopped: its index is as it was


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the signals ignored from /proc")
def test_the_editor_can_be_killed_and_hung_up_as_any_program(repo: GitRepo, tmp_path: Path) -> None:
    """mergebert holds ^C, kills and hang-ups off while it waits for the editor; the editor does not."""
    repo.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    ignored = tmp_path / "ignored"
    script = tmp_path / "editor"
    script.write_text(
        f"#!/bin/sh\ngrep SigIgn /proc/$$/status > {ignored}\nprintf '        int port = 1;\\n' > \"$1\"\n"
    )
    script.chmod(0o755)
    repo.env["GIT_EDITOR"] = str(script)
    run = repo.mergebert("resolve", "-i", input="e\n")
    assert run.returncode == 0, run.stderr
    mask = int(ignored.read_text().split()[1], 16)
    assert not mask & (1 << (signal.SIGINT - 1) | 1 << (signal.SIGTERM - 1) | 1 << (signal.SIGHUP - 1))


# the first edit leaves one marker line (the `<<<<<<<` line gone), the second resolves the conflict
LEFT_MARKER = """#!/bin/sh
if [ -e "{seen}" ]; then printf '        int port = 1;\\n' > "$1"; exit; fi
: > "{seen}"
grep -v -e '^<<<<<<< ' -e '^{drop}' "$1" > "$1.new" && mv "$1.new" "$1"
"""


@pytest.mark.parametrize("left", ["=======", ">>>>>>> feature"])
def test_an_edit_that_leaves_any_marker_line_is_asked_again(repo: GitRepo, tmp_path: Path, left: str) -> None:
    repo.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    assert f"\n{left}\n" in repo.read(NAME).decode()
    drop = ">>>>>>> " if left == "=======" else "======="
    script = tmp_path / "editor"
    script.write_text(LEFT_MARKER.format(seen=tmp_path / "seen", drop=drop))
    script.chmod(0o755)
    repo.env["GIT_EDITOR"] = str(script)
    result = repo.mergebert("resolve", "-i", "--add", input="e\ne\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"the edited conflict still holds conflict markers ({left}); answer s to leave it" in result.stdout
    assert result.stdout.count("Resolve this conflict") == 2
    assert repo.read(NAME) == CLASH_OURS.replace("9090", "1").encode()
    assert repo.conflicted() == []


def test_an_edit_keeping_a_sides_own_marker_like_line_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line a side itself holds (a heading underlined with seven `=`) is the side's, not a marker left."""
    from mergebert.core.linemerge import LineConflict
    from mergebert.core.options import MergeOptions
    from mergebert.git.interactive import Asker, Question, Terminal

    editor = tmp_path / "editor"
    editor.write_text("#!/bin/sh\nprintf 'Install\\n=======\\n\\nRun make.\\n' > \"$1\"\n")
    editor.chmod(0o755)
    conflict = LineConflict("Setup\n=====\n", "Usage\n", "Install\n=======\n")
    marked = "<<<<<<< ours\nSetup\n=====\n=======\nInstall\n=======\n>>>>>>> theirs\n"
    question = Question("README.rst", 1, 1, conflict, None, marked, MergeOptions())  # type: ignore[arg-type]
    monkeypatch.setenv("GIT_EDITOR", str(editor))
    edited = Asker(Terminal(colour=False), cwd=str(tmp_path)).edit(question)
    assert edited == "Install\n=======\n\nRun make.\n"
