"""`git merge -X ignore-space-change` and its kin with the merge driver installed.

Told to ignore whitespace, git's merge stands (the model does not run), so the driver must write exactly
what git alone writes: the same bytes, exit status and index. git's merge is ort's (histogram diff) or
the recursive strategy's; libgit2's whitespace-ignoring merge (Myers) places conflicts and takes lines of
one side or the other differently, and may conflict where git is clean. Each test builds one history,
copies the repository, runs the command there with git alone and here with the driver, and compares.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gitrepo import GitRepo

from mergebert.core import linemerge
from mergebert.core.options import MergeOptions, Whitespace
from mergebert.git import ortmerge

NAME = "src/A.java"


# git merges this cleanly ignoring space changes (histogram diff); libgit2's merge (Myers) conflicts, as it
# did on autofac's ServiceRegistrationInfo.cs (where its conflict showed theirs' change in another method)
CLEAN_BASE = """\
class A {
    void run() {
        y();
        int a;

        y();
        y();

        return;
    }
}
"""
CLEAN_OURS = """\
class A {
    void run() {
        int a;
        y();

        y();
    }

        return;
    }
}
"""
CLEAN_THEIRS = """\
class A {
    void run() {
        y();
        int a;

        if (c) {
        y();
        y();

        return;
    }
}
"""
# both conflict; libgit2 places the conflict elsewhere, and writes a line git writes as theirs indent it
# as ours indents it
PLACED_BASE = """\
class A {
    void m1() {
        a1();
    }

    void m2() {
        b2();
    }

    void m3() {
        b3();
        return;
    }

}
"""
PLACED_OURS = """\
class A {
    void m1() {
        a1();
    }

    void m2() {
          b2();
      void m2() {
          b2();
      }

    }

    void m3() {
        b3();
        return;
    }

}
"""
PLACED_THEIRS = """\
class A {
    void m1() {
    a1();
}

void m2() {
        b2();
    void m4() {
        b4();
    }

    }

    void m3() {
        b3();
        return;
    }

}
"""
# ignoring space at the end of lines: libgit2 ends the conflict earlier than git
AT_EOL_BASE = """\
class A {
    void m1() {
        x();
    }

    void m2() {
        return;
    }

}
"""
AT_EOL_OURS = """\
        return;
    }

}
"""
AT_EOL_THEIRS = """\
class A {
    void m1() {
    void m3() {
        x();
        x();
    }

        x();
    }

    void m2() {
          return;
      }

  }
"""
# ignoring all space: libgit2 ends the conflict before theirs' method header, git after it
ALL_SPACE_BASE = """\
class A {
    void m1() {
        b1();
    }

    void m2() {
        a2();
    }

}
"""
ALL_SPACE_OURS = """\
class A {
    void m1() {
        b1();
    }

    void m3() {
        b3();
    }

    void m2() {
        a2();
        x();

}
"""
ALL_SPACE_THEIRS = """\
class A {
    void m1() {
        b1();
    }
        x();
    void m2() {
        a2();
    }

}
"""

CASES: dict[str, tuple[tuple[str, str, str], Whitespace]] = {
    "clean": ((CLEAN_BASE, CLEAN_OURS, CLEAN_THEIRS), "ignore-space-change"),
    "placed": ((PLACED_BASE, PLACED_OURS, PLACED_THEIRS), "ignore-space-change"),
    "at-eol": ((AT_EOL_BASE, AT_EOL_OURS, AT_EOL_THEIRS), "ignore-space-at-eol"),
    "all-space": ((ALL_SPACE_BASE, ALL_SPACE_OURS, ALL_SPACE_THEIRS), "ignore-all-space"),
}


class Stop:
    """What a git command left: its exit status, the file's bytes, the index and the status."""

    def __init__(self, repo: GitRepo, command: tuple[str, ...]) -> None:
        done = repo.git(*command, check=False)
        self.returncode, self.stderr = done.returncode, done.stderr
        self.data = repo.read(NAME)
        self.index = repo.git("ls-files", "-s").stdout
        self.status = repo.git("status", "--porcelain").stdout
        self.head = repo.git("rev-parse", "HEAD^{tree}").stdout

