"""`mergebert resolve -i` and `git mergetool --tool mergebert-i` driven through stdin, with the shipped model.

Each scenario stops a real merge (rebase, cherry-pick) on several conflicts in a Java, TypeScript or C#
file. Which conflicts the model leaves and what it suggests come from the one resolver, asked in-process
on the index's three stages (`plan`); the answers piped in follow that, and the file must then hold
exactly the chosen texts where git's markers were, every other byte as git left it.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitrepo import MERGEBERT, GitRepo

from mergebert.core.languages import language_for_path
from mergebert.core.linemerge import conflicts_of, merge_lines
from mergebert.core.resolver import Resolution, resolve_text
from mergebert.git import frontend
from mergebert.neural import policy

# base, ours, theirs of each conflicting statement; the fifth merges cleanly by tokens
STATEMENTS = [
    ("int a = f(1, 2);", "int a = f(10, 20);", "int a = f(100, 2);"),
    ("int b = g(1, 2, 3);", "int b = g(10, 2, 30);", "int b = g(100, 2, 3);"),
    ("int c = h(x, y);", "int c = h(x2, y);", "int c = h(x3, y3);"),
    ("int d = k(1);", "int d = k(10);", "int d = k(100);"),
    ("int e = f(1, 2);", "int e = f(10, 2);", "int e = f(1, 20);"),
    ("int g = q(1, 2);", "int g = q(10, 20);", "int g = q(100, 2);"),
    ("int u = r(1);", "int u = r(2);", "int u = r(3);"),
    ("int v = s(a, b);", "int v = s(a1, b1);", "int v = s(a2, b);"),
    ("int w = t(0, 0);", "int w = t(5, 0);", "int w = t(6, 6);"),
]


def java(statements: Sequence[str]) -> str:
    methods = "".join(
        f'    void m{i}() {{\n        {s}\n        log("m{i}");\n        log("done");\n    }}\n'
        for i, s in enumerate(statements)
    )
    return f"public class App {{\n{methods}}}\n"


def typescript(statements: Sequence[str]) -> str:
    return "".join(
        f'function m{i}(): void {{\n  {s.replace("int ", "let ")}\n  log("m{i}");\n  log("done");\n}}\n'
        for i, s in enumerate(statements)
    )


def csharp(statements: Sequence[str]) -> str:
    methods = "".join(
        f'    void M{i}()\n    {{\n        {s}\n        Log("m{i}");\n        Log("done");\n    }}\n'
        for i, s in enumerate(statements)
    )
    return f"class App\n{{\n{methods}}}\n"


def versions(
    write: Callable[[Sequence[str]], str],
    count: int = len(STATEMENTS),
    statements: Sequence[tuple[str, str, str]] = STATEMENTS,
) -> tuple[str, str, str]:
    """Base, ours and theirs of a file with the first `count` statements."""
    base, ours, theirs = zip(*statements[:count], strict=True)
    return write(base), write(ours), write(theirs)


@pytest.fixture
def shipped(repo: GitRepo) -> GitRepo:
    """The repository, with mergebert choosing its shipped model (the other tests pin the token merge)."""
    repo.env.pop("MERGEBERT_MODEL", None)
    return repo


@dataclass(frozen=True)
class Plan:
    """The answers to pipe in for one file, and the file they must produce."""

    answers: list[str]
    expected: str
    left: int
    resolutions: tuple[Resolution, ...]


def blocks(text: str) -> list[tuple[int, int]]:
    """Where each conflict (marker lines included) is in `text`."""
    spans, start, at = [], None, 0
    for line in text.splitlines(keepends=True):
        if line.startswith("<<<<<<<"):
            start = at
        at += len(line)
        if line.startswith(">>>>>>>") and start is not None:
            spans.append((start, at))
            start = None
    return spans


def oracle(repo: GitRepo, name: str) -> tuple[Resolution, ...]:
    """What the resolver, with the shipped model, makes of `name`'s three stages in the index."""
    base, ours, theirs = (repo.git("show", f":{stage}:{name}").stdout for stage in (1, 2, 3))
    classifier = frontend.pick_classifier(policy.shipped_model_dir())
    lang = language_for_path(name)
    return resolve_text(base, ours, theirs, lang=lang, classifier=classifier, suggest=True).resolutions


