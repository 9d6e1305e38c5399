"""`mergebert mine --scheduler` on a Dask LocalCluster of two worker processes writes exactly what
`mergebert mine -j 1` writes: long histories in chunks, clone URLs, resumed runs, a worker killed mid-run."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from minerepo import HistoryBuilder

distributed = pytest.importorskip(
    "distributed", reason="the [cluster] extra is not installed: pip install 'mergebert[cluster]'"
)

HEAD = "class P {\n  void f() {\n    start();\n"
TAIL = "    end();\n  }\n}\n"


def build(path: Path, merges: int, origin: str | None = None) -> None:
    """`merges` merges, each resolving one conflict in one of five Java files; merges 11, 19, 27... repeat
    the conflict and resolution of merge 3 (duplicates, in later chunks), and the last is reachable only
    from a pull-request ref."""
    builder = HistoryBuilder(str(path), origin)
    for i in range(merges):
        key = 3 if i % 8 == 3 else i
        ours, base, theirs = (f"    {side}{key}();\n" for side in ("a", "x", "b"))
        resolution = (ours, theirs, ours + theirs, f"    c{key}();\n")[key % 4]
        name = f"src/F{key % 5}.java"
        merge = builder.merge(*({name: HEAD + body + TAIL} for body in (base, ours, theirs, resolution)))
        builder.ref("refs/pull/1/head" if i == merges - 1 else f"refs/heads/m{i}", merge)


def mine(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["mergebert", "mine", "-q", *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def merges_done(done: Path) -> list[str]:
    """The merges a .done.jsonl lists (after its first line, which names the repository)."""
    lines = done.read_text().split("\n")[1:-1] if done.exists() else []  # not a line being written
    return [json.loads(line)["merge"] for line in lines]


def read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def assert_same_output(serial: Path, cluster: Path) -> None:
    """The same files with the same records, done lists and stats (but the run's seconds)."""
    names = sorted(path.name for path in serial.iterdir())
    assert sorted(path.name for path in cluster.iterdir()) == names
    for name in names:
        if name.endswith(".jsonl.gz"):
            assert read(cluster / name) == read(serial / name), name
        elif name.endswith(".done.jsonl"):
            assert (cluster / name).read_text() == (serial / name).read_text(), name
        else:
            stats = [json.loads((folder / name).read_text()) for folder in (serial, cluster)]
            for one in stats:
                del one["seconds_last_run"]
            assert stats[1] == stats[0], name


@pytest.fixture(scope="module")
def cluster() -> distributed.LocalCluster:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


def test_cluster_run_writes_what_a_serial_run_writes(cluster, tmp_path: Path) -> None:
    build(tmp_path / "big.git", 30, "git@github.com:acme/big.git")
    build(tmp_path / "small.git", 3)
    sources = tmp_path / "repos.txt"
    sources.write_text(f"{tmp_path / 'big.git'}\n{(tmp_path / 'small.git').as_uri()}\n")

    mine("-j", "1", "-o", tmp_path / "serial", "--repos-file", sources)
    printed = mine(
        "--scheduler", cluster.scheduler_address, "--chunk-merges", "4", "-o", tmp_path / "cluster",
        "--repos-file", sources,
    ).stdout  # fmt: skip

    assert_same_output(tmp_path / "serial", tmp_path / "cluster")
    assert [line.split(":")[0] for line in printed.splitlines()] == ["acme/big", f"{tmp_path.name}/small"]
    stats = json.loads((tmp_path / "cluster" / "acme__big.stats.json").read_text())
    assert stats["merges_done"] == 30 and stats["skipped"]["skipped region: duplicate"] == 3
    assert read(tmp_path / "cluster" / "acme__big.regions.jsonl.gz")[-1]["pr_ref_only"] is True
    assert read(tmp_path / "cluster" / f"{tmp_path.name}__small.regions.jsonl.gz"), "the clone was mined"
    with distributed.Client(cluster) as client:
        scratch = client.run(lambda dask_worker: os.listdir(dask_worker.local_directory))
    assert not [name for names in scratch.values() for name in names if name.startswith("mergebert-clone-")]


def test_cluster_run_resumes_like_a_serial_run(cluster, tmp_path: Path) -> None:
    build(tmp_path / "repo.git", 12)
    for folder in ("serial", "cluster"):
        mine("-j", "1", "--max-merges", "5", "-o", tmp_path / folder, tmp_path / "repo.git")
    mine("-j", "1", "-o", tmp_path / "serial", tmp_path / "repo.git")
    mine("--scheduler", cluster.scheduler_address, "--chunk-merges", "2", "-o", tmp_path / "cluster",
         tmp_path / "repo.git")  # fmt: skip
    assert_same_output(tmp_path / "serial", tmp_path / "cluster")


def test_killing_a_worker_mid_run_loses_and_repeats_nothing(tmp_path: Path) -> None:
    merges = 240
    build(tmp_path / "repo.git", merges)
    mine("-j", "1", "-o", tmp_path / "serial", tmp_path / "repo.git")
    done = tmp_path / "cluster" / "repo.done.jsonl"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as client,
    ):
        victim = next(iter(client.run(os.getpid).values()))
        run = subprocess.Popen(
            ["mergebert", "mine", "-q", "--scheduler", local.scheduler_address, "--chunk-merges", "8",
             "-o", str(tmp_path / "cluster"), str(tmp_path / "repo.git")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not merges_done(done) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        written_before_kill = len(merges_done(done))
        os.kill(victim, signal.SIGKILL)
        _, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    assert 0 < written_before_kill < merges, "the worker must die while the run goes on"
    assert_same_output(tmp_path / "serial", tmp_path / "cluster")
    oids = merges_done(done)
    assert len(oids) == len(set(oids)) == merges


def test_a_repository_that_cannot_be_mined_is_named_and_the_others_mined(cluster, tmp_path: Path) -> None:
    build(tmp_path / "repo.git", 3)
    (tmp_path / "plain").mkdir()
    result = subprocess.run(
        ["mergebert", "mine", "-q", "--scheduler", cluster.scheduler_address, "-o", str(tmp_path / "out"),
         str(tmp_path / "plain"), str(tmp_path / "repo.git")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == f"mergebert: {tmp_path / 'plain'}: not a git repository\n"
    assert result.stdout.startswith("repo: 3/3 merges")
