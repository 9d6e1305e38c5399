"""`mergebert review` and `review --undo` across runs and steps of one git operation: a rebase or a
cherry-pick sequence aborted and run again, several `fixup -C` steps, `git am` of a series, and git's
in-memory re-merges (`--remerge-diff`), which are not the user's operation. Undo must put back the conflict
of the step git is stopped at, and only that one.
"""

from __future__ import annotations

import shutil

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    TOKEN_BASE,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    topic_beside,
)

from mergebert.git import decisionlog

NAME = "Hello.java"


def hello(returned: str, printed: str = 'System.out.println(greet("World"));') -> str:
    """A Java class whose greeting (line 3) and printing (line 7) the sides change."""
    return (
        "public class Hello {\n"
        "    public static String greet(String name) {\n"
        f"        return {returned};\n"
        "    }\n\n"
        "    public static void main(String[] args) {\n"
        f"        {printed}\n"
        "    }\n"
        "}\n"
    )


TRIMMED = '"Hello, " + name.trim()'
TO_ERR = 'System.err.println(greet("World"));'


def two_picks(repo: GitRepo) -> None:
    """Topic's c1 trims the name, c2 prints to stderr; main, checked out, changes both lines. mergebert
    settles each pick's conflict (line 3 for c1, line 7 for c2)."""
    repo.commit({NAME: hello('"Hello, " + name')}, "base")
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit({NAME: hello(TRIMMED)}, "c1")
    repo.commit({NAME: hello(TRIMMED, TO_ERR)}, "c2")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: hello('"Hi, " + name', 'System.out.println(greet("Earth"));')}, "upstream")


def continue_(repo: GitRepo, command: str) -> None:
    repo.git("add", NAME)
    repo.git("-c", "core.editor=true", command, "--continue", check=False)


REVERSE = 'grep -v \'^#\' "$1" | grep . | sed \'1!G;h;$!d\' > "$1.x"; mv "$1.x" "$1"'
REVERSED = {"GIT_SEQUENCE_EDITOR": f"f() {{ {REVERSE}; }}; f"}  # the todo in reverse (sed: a portable `tac`)


@pytest.mark.parametrize("order", ["reversed", "same"])
def test_undo_after_a_rebase_aborted_and_run_again_puts_back_this_picks_conflict(
    repo: GitRepo, order: str
) -> None:
    two_picks(repo)
    repo.git("checkout", "-q", "topic")
    repo.mergebert("install", check=True)
    assert repo.git("rebase", "main", check=False).returncode != 0  # stopped at c1
    continue_(repo, "rebase")  # stopped at c2
    repo.git("rebase", "--abort")
    if order == "reversed":
        run = GitRepo(repo.path, {**repo.env, **REVERSED})
        assert run.git("rebase", "-i", "main", check=False).returncode != 0  # stopped at c2
        continue_(repo, "rebase")  # stopped at c1
    else:
        assert repo.git("rebase", "main", check=False).returncode != 0  # stopped at c1
    header, records = decisionlog.read(str(repo.path / ".git")) or ({}, [])
    assert len(records) == (2 if order == "reversed" else 1), "only this run's decisions"
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout
    lines = repo.read(NAME).decode().splitlines()
    assert lines[2] == "<<<<<<< HEAD" and "name.trim()" in "".join(lines[3:8])
    assert lines.count("<<<<<<< HEAD") == 1
    head_printed = repo.git("show", f"HEAD:{NAME}").stdout.splitlines()[6]
    assert head_printed in lines


def test_undo_after_a_cherry_pick_sequence_aborted_and_run_again_puts_back_this_picks_conflict(
    repo: GitRepo,
) -> None:
    two_picks(repo)
    repo.mergebert("install", check=True)
    assert repo.git("cherry-pick", "topic~1", "topic", check=False).returncode != 0
    continue_(repo, "cherry-pick")
    repo.git("cherry-pick", "--abort")
    assert repo.git("cherry-pick", "topic", "topic~1", check=False).returncode != 0
    continue_(repo, "cherry-pick")  # stopped at c1
    assert repo.mergebert("review", "--undo", NAME).returncode == 0
    lines = repo.read(NAME).decode().splitlines()
    assert lines.count("<<<<<<< HEAD") == 1 and lines[2] == "<<<<<<< HEAD"
    assert lines[-3] == repo.git("show", f"HEAD:{NAME}").stdout.splitlines()[6]