def plan(repo: GitRepo, name: str, keys: Sequence[str], edited: str = "", rest: str = "s") -> Plan:
    """Give each conflict the resolver leaves the next key of `keys` that it can take (a suggestion's number
    only where there is such a suggestion); `rest` to the others. `edited`: what the editor leaves for `e`."""
    resolutions = oracle(repo, name)
    base, ours, theirs = (repo.git("show", f":{stage}:{name}").stdout for stage in (1, 2, 3))
    conflicts = conflicts_of(merge_lines(base, ours, theirs))
    todo, answers, texts = list(keys), [], []
    for resolution, conflict in zip(resolutions, conflicts, strict=True):
        if resolution.text is not None:
            texts.append(resolution.text)
            continue
        key = next((k for k in todo if not k.isdigit() or int(k) <= len(resolution.suggestions)), rest)
        if key in todo:
            todo.remove(key)
        answers.append(key)
        texts.append(
            {
                "o": conflict.ours,
                "t": conflict.theirs,
                "b": conflict.ours + conflict.theirs,
                "e": edited,
                "s": None,
            }[key]
            if not key.isdigit()
            else resolution.suggestions[int(key) - 1].text
        )
    assert not todo, f"the shipped model leaves too few conflicts in {name} for the keys {todo}"
    before = repo.read(name).decode()
    spans = blocks(before)
    assert len(spans) == len(texts)
    expected, cursor = "", 0
    for (start, end), text in zip(spans, texts, strict=True):
        expected += before[cursor:start] + (before[start:end] if text is None else text)
        cursor = end
    return Plan(answers, expected + before[cursor:], texts.count(None), resolutions)


@pytest.mark.parametrize("command", ["merge", "rebase", "cherry-pick"])
def test_java_suggestions_ours_theirs_both_and_help(shipped: GitRepo, command: str) -> None:
    repo, name = shipped, "src/App.java"
    repo.stop_on({name: versions(java)}, command)
    before = repo.read(name)
    steps = plan(repo, name, ["1", "o", "t", "b", "2"], rest="o")
    assert steps.left == 0, "the scenario needs every conflict the model leaves answered"
    answers = ["?", "x", *steps.answers]
    result = repo.mergebert("resolve", "-i", "--add", input="".join(a + "\n" for a in answers))
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.read(name).decode() == steps.expected
    assert repo.read(name + ".orig") == before
    assert repo.conflicted() == []  # --add staged the file
    assert repo.git("show", f":0:{name}").stdout == steps.expected
    assert "\x1b[" not in result.stdout  # no terminal, no colour
    first = next(r for r in steps.resolutions if r.text is None)
    offered = ",".join(str(number) for number in range(1, len(first.suggestions) + 1))
    assert result.stdout.count(f"\n{offered} - take that suggestion") == 2  # `?` and the unknown `x`
    for number, suggestion in enumerate(first.suggestions, 1):
        assert f"[{number}] {suggestion.describe()}, confidence {suggestion.confidence:.2f}" in result.stdout
    assert "<<<<<<< ours: HEAD" in result.stdout


EDITOR = """#!/bin/sh
# The first edit leaves the markers (mergebert must ask again), the second resolves the conflict.
cat "$1" >> "{seen}"
if [ -e "{seen}.once" ]; then printf '  let b = g(7, 7, 7);\\n' > "$1"; else : > "{seen}.once"; fi
"""


def test_typescript_suggestion_edit_and_skip(shipped: GitRepo, tmp_path: Path) -> None:
    repo, name = shipped, "web/app.ts"
    repo.stop_on({name: versions(typescript)})
    before = repo.read(name).decode()
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(EDITOR.format(seen=seen))
    editor.chmod(0o755)
    repo.env["GIT_EDITOR"] = str(editor)
    steps = plan(repo, name, ["2", "e", "s"], edited="  let b = g(7, 7, 7);\n")
    answers = list(steps.answers)
    answers.insert(answers.index("e"), "e")  # the first edit leaves the markers: asked again
    result = repo.mergebert("resolve", "--interactive", "--add", input="".join(a + "\n" for a in answers))
    assert result.returncode == 1, result.stdout + result.stderr
    assert repo.read(name).decode() == steps.expected
    assert repo.read(name + ".orig").decode() == before
    assert repo.conflicted() == [name]  # a conflict is left: not staged
    assert "still holds conflict markers" in result.stdout
    left = [index for index, resolution in enumerate(steps.resolutions) if resolution.text is None]
    start, end = blocks(before)[left[steps.answers.index("e")]]
    edited_block = before[start:end]
    assert seen.read_text() == edited_block * 2  # seeded with the conflict as git wrote it, both times