    def same_as(self, other: Stop) -> None:
        assert (self.returncode, self.status, self.index) == (other.returncode, other.status, other.index)
        assert self.data == other.data
        assert self.head == other.head


def alone_then_driver(repo: GitRepo, *command: str, branch: str = "main") -> tuple[Stop, Stop]:
    """`command` run on `branch` by git alone in a copy of the repository, then here with the installed
    driver."""
    repo.git("checkout", "-q", branch)
    alone = GitRepo(repo.path.parent / "alone", repo.env)
    shutil.copytree(repo.path, alone.path)
    repo.use_driver()
    return Stop(alone, command), Stop(repo, command)


def _history(repo: GitRepo, case: str) -> Whitespace:
    sides, option = CASES[case]
    repo.diverge(NAME, *sides)
    return option


@pytest.mark.parametrize("case", CASES)
def test_the_case_is_one_libgit2_merges_otherwise(repo: GitRepo, case: str) -> None:
    """libgit2's whitespace-ignoring merge of the case is not git's, which is what the other tests pin."""
    option = _history(repo, case)
    repo.git("merge", "--no-edit", "-X", option, "feature", check=False)
    sides = CASES[case][0]
    whitespace = MergeOptions(labels=("HEAD", "base", "feature"), whitespace=(option,), engine="ort")
    assert linemerge.merge_bytes(*(side.encode() for side in sides), whitespace)[0] != repo.read(NAME)


@pytest.mark.parametrize("case", CASES)
def test_merge_ignoring_whitespace_writes_gits_merge(repo: GitRepo, case: str) -> None:
    option = _history(repo, case)
    alone, driven = alone_then_driver(repo, "merge", "--no-edit", "-X", option, "feature")
    driven.same_as(alone)
    assert (alone.returncode == 0) == (case == "clean")


def test_a_file_git_merges_cleanly_is_committed_as_git_commits_it(repo: GitRepo) -> None:
    """The QA's autofac case: git alone merges it and commits; with the driver it stopped with a conflict
    that showed theirs' change in another method."""
    option = _history(repo, "clean")
    alone, driven = alone_then_driver(repo, "merge", "--no-edit", "-X", option, "feature")
    assert alone.returncode == 0 and alone.status == ""
    driven.same_as(alone)
    assert "resolved" not in driven.stderr


@pytest.mark.parametrize("option", ["ignore-space-change", "ignore-all-space", "ignore-space-at-eol"])
@pytest.mark.parametrize("case", ["clean", "placed"])
def test_each_whitespace_option_writes_gits_merge(repo: GitRepo, case: str, option: str) -> None:
    _history(repo, case)
    alone, driven = alone_then_driver(repo, "merge", "--no-edit", f"-X{option}", "feature")
    driven.same_as(alone)


@pytest.mark.parametrize("case", ["clean", "placed", "at-eol"])
def test_the_recursive_strategy_ignoring_whitespace_writes_gits_merge(repo: GitRepo, case: str) -> None:
    option = _history(repo, case)
    alone, driven = alone_then_driver(repo, "merge", "--no-edit", "-s", "recursive", "-X", option, "feature")
    driven.same_as(alone)


@pytest.mark.parametrize("style", ["diff3", "zdiff3"])
@pytest.mark.parametrize("case", ["placed", "at-eol"])
def test_a_conflict_style_with_the_base_writes_gits_merge(repo: GitRepo, case: str, style: str) -> None:
    """The base's label is the short id of the merge base, as git writes it."""
    option = _history(repo, case)
    command = ("-c", f"merge.conflictStyle={style}", "merge", "--no-edit", "-X", option, "feature")
    alone, driven = alone_then_driver(repo, *command)
    assert b"||||||| " in alone.data
    driven.same_as(alone)


@pytest.mark.parametrize("case", ["clean", "placed"])
def test_rebase_ignoring_whitespace_writes_gits_merge(repo: GitRepo, case: str) -> None:
    _history(repo, case)
    alone, driven = alone_then_driver(repo, "rebase", "-X", "ignore-space-change", "main", branch="feature")
    driven.same_as(alone)


@pytest.mark.parametrize("case", ["clean", "placed"])
def test_cherry_pick_ignoring_whitespace_writes_gits_merge(repo: GitRepo, case: str) -> None:
    _history(repo, case)
    alone, driven = alone_then_driver(repo, "cherry-pick", "-X", "ignore-space-change", "feature")
    driven.same_as(alone)


def test_a_favoured_side_with_whitespace_ignored_writes_gits_merge(repo: GitRepo) -> None:
    _history(repo, "placed")
    command = ("merge", "--no-edit", "-X", "theirs", "-X", "ignore-space-change", "feature")
    alone, driven = alone_then_driver(repo, *command)
    assert alone.returncode == 0
    driven.same_as(alone)


def test_the_conflicts_left_say_why(repo: GitRepo) -> None:
    """The driver's line and `mergebert review` say that git's merge stands because git was told to
    ignore whitespace."""
    _history(repo, "placed")
    alone, driven = alone_then_driver(repo, "merge", "--no-edit", "-X", "ignore-space-change", "feature")
    reason = "git's merge with -X ignore-space-change stands"
    lines = [line for line in driven.stderr.splitlines() if line.startswith("mergebert: ")]
    assert lines == [f"mergebert: {NAME}: resolved 0 of 1 conflict (1 left: {reason}; mergebert review)"]
    assert reason in repo.mergebert("review").stdout


def test_merges_made_at_once_share_no_work_tree() -> None:
    """The daemon's threads may merge several files at once: each whitespace-ignoring merge has its own
    repository, HEAD and index, so each gives what it gives alone."""
    from concurrent.futures import ThreadPoolExecutor

    from mergebert.git import ortmerge

    jobs = [
        (tuple(side.encode() for side in sides), MergeOptions(whitespace=(option,), engine=engine))
        for sides, option in CASES.values()
        for engine in ("ort", "myers")
    ] * 3
    alone = [ortmerge.merge(*sides, options) for sides, options in jobs]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        together = list(pool.map(lambda job: ortmerge.merge(*job[0], job[1]), jobs))
    assert together == alone
    assert len({merged for merged, _ in alone}) > 1


def test_the_users_global_attributes_do_not_reach_gits_merge_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge made for the file runs without the user's attributes, as the one without `-X` does: a
    global `* merge=union` would settle the conflict git leaves."""
    (tmp_path / "git").mkdir()
    (tmp_path / "git" / "attributes").write_text("* merge=union\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    versions = (b"a\nb\nc\n", b"a\nB1\nc\n", b"a\nB2\nc\n")
    plain = ortmerge.merge(*versions, MergeOptions(engine="ort"))
    ignoring = ortmerge.merge(*versions, MergeOptions(engine="ort", whitespace=("ignore-space-change",)))
    assert ignoring == plain and plain[1] == 1
