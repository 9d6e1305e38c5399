"""`mergebert mine` over a list of repositories in which some entries are wrong: each wrong one is named in
one line on stderr, the others are mined, and the exit status says that something failed."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner, Result
from minerepo import HistoryBuilder

from mergebert.cli import main

HEAD = "class P {\n  void f() {\n    start();\n"
TAIL = "    end();\n  }\n}\n"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A repository with one conflicting merge."""
    builder = HistoryBuilder(str(tmp_path / "good.git"))
    sides = ({"F.java": HEAD + f"    {s}();\n" + TAIL} for s in ("x", "a", "b", "a"))
    builder.ref("refs/heads/main", builder.merge(*sides))
    return tmp_path / "good.git"


def mine(tmp_path: Path, *args: str | Path) -> Result:
    return CliRunner().invoke(main, ["mine", "-q", "-j", "1", "-o", str(tmp_path / "out"), *map(str, args)])


def assert_one_line_error(result: Result, *words: str) -> None:
    """Exit status 1, no traceback, one `mergebert: ...` line on stderr naming the entry and the cause."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = result.stderr.splitlines()
    assert line.startswith("mergebert: ") and all(word in line for word in words), line


def test_a_folder_that_is_not_a_repository_is_reported_and_the_rest_mined(tmp_path: Path, good) -> None:
    (tmp_path / "plain").mkdir()
    result = mine(tmp_path, tmp_path / "plain", good)
    assert_one_line_error(result, "plain", "not a git repository")
    assert (tmp_path / "out" / "good.regions.jsonl.gz").exists()
    assert result.stdout.startswith("good: ")


def test_comment_and_blank_lines_of_a_repos_file_are_ignored(tmp_path: Path, good) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# my repositories\n\n   \n{good}\n  # another comment\n")
    result = mine(tmp_path, "--repos-file", listing)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert (tmp_path / "out" / "good.regions.jsonl.gz").exists()


def test_a_url_that_cannot_be_cloned_is_reported_and_the_rest_mined(tmp_path: Path, good) -> None:
    url = (tmp_path / "missing.git").as_uri()
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{url}\n{good}\n")
    result = mine(tmp_path, "--repos-file", listing)
    assert_one_line_error(result, url, "cannot clone")
    assert (tmp_path / "out" / "good.regions.jsonl.gz").exists()


def test_a_folder_inside_a_work_tree_is_not_taken_for_the_repository_around_it(tmp_path: Path, good) -> None:
    pygit2.init_repository(str(tmp_path / "work"))
    (tmp_path / "work" / "src").mkdir()
    result = mine(tmp_path, tmp_path / "work" / "src", good)
    assert_one_line_error(result, "src", "not a git repository")
    assert sorted(path.name for path in (tmp_path / "out").iterdir())[0].startswith("good.")


@pytest.mark.parametrize("depth", [1, 2])
def test_a_shallow_clone_is_mined_and_said_to_be_shallow(tmp_path: Path, good, depth: int) -> None:
    import subprocess

    clone = tmp_path / "shallow"
    command = ["git", "clone", "-q", "--depth", str(depth), "-b", "main", good.as_uri(), str(clone)]
    subprocess.run(command, check=True)
    result = mine(tmp_path, clone)
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"mergebert: {clone}: a shallow clone") and "git fetch --unshallow" in line, line
