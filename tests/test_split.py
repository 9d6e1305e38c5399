"""`python -m training.split`: record files split by repository into the encoder's and the acceptor's
shares, so the acceptor is fitted on repositories the encoder never saw."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mergebert.data.records import read_records, write_records

REPOS = [f"acme/project-{n}" for n in range(12)]


def _records(kind: str) -> list[dict]:
    answer = {"resolution": "b\n"} if kind == "regions" else {"resolved": "b\n"}
    sides = {"base": "a\n", "ours": "b\n", "theirs": "c\n", **answer}
    return [
        {"repo": repo, "merge": f"m{n}", "path": f"{kind}{n}.java", **sides}
        for n, repo in enumerate(REPOS * 2)
    ]


def test_split_keeps_every_record_and_each_repository_in_one_share(tmp_path: Path) -> None:
    files = {kind: tmp_path / f"train2.{kind}.jsonl.gz" for kind in ("regions", "scenarios")}
    for kind, path in files.items():
        write_records(path, _records(kind))
    out = tmp_path / "split"
    completed = subprocess.run(
        [sys.executable, "-m", "training.split", str(out), *map(str, files.values())],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "records to encoder/" in completed.stdout
    repos_of_share: dict[str, set[str]] = {}
    for kind, path in files.items():
        written = {share: list(read_records([out / share / path.name])) for share in ("encoder", "acceptor")}
        assert sorted(map(str, written["encoder"] + written["acceptor"])) == sorted(map(str, _records(kind)))
        for share, records in written.items():
            repos = {record["repo"] for record in records}
            assert repos_of_share.setdefault(share, repos) == repos  # regions and scenarios split alike
    assert repos_of_share["encoder"] and repos_of_share["acceptor"]
    assert not repos_of_share["encoder"] & repos_of_share["acceptor"]
