"""The `:path` git appends to the labels of a renamed file's conflict, on a git that passes no labels to
drivers (before 2.44): the driver must find renames as the calling git's merge does (its `-X` rename
options, merge.renameLimit over diff.renameLimit, merge.renames where the strategy honours it), and a
subtree merge's shift is no rename. Each test runs the operation with git alone, undoes it, runs it again
with the driver and compares the file (diff3 style: the base label too); mergebert resolves nothing in it.
"""

from __future__ import annotations

import pytest
from gitrepo import GitRepo


def source(name: str, port: str, changed: int = 0) -> str:
    """A Java class whose port line conflicts; `changed` of its other lines edited, which makes a renamed
    copy less similar to the original than git's default 50%."""
    lines = [f"    int field{i} = compute{name}{i}(alpha, beta, gamma, {i});\n" for i in range(12)]
    lines[:changed] = [f'    String other{i} = describe{i}("delta", {i * 7});\n' for i in range(changed)]
    return f"public class {name} {{\n" + "".join(lines) + f"    int port = {port};\n}}\n"


def move(repo: GitRepo, old: str, new: str) -> None:
    """`git mv`, into a folder made for it where needed."""
    (repo.path / new).parent.mkdir(parents=True, exist_ok=True)
    repo.git("mv", old, new)


def both_ways(repo: GitRepo, run: tuple[str, ...], name: str, expect: bytes, undo: tuple[str, ...]) -> None:
    """Run `run` with git alone (its file `name` must hold the label `expect`), undo it with `undo` and a
    hard reset, then with the driver: the exit status and the file must be git's."""
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    alone = repo.git(*run, check=False)
    expected = repo.read(name)
    assert expect in expected, expected.decode()
    repo.git(*undo)
    repo.git("checkout", "-q", "-f", start)
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver()
    with_driver = repo.git(*run, check=False)
    assert (with_driver.returncode, repo.read(name).decode()) == (alone.returncode, expected.decode())


