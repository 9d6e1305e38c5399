"""Conflict labels of the git operations besides merge, rebase and cherry-pick, on a git that does not pass
them to drivers (before 2.44): stash, revert, checkout -m, am -3 and rebase --apply. Where mergebert
resolves nothing, the file must be what git alone leaves, labels included. Each test runs the operation
with git alone, undoes it, runs it again with the driver and compares (diff3 style: the base label too).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

import pytest
from gitrepo import CLASH_BASE, CLASH_OURS, CLASH_THEIRS, GitRepo, topic_beside

NAME = "src/App.java"


def stash(repo: GitRepo) -> Callable[[], None]:
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.write(NAME, CLASH_THEIRS)
    repo.git("stash", "-q")
    repo.commit({NAME: CLASH_OURS}, "ours")

    def undo() -> None:
        repo.git("reset", "-q", "--hard")

    return undo


def revert(repo: GitRepo) -> Callable[[], None]:
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.commit({NAME: CLASH_THEIRS}, "to revert")
    repo.commit({NAME: CLASH_OURS}, "after it")
    return lambda: repo.git("revert", "--abort")


def checkout_merge(repo: GitRepo) -> Callable[[], None]:
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "other")
    repo.commit({NAME: CLASH_THEIRS}, "other")
    repo.git("checkout", "-q", "main")
    repo.write(NAME, CLASH_OURS)

    def undo() -> None:
        repo.git("checkout", "-q", "-f", "main")
        repo.write(NAME, CLASH_OURS)

    return undo


def patch_on_main(repo: GitRepo) -> None:
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "other")
    repo.commit({NAME: CLASH_THEIRS}, "change the port\n\nwith a body")
    repo.git("format-patch", "-q", "-1", "-o", str(repo.path.parent / "patches"))
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: CLASH_OURS}, "ours")


def apply_mailbox(repo: GitRepo) -> Callable[[], None]:
    patch_on_main(repo)
    return lambda: repo.git("am", "--abort")


def rebase_apply(repo: GitRepo) -> Callable[[], None]:
    patch_on_main(repo)
    repo.git("checkout", "-q", "other")

    def undo() -> None:
        repo.git("rebase", "--abort")

    return undo


def autostash(repo: GitRepo) -> Callable[[], None]:
    """A rebase whose autostash, applied at its end, conflicts: git applies it as `git stash apply`."""
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "upstream")
    repo.commit({NAME: CLASH_THEIRS}, "upstream")
    repo.git("checkout", "-q", "main")
    start = repo.commit({"notes.txt": "local\n"}, "local")
    repo.write(NAME, CLASH_OURS)

    def undo() -> None:
        repo.git("reset", "-q", "--hard", start)
        repo.write(NAME, CLASH_OURS)

    return undo


OPERATIONS = {
    "stash pop": (stash, ("stash", "pop")),
    "revert": (revert, ("revert", "--no-edit", "HEAD~1")),
    "checkout -m": (checkout_merge, ("checkout", "-m", "other")),
    "checkout -qm": (checkout_merge, ("checkout", "-qm", "other")),
    "checkout --conflict=merge": (checkout_merge, ("checkout", "--conflict=merge", "other")),
    "switch --conflict zdiff3": (checkout_merge, ("switch", "--conflict", "zdiff3", "other")),
    "am -3": (apply_mailbox, ("am", "-3", "../patches/0001-change-the-port.patch")),
    "rebase --apply": (rebase_apply, ("rebase", "--apply", "main")),
    "rebase --autostash": (autostash, ("rebase", "--autostash", "upstream")),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_labels_equal_gits(repo: GitRepo, operation: str) -> None:
    prepare, command = OPERATIONS[operation]
    repo.git("config", "merge.conflictStyle", "diff3")
    undo = prepare(repo)
    alone = repo.git(*command, check=False)
    expected = repo.read(NAME)
    assert b"<<<<<<< " in expected, "the operation must conflict for git alone"
    assert b"<<<<<<< ours" not in expected
    undo()
    repo.use_driver()
    with_driver = repo.git(*command, check=False)
    assert (with_driver.returncode, repo.read(NAME)) == (alone.returncode, expected)


def test_labels_with_git_dir_and_work_tree_variables_equal_gits(repo: GitRepo) -> None:
    """GIT_DIR and GIT_WORK_TREE name the repository: no .git in the work tree, and the driver must not
    read another repository (here one around the work tree, whose config asks for diff3)."""
    repo.git("config", "merge.conflictStyle", "diff3")
    inner = repo.path / "tree"
    store = repo.path.parent / "store.git"
    env = {**repo.env, "GIT_DIR": str(store), "GIT_WORK_TREE": str(inner)}
    work = GitRepo(inner, env)
    inner.mkdir()
    work.git("init", "-q", "-b", "main")
    work.git("config", "user.name", "Test")
    work.git("config", "user.email", "test@example.com")
    work.stop_on({NAME: (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)})
    expected = work.read(NAME)
    assert b"|||||||" not in expected and b"<<<<<<< HEAD" in expected
    work.git("merge", "--abort")
    work.use_driver()
    merged = work.git("merge", "--no-edit", "feature", check=False)
    assert merged.returncode != 0
    assert work.read(NAME) == expected


@pytest.mark.parametrize("command", ["merge", "rebase", "cherry-pick"])
def test_labels_of_a_renamed_file_equal_gits(repo: GitRepo, command: str) -> None:
    """A side renamed the file: git ends each label with the file's path on that side (`HEAD:A.java`)."""
    repo.git("config", "merge.conflictStyle", "diff3")
    old, new = "src/Old.java", "src/New.java"
    repo.commit({old: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("mv", old, new)
    repo.commit({new: CLASH_THEIRS}, "rename and change")
    repo.git("checkout", "-q", "main")
    repo.commit({old: CLASH_OURS}, "change")
    if command == "rebase":
        repo.git("checkout", "-q", "feature")
    run = {
        "merge": ("merge", "--no-edit", "feature"),
        "rebase": ("rebase", "main"),
        "cherry-pick": ("cherry-pick", "feature"),
    }[command]
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    alone = repo.git(*run, check=False)
    (name,) = repo.conflicted()
    expected = repo.read(name)
    assert b"<<<<<<< HEAD:src/" in expected
    repo.git(command, "--abort")
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver()
    with_driver = repo.git(*run, check=False)
    assert (with_driver.returncode, repo.conflicted(), repo.read(name)) == (
        alone.returncode,
        [name],
        expected,
    )


@pytest.mark.parametrize("strategy", ["ort", "recursive"])
def test_labels_of_a_file_both_sides_renamed_alike_equal_gits(repo: GitRepo, strategy: str) -> None:
    """Both sides renamed the file to one name: ort labels the conflict as if nothing was renamed, the
    recursive strategy with the paths (ours the new one, base and theirs the old one)."""
    repo.git("config", "merge.conflictStyle", "diff3")
    old, new = "src/Old.java", "src/New.java"
    repo.commit({old: CLASH_BASE}, "base")
    for branch, side in ("feature", CLASH_THEIRS), ("main", CLASH_OURS):
        repo.git("checkout", "-q", "-B", branch)
        repo.git("mv", old, new)
        repo.commit({new: side}, "rename and change")
        repo.git("checkout", "-q", "HEAD~1")
    repo.git("checkout", "-q", "main")
    run = ("merge", "--no-edit", "-s", strategy, "feature")
    alone = repo.git(*run, check=False)
    expected, stages = repo.read(new), repo.git("ls-files", "-s").stdout
    assert b"|||||||" in expected and repo.conflicted() == [new]
    base = repo.git("rev-parse", "--short", "HEAD~1").stdout.strip()
    label = f"{base}:{old}" if strategy == "recursive" else base
    assert f"\n||||||| {label}\n".encode() in expected
    repo.git("merge", "--abort")
    repo.use_driver()
    with_driver = repo.git(*run, check=False)
    assert (with_driver.returncode, repo.read(new), repo.git("ls-files", "-s").stdout) == (
        alone.returncode,
        expected,
        stages,
    )


def test_labels_of_a_merge_a_rebase_replays_equal_gits(repo: GitRepo) -> None:
    """`git rebase -r` replays a merge (`merge -C <commit> <label>`): theirs is `refs/rewritten/<label>`."""
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "topic")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({NAME: CLASH_THEIRS}, "side")
    repo.git("checkout", "-q", "topic")
    repo.commit({NAME: CLASH_OURS}, "topic")
    repo.git("merge", "-q", "--no-edit", "side", check=False)
    repo.commit({NAME: CLASH_OURS.replace("9090", "9191")}, "merge side")
    repo.git("checkout", "-q", "main")
    repo.commit({"notes.txt": "upstream\n"}, "upstream")
    repo.git("checkout", "-q", "topic")
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    alone = repo.git("rebase", "-r", "main", check=False)
    expected = repo.read(NAME)
    assert b">>>>>>> refs/rewritten/" in expected
    repo.git("rebase", "--abort")
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver()
    with_driver = repo.git("rebase", "-r", "main", check=False)
    assert (with_driver.returncode, repo.read(NAME)) == (alone.returncode, expected)


def fixup_amend(repo: GitRepo) -> None:
    """A todo `pick c1; fixup -C c2` (what `git commit --fixup=amend:` and `--autosquash` write), whose
    fixup conflicts with upstream."""
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit({"notes.txt": "c1\n"}, "c1")
    repo.commit({NAME: CLASH_THEIRS}, "c2")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: CLASH_OURS}, "upstream")
    repo.git("checkout", "-q", "topic")


