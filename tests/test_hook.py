"""The pre-commit hook and `mergebert check` through real `git commit`."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, MERGEBERT, GitRepo

from mergebert.git.check import find_markers

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def hooked(repo: GitRepo) -> GitRepo:
    repo.mergebert("install", check=True)
    repo.commit({"README": "hello\n"})
    return repo


def test_commit_with_markers_is_refused_with_file_and_line(hooked: GitRepo) -> None:
    hooked.diverge("src/App.java", CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    assert hooked.git("merge", "--no-edit", "feature", check=False).returncode != 0
    hooked.git("add", "src/App.java")
    commit = hooked.git("commit", "--no-edit", check=False)
    assert commit.returncode != 0
    assert "src/App.java:3: <<<<<<< HEAD" in commit.stderr
    assert "src/App.java:5: =======" in commit.stderr
    assert "src/App.java:7: >>>>>>> feature" in commit.stderr
    assert "mergebert resolve" in commit.stderr
    assert hooked.git("rev-parse", "-q", "--verify", "MERGE_HEAD", check=False).returncode == 0


def test_clean_commit_passes(hooked: GitRepo) -> None:
    hooked.write("a.md", "Title\n=======\n\ntext\n")
    hooked.git("add", "a.md")
    assert hooked.git("commit", "-q", "-m", "clean", check=False).returncode == 0


def test_commit_all_checks_the_temporary_index(hooked: GitRepo) -> None:
    hooked.write("README", "<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> other\n")
    commit = hooked.git("commit", "-a", "-m", "oops", check=False)
    assert commit.returncode != 0
    assert "README:1: <<<<<<< HEAD" in commit.stderr


def test_only_staged_content_counts(hooked: GitRepo) -> None:
    hooked.write("b.txt", "fine\n")
    hooked.git("add", "b.txt")
    hooked.write("b.txt", "<<<<<<< HEAD\nnot staged\n>>>>>>> x\n")
    assert hooked.git("commit", "-q", "-m", "staged is clean", check=False).returncode == 0


def test_check_on_named_files(repo: GitRepo) -> None:
    repo.write("x.js", "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n")
    repo.write("y.js", "fine\n")
    result = repo.mergebert("check", "x.js", "y.js")
    assert result.returncode == 1
    assert "x.js:2:" in result.stderr and "y.js" not in result.stderr
    assert repo.mergebert("check", "y.js").returncode == 0


def test_check_from_a_subfolder_reads_the_staged_files_and_each_files_marker_size(repo: GitRepo) -> None:
    conflicted = "class K {\n<<<<<<< HEAD\nint a;\n=======\nint b;\n>>>>>>> b\n}\n"
    repo.write("sub/K.java", conflicted)
    repo.write("sub/notes.md", "Example:\n" + conflicted)  # its attribute says git's markers are longer
    repo.write(".gitattributes", "sub/notes.md conflict-marker-size=9\n")
    repo.git("add", ".")

    def check(*files: str) -> subprocess.CompletedProcess[str]:
        command = [MERGEBERT, "check", *files]
        return subprocess.run(command, cwd=repo.path / "sub", env=repo.env, capture_output=True, text=True)

    staged = check()
    assert staged.returncode == 1 and "sub/K.java:2:" in staged.stderr and "notes.md" not in staged.stderr
    assert check("notes.md").returncode == 0, "sub/notes.md's own marker size"
    named = check("K.java")
    assert named.returncode == 1 and "K.java:2:" in named.stderr
    absolute = check(str(repo.path / "sub" / "notes.md"), str(repo.path / ".gitattributes"))
    assert absolute.returncode == 0, f"absolute paths (as lint-staged passes them): {absolute.stderr}"


def test_find_markers_respects_marker_size_and_context() -> None:
    text = b"Title\n=======\n<<<<<<<<<< a\nx\n==========\ny\n>>>>>>>>>> b\n"
    assert [m.line for m in find_markers("f", text)] == []
    assert [m.line for m in find_markers("f", text, size=10)] == [3, 5, 7]


def manifest_entry() -> list[str]:
    """The command of `.pre-commit-hooks.yaml`'s mergebert-check, with the installed `mergebert`."""
    [entry] = re.findall(r"^\s*entry:\s*(.+)$", (ROOT / ".pre-commit-hooks.yaml").read_text(), re.MULTILINE)
    command = shlex.split(entry)
    assert command[0] == "mergebert"
    return [MERGEBERT, *command[1:]]


