"""A repository that yields no record still gets its output files, empty and valid, and a summary that
says why they are empty; a rerun resumes as over any other DIR."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner, Result
from minerepo import HistoryBuilder

from mergebert.cli import main

KINDS = ("done.jsonl", "regions.jsonl.gz", "scenarios.jsonl.gz", "stats.json")


def mine(out: Path, repo: Path) -> Result:
    result = CliRunner().invoke(main, ["mine", "-q", "-j", "1", "-o", str(out), str(repo)])
    assert result.exit_code == 0, result.output
    return result


def assert_empty_output(out: Path, name: str) -> None:
    assert sorted(path.name for path in out.iterdir()) == [f"{name}.{kind}" for kind in KINDS]
    for kind in ("regions", "scenarios"):
        with gzip.open(out / f"{name}.{kind}.jsonl.gz", "rt", encoding="utf-8") as lines:
            assert lines.read() == ""


def test_a_repository_without_merges_gets_empty_output_files(tmp_path: Path) -> None:
    builder = HistoryBuilder(str(tmp_path / "plain.git"))
    builder.ref("refs/heads/main", builder.commit({"A.java": "class A {}\n"}))
    for _ in range(2):  # the rerun resumes over the empty files
        result = mine(tmp_path / "out", tmp_path / "plain.git")
        assert_empty_output(tmp_path / "out", "plain")
    assert result.stdout.startswith("plain: 0/0 merges, 0 conflicts, 0 regions, 0 scenarios, ")
    assert result.stdout.rstrip().endswith("; no two-parent merge found: the output files hold no records")


def test_a_repository_whose_merges_have_no_conflict_says_so(tmp_path: Path) -> None:
    builder = HistoryBuilder(str(tmp_path / "clean.git"))
    files = {"A.java": "class A {}\n"}
    builder.ref("refs/heads/main", builder.merge(files, files, files, files))
    result = mine(tmp_path / "out", tmp_path / "clean.git")
    assert_empty_output(tmp_path / "out", "clean")
    assert result.stdout.startswith("clean: 1/1 merges, 0 conflicts, 0 regions, 0 scenarios, ")
    assert result.stdout.rstrip().endswith("; no conflict recorded: the output files hold no records")
    stats = json.loads((tmp_path / "out" / "clean.stats.json").read_text())
    assert (stats["merges_done"], stats["regions"], stats["scenarios"]) == (1, 0, 0)
