"""`git mergetool --tool mergebert --no-prompt` with the config `mergebert install` writes."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
from pathlib import Path

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    MERGEBERT,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
)
from test_interactive import converse
from test_interactive_state import read_until
from test_merge_file import NARROWED
from test_resolve_marked import BETWEEN, block, joined_in_part, pair

PAIR = "src/Pair.java"
PAIR_OURS = pair("call(10, 2);", "int port = 9090;")
PAIR_THEIRS = pair("call(1, 20);", "int port = 7070;")

NAME = "src/App.java"


def conflicted_merge(repo: GitRepo, base: str, ours: str, theirs: str) -> bytes:
    """A merge git alone stops on; then mergebert's mergetool config. Returns git's conflicted file."""
    repo.diverge(NAME, base, ours, theirs)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.mergebert("install", check=True)
    return repo.read(NAME)


def test_mergetool_resolves_and_git_marks_it_resolved(repo: GitRepo) -> None:
    conflicted_merge(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert repo.conflicted() == []
    assert repo.git("diff", "--cached", "--name-only").stdout.split() == [NAME]
    repo.git("commit", "-q", "--no-edit")
    assert repo.git("show", f"HEAD:{NAME}").stdout == TOKEN_MERGED


def test_mergetool_fails_when_conflicts_are_left(repo: GitRepo) -> None:
    before = conflicted_merge(repo, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0
    assert repo.conflicted() == [NAME]
    assert repo.read(NAME) == before


def mixed_merge(repo: GitRepo) -> str:
    """Two conflicts in one file, the first token-resolvable, the second not; git stops on both."""
    repo.diverge(PAIR, pair("call(1, 2);", "int port = 8080;"), PAIR_OURS, PAIR_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.mergebert("install", check=True)
    text = repo.read(PAIR).decode()
    assert text.count("<<<<<<<") == 2
    return text


def partial(text: str) -> str:
    """`text` with its first conflict replaced by the token merge."""
    start, end = block(text)
    return text[:start] + "    void f() { call(10, 20); }\n" + text[end:]


@pytest.mark.parametrize("trust", ["true", "false"])
def test_partial_resolution_survives_and_the_file_stays_conflicted(repo: GitRepo, trust: str) -> None:
    text = mixed_merge(repo)
    repo.git("config", "mergetool.mergebert.trustExitCode", trust)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False, input="")
    assert tool.returncode != 0
    assert repo.read(PAIR).decode() == partial(text)
    assert repo.conflicted() == [PAIR]
    assert f"mergebert: {PAIR}: resolved 1 of 2 conflicts (1 left: token conflict left)" in tool.stderr


def test_a_hand_resolution_in_the_working_file_is_kept(repo: GitRepo) -> None:
    text = mixed_merge(repo)
    start, end = block(text)
    second_start, second_end = block(text[end:])
    by_hand = text[: end + second_start] + "    void g() { int port = 1; }\n" + text[end + second_end :]
    repo.write(PAIR, by_hand)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(PAIR).decode() == partial(by_hand)
    assert repo.conflicted() == []


@pytest.mark.parametrize("merge", ["--no-edit", "--squash"])
def test_a_file_the_driver_resolved_in_confirm_mode_is_named_so(repo: GitRepo, merge: str) -> None:
    """In confirm mode the driver leaves a file it resolved unmerged: the tool says so, and leaves it."""
    repo.mergebert("install", check=True)  # the driver, in confirm mode (the default)
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git("merge", merge, "feature", check=False).returncode != 0
    assert repo.read(NAME) == TOKEN_MERGED.encode() and repo.conflicted() == [NAME]
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0
    assert (
        f"mergebert: {NAME}: the merge driver resolved it; check it (mergebert review), then git add it"
        in (tool.stderr)
    )
    assert "resolved by hand" not in tool.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode() and repo.conflicted() == [NAME]
    repo.write(NAME, TOKEN_MERGED.replace("true", "false"))  # the resolution edited: no longer the driver's
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert "no conflict markers in it (resolved by hand?)" in tool.stderr


def test_interactive_leaves_a_file_edited_while_it_asks_alone(repo: GitRepo, tmp_path: Path) -> None:
    repo.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    versions = []
    for stage, name in ((1, "BASE"), (2, "LOCAL"), (3, "REMOTE")):
        versions.append(tmp_path / name)
        versions[-1].write_bytes(repo.git("show", f":{stage}:{NAME}", text=False).stdout)
    by_hand = CLASH_OURS.replace("9090", "1234")
    command = [MERGEBERT, "mergetool", "--interactive", *map(str, versions), NAME]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, cwd=repo.path, env=repo.env, **pipes) as proc:
        assert proc.stdin is not None and proc.stderr is not None
        read_until(proc, b"Resolve this conflict", 1)
        repo.write(NAME, by_hand)  # meanwhile the user resolves it by hand
        proc.stdin.write(b"t\n")
        proc.stdin.close()
        assert proc.wait(120) == 1
        said = proc.stderr.read().decode()
    assert repo.read(NAME) == by_hand.encode()
    assert said == (
        f"mergebert: {NAME}: changed since it was read; left alone\n"
        f"mergebert: {NAME}: git-mergetool's backup not found; git will restore the file as it was\n"
    )


@pytest.mark.parametrize("answer", ["t", "s"])
def test_git_mergetool_keeps_a_file_edited_while_it_asks(repo: GitRepo, answer: str) -> None:
    """git restores the file from its backup after the failed tool: the edit is in the backup too."""
    repo.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    repo.mergebert("install", check=True)
    by_hand = repo.read(NAME) + b"// saved in another window while the question waited\n"
    command = ["git", "mergetool", "--tool", "mergebert-i", "--no-prompt"]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    with subprocess.Popen(command, cwd=repo.path, env=repo.env, **pipes) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        read_until(proc, b"Resolve this conflict", 1)
        repo.write(NAME, by_hand)
        proc.stdin.write(f"{answer}\n".encode())
        proc.stdin.close()
        assert proc.wait(120) != 0
        said = proc.stdout.read().decode()
    assert f"mergebert: {NAME}: changed since it was read; left alone" in said
    assert repo.read(NAME) == by_hand
    assert repo.conflicted() == [NAME]


def test_ctrl_c_at_a_question_writes_nothing(repo: GitRepo, tmp_path: Path) -> None:
    repo.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    before = repo.read(NAME)
    versions = []
    for stage, name in ((1, "BASE"), (2, "LOCAL"), (3, "REMOTE")):
        versions.append(tmp_path / name)
        versions[-1].write_bytes(repo.git("show", f":{stage}:{NAME}", text=False).stdout)
    command = [MERGEBERT, "mergetool", "--interactive", *map(str, versions), NAME]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, cwd=repo.path, env=repo.env, **pipes) as proc:
        assert proc.stderr is not None
        read_until(proc, b"Resolve this conflict", 1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(120) == 130
        said = proc.stderr.read().decode()
    assert said == "mergebert: interrupted: nothing written\n"
    assert repo.read(NAME) == before


def test_ctrl_c_in_git_mergetool_leaves_the_file_as_git_left_it(repo: GitRepo) -> None:
    repo.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    repo.mergebert("install", check=True)
    before = repo.read(NAME)
    pid, terminal = pty.fork()  # a terminal of its own: Ctrl-C there reaches git, git-mergetool and mergebert
    if pid == 0:
        try:
            os.chdir(repo.path)
            os.execvpe("git", ["git", "mergetool", "--tool", "mergebert-i", "--no-prompt"], repo.env)
        finally:
            os._exit(127)  # never back into pytest
    shown = converse(terminal, b"\x03")  # Ctrl-C once it asks
    os.close(terminal)
    assert os.waitpid(pid, 0)[1] != 0
    assert b"mergebert: interrupted: nothing written" in shown, shown.decode(errors="replace")
    assert repo.read(NAME) == before and repo.conflicted() == [NAME]


def test_mergetool_with_git_dir_set_finds_the_file_where_git_has_it(repo: GitRepo) -> None:
    """With $GIT_DIR set, git's work tree is the folder git runs in, not the folder of the file merged: a
    file in src/ keeps its path, and so its attributes (here its marker size)."""
    repo.commit({".gitattributes": "src/*.java conflict-marker-size=10\n"}, "attributes")
    conflicted_merge(repo, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert b"<" * 10 + b" HEAD" in repo.read(NAME)
    with_git_dir = GitRepo(repo.path, {**repo.env, "GIT_DIR": str(repo.path / ".git")})
    tool = with_git_dir.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_mergetool_settles_what_resolve_settles_under_the_ident_attribute(
    repo: GitRepo, tmp_path: Path
) -> None:
    """git-mergetool's $BASE, $LOCAL and $REMOTE are the stages in working-tree form, each `$Id$` expanded
    to its own blob's id, a line git's merge never saw differ: the tool merges the stages git merged, as
    `resolve` does, and writes the same file."""
    repo.commit({".gitattributes": "*.java ident\n"}, "ident")

    def with_id(text: str) -> str:
        return text.replace("        Server s", "        // $Id$\n        Server s")

    conflicted_merge(repo, with_id(TOKEN_BASE), with_id(TOKEN_OURS), with_id(TOKEN_THEIRS))
    assert b"$Id: " in repo.read(NAME)
    beside = GitRepo(tmp_path / "copy", repo.env)
    subprocess.run(["cp", "-a", str(repo.path), str(beside.path)], check=True)
    assert beside.mergebert("resolve").returncode == 0
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(NAME) == beside.read(NAME)
    assert b"<<<<<<<" not in repo.read(NAME) and b"8080, true" in repo.read(NAME)


def test_mergetool_merges_a_file_whose_name_is_not_utf8_and_names_it_by_its_bytes(repo: GitRepo) -> None:
    """As git names it in its own `CONFLICT (content): Merge conflict in <name>` line: the bytes."""
    latin1 = os.fsdecode(b"caf\xe9/Gr\xfc.java")
    repo.diverge(latin1, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False, text=False).returncode != 0
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False, text=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert b"mergebert: caf\xe9/Gr\xfc.java: resolved 1 of 1 conflict" in tool.stderr.splitlines()
    assert repo.read(latin1) == TOKEN_MERGED.encode()


@pytest.mark.parametrize("between", list(BETWEEN))
def test_mergetool_matches_conflicts_git_joins_in_part(repo: GitRepo, between: str) -> None:
    base, ours, theirs, merged = joined_in_part(between)
    before = conflicted_merge(repo, base, ours, theirs)
    assert before.count(b"<<<<<<<") == 2, "git joined the first two conflicts, not the third"
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert f"mergebert: {NAME}: resolved 3 of 3 conflicts" in tool.stderr
    assert repo.read(NAME).decode() == merged
    assert repo.conflicted() == []


def test_the_conflicts_left_are_counted_as_the_blocks_written(repo: GitRepo) -> None:
    """A conflict left that git writes as two blocks counts as two in the line, as in merge-file's."""
    conflicted_merge(repo, *NARROWED)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0
    assert repo.read(NAME).count(b"<<<<<<<") == 2
    assert f"mergebert: {NAME}: resolved 1 of 3 conflicts (2 left: token conflict left)" in tool.stderr


@pytest.mark.parametrize("tool", ["mergebert", "mergebert-i"])
def test_a_file_whose_name_starts_with_a_dash_is_resolved(repo: GitRepo, tool: str) -> None:
    """git passes $MERGED without `./`: the installed command reads `-x.java` as a path, not an option."""
    name = "-x.java"
    repo.diverge(name, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.mergebert("install", check=True)
    run = repo.git("mergetool", "--tool", tool, "--no-prompt", check=False, input="")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"mergebert: {name}: resolved 1 of 1 conflict" in run.stderr
    assert repo.read(name) == TOKEN_MERGED.encode()
    assert repo.conflicted() == []