def three_methods(a: str, b: str, c: str) -> str:
    pad = '    static String pad() { return ""; }\n\n' * 2
    return (
        "public class Hello {\n"
        f'    static String a() {{ return "{a}" + x; }}\n\n{pad}'
        f'    static String b() {{ return "{b}" + y; }}\n\n{pad}'
        f'    static String c() {{ return "{c}" + z; }}\n'
        "}\n"
    )


def test_undo_at_the_second_fixup_amend_puts_back_its_own_conflict(repo: GitRepo) -> None:
    """Todo `pick P0; fixup -C X; pick Y; fixup -C Z`: at Z, undo restores Z's conflict, not Y's."""
    repo.commit({NAME: three_methods("Alpha", "Beta", "Gamma")}, "base")
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit({"README": "r\n"}, "P0")
    repo.commit({NAME: three_methods("Alpha", "Beta", "Gamma").replace("+ x", "+ x.trim()")}, "X")
    repo.commit({NAME: repo.read(NAME).decode().replace("+ y", "+ y.trim()")}, "Y")
    repo.commit({NAME: repo.read(NAME).decode().replace("+ z", "+ z.trim()")}, "Z")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: three_methods("ALPHA", "BETA", "GAMMA")}, "upstream")
    repo.git("checkout", "-q", "topic")
    repo.mergebert("install", check=True)
    editor = {"GIT_SEQUENCE_EDITOR": "sed -i -e '2s/^pick/fixup -C/' -e '4s/^pick/fixup -C/'"}
    assert GitRepo(repo.path, {**repo.env, **editor}).git("rebase", "-i", "main", check=False).returncode
    continue_(repo, "rebase")
    continue_(repo, "rebase")
    assert (
        repo.git("rev-parse", "REBASE_HEAD").stdout.strip() == repo.git("rev-parse", "topic").stdout.strip()
    )
    assert repo.mergebert("review", "--undo", NAME).returncode == 0
    text = repo.read(NAME).decode()
    assert text.count("<<<<<<< HEAD") == 1 and '"GAMMA" + z;' in text and '"Gamma" + z.trim();' in text
    assert 'return "BETA" + y.trim();' in text


def test_remerge_diff_shows_gits_merge_and_leaves_the_log(repo: GitRepo) -> None:
    """`git show --remerge-diff` re-merges an old merge in memory: git's own conflict, nothing logged or
    said, while a rebase stopped on mergebert's resolution stays reviewable and undoable."""
    two_picks(repo)
    repo.git("checkout", "-q", "-b", "side", "main~1")
    repo.commit({NAME: hello('"Hello, " + name.toUpperCase()')}, "side")
    repo.git("checkout", "-q", "-b", "old", "main")
    repo.git("merge", "-q", "side", check=False)
    repo.commit({NAME: hello('"Hi, " + name.toUpperCase()', 'System.out.println(greet("Earth"));')}, "merged")
    repo.git("checkout", "-q", "topic")
    plain = GitRepo(repo.path.parent / "plain", repo.env)
    shutil.copytree(repo.path, plain.path, symlinks=True)
    expected = plain.git("show", "--remerge-diff", "old").stdout
    assert "<<<<<<< " in expected
    repo.mergebert("install", check=True)
    assert repo.git("rebase", "main", check=False).returncode != 0
    before = (repo.path / ".git" / decisionlog.LOG).read_bytes()
    for command in (("show", "--remerge-diff", "old"), ("log", "--diff-merges=remerge", "-1", "old")):
        shown = repo.git(*command)
        assert (shown.stdout, shown.stderr) == (plain.git(*command).stdout, "")
    assert (repo.path / ".git" / decisionlog.LOG).read_bytes() == before
    assert repo.mergebert("review", "--undo", NAME).returncode == 0


