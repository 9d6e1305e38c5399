"""`rerere.enabled`: a resolution the user recorded for a conflict is replayed by git after the merge, so
the merge driver must leave that conflict as git's own line merge writes it for rerere to find."""

from __future__ import annotations

import shutil

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    java,
)
from test_config_where_git_reads_it import PLACES, set_outside_files

from mergebert.git import rerere

NAME = "src/App.java"
BY_HAND = TOKEN_OURS.replace("0.0.0.0", "127.0.0.1")


def recorded(repo: GitRepo) -> str:
    """A merge git stopped on, resolved by hand and committed with rerere on; the merge is then undone.
    Returns the commit to merge again from."""
    repo.git("config", "rerere.enabled", "true")
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.write(NAME, BY_HAND)
    repo.git("add", NAME)
    repo.git("commit", "-q", "--no-edit")
    repo.git("reset", "-q", "--hard", start)
    return start


def replayed_both_ways(repo: GitRepo, start: str) -> tuple[tuple, tuple]:
    """The merge of feature by git alone, which must replay the recorded resolution, then, from `start`
    again, with the merge driver: (exit status, NAME's bytes, unmerged paths) each time."""
    alone = repo.git("merge", "--no-edit", "feature", check=False)
    assert "using previous resolution" in alone.stdout + alone.stderr
    expected = (alone.returncode, repo.read(NAME), repo.conflicted())
    repo.git("merge", "--abort")
    repo.git("reset", "-q", "--hard", start)
    repo.use_driver()
    with_driver = repo.git("merge", "--no-edit", "feature", check=False)
    return expected, (with_driver.returncode, repo.read(NAME), repo.conflicted())


@pytest.mark.parametrize("autocrlf", ["off", "local", *PLACES])
def test_a_recorded_resolution_is_replayed_as_without_mergebert(repo: GitRepo, autocrlf: str) -> None:
    """With core.autocrlf (in the repository's config, or where libgit2 does not look) the work tree has
    CRLF lines, and rerere names the conflicts by those."""
    if autocrlf in PLACES:
        set_outside_files(repo, autocrlf, "core.autocrlf", "true")
    else:
        repo.git("config", "core.autocrlf", str(autocrlf == "local").lower())
    expected, with_driver = replayed_both_ways(repo, recorded(repo))
    assert expected[1] == BY_HAND.encode()
    assert with_driver == expected


def test_without_a_recorded_resolution_mergebert_resolves(repo: GitRepo) -> None:
    repo.git("config", "rerere.enabled", "true")
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 0
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def two_conflicts(port: int) -> str:
    padding = "".join(f"        step({i});\n" for i in range(6))
    return java(f"int port = {port};", padding + f"        int backup = {port + 1};\n")


@pytest.mark.parametrize(("style", "size"), [("merge", 7), ("diff3", 7), ("zdiff3", 12)])
def test_the_conflict_id_is_the_one_git_records(repo: GitRepo, style: str, size: int) -> None:
    repo.git("config", "rerere.enabled", "true")
    repo.git("config", "merge.conflictStyle", style)
    repo.add_attributes(f"*.java conflict-marker-size={size}\n")
    repo.diverge(NAME, two_conflicts(8080), two_conflicts(9090), two_conflicts(7070))
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    (recorded_id,) = [entry.name for entry in (repo.path / ".git" / "rr-cache").iterdir()]
    merged = repo.read(NAME)
    assert merged.count(b"<" * size + b" ") == 2
    assert rerere.conflict_id(merged, size) == recorded_id


def test_a_command_that_replays_nothing_gets_mergebert_s_resolution(repo: GitRepo) -> None:
    """`git stash pop` does not run rerere: a recorded resolution of the same conflict is not git's to
    replay there, so mergebert resolves the conflict as usual."""
    start = recorded(repo)
    base = repo.git("rev-parse", f"{start}~1").stdout.strip()
    repo.git("checkout", "-q", base)
    repo.write(NAME, TOKEN_THEIRS)
    repo.git("stash", "-q")
    repo.git("checkout", "-q", "main")
    repo.use_driver()
    repo.git("stash", "pop", check=False)
    assert repo.read(NAME) == TOKEN_MERGED.encode()