def test_pre_commit_framework_manifest() -> None:
    manifest = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "id: mergebert-check" in manifest
    assert manifest_entry()[1] == "check"
    assert "pre-commit" in manifest and "pre-merge-commit" in manifest


DASHED = ("-h.java", "--help.java")  # names click would read as options


def test_the_manifest_entry_takes_file_names_starting_with_a_dash(repo: GitRepo) -> None:
    """The framework appends the staged files' names to the entry: names as options would be a usage error."""
    repo.commit({"README": "hello\n"})
    for name in DASHED:
        repo.write(name, "class H {}\n")
    repo.git("add", "--", *DASHED)
    framework = subprocess.run([*manifest_entry(), *DASHED], cwd=repo.path, env=repo.env, capture_output=True)
    assert framework.returncode == 0, framework.stderr
    repo.write("-h.java", "class H {}\n<<<<<<< HEAD\n")
    repo.git("add", "--", "-h.java")
    found = subprocess.run(
        [*manifest_entry(), *DASHED], cwd=repo.path, env=repo.env, capture_output=True, text=True
    )
    assert found.returncode == 1 and "-h.java:2: <<<<<<< HEAD" in found.stderr, found.stderr


def test_the_pre_commit_framework_commits_file_names_starting_with_a_dash(
    repo: GitRepo, tmp_path: Path
) -> None:
    """The manifest's entry as the framework runs it (a local hook: the framework installs no other here)."""
    if shutil.which("pre-commit", path=repo.env["PATH"]) is None:
        pytest.skip("the pre-commit framework is not on PATH")
    env = {**repo.env, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    entry = shlex.join(manifest_entry())
    config = "repos:\n- repo: local\n  hooks:\n  - id: mergebert-check\n    name: mergebert-check\n"
    repo.write(
        ".pre-commit-config.yaml", f"{config}    entry: {entry}\n    language: system\n    types: [text]\n"
    )
    repo.git("add", ".pre-commit-config.yaml")

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=repo.path, env=env, capture_output=True, text=True)

    assert run("pre-commit", "install").returncode == 0
    for name in DASHED:
        repo.write(name, "class H {}\n")
    repo.git("add", "--", *DASHED)
    commit = run("git", "commit", "-m", "dashed names")
    assert commit.returncode == 0, commit.stdout + commit.stderr
    repo.write("-h.java", "class H {}\n<<<<<<< HEAD\n")
    repo.git("add", "--", "-h.java")
    refused = run("git", "commit", "-m", "markers")
    assert refused.returncode != 0 and "-h.java:2: <<<<<<< HEAD" in refused.stdout + refused.stderr


@pytest.mark.parametrize("size", [7, 10])
def test_hook_fails_closed_when_mergebert_cannot_run(hooked: GitRepo, size: int) -> None:
    """The plain-shell check catches markers of any size git writes (`conflict-marker-size`)."""
    hook = hooked.path / ".git" / "hooks" / "pre-commit"
    text = hook.read_text()
    assert MERGEBERT in text
    hook.write_text(text.replace(MERGEBERT, str(hooked.path / "deleted-venv" / "bin" / "mergebert")))
    ours, theirs = "<" * size + " HEAD", ">" * size + " other"
    hooked.write("x.js", f"a\n{ours}\nb\n{'=' * size}\nc\n{theirs}\n")
    hooked.git("add", "x.js")
    commit = hooked.git("commit", "-m", "markers", check=False)
    assert commit.returncode != 0
    assert "checking markers in plain shell" in commit.stderr
    assert f"+{ours}" in commit.stderr and f"+{theirs}" in commit.stderr
    hooked.write("x.js", "a\nb\n")
    hooked.git("add", "x.js")
    assert hooked.git("commit", "-q", "-m", "clean", check=False).returncode == 0