@pytest.mark.parametrize("command", ["am", "rebase --apply"])
def test_a_series_applied_with_confirm_off_keeps_every_patchs_decisions(repo: GitRepo, command: str) -> None:
    two_picks(repo)
    patches = repo.path.parent / "patches"
    repo.git("format-patch", "-q", "-o", str(patches), "main..topic")
    repo.mergebert("install", "--no-confirm", check=True)
    if command == "am":
        applied = repo.git("am", "-3", *sorted(str(p) for p in patches.iterdir()), check=False)
    else:
        repo.git("checkout", "-q", "topic")
        applied = repo.git("rebase", "--apply", "main", check=False)
    assert applied.returncode == 0, applied.stderr
    out = repo.mergebert("review").stdout
    assert out.count(f"{NAME}: resolved 1 of 1 conflict") == 2, out
    assert "cherry-pick" not in out.splitlines()[0]
    assert ("git am" if command == "am" else "rebase") in out.splitlines()[0]


def test_a_cherry_pick_at_a_rebases_edit_stop_is_its_own_operation(repo: GitRepo) -> None:
    """Its decisions are filed under HEAD, not under the rebase's step, and undo gives git's conflict."""
    path = "src/App.java"
    topic_beside(repo, path, (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS))
    plain = GitRepo(repo.path.parent / "plain", repo.env)
    shutil.copytree(repo.path, plain.path, symlinks=True)
    repo.mergebert("install", check=True)
    for work in (plain, repo):
        editing = GitRepo(work.path, {**work.env, "GIT_SEQUENCE_EDITOR": "sed -i '1s/^pick/edit/'"})
        assert editing.git("rebase", "-i", "main", check=False).returncode == 0  # stopped to edit c1
        assert work.git("cherry-pick", "side", check=False).returncode != 0
    header, records = decisionlog.read(str(repo.path / ".git")) or ({}, [])
    assert header["kind"] == "head" and [r["commit"] for r in records] == [""]
    assert repo.mergebert("review", "--undo", path).returncode == 0
    assert repo.read(path) == plain.read(path)


@pytest.mark.parametrize("command", ["checkout", "switch", "stash"])
def test_a_merge_of_its_own_while_picks_are_stopped_is_filed_under_head(repo: GitRepo, command: str) -> None:
    """checkout -m, switch -m and stash apply merge for themselves, never as the sequence's next pick."""
    repo.commit({NAME: CLASH_BASE, "x.txt": "x\n"}, "base")
    repo.git("checkout", "-q", "-b", "picks")
    repo.commit({NAME: CLASH_THEIRS}, "p1")
    repo.commit({"x.txt": "y\n"}, "p2")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: CLASH_OURS}, "mine")
    assert repo.git("cherry-pick", "picks~1", "picks", check=False).returncode != 0  # stopped on p1
    gitdir = str(repo.path / ".git")
    head = repo.git("rev-parse", "HEAD").stdout.strip()
    assert decisionlog.operation(gitdir, head, {}, "cherry-pick")["kind"] == "sequence"
    own = decisionlog.operation(gitdir, head, {}, command)
    expected = {"key": f"head {head}", "kind": "head", "head": head, "commit": "", "name": ""}
    assert own == {**expected, "command": command}


def merged_with_a_clash(repo: GitRepo, into: str, subject: str) -> None:
    """Branch `into` (made from main) gets CLASH_OURS with `subject`, then merges `fix` (CLASH_THEIRS),
    resolved by hand."""
    repo.git("checkout", "-q", "-b", into, "main")
    repo.commit({NAME: CLASH_OURS}, subject)
    repo.git("merge", "-q", "fix", check=False)
    repo.commit({NAME: CLASH_OURS.replace("9090", "9191")}, f"merge fix into {into}")


