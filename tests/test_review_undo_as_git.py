"""`mergebert review --undo` where git leaves a conflict in an unusual place: a file both sides renamed (to
different names, or to the same one), a stash applied, a file outside a sparse checkout's cone. Each test
runs the same operation by git alone in a copy of the repository: after the undo, the work tree's file,
the index and `git status` must be what git alone left.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "App.java"
PORT = "Port.java"  # a conflict mergebert cannot settle: the operation stops on it


def state(repo: GitRepo, *paths: str) -> tuple[dict[str, bytes | None], str, str]:
    """`paths`' bytes in the work tree (None where absent), `git ls-files -s` and `git status`."""
    files = {path: repo.read(path) if (repo.path / path).exists() else None for path in paths}
    return files, repo.git("ls-files", "-s").stdout, repo.git("status", "--porcelain").stdout


def alone_then_undone(
    repo: GitRepo, operation: Callable[[GitRepo], object], undo: tuple[str, ...], *install: str
) -> GitRepo:
    """`operation` by git alone in a copy of `repo` (returned), then in `repo` with mergebert installed
    (`install`'s options), whose resolutions `review --undo` then undoes (it must succeed)."""
    plain = GitRepo(repo.path.parent / "plain", repo.env)
    shutil.copytree(repo.path, plain.path, symlinks=True)
    operation(plain)
    repo.mergebert("install", *install, check=True)
    operation(repo)
    undone = repo.mergebert("review", "--undo", *undo, text=False)  # names as their bytes
    said = (undone.stdout + undone.stderr).decode("utf-8", "surrogateescape")
    assert undone.returncode == 0, said
    assert "git's conflict put back" in said and "Traceback" not in said
    return plain


def merge(repo: GitRepo) -> None:
    assert repo.git("merge", "--no-edit", "feature", check=False, text=False).returncode != 0


def renamed(repo: GitRepo, ours: str, theirs: str) -> None:
    """NAME (which mergebert resolves) and PORT changed on both sides; NAME renamed to `ours` on main and to
    `theirs` on feature."""
    repo.commit({NAME: TOKEN_BASE, PORT: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS, PORT: CLASH_THEIRS}, "theirs")
    repo.git("mv", NAME, theirs)
    repo.git("commit", "-q", "-m", "renamed")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: TOKEN_OURS, PORT: CLASH_OURS}, "ours")
    repo.git("mv", NAME, ours)
    repo.git("commit", "-q", "-m", "renamed")


@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
@pytest.mark.parametrize("undo", [(".",), ("Hi.java", "Hello.java")], ids=["all", "new-names"])
def test_undo_of_a_file_both_sides_renamed_apart(
    repo: GitRepo, install: tuple[str, ...], undo: tuple
) -> None:
    """git's rename/rename: the merge of the content, made under the old name, goes to both new names."""
    renamed(repo, "Hi.java", "Hello.java")
    plain = alone_then_undone(repo, merge, undo, *install)
    assert state(repo, "Hi.java", "Hello.java", NAME) == state(plain, "Hi.java", "Hello.java", NAME)


@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
def test_undo_of_a_file_both_sides_renamed_alike(repo: GitRepo, install: tuple[str, ...]) -> None:
    renamed(repo, "Hello.java", "Hello.java")
    plain = alone_then_undone(repo, merge, ("Hello.java",), *install)
    assert state(repo, "Hello.java") == state(plain, "Hello.java")


@pytest.mark.parametrize("command", ["pop", "apply"])
@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
def test_undo_of_a_stash_applied(repo: GitRepo, command: str, install: tuple[str, ...]) -> None:
    """The stash is kept where its apply stopped; the undo takes the versions merged from it."""
    repo.commit({NAME: TOKEN_BASE, PORT: CLASH_BASE}, "base")
    repo.write(NAME, TOKEN_OURS)
    repo.write(PORT, CLASH_OURS)
    repo.git("stash", "-q")
    repo.commit({NAME: TOKEN_THEIRS, PORT: CLASH_THEIRS}, "theirs")

    def apply(work: GitRepo) -> None:
        assert work.git("stash", command, check=False).returncode != 0

    plain = alone_then_undone(repo, apply, (NAME,), *install)
    assert state(repo, NAME) == state(plain, NAME)


