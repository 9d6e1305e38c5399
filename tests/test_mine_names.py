"""Each repository mined into a DIR gets a name (and output files) of its own, the same on every run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pygit2
from click.testing import CliRunner, Result
from minerepo import HistoryBuilder

from mergebert.cli import main
from mergebert.data.mining.walk import repo_name

HEAD = "class P {\n  void f() {\n    start();\n"
TAIL = "    end();\n  }\n}\n"


def build(path: Path, conflicts: int) -> None:
    """A repository (no origin remote) with `conflicts` merges, each resolving one conflict."""
    builder = HistoryBuilder(str(path))
    for i in range(conflicts):
        sides = ({f"F{i}.java": HEAD + f"    {s}{i}();\n" + TAIL} for s in ("x", "a", "b", "a"))
        builder.ref(f"refs/heads/m{i}", builder.merge(*sides))


def mine(out: Path, *sources: Path) -> Result:
    result = CliRunner().invoke(main, ["mine", "-q", "-j", "1", "-o", str(out), *map(str, sources)])
    assert result.exit_code == 0, result.output
    return result


def repos_in(path: Path) -> set[str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return {json.loads(line)["repo"] for line in lines}


def test_two_repositories_in_folders_of_one_name_get_names_of_their_own(tmp_path: Path) -> None:
    first, second = tmp_path / "team-a" / "app", tmp_path / "team-b" / "app"
    build(first, 1)
    build(second, 2)
    result = mine(tmp_path / "out", first, second)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["app", "app-2"]
    assert f"another repository in {tmp_path / 'out'} is named app" in result.stderr
    for name, source, merges in (("app", first, 1), ("app-2", second, 2)):
        stats = json.loads((tmp_path / "out" / f"{name}.stats.json").read_text())
        assert (stats["repo"], stats["path"], stats["merges_done"]) == (name, str(source), merges)
        assert repos_in(tmp_path / "out" / f"{name}.regions.jsonl.gz") == {name}

    again = mine(tmp_path / "out", second, first)  # in the other order: the same names, nothing new
    assert [line.split(":")[0] for line in again.stdout.splitlines()] == ["app-2", "app"]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(
        f"{name}.{kind}"
        for name in ("app", "app-2")
        for kind in ("done.jsonl", "regions.jsonl.gz", "scenarios.jsonl.gz", "stats.json")
    )


def test_a_clone_of_a_dot_git_folder_is_named_after_the_repository(tmp_path: Path) -> None:
    clone = pygit2.init_repository(str(tmp_path / "clone"))
    clone.remotes.create("origin", str(tmp_path / "src" / "proj" / ".git"))
    assert repo_name(clone) == "src/proj"
    clone.remotes.set_url("origin", "https://example.com/acme/proj.git/")
    assert repo_name(clone) == "acme/proj"


def checkout(path: Path, conflicts: int) -> Path:
    """A repository with a work tree at `path` (its git directory `path/.git`), no origin remote."""
    build(path / ".git", conflicts)
    pygit2.Repository(str(path / ".git")).config["core.bare"] = False
    return path


def test_one_repository_however_its_path_is_typed_is_mined_once(tmp_path: Path, monkeypatch) -> None:
    proj = checkout(tmp_path / "proj", 2)
    (tmp_path / "link").symlink_to(proj)
    repo = pygit2.Repository(str(proj))
    (tmp_path / "other").mkdir()
    repo.add_worktree("other", str(tmp_path / "other" / "proj"), repo.references["refs/heads/m0"])
    monkeypatch.chdir(tmp_path)
    first = mine(tmp_path / "out", proj / ".git")
    assert first.stdout.startswith("proj: 2/2 merges, ")
    linked = tmp_path / "other" / "proj"  # a linked work tree of it, in a folder of the same name
    for typed in (proj, Path("./proj/"), tmp_path / "link", tmp_path / "link" / ".git", linked):
        again = mine(tmp_path / "out", typed)
        assert again.stdout.startswith("proj: 2/2 merges (2 already done), "), (typed, again.output)
        assert again.stderr == ""
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        f"proj.{kind}" for kind in ("done.jsonl", "regions.jsonl.gz", "scenarios.jsonl.gz", "stats.json")
    ]


def test_a_dir_that_recorded_the_path_as_typed_keeps_its_names(tmp_path: Path) -> None:
    proj = checkout(tmp_path / "proj", 1)
    mine(tmp_path / "out", proj)
    done = tmp_path / "out" / "proj.done.jsonl"
    header, *merges = done.read_text().splitlines(keepends=True)
    older = json.dumps({**json.loads(header), "repository": str(proj)}) + "\n"  # as earlier releases wrote
    done.write_text(older + "".join(merges))
    again = mine(tmp_path / "out", proj / ".git")
    assert again.stdout.startswith("proj: 1/1 merges (1 already done), ") and again.stderr == ""


def test_a_linked_work_tree_is_named_after_its_repository_and_mined_once(tmp_path: Path) -> None:
    """The work tree's own folder (`proj-wt`) names nothing: the repository it belongs to is `proj`."""
    proj = checkout(tmp_path / "proj", 2)
    repo = pygit2.Repository(str(proj))
    repo.add_worktree("wt", str(tmp_path / "proj-wt"), repo.references["refs/heads/m0"])
    assert repo_name(pygit2.Repository(str(tmp_path / "proj-wt"))) == "proj"
    mine(tmp_path / "out", proj)
    again = mine(tmp_path / "out", tmp_path / "proj-wt")
    assert again.stdout.startswith("proj: 2/2 merges (2 already done), ") and again.stderr == ""
    stats = json.loads((tmp_path / "out" / "proj.stats.json").read_text())
    assert stats["path"] == str(proj / ".git")  # the repository's git folder, not the path as typed
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        f"proj.{kind}" for kind in ("done.jsonl", "regions.jsonl.gz", "scenarios.jsonl.gz", "stats.json")
    ]


def test_a_linked_work_tree_of_a_bare_repository_is_named_after_it(tmp_path: Path) -> None:
    build(tmp_path / "plain.git", 1)
    repo = pygit2.Repository(str(tmp_path / "plain.git"))
    repo.add_worktree("wt", str(tmp_path / "checkout"), repo.references["refs/heads/m0"])
    assert repo_name(pygit2.Repository(str(tmp_path / "checkout"))) == "plain"