def picked_while_rebasing(repo: GitRepo) -> None:
    """Branch side changes the file as main does; topic (one commit beside the file) is rebased onto main."""
    topic_beside(repo, NAME, (CLASH_BASE, CLASH_OURS, CLASH_THEIRS))


def picked_with_options(repo: GitRepo) -> None:
    """main (ours) and topic (theirs) change the file from base; main is checked out."""
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)


def reverted_with_options(repo: GitRepo) -> None:
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.commit({NAME: CLASH_THEIRS}, "to revert")
    repo.commit({NAME: CLASH_OURS}, "after it")


def detached_local_edit(repo: GitRepo) -> None:
    """HEAD detached at main, the file edited; branch feature changes it too."""
    repo.diverge(NAME, CLASH_BASE, CLASH_BASE.replace("8080", "8081"), CLASH_THEIRS)
    repo.git("checkout", "-q", "--detach", "main")
    repo.write(NAME, CLASH_OURS)


def previous_branch_local_edit(repo: GitRepo) -> None:
    """On branch work (after feature), the file edited; feature changes it too."""
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: CLASH_THEIRS}, "feature")
    repo.git("checkout", "-q", "-b", "work", "main")
    repo.write(NAME, CLASH_OURS)


EDIT_FIRST = {"GIT_SEQUENCE_EDITOR": "sed -i '1s/^pick/edit/'"}
Step = tuple[str, ...] | Callable[[GitRepo], None]  # git's arguments, or a change to the work tree
STEPS: dict[str, tuple[Callable[[GitRepo], None], list[Step], dict[str, str]]] = {
    "rebase fixup -C": (
        fixup_amend,
        [("rebase", "-i", "main")],
        {"GIT_SEQUENCE_EDITOR": "sed -i '2s/^pick/fixup -C/'", "GIT_EDITOR": "true"},
    ),
    "cherry-pick at a rebase's edit stop": (
        picked_while_rebasing,
        [("rebase", "-i", "main"), ("cherry-pick", "side")],
        EDIT_FIRST,
    ),
    "revert at a rebase's edit stop": (
        picked_while_rebasing,
        [("rebase", "-i", "main"), ("cherry-pick", "-n", "side"), ("commit", "-qm", "x"), ("revert", "HEAD")],
        EDIT_FIRST,
    ),
    "checkout -m at a rebase's edit stop": (
        picked_while_rebasing,
        [
            ("rebase", "-i", "main"),
            lambda work: work.write(NAME, CLASH_THEIRS.replace("7070", "7171")),
            ("checkout", "-m", "side"),
        ],
        EDIT_FIRST,
    ),
    "cherry-pick from a rebase's exec line": (
        picked_while_rebasing,
        [("rebase", "-i", "--exec", "git cherry-pick side", "main")],
        {"GIT_SEQUENCE_EDITOR": "true"},
    ),
    "cherry-pick -s": (picked_with_options, [("cherry-pick", "-s", "feature")], {}),
    "cherry-pick --cleanup strip": (
        picked_with_options,
        [("cherry-pick", "--cleanup", "strip", "feature")],
        {},
    ),
    "revert -s": (reverted_with_options, [("revert", "-s", "HEAD~1")], {}),
    "checkout -m detached": (detached_local_edit, [("checkout", "-m", "feature")], {}),
    "checkout -m -": (previous_branch_local_edit, [("checkout", "-m", "-")], {}),
    "switch -m -": (previous_branch_local_edit, [("switch", "-m", "-")], {}),
    "checkout -m @{-1}": (previous_branch_local_edit, [("checkout", "-m", "@{-1}")], {}),
}