def test_remerge_labels_take_the_subject_as_git_log_shows_it(repo: GitRepo) -> None:
    """A remerge diff's labels are `%h (%s)`: a first paragraph of several lines is one subject."""
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "fix")
    repo.commit({NAME: CLASH_THEIRS}, "fix the port\nfor the second time")
    merged_with_a_clash(repo, "release", "ours\nin two lines\n\nand a body")
    expected = repo.git("show", "--remerge-diff", "HEAD").stdout
    assert "(ours in two lines)" in expected and "(fix the port for the second time)" in expected
    repo.use_driver()
    assert repo.git("show", "--remerge-diff", "HEAD").stdout == expected


def test_remerge_labels_never_name_another_merges_parents(repo: GitRepo) -> None:
    """The same fix merged into two branches whose own sides hold the same text: which merge git shows
    cannot be told from the file, so the labels are not a guess."""
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "fix")
    repo.commit({NAME: CLASH_THEIRS}, "fix")
    merged_with_a_clash(repo, "main-line", "main's change")
    merged_with_a_clash(repo, "release", "release's change")
    repo.use_driver()
    shown = repo.git("log", "--remerge-diff", "-1", "main-line").stdout
    assert "release's change" not in shown


@pytest.mark.parametrize("how", ["--autostash", "merge.autoStash"])
def test_the_autostash_a_merge_applies_is_filed_as_a_stash_apply(repo: GitRepo, how: str) -> None:
    """`git merge --autostash` applies the stash in a `git stash apply` of its own, which inherits the
    merge's GITHEAD_<id> variable: its decisions are filed under HEAD, as a stash apply's, not under the
    merge, so `resolve` knows the driver's result as the driver's."""
    port = "Port.java"
    repo.commit({NAME: TOKEN_BASE, port: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS, port: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.write(NAME, TOKEN_OURS)
    repo.write(port, CLASH_OURS)
    repo.mergebert("install", check=True)
    options = ["--autostash"] if how == "--autostash" else []
    config = [] if options else ["-c", "merge.autoStash=true"]
    merged = repo.git(*config, "merge", *options, "feature", check=False)
    assert "Applying autostash resulted in conflicts." in merged.stdout + merged.stderr
    head = repo.git("rev-parse", "HEAD").stdout.strip()
    header, records = decisionlog.read(str(repo.path / ".git")) or ({}, [])
    assert (header["key"], header["kind"]) == (f"head {head}", "head")
    assert (
        repo.mergebert("review")
        .stdout.splitlines()[0]
        .startswith(f"mergebert review: stash apply on {head[:7]}")
    )
    said = repo.mergebert("resolve", NAME).stdout
    assert "the merge driver resolved it" in said, said


def test_a_merge_after_a_squash_of_the_same_commit_starts_a_log_of_its_own(repo: GitRepo) -> None:
    """A squash merge abandoned (`git reset --hard`), then the same commit merged into the same HEAD: two
    operations, whose decisions are never taken for each other's."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.mergebert("install", check=True)
    assert repo.git("merge", "--squash", "feature", check=False).returncode != 0
    squash, _ = decisionlog.read(str(repo.path / ".git")) or ({}, [])
    repo.git("reset", "-q", "--hard")
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    header, records = decisionlog.read(str(repo.path / ".git")) or ({}, [])
    assert header["key"] != squash["key"] and len(records) == 1
    assert repo.mergebert("review", "--undo", NAME).returncode == 0
    assert repo.git("ls-files", "-u", NAME).stdout.count(NAME) == 3


@pytest.mark.parametrize("command", ["checkout", "switch"])
def test_review_names_a_branch_switch_with_merge(repo: GitRepo, command: str) -> None:
    repo.commit({NAME: TOKEN_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.write(NAME, TOKEN_OURS)
    repo.mergebert("install", check=True)
    repo.git(command, "-m", "feature", check=False)
    head = repo.git("rev-parse", "--short=7", "main").stdout.strip()  # HEAD while git merged
    first = repo.mergebert("review").stdout.splitlines()[0]
    assert first.startswith(f"mergebert review: {command} -m on {head}, "), first