def test_csharp_suggestion_then_quit_keeps_what_was_decided(shipped: GitRepo) -> None:
    repo, name, other = shipped, "Src/App.cs", "Src/Other.cs"
    repo.stop_on({name: versions(csharp), other: versions(csharp, 2)})
    before, other_before = repo.read(name).decode(), repo.read(other)
    steps = plan(repo, name, ["3"])  # skips (`s`) before and after the 3: all of them stay marked, as after q
    answers = [*steps.answers[: steps.answers.index("3") + 1], "q"]
    result = repo.mergebert("resolve", "-i", name, other, input="".join(a + "\n" for a in answers))
    assert result.returncode == 1
    assert repo.read(name).decode() == steps.expected
    assert repo.read(name + ".orig").decode() == before
    assert repo.read(other) == other_before  # not asked after q: untouched, no backup
    assert not (repo.path / (other + ".orig")).exists()
    assert sorted(repo.conflicted()) == [name, other]
    assert "not asked (quit)" in result.stdout


def test_mergetool_interactive_asks_file_by_file(shipped: GitRepo) -> None:
    repo, first, second = shipped, "src/App.java", "web/app.ts"
    repo.stop_on({first: versions(java), second: versions(typescript)})
    repo.mergebert("install", check=True)
    first_steps = plan(repo, first, ["t", "1", "b", "o", "2"], rest="t")
    second_steps = plan(repo, second, ["3"])  # the others skipped
    assert first_steps.left == 0 and second_steps.left > 0
    # one stream for both files: the tool must read only its own answers, leaving the rest to the next
    answers = first_steps.answers + second_steps.answers
    tool = repo.git(
        "mergetool",
        "--tool",
        "mergebert-i",
        "--no-prompt",
        input="".join(a + "\n" for a in answers),
        check=False,
    )
    assert tool.returncode != 0, tool.stdout + tool.stderr
    assert repo.read(first).decode() == first_steps.expected
    assert repo.git("show", f":0:{first}").stdout == first_steps.expected  # git took it as resolved
    assert repo.read(second).decode() == second_steps.expected  # the partial result survives git's restore
    assert repo.conflicted() == [second]
    total = len(second_steps.resolutions)
    assert f"mergebert: {second}: resolved {total - second_steps.left} of {total} conflicts" in tool.stderr


def converse(terminal: int, reply: bytes) -> bytes:
    """Everything shown on `terminal` until it closes, `reply` typed once it asks about a conflict; an
    AssertionError after 120 s without output."""
    shown, typed = b"", False
    while True:
        ready, _, _ = select.select([terminal], [], [], 120)  # a bound on waiting, not a measurement
        assert ready, f"no output for 120 s; so far:\n{shown.decode(errors='replace')}"
        try:
            data = os.read(terminal, 4096)
        except OSError:  # the terminal closed: the commands ended
            break
        if not data:
            break
        shown += data
        if not typed and b"Resolve this conflict" in shown:
            os.write(terminal, reply)
            typed = True
    return shown


