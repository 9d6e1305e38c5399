"""A DIR mined in several runs (fewer merges first, an interrupted run, a rerun) ends as one uninterrupted
run leaves it, with stats that count this run's merges; other options than the DIR's are refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from minerepo import HistoryBuilder

from mergebert.cli import main

HEAD = "class P {\n  void f() {\n    start();\n"
TAIL = "    end();\n  }\n}\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Six merges, each resolving one conflict in a Java and one in a TypeScript file."""
    builder = HistoryBuilder(str(tmp_path / "repo.git"))
    for i in range(6):
        files = [
            {f"F{i}.java": HEAD + f"    {s}{i}();\n" + TAIL, f"F{i}.ts": f"let a = 1;\nf({s}{i});\n"}
            for s in ("x", "a", "b", "a")
        ]
        builder.ref(f"refs/heads/m{i}", builder.merge(*files))
    return tmp_path / "repo.git"


def mine(repo: Path, out: Path, *options: str) -> Result:
    return CliRunner().invoke(main, ["mine", "-q", "-j", "1", "-o", str(out), *options, str(repo)])


def stats(out: Path) -> dict:
    found = json.loads((out / "repo.stats.json").read_text())
    del found["seconds_last_run"]
    return found


def records(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_a_rerun_counts_its_own_merges(repo: Path, tmp_path: Path) -> None:
    assert mine(repo, tmp_path / "out").exit_code == 0
    rerun = mine(repo, tmp_path / "out", "--max-merges", "2")
    assert rerun.exit_code == 0 and rerun.stdout.startswith("repo: 2/2 merges (2 already done), ")
    found = stats(tmp_path / "out")
    assert (found["merges_listed"], found["merges_done"], found["merges_already_done"]) == (2, 2, 2)
    assert found["counts"]["merges"] == 6 and found["regions"] == 12


def test_a_run_cut_before_a_merge_is_marked_done_resumes_as_if_never_cut(repo: Path, tmp_path: Path) -> None:
    assert mine(repo, tmp_path / "full").exit_code == 0
    assert mine(repo, tmp_path / "cut").exit_code == 0
    done = tmp_path / "cut" / "repo.done.jsonl"
    done.write_text(
        "".join(done.read_text().splitlines(keepends=True)[:-1])
    )  # records written, not marked done
    assert mine(repo, tmp_path / "cut").exit_code == 0
    assert stats(tmp_path / "cut") == {**stats(tmp_path / "full"), "merges_already_done": 5}
    assert stats(tmp_path / "cut")["skipped"] == {}
    for kind in ("regions", "scenarios"):
        name = f"repo.{kind}.jsonl.gz"
        assert records(tmp_path / "cut" / name) == records(tmp_path / "full" / name)


def test_a_rerun_with_other_languages_is_refused(repo: Path, tmp_path: Path) -> None:
    assert mine(repo, tmp_path / "out", "--languages", "java").exit_code == 0
    before = (tmp_path / "out" / "repo.regions.jsonl.gz").read_bytes()
    rerun = mine(repo, tmp_path / "out")
    assert rerun.exit_code == 1
    (line,) = rerun.stderr.splitlines()
    assert "--languages java" in line and "fresh" in line, line
    assert (tmp_path / "out" / "repo.regions.jsonl.gz").read_bytes() == before
    assert mine(repo, tmp_path / "out", "--languages", "java").exit_code == 0