@pytest.mark.parametrize("mode", ["644", "755"])
@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
def test_undo_of_a_file_outside_a_sparse_checkout(repo: GitRepo, install: tuple[str, ...], mode: str) -> None:
    """With confirm mode off git stages the driver's result outside the cone without writing it: the undo
    writes git's conflict there, as git alone does (an executable file executable)."""
    name, port = f"a/{NAME}", f"b/{PORT}"
    repo.write(name, TOKEN_BASE)
    os.chmod(repo.path / name, int(mode, 8))  # kept by the commits that follow
    repo.commit({port: CLASH_BASE, name: TOKEN_BASE}, "base")
    assert repo.git("ls-files", "-s", name).stdout.startswith(f"100{mode} ")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({name: TOKEN_THEIRS, port: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({name: TOKEN_OURS, port: CLASH_OURS}, "ours")
    repo.git("sparse-checkout", "set", "--cone", "c")
    plain = alone_then_undone(repo, merge, (name,), *install)
    assert state(repo, name) == state(plain, name)
    assert (repo.path / name).stat().st_mode == (plain.path / name).stat().st_mode


@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
def test_undo_of_a_file_whose_name_is_not_utf8(repo: GitRepo, install: tuple[str, ...]) -> None:
    """A Latin-1 name (old Windows and Samba checkouts): no traceback, git's conflict back."""
    name = os.fsdecode(b"caf\xe9/Gr\xfc.java")
    repo.commit({name: TOKEN_BASE, PORT: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({name: TOKEN_THEIRS, PORT: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({name: TOKEN_OURS, PORT: CLASH_OURS}, "ours")
    plain = alone_then_undone(repo, merge, (".",), *install)
    assert state(repo, name) == state(plain, name)


@pytest.mark.parametrize("command", ["checkout", "switch"])
@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
def test_undo_after_a_branch_switch_with_merge(repo: GitRepo, command: str, install: tuple[str, ...]) -> None:
    """`checkout -m` merges on the HEAD it then leaves: its log names the HEAD it left."""
    repo.commit({NAME: TOKEN_BASE, PORT: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS, PORT: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.write(NAME, TOKEN_OURS)
    repo.write(PORT, CLASH_OURS)

    def switch(work: GitRepo) -> None:
        work.git(command, "-m", "feature", check=False, text=False)

    plain = alone_then_undone(repo, switch, (NAME,), *install)
    assert state(repo, NAME) == state(plain, NAME)


def test_the_drivers_line_names_a_file_by_its_bytes_as_git_does(repo: GitRepo) -> None:
    name = os.fsdecode(b"caf\xe9/Gr\xfc.java")
    repo.diverge(name, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.mergebert("install", check=True)
    merged = repo.git("merge", "--no-edit", "feature", check=False, text=False)
    assert b"mergebert: caf\xe9/Gr\xfc.java: resolved 1 of 1 conflict" in merged.stderr, merged.stderr


def renamed_by_theirs(repo: GitRepo, new: str) -> None:
    """NAME (which mergebert resolves) and PORT changed on both sides; NAME renamed to `new` on feature, in
    the commit that changes it (a patch of its own, in ../patches)."""
    repo.commit({NAME: TOKEN_BASE, PORT: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.path / new).parent.mkdir(parents=True, exist_ok=True)
    repo.git("mv", NAME, new)
    repo.commit({new: TOKEN_THEIRS, PORT: CLASH_THEIRS}, "theirs")
    repo.git("format-patch", "-q", "-1", "-o", str(repo.path.parent / "patches"))
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: TOKEN_OURS, PORT: CLASH_OURS}, "ours")


OPERATIONS = {
    "am -3": ("am", "-3", "../patches/0001-theirs.patch"),
    "merge -s recursive": ("merge", "--no-edit", "-s", "recursive", "feature"),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
def test_undo_of_a_file_theirs_renamed(repo: GitRepo, install: tuple[str, ...], operation: str) -> None:
    """`git am -3` and the recursive strategy hand the driver the old name of a file the other side
    renamed, and write its merge to the new one: mergebert's line, its review and its undo name the file
    git names."""
    new = "lib/App.java"
    renamed_by_theirs(repo, new)
    said = []

    def run(work: GitRepo) -> None:
        stopped = work.git(*OPERATIONS[operation], check=False)
        assert stopped.returncode != 0
        said.append(stopped.stderr)

    plain = alone_then_undone(repo, run, (new,), *install)
    assert f"mergebert: {new}: resolved 1 of 1 conflict" in said[1]
    assert f"mergebert: {NAME}:" not in said[1]
    assert state(repo, new, NAME) == state(plain, new, NAME)
    listed = repo.mergebert("review", check=True).stdout
    assert f"\n{new}: resolved 1 of 1 conflict" in listed


def test_line_and_review_of_a_file_both_sides_renamed_apart_name_both_files(repo: GitRepo) -> None:
    """git's rename/rename writes the merge to both new names, which mergebert's line and review name."""
    renamed(repo, "Hi.java", "Hello.java")
    repo.mergebert("install", check=True)
    said = repo.git("merge", "--no-edit", "feature", check=False).stderr
    assert "mergebert: Hi.java and Hello.java: resolved 1 of 1 conflict" in said
    assert "\nHi.java and Hello.java: resolved 1 of 1 conflict" in repo.mergebert("review", check=True).stdout
