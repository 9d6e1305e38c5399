"""What the merge driver costs per file, counted in the commands it starts and the walks it makes (not
timed): a file git merges cleanly costs git merge-file and the rename of its result; a conflicted file
costs the merge base of the merge (a walk of the history) only where the base's label is written or a
rename needs it, and then once; a remerge diff walks the history once per process, and not at all where
git passes the labels; a conflict git makes again on request starts no Python."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gitrepo import GitRepo

LOGGED = ("mv", "rm")  # the commands counted besides git, each logged by a wrapper first on PATH
FILES = 3


def counting(repo: GitRepo, folder: Path) -> Path:
    """Log the commands the repository's git and its merge driver start: git's by its trace (git puts its
    own folder first on the driver's PATH), LOGGED's by wrappers first on PATH; returns the log."""
    folder.mkdir()
    log = folder / "log"
    searched = repo.env["PATH"].split(os.pathsep)
    for name in LOGGED:
        real = next(os.path.join(d, name) for d in searched if os.access(os.path.join(d, name), os.X_OK))
        wrapper = folder / name
        wrapper.write_text(f'#!/bin/sh\necho "start {name} $*" >>"{log}"\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)
    repo.env.update(PATH=f"{folder}{os.pathsep}{repo.env['PATH']}", GIT_TRACE2=str(log), GIT_TRACE2_BRIEF="1")
    return log


def started(log: Path, name: str) -> list[str]:
    """The logged command lines of `name`: a command (`mv`) or a git command (`git merge-base`), whatever
    options come before it (`git --git-dir D merge-base`)."""
    program, _, command = name.partition(" ")
    lines = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return [
        " ".join(words)
        for words in lines
        if words[:2] == ["start", program] and (not command or command in words[2:])
    ]


def numbered(text: str, count: int = 12) -> str:
    return "".join(f"{text} {n}\n" for n in range(count))


def test_a_file_merged_cleanly_costs_merge_file_and_one_rename(repo: GitRepo, tmp_path: Path) -> None:
    base = numbered("line")
    ours = base.replace("line 1\n", "ours 1\n")
    theirs = base.replace("line 10\n", "theirs 10\n")
    repo.diverge("a.txt", base, ours, theirs)
    repo.use_driver()
    log = counting(repo, tmp_path / "bin")
    repo.git("merge", "--no-edit", "feature")
    assert repo.read("a.txt").decode() == ours.replace("line 10\n", "theirs 10\n")
    assert len(started(log, "git merge-file")) == 1
    assert (len(started(log, "mv")), started(log, "rm")) == (1, [])


def conflicted_merge(repo: GitRepo) -> None:
    """FILES files that conflict, each on its own, merged from branch feature into main."""
    names = [f"f{n}.txt" for n in range(FILES)]
    repo.stop_on(
        {name: (numbered("line"), numbered(f"ours {name}"), numbered(f"theirs {name}")) for name in names}
    )
    repo.git("merge", "--abort")


@pytest.mark.parametrize("style", ["merge", "diff3"])
def test_the_merge_base_is_found_only_where_its_label_is_written(
    repo: GitRepo, tmp_path: Path, style: str
) -> None:
    repo.git("config", "merge.conflictStyle", style)
    conflicted_merge(repo)
    alone = repo.git("merge", "--no-edit", "feature", check=False)
    expected = [repo.read(f"f{n}.txt") for n in range(FILES)]
    repo.git("merge", "--abort")
    repo.use_driver()
    log = counting(repo, tmp_path / "bin")
    merged = repo.git("merge", "--no-edit", "feature", check=False)
    assert (merged.returncode, [repo.read(f"f{n}.txt") for n in range(FILES)]) == (alone.returncode, expected)
    bases = started(log, "git merge-base")
    assert len(bases) == (FILES if style == "diff3" else 0), bases


def merged_with_a_conflict(repo: GitRepo) -> tuple[bytes, bytes]:
    """A merge commit on main whose parents hold conflicting versions of a.txt (ours, theirs)."""
    ours, theirs = numbered("ours"), numbered("theirs")
    repo.diverge("a.txt", numbered("line"), ours, theirs)
    repo.git("merge", "-q", "--no-edit", "-X", "ours", "feature")
    return ours.encode(), theirs.encode()


GIVEN = {"%S": "given-base", "%X": "given-ours", "%Y": "given-theirs"}


def labelled_driver() -> str:
    """The driver command `mergebert install` writes for git 2.44 or later, with the labels git passes
    there (%S %X %Y) written in as GIVEN, as git 2.39 cannot fill them in."""
    from mergebert.git import install

    command = install.driver_command(install.LABELS_SINCE)
    for placeholder, label in GIVEN.items():
        command = command.replace(placeholder, label)
    return command


def test_labels_git_passes_spare_the_search_for_the_remerged_merge(repo: GitRepo, tmp_path: Path) -> None:
    """A remerge diff's labels name the merge's parents (`abc1234 (subject)`, abbreviated by `git
    rev-parse --short`) once the driver has found the merge among the commits; given the labels, it
    looks for no merge and names no commit, and writes the labels it was given."""
    from mergebert.git import install

    merged_with_a_conflict(repo)
    parents = repo.git("rev-parse", "HEAD^1", "HEAD^2").stdout.split()
    alone = repo.git("show", "--remerge-diff", "HEAD").stdout
    assert "<<<<<<< " in alone
    log = counting(repo, tmp_path / "bin")

    def named() -> list[str]:
        """The commits the driver has abbreviated so far, by their full ids."""
        return [line.split()[-1] for line in started(log, "git rev-parse") if "--short" in line.split()]

    repo.use_driver(command=labelled_driver())
    given = repo.git("show", "--remerge-diff", "HEAD").stdout
    assert (named(), "<<<<<<< given-ours\n" in given, ">>>>>>> given-theirs\n" in given) == ([], True, True)
    repo.use_driver(command=install.driver_command((2, 43)))  # no labels (git < 2.44): it looks for them
    assert repo.git("show", "--remerge-diff", "HEAD").stdout == alone
    assert sorted(named()) == sorted(parents)


def test_a_remerge_diff_walks_the_history_once_per_process(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pygit2

    from mergebert.git import gitinfo

    ours, theirs = merged_with_a_conflict(repo)
    monkeypatch.chdir(repo.path)
    walks = []
    walk = pygit2.Repository.walk
    monkeypatch.setattr(pygit2.Repository, "walk", lambda self, *a: walks.append(a) or walk(self, *a))
    opened = gitinfo.open_repo(".")
    calling = ["log", "--remerge-diff"]
    found = [gitinfo.remerged_sides(opened, calling, "a.txt", ours, theirs, base=False) for _ in range(3)]
    subjects = [label.split(" ", 1)[1] for label in found[0].labels[::2]]
    assert (subjects, found[0].labels[1], len(walks)) == (["(ours)", "(theirs)"], "base", 1)
    assert found[1:] == found[:2]


def test_a_renamed_file_finds_the_base_it_needs_in_the_merge_style(repo: GitRepo, tmp_path: Path) -> None:
    """A side renamed the file: the labels need the path on each side, which the base tells; the merge
    base is then found once, by Python (the shell has no use for it)."""
    old, new = "Old.txt", "New.txt"
    repo.commit({old: numbered("line")}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("mv", old, new)
    repo.commit({new: numbered("line").replace("line 0", "theirs 0")}, "rename and change")
    repo.git("checkout", "-q", "main")
    repo.commit({old: numbered("line").replace("line 0", "ours 0")}, "change")
    alone = repo.git("merge", "--no-edit", "feature", check=False)
    expected = repo.read(new)
    assert b"<<<<<<< HEAD:Old.txt" in expected
    repo.git("merge", "--abort")
    repo.use_driver()
    log = counting(repo, tmp_path / "bin")
    merged = repo.git("merge", "--no-edit", "feature", check=False)
    assert (merged.returncode, repo.read(new)) == (alone.returncode, expected)
    assert len(started(log, "git merge-base")) == 1


REMAKING = [("checkout", "-m"), ("checkout", "--conflict=diff3"), ("checkout", "--conflict", "zdiff3")]


@pytest.mark.parametrize("command", [*REMAKING, ("restore", "--merge")])
def test_a_conflict_made_again_on_request_is_gits_without_python(
    repo: GitRepo, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """`git checkout -m -- PATH` and the like make git's own conflict again: the shell entry writes it."""
    import shlex
    import sys

    from mergebert.git import install

    repo.git("config", "merge.conflictStyle", "diff3")
    conflicted_merge(repo)
    repo.git("merge", "--no-edit", "feature", check=False)
    repo.write("f0.txt", "edited\n")
    alone = repo.git(*command, "--", "f0.txt", check=False)
    expected = repo.read("f0.txt")
    assert b"<<<<<<< ours\n" in expected
    repo.write("f0.txt", "edited\n")
    driver = install.driver_command(install.git_version())
    repo.use_driver(command=driver.replace(shlex.quote(sys.executable), str(tmp_path / "no-python")))
    again = repo.git("-C", ".", "--no-pager", *command, "--", "f0.txt", check=False)
    assert (again.returncode, repo.read("f0.txt"), again.stderr) == (alone.returncode, expected, alone.stderr)