@pytest.mark.parametrize("steps", STEPS)
def test_labels_equal_gits_in_more_operations(repo: GitRepo, steps: str) -> None:
    """The same steps in a copy of the repository with git alone and here with the driver: the file is
    the same (diff3 style: the base label too)."""
    prepare, commands, extra = STEPS[steps]
    repo.git("config", "merge.conflictStyle", "diff3")
    prepare(repo)
    plain = GitRepo(repo.path.parent / "plain", repo.env)
    shutil.copytree(repo.path, plain.path, symlinks=True)
    repo.use_driver()
    left = []
    for work in (plain, repo):
        for step in commands:
            if callable(step):
                step(work)
            else:
                env = {**work.env, **extra}
                proc = subprocess.run(
                    ["git", *step], cwd=work.path, env=env, capture_output=True, check=False
                )
        left.append((proc.returncode, work.read(NAME)))
    assert b"<<<<<<< " in left[0][1], "the steps must conflict for git alone"
    assert left[1] == left[0]


def many_objects(repo: GitRepo, count: int = 20000) -> None:
    """A pack of `count` blobs: git then abbreviates commit ids to more than 7 digits (core.abbrev=auto)."""
    stream = "".join(f"blob\ndata {len(str(n)) + 1}\n{n}\n" for n in range(count))
    repo.git("fast-import", "--quiet", input=stream)


@pytest.mark.parametrize("command", [("rebase", "main"), ("cherry-pick", "feature"), ("revert", "HEAD~1")])
def test_labels_in_a_large_repository_abbreviate_ids_as_git_does(
    repo: GitRepo, command: tuple[str, ...]
) -> None:
    many_objects(repo)
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.commit({NAME: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: CLASH_OURS}, "ours")
    if command[0] == "rebase":
        repo.git("checkout", "-q", "feature")
    if command[0] == "revert":
        repo.commit({NAME: CLASH_OURS.replace("9090", "9191")}, "after")
    alone = repo.git(*command, check=False)
    expected = repo.read(NAME)
    assert len(repo.git("rev-parse", "--short", "HEAD").stdout.strip()) > 7, "too few objects to test"
    assert b"<<<<<<< " in expected, "the operation must conflict for git alone"
    repo.git(command[0], "--abort")
    repo.use_driver()
    with_driver = repo.git(*command, check=False)
    assert (with_driver.returncode, repo.read(NAME)) == (alone.returncode, expected)