def run_in_terminal(repo: GitRepo, args: Sequence[str], answers: bytes, **env: str) -> tuple[int, bytes]:
    """`mergebert ARGS` on a pseudo-terminal: the answers are typed once it asks; returns its exit status
    and everything it showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [MERGEBERT, *args], cwd=repo.path, env={**repo.env, **env}, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    try:
        shown = converse(master, answers)
    except AssertionError:
        proc.kill()
        raise
    finally:
        os.close(master)
    return proc.wait(), shown


@pytest.mark.parametrize("no_color", ["", "1"])
def test_a_terminal_shows_colours_and_q_leaves_the_repository_consistent(
    shipped: GitRepo, no_color: str
) -> None:
    repo, name = shipped, "src/App.java"
    repo.stop_on({name: versions(java)})
    before = repo.read(name)
    status = repo.git("status", "--porcelain").stdout
    steps = plan(repo, name, [])  # q on the first question: mergebert's own resolutions go in, nothing else
    assert steps.left == len(steps.answers) > 0
    code, shown = run_in_terminal(repo, ["resolve", "-i"], b"q\n", TERM="xterm", NO_COLOR=no_color)
    assert code == 1
    assert (b"\x1b[" in shown) == (not no_color)  # colour on a terminal, none with NO_COLOR
    assert b"<<<<<<< ours: HEAD" in shown and b"[1] " in shown
    first_left = next(index for index, r in enumerate(steps.resolutions) if r.text is None)
    assert f"{first_left + 1}:left (quit)".encode() in shown
    assert repo.read(name).decode() == steps.expected
    assert repo.read(name + ".orig") == before
    assert repo.git("status", "--porcelain").stdout == status + f"?? {name}.orig\n"


def test_all_also_asks_about_what_mergebert_resolves(shipped: GitRepo) -> None:
    repo, name = shipped, "src/App.java"
    repo.stop_on({name: versions(java)})
    before = repo.read(name).decode()
    steps = plan(repo, name, [])
    resolved = len(steps.resolutions) - steps.left
    assert resolved > 0, "the scenario needs a conflict the model resolves by itself"
    answers = "s\n" * len(steps.resolutions)  # every conflict asked, each skipped
    result = repo.mergebert("resolve", "-i", "--all", input=answers)
    assert result.returncode == 1
    assert repo.read(name).decode() == before  # nothing replaced: no backup either
    assert not (repo.path / (name + ".orig")).exists()
    assert f"(1/{len(steps.resolutions)}) Resolve this conflict" in result.stdout
    assert "mergebert resolved it (token merge" in result.stdout


def test_answers_running_out_is_like_q(shipped: GitRepo) -> None:
    repo, name = shipped, "Src/App.cs"
    repo.stop_on({name: versions(csharp)})
    steps = plan(repo, name, [])  # nothing answered: mergebert's own resolutions, the rest marked
    result = repo.mergebert("resolve", "-i", input="")
    assert result.returncode == 1
    assert repo.read(name).decode() == steps.expected
    assert result.stdout.count("left (quit)") == steps.left


def test_all_reopens_what_the_driver_resolved_unless_edited_since(shipped: GitRepo) -> None:
    repo, name = shipped, "src/App.java"
    clean = (  # each merges cleanly by tokens, and the shipped model takes the token merge
        ('String h = "Bye, " + name;', 'String h = "See you, " + name;', 'String h = "Bye, " + name.trim();'),
        ('log("start " + id);', 'log("starting " + id);', 'log("start " + id.trim());'),
    )
    repo.mergebert("install", check=True)  # the driver, in confirm mode (the default): git stops on the file
    repo.stop_on({name: versions(java, len(clean), clean)})
    resolutions = oracle(repo, name)
    assert all(r.text is not None for r in resolutions), "the scenario needs the driver to resolve both"
    text = repo.read(name).decode()
    first = 'String h = "See you, " + name.trim();'
    edited = text.replace(first, first + " // checked")
    repo.write(name, edited)
    result = repo.mergebert("resolve", "-i", "--all", input="s\n")  # the other one asked, skipped: it stays
    assert repo.read(name).decode() == edited
    assert not (repo.path / (name + ".orig")).exists()
    assert "(1/1) Resolve this conflict" in result.stdout and "(2/" not in result.stdout
    assert "the merge driver resolved it (token merge" in result.stdout
    assert "edited since mergebert resolved it" in result.stdout
    result = repo.mergebert("resolve", "-i", "--all", input="t\n")
    assert result.returncode == 0, "nothing is left conflicted"
    second, theirs = 'log("starting " + id.trim());', 'log("start " + id.trim());'
    assert repo.read(name).decode() == edited.replace(second, theirs)
    assert repo.read(name + ".orig").decode() == edited


def markers_shown(text: str) -> list[str]:
    """The labels of the first conflict's marker lines in `text` (git's file, or what resolve -i shows, whose
    lines say `ours: `, `base: `, `theirs: ` before them)."""
    found = []
    for start in ("<<<<<<< ", "||||||| ", ">>>>>>> "):
        line = next(line for line in text.splitlines() if line.startswith(start))
        found.append(line[len(start) :].split(": ", 1)[-1] if ": " in line else line[len(start) :])
    return found


@pytest.mark.parametrize(
    ("squash", "revision", "driver"),
    [(False, "feature", False), (True, "feature", False), (True, "feature~0", True)],
    ids=["merge", "merge --squash", "merge --squash feature~0 through the driver"],
)
def test_the_labels_shown_are_those_git_wrote(
    repo: GitRepo, squash: bool, revision: str, driver: bool
) -> None:
    """A squash merge stops with no MERGE_HEAD (SQUASH_MSG names what it brings in): its labels are a
    merge's, as git writes them, not the default ones; theirs named as the user named it where the merge
    driver's log says so."""
    repo.git("config", "merge.conflictStyle", "diff3")
    if driver:
        repo.use_driver()
    base, ours, theirs = versions(java, 1, [("int a = f(1);", "int a = f(2);", "int a = f(3);")])
    repo.diverge("App.java", base, ours, theirs)
    repo.commit({"Other.java": "class Other {}\n"}, "a later commit on main")
    repo.git("checkout", "-q", "feature")
    repo.commit({"Feature.java": "class Feature {}\n"}, "a second commit on feature")
    repo.git("checkout", "-q", "main")
    stopped = repo.git("merge", *(["--squash"] if squash else []), revision, check=False)
    assert "CONFLICT" in stopped.stdout
    git_wrote = markers_shown(repo.read("App.java").decode())
    assert git_wrote[0] == "HEAD" and git_wrote[2] == revision
    shown = repo.mergebert("resolve", "-i", "App.java", input="q\n")
    assert markers_shown(shown.stdout) == git_wrote, shown.stdout