@pytest.mark.parametrize("rerere_on", [False, True])
def test_the_driver_asks_git_for_its_line_merge_once_a_file(repo: GitRepo, tmp_path, rerere_on: bool) -> None:
    """Under `git merge` (ort) the driver needs git's own merge of the file to compare with, to write
    where it resolves nothing, to check rerere's record and to keep for `review --undo`: one `git
    merge-tree` gives all four."""
    repo.git("config", "rerere.enabled", str(rerere_on).lower())
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    trace = tmp_path / "trace"
    repo.env = {**repo.env, "GIT_TRACE": str(trace), "MERGEBERT_DAEMON": "0"}
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 0
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    runs = [line for line in trace.read_text().splitlines() if "built-in: git merge-tree" in line]
    assert len(runs) == 1, runs


def test_rerere_enabled_as_a_number_is_read_as_git_reads_a_boolean(repo: GitRepo) -> None:
    """git reads any non-zero number as true: rerere.enabled = 2 replays the recorded resolution."""
    start = recorded(repo)
    repo.git("config", "rerere.enabled", "2")
    expected, with_driver = replayed_both_ways(repo, start)
    assert with_driver == expected


PORT = "src/Port.java"


def stopped_with_undo(repo: GitRepo, *install: str) -> tuple[dict[str, bytes], str]:
    """NAME, which mergebert resolves, and PORT, which it cannot, merged with rerere as configured; first by
    git alone in a copy of the repository (returned: its MERGE_RR and rr-cache files), then with mergebert
    installed (`install`'s options), its resolution of NAME undone (`review --undo`). Returns also the
    commit merged into."""
    repo.commit({NAME: TOKEN_BASE, PORT: CLASH_BASE}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS, PORT: CLASH_THEIRS}, "theirs")
    repo.git("checkout", "-q", "main")
    start = repo.commit({NAME: TOKEN_OURS, PORT: CLASH_OURS}, "ours")
    plain = GitRepo(repo.path.parent / "plain", repo.env)
    shutil.copytree(repo.path, plain.path, symlinks=True)
    assert plain.git("merge", "--no-edit", "feature", check=False).returncode != 0
    git_alone = rerere_files(plain)
    repo.mergebert("install", *install, check=True)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    assert b"<<<<<<<" not in repo.read(NAME)
    undo = repo.mergebert("review", "--undo", NAME)
    assert undo.returncode == 0, undo.stdout
    return git_alone, start


def rerere_files(repo: GitRepo) -> dict[str, bytes]:
    """MERGE_RR and every file under rr-cache, by their paths in the git folder."""
    git = repo.path / ".git"
    found = [git / rerere.MERGE_RR] if (git / rerere.MERGE_RR).exists() else []
    found += [path for path in (git / "rr-cache").rglob("*") if path.is_file()]
    return {str(path.relative_to(git)): path.read_bytes() for path in found}


@pytest.mark.parametrize("install", [(), ("--no-confirm",)], ids=["confirm", "staged"])
def test_a_conflict_undone_is_recorded_as_git_records_it_and_its_resolution_replayed(
    repo: GitRepo, install: tuple[str, ...]
) -> None:
    """`review --undo` puts back git's conflict, which has no preimage (git found no markers at the stop):
    it records one as git does, so the resolution committed is git's to replay the next time."""
    repo.git("config", "rerere.enabled", "true")
    git_alone, start = stopped_with_undo(repo, *install)
    assert rerere_files(repo) == git_alone
    repo.write(NAME, BY_HAND)
    repo.write(PORT, CLASH_OURS)
    repo.git("add", NAME, PORT)
    committed = repo.git("commit", "-q", "--no-edit")
    assert f"Recorded resolution for '{NAME}'" in committed.stderr
    repo.git("reset", "-q", "--hard", start)
    again = repo.git("merge", "--no-edit", "feature", check=False)
    assert "using previous resolution" in again.stderr
    assert repo.read(NAME) == BY_HAND.encode()


def test_a_conflict_undone_is_not_recorded_with_rerere_off(repo: GitRepo) -> None:
    repo.git("config", "rerere.enabled", "false")
    git_alone, _ = stopped_with_undo(repo)
    assert git_alone == {} and rerere_files(repo) == {}
    assert not (repo.path / ".git" / "rr-cache").exists()