def test_hook_that_cannot_run_mergebert_commits_a_clean_file_with_a_stderr_nobody_reads(
    hooked: GitRepo,
) -> None:
    """Its plain-shell fallback says why on stderr; a pipe whose reader has gone (`git commit 2>&1 | head
    -1`) fails that line, never the check after it: no SIGPIPE ends the hook and refuses the commit."""
    hook = hooked.path / ".git" / "hooks" / "pre-commit"
    hook.write_text(
        hook.read_text().replace(MERGEBERT, str(hooked.path / "deleted-venv" / "bin" / "mergebert"))
    )
    hooked.write("x.js", "a\nb\n")
    hooked.git("add", "x.js")
    reader, writer = os.pipe()
    os.close(reader)
    try:
        commit = subprocess.run(
            ["git", "commit", "-q", "-m", "clean"], cwd=hooked.path, env=hooked.env, stdout=subprocess.PIPE,
            stderr=writer, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert commit.returncode == 0
    assert hooked.git("log", "-1", "--format=%s").stdout.strip() == "clean"


FIXTURE = (  # a conflict as a test's data, committed before mergebert was installed
    'class FixtureTest {\n    static final String CONFLICT = """\n'
    "<<<<<<< ours\nint a = 1;\n=======\nint a = 2;\n>>>>>>> theirs\n"
    '""";\n    int version = 1;\n}\n'
)


def test_marker_lines_already_committed_do_not_refuse_a_commit(hooked: GitRepo) -> None:
    """As `git diff --cached --check`: only the marker lines a commit adds count (here a test fixture)."""
    hooked.commit({"FixtureTest.java": FIXTURE})
    hooked.write("FixtureTest.java", FIXTURE.replace("version = 1", "version = 2"))
    hooked.git("add", "FixtureTest.java")
    assert hooked.git("commit", "-q", "-m", "bump", check=False).returncode == 0
    assert hooked.mergebert("check", "FixtureTest.java").returncode == 0, "a named staged file: the same"
    hooked.write("FixtureTest.java", FIXTURE.replace("}\n", "}\n// >>>>>>> y\n>>>>>>> y\n", 1))
    hooked.git("add", "FixtureTest.java")
    commit = hooked.git("commit", "-q", "-m", "adds one", check=False)
    assert commit.returncode != 0 and "FixtureTest.java:12: >>>>>>> y" in commit.stderr
    assert "FixtureTest.java:3:" not in commit.stderr and "FixtureTest.java:7:" not in commit.stderr


def test_a_merge_is_refused_for_the_conflict_it_leaves_not_for_committed_marker_lines(
    hooked: GitRepo,
) -> None:
    base = FIXTURE + "class Port {\n    int port = 8080;\n}\n"
    hooked.diverge("FixtureTest.java", base, base.replace("8080", "9090"), base.replace("8080", "7070"))
    assert hooked.git("merge", "--no-edit", "feature", check=False).returncode != 0
    hooked.git("add", "FixtureTest.java")
    commit = hooked.git("commit", "--no-edit", check=False)
    assert commit.returncode != 0
    assert (
        "FixtureTest.java:12: <<<<<<< HEAD" in commit.stderr
        and "FixtureTest.java:14: =======" in commit.stderr
    )
    assert "FixtureTest.java:3:" not in commit.stderr and "FixtureTest.java:5:" not in commit.stderr
    hooked.write("FixtureTest.java", base.replace("8080", "9090"))
    hooked.git("add", "FixtureTest.java")
    assert hooked.git("commit", "--no-edit", check=False).returncode == 0


def test_a_merge_bringing_in_committed_marker_lines_is_not_refused(hooked: GitRepo) -> None:
    """Lines the merged branch already holds are not added by the merge commit."""
    hooked.commit({"a.txt": "a\n"})
    hooked.git("checkout", "-q", "-b", "feature")
    hooked.commit({"FixtureTest.java": FIXTURE, "a.txt": "theirs\n"})
    hooked.git("checkout", "-q", "main")
    hooked.commit({"a.txt": "ours\n"})
    assert hooked.git("merge", "--no-edit", "feature", check=False).returncode != 0
    hooked.write("a.txt", "both\n")
    hooked.git("add", "a.txt")
    commit = hooked.git("commit", "--no-edit", check=False)
    assert commit.returncode == 0, commit.stderr


@pytest.mark.parametrize("named", ["Renamed.java", "./Renamed.java", "sub/../Renamed.java"])
def test_check_of_named_files_counts_the_lines_a_commit_adds_as_the_hook_does(
    hooked: GitRepo, named: str
) -> None:
    """The pre-commit framework names the staged files: a renamed fixture is compared with its source."""
    hooked.commit({"FixtureTest.java": FIXTURE})
    (hooked.path / "sub").mkdir()
    hooked.git("mv", "FixtureTest.java", "Renamed.java")
    assert hooked.mergebert("check").returncode == 0
    named_check = hooked.mergebert("check", named)
    assert named_check.returncode == 0, named_check.stderr


def test_check_of_a_folder_checks_the_files_git_has_under_it(repo: GitRepo) -> None:
    """A folder stands for the files git tracks under it, each counted as when it is named: a staged one by
    the lines it adds (here a fixture's committed marker lines do not count), an unmerged one whole."""
    repo.commit({"src/test/FixtureTest.java": FIXTURE, "README": "hello\n"}, "fixture")
    repo.diverge("src/Port.java", CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    for path in "src/Port.java", "src", ".", "src/":
        found = repo.mergebert("check", path)
        assert found.returncode == 1, (path, found.stderr)
        assert "src/Port.java:3: <<<<<<< HEAD" in found.stderr and "FixtureTest" not in found.stderr, path
    from_src = subprocess.run(
        [MERGEBERT, "check", "."], cwd=repo.path / "src", env=repo.env, capture_output=True, text=True
    )
    assert from_src.returncode == 1 and "  Port.java:3: <<<<<<< HEAD" in from_src.stderr, from_src.stderr
    assert repo.mergebert("check", "src/test").returncode == 0


def test_check_of_a_path_matching_no_file_is_an_error(repo: GitRepo) -> None:
    """As git's own pathspecs (`git ls-files --error-unmatch`): a missing file, or a folder holding no file
    git tracks, is one line and a non-zero status, never an all-clear."""
    repo.commit({"src/App.java": "class App {}\n"})
    (repo.path / "build").mkdir()
    repo.write("build/out.txt", "<<<<<<< HEAD\n")  # not git's: checked only where named
    for path in "src/Nope.java", "build", "nowhere/":
        refused = repo.mergebert("check", "src/App.java", path)
        assert refused.returncode == 2, (path, refused.stderr)
        [line] = refused.stderr.splitlines()
        assert f"'{path}'" in line, line
    assert repo.mergebert("check", "build/out.txt").returncode == 1
    repo.git("rm", "-q", "src/App.java")  # a file the commit deletes (as a script may name it) is no error
    assert repo.mergebert("check", "src/App.java").returncode == 0


def test_check_of_a_folder_does_not_read_through_a_tracked_link(repo: GitRepo) -> None:
    """A link git tracks is a link, not the file it points to: a fixture's marker lines reached through one
    do not count, and a link to a pipe does not hang the check."""
    repo.commit({"data/fixture.txt": FIXTURE}, "fixture")
    os.symlink("../data/fixture.txt", repo.path / "src-link")
    os.mkfifo(repo.path / "pipe")
    os.symlink("pipe", repo.path / "pipe-link")
    repo.git("add", "src-link", "pipe-link")
    repo.git("commit", "-q", "-m", "links")
    found = repo.mergebert("check", ".", timeout=20)
    assert found.returncode == 0, found.stderr


def _pre_merge_commit_runs_check(repo: GitRepo) -> None:
    """A pre-merge-commit hook running `mergebert check`, as the framework's mergebert-check at that stage."""
    hook = repo.path / ".git" / "hooks" / "pre-merge-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(f"#!/bin/sh\nexec {MERGEBERT} check\n")
    hook.chmod(0o755)


@pytest.mark.parametrize("branches", [["data"], ["data", "more"]], ids=["merge", "octopus"])
def test_pre_merge_commit_counts_the_lines_the_merged_branches_already_hold(
    repo: GitRepo, branches: list[str]
) -> None:
    """git runs pre-merge-commit before it writes MERGE_HEAD: the merged commits are in its GITHEAD_*."""
    repo.commit({"README": "hello\n"})
    for branch in branches:
        repo.git("checkout", "-q", "-b", branch, "main")
        repo.commit({f"{branch}/FixtureTest.java": FIXTURE})
    repo.git("checkout", "-q", "main")
    repo.commit({"other.txt": "other\n"})
    _pre_merge_commit_runs_check(repo)
    merge = repo.git("merge", "--no-edit", *branches, check=False)
    assert merge.returncode == 0, merge.stderr
    assert repo.git("rev-list", "--count", "--no-walk", "--min-parents=2", "HEAD").stdout.strip() == "1"


def test_pre_merge_commit_refuses_markers_the_merge_adds_and_says_how_to_commit_anyway(repo: GitRepo) -> None:
    """Markers new against both sides (here a merge driver's) are refused; git leaves the merge in progress,
    to be concluded by `git commit` (`git merge --no-verify` would skip the check)."""
    repo.git("config", "merge.marks.driver", "printf '<<<<<<< mine\\nx\\n>>>>>>> theirs\\n' > %A")
    repo.write(".gitattributes", "*.txt merge=marks\n")
    repo.diverge("a.txt", "base\n", "ours\n", "theirs\n")
    _pre_merge_commit_runs_check(repo)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert "a.txt:1: <<<<<<< mine" in merge.stderr and "a.txt:3: >>>>>>> theirs" in merge.stderr
    assert "git commit --no-verify" in merge.stderr and "git merge --no-verify" in merge.stderr, merge.stderr
    assert repo.git("commit", "--no-verify", "--no-edit", check=False).returncode == 0


def test_an_octopus_merge_counts_the_lines_every_merged_branch_holds(hooked: GitRepo) -> None:
    """An octopus stopped on a conflict: MERGE_HEAD names each merged commit, the second's lines count."""
    hooked.commit({"a.txt": "a\n"})
    hooked.git("checkout", "-q", "-b", "first")
    hooked.commit({"first.txt": "first\n"})
    hooked.git("checkout", "-q", "-b", "second", "main")
    hooked.commit({"FixtureTest.java": FIXTURE, "a.txt": "theirs\n"})
    hooked.git("checkout", "-q", "main")
    hooked.commit({"a.txt": "ours\n"})
    assert hooked.git("merge", "--no-edit", "first", "second", check=False).returncode != 0
    assert len(hooked.read(".git/MERGE_HEAD").split()) == 2
    hooked.write("a.txt", "both\n")
    hooked.git("add", "a.txt")
    commit = hooked.git("commit", "--no-edit", check=False)
    assert commit.returncode == 0, commit.stderr