def renamed_apart(repo: GitRepo, changed: int = 0) -> None:
    """base src/A.java; feature renames it to lib/B.java and changes the port (and `changed` more lines);
    main changes the port: a content conflict in lib/B.java."""
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.commit({"src/A.java": source("A", "8080")}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    move(repo, "src/A.java", "lib/B.java")
    repo.commit({"lib/B.java": source("A", "7070", changed)}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({"src/A.java": source("A", "9090")}, "ours")


@pytest.mark.parametrize("option", ["find-renames=30%", "rename-threshold=30"])
def test_labels_follow_the_merges_rename_threshold(repo: GitRepo, option: str) -> None:
    """A rename less similar than 50% that `-X find-renames=30%` finds: git labels it with the paths."""
    renamed_apart(repo, changed=7)
    run = ("merge", "--no-edit", "-X", option, "feature")
    both_ways(repo, run, "lib/B.java", b">>>>>>> feature:lib/B.java\n", ("merge", "--abort"))


@pytest.mark.parametrize("limit", ["7000", "7k", "0"])
def test_labels_follow_merge_rename_limit_over_diff_rename_limit(repo: GitRepo, limit: str) -> None:
    """diff.renameLimit=1 would stop `git diff` finding three inexact renames; the merge reads
    merge.renameLimit first, as git reads a number (`7k`), and takes 0 for its default."""
    repo.git("config", "diff.renameLimit", "1")
    repo.git("config", "merge.renameLimit", limit)
    repo.git("config", "merge.conflictStyle", "diff3")
    names = ("A", "C", "D")
    repo.commit({f"src/{n}.java": source(n, "8080") for n in names}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    for n in names:
        move(repo, f"src/{n}.java", f"lib/{n}2.java")
    repo.commit({f"lib/{n}2.java": source(n, "7070" if n == "A" else "8080", 1) for n in names}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit({"src/A.java": source("A", "9090")}, "ours")
    run = ("merge", "--no-edit", "feature")
    both_ways(repo, run, "lib/A2.java", b">>>>>>> feature:lib/A2.java\n", ("merge", "--abort"))


@pytest.mark.parametrize("command", ["merge", "cherry-pick", "rebase", "merge -X no-renames"])
def test_labels_of_ort_which_finds_renames_whatever_merge_renames_says(repo: GitRepo, command: str) -> None:
    """git 2.39's ort follows renames with merge.renames=false or `-X no-renames` (only the recursive
    strategy honours them)."""
    renamed_apart(repo)
    repo.git("config", "merge.renames", "false")
    if command == "rebase":
        repo.git("checkout", "-q", "feature")
    run = {
        "merge": ("merge", "--no-edit", "feature"),
        "cherry-pick": ("cherry-pick", "feature"),
        "rebase": ("rebase", "main"),
        "merge -X no-renames": ("merge", "--no-edit", "-X", "no-renames", "feature"),
    }[command]
    name = "lib/B.java"
    both_ways(repo, run, name, b"<<<<<<< HEAD:src/A.java\n", (command.split()[0], "--abort"))


def test_labels_of_the_recursive_strategy_with_merge_renames_false(repo: GitRepo) -> None:
    """`-s recursive` honours merge.renames=false: both sides' renames of one file to one name are an
    add/add of that name, labelled without paths."""
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.git("config", "merge.renames", "false")
    repo.commit({"src/A.java": source("A", "8080")}, "base")
    for branch, port in ("feature", "7070"), ("main", "9090"):
        repo.git("checkout", "-q", "-B", branch)
        move(repo, "src/A.java", "lib/B.java")
        repo.commit({"lib/B.java": source("A", port)}, "rename")
        repo.git("checkout", "-q", "HEAD~1")
    repo.git("checkout", "-q", "main")
    run = ("merge", "--no-edit", "-s", "recursive", "feature")
    both_ways(repo, run, "lib/B.java", b"<<<<<<< HEAD\n", ("merge", "--abort"))


@pytest.mark.parametrize("operation", ["am -3", "rebase --apply"])
@pytest.mark.parametrize("renamer", ["theirs", "ours"])
def test_labels_of_a_renaming_patch_applied(repo: GitRepo, operation: str, renamer: str) -> None:
    """`git am -3` (and `rebase --apply`, which runs it) merges a patch through a base it constructs: a
    rename by either side ends each label with that side's path."""
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.commit({"src/A.java": source("A", "8080")}, "base")
    for branch, port, side in ("feature", "7070", "theirs"), ("main", "9090", "ours"):
        repo.git("checkout", "-q", "-B", branch, "HEAD" if branch == "feature" else "HEAD~1")
        name = "src/A.java"
        if renamer == side:
            move(repo, name, "lib/B.java")
            name = "lib/B.java"
        repo.commit({name: source("A", port)}, side)
    repo.git("format-patch", "-q", "-1", "-o", str(repo.path.parent / "patches"), "feature")
    if operation == "am -3":
        run: tuple[str, ...] = ("am", "-3", "../patches/0001-theirs.patch")
        undo: tuple[str, ...] = ("am", "--abort")
    else:
        repo.git("checkout", "-q", "feature")
        run, undo = ("rebase", "--apply", "main"), ("rebase", "--abort")
    ours_path = "lib/B.java" if renamer == "ours" else "src/A.java"
    both_ways(repo, run, "lib/B.java", f"<<<<<<< HEAD:{ours_path}\n".encode(), undo)


def test_labels_of_each_patch_of_one_am(repo: GitRepo) -> None:
    """`git am -3` of two patches merges each through the base it builds from that patch: the second,
    whose file theirs renamed, is labelled with its own paths, also where one daemon serves both."""
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.commit({"src/A.java": source("A", "8080"), "src/C.java": source("C", "8080")}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"src/A.java": source("A", "7070")}, "theirs one")
    move(repo, "src/C.java", "lib/D.java")
    repo.commit({"lib/D.java": source("C", "7070")}, "theirs two")
    repo.git("checkout", "-q", "main")
    repo.commit({"src/A.java": source("A", "9090"), "src/C.java": source("C", "9090")}, "ours")
    repo.git("format-patch", "-q", "-2", "-o", str(repo.path.parent / "patches"), "feature")
    patches = sorted(str(path) for path in (repo.path.parent / "patches").iterdir())
    start = repo.git("rev-parse", "HEAD").stdout.strip()

    def applied() -> tuple[int, bytes, bytes]:
        """Both patches: the first's conflict settled by hand, then the second's left in lib/D.java."""
        assert repo.git("am", "-3", *patches, check=False).returncode != 0
        first = repo.read("src/A.java")
        repo.write("src/A.java", source("A", "7070"))
        repo.git("add", "src/A.java")
        second = repo.git("am", "--continue", check=False)
        return second.returncode, first, repo.read("lib/D.java")

    alone = applied()
    assert b"<<<<<<< HEAD:src/C.java\n" in alone[2] and b">>>>>>> theirs two:lib/D.java\n" in alone[2]
    repo.git("am", "--abort")
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver()
    assert applied() == alone


@pytest.mark.parametrize("strategy", [("-X", "subtree=sub"), ("-X", "subtree"), ("-s", "subtree")])
def test_labels_of_a_subtree_merge_have_no_paths(repo: GitRepo, strategy: tuple[str, str]) -> None:
    """A subtree merge shifts theirs' tree into a folder: git labels its conflicts without paths."""
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.git("checkout", "-q", "--orphan", "lib")
    repo.commit({"A.java": source("A", "8080")}, "lib base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"A.java": source("A", "7070")}, "lib theirs")
    repo.git("checkout", "-q", "--orphan", "main2")
    repo.git("rm", "-rfq", ".")
    repo.commit({"top.txt": "top\n"}, "top")
    repo.git("merge", "-q", "-s", "ours", "--no-commit", "--allow-unrelated-histories", "lib")
    repo.git("read-tree", "--prefix=sub/", "-u", "lib")
    repo.git("commit", "-q", "-m", "sub")
    repo.commit({"sub/A.java": source("A", "9090")}, "ours")
    run = ("merge", "--no-edit", *strategy, "feature")
    both_ways(repo, run, "sub/A.java", b"<<<<<<< HEAD\n", ("merge", "--abort"))