def renamed_by_theirs(repo: GitRepo) -> str:
    """The file, renamed on feature and changed on both sides; returns its new name."""
    base, ours, theirs = versions(java, 1, [("int a = f(1);", "int a = f(2);", "int a = f(3);")])
    repo.commit({"src/App.java": base}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("mv", "src/App.java", "src/Renamed.java")
    repo.commit({"src/Renamed.java": theirs}, "rename and change")
    repo.git("checkout", "-q", "main")
    repo.commit({"src/App.java": ours}, "change")
    return "src/Renamed.java"


LABELLED = {
    "merge -m": ("merge", "-m", "custom message", "feature"),
    "merge FETCH_HEAD": ("merge", "FETCH_HEAD"),
    "pull": ("pull", "--no-rebase", "--no-edit", ".", "feature"),
    "renamed, merge": ("merge", "--no-edit", "feature"),
    "renamed, cherry-pick": ("cherry-pick", "feature"),
}


@pytest.mark.parametrize("operation", LABELLED)
def test_the_labels_shown_are_those_git_wrote_after_any_merge(repo: GitRepo, operation: str) -> None:
    """git names theirs as the user did (not in MERGE_MSG after `-m`), a fetched head by its whole id, and
    a file a side renamed by each side's path (`HEAD:src/App.java`): the question shows what git wrote."""
    repo.git("config", "merge.conflictStyle", "diff3")
    if operation.startswith("renamed"):
        name = renamed_by_theirs(repo)
    else:
        name = "App.java"
        base, ours, theirs = versions(java, 1, [("int a = f(1);", "int a = f(2);", "int a = f(3);")])
        repo.diverge(name, base, ours, theirs)
        repo.git("fetch", "-q", ".", "feature")
    stopped = repo.git(*LABELLED[operation], check=False)
    assert "CONFLICT" in stopped.stdout, stopped.stdout + stopped.stderr
    git_wrote = markers_shown(repo.read(name).decode())
    assert git_wrote[0] == ("HEAD:src/App.java" if operation.startswith("renamed") else "HEAD")
    shown = repo.mergebert("resolve", "-i", name, input="q\n")
    assert markers_shown(shown.stdout) == git_wrote, shown.stdout


@pytest.mark.parametrize("options", [["-m", "custom message"], ["--squash"]], ids=["-m", "--squash"])
def test_theirs_merged_by_the_id_typed_is_labelled_as_git_wrote_it(repo: GitRepo, options: list[str]) -> None:
    """`git merge -m MSG <id>` (or `--squash <id>`) labels theirs with the id as typed, which no state file
    of git's names and no merge driver logged: the question shows it as in the file git wrote, not as the
    branch at that commit."""
    repo.git("config", "merge.conflictStyle", "diff3")
    base, ours, theirs = versions(java, 1, [("int a = f(1);", "int a = f(2);", "int a = f(3);")])
    repo.diverge("App.java", base, ours, theirs)
    typed = repo.git("rev-parse", "--short=10", "feature").stdout.strip()
    stopped = repo.git("merge", *options, typed, check=False)
    assert "CONFLICT" in stopped.stdout, stopped.stdout + stopped.stderr
    git_wrote = markers_shown(repo.read("App.java").decode())
    assert git_wrote[2] == typed
    shown = repo.mergebert("resolve", "-i", "App.java", input="q\n")
    assert markers_shown(shown.stdout) == git_wrote, shown.stdout


EXAMPLE = "How a conflict looks:\n\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> feature\n\nversion {}\n"
COMMENTED = "/* a line git's merges end conflicts with:\n>>>>>>> feature\n */\n{}"
# the files of each side (App.java's text, the side's number) with a `>>>>>>> feature` line in the text of an
# unmerged file, which is not git's label there
TEXT_WITH_A_MARKER_LINE: dict[str, Callable[[str, int], dict[str, str]]] = {
    "another file's conflict example": lambda app, n: {"A.md": EXAMPLE.format(n), "App.java": app},
    "the file's own text": lambda app, n: {"App.java": COMMENTED.format(app)},
}


@pytest.mark.parametrize("where", TEXT_WITH_A_MARKER_LINE)
def test_a_marker_line_in_the_text_of_an_unmerged_file_does_not_label_theirs(
    repo: GitRepo, where: str
) -> None:
    """After `git merge -m MSG <id>`, theirs is labelled from what git wrote in the file resolved (then in
    the other unmerged files), and only from the end of a whole conflict block: not from a line of a
    file's text that names the branch at that commit (earlier in the index, or earlier in the file)."""
    apps = versions(java, 1, [("int a = f(1);", "int a = f(2);", "int a = f(3);")])
    base, ours, theirs = (TEXT_WITH_A_MARKER_LINE[where](app, n) for n, app in enumerate(apps))
    repo.commit(base, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(theirs, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit(ours, "ours")
    typed = repo.git("rev-parse", "--short=10", "feature").stdout.strip()
    stopped = repo.git("merge", "-m", "custom message", typed, check=False)
    assert sorted(repo.conflicted()) == sorted(base), stopped.stdout + stopped.stderr
    assert f"\n>>>>>>> {typed}\n" in repo.read("App.java").decode()
    shown = repo.mergebert("resolve", "-i", "App.java", input="q\n")
    assert markers_shown(shown.stdout)[2] == typed, shown.stdout


def test_ctrl_d_at_a_question_ends_its_line_as_q_does(repo: GitRepo) -> None:
    """^D at a terminal's question quits as `q` does; the table starts on a line of its own."""
    base, ours, theirs = versions(java, 1, [("int a = f(1);", "int a = f(2);", "int a = f(3);")])
    repo.stop_on({"App.java": (base, ours, theirs)})
    status, shown = run_in_terminal(repo, ["resolve", "-i", "--no-backup"], b"\x04", NO_COLOR="1")
    assert status == 1
    lines = shown.decode().splitlines()
    at = next(number for number, line in enumerate(lines) if "Resolve this conflict" in line)
    assert lines[at].endswith("? "), lines[at]
    assert lines[at + 1].startswith("file "), shown.decode()


def test_help_lists_only_the_suggestion_keys_offered(repo: GitRepo) -> None:
    """With no suggestion (the token merge suggests none), the help names no number key."""
    base, ours, theirs = versions(java, 1, [("int a = f(1);", "int a = f(2);", "int a = f(3);")])
    repo.stop_on({"App.java": (base, ours, theirs)})
    result = repo.mergebert("resolve", "-i", "--no-backup", input="?\nq\n")
    assert "(no suggestion passes the parse check)" in result.stdout
    assert "o - take ours" in result.stdout
    assert "take that suggestion" not in result.stdout
