"""Throughput of `mergebert mine` on a generated repository, next to `git merge-tree --write-tree`.

    python benchmarks/mine_throughput.py [--merges 600] [--files 40] [--jobs 1 2] [--scheduler local:2]
                                         [--chunk-merges 100]

Builds a bare repository whose main line is a chain of merges: each merge joins two branches that
edit a few files of a 200-line Java/JS/TS/C# code base, half of them on the same lines (conflicts,
resolved by taking one side or both). Then times mining every merge with each `--jobs` (a local process
pool), with each `--scheduler` (a Dask cluster, `local:N` = a LocalCluster of N worker processes, started
before the clock starts; needs the [cluster] extra) and `git merge-tree --write-tree` (one process per
merge, as a script over git would run it) over the same merges.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
import time
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from mergebert.data.mining import MineOptions, mine_repository
from mergebert.data.mining.walk import list_merges

EXTENSIONS = (".java", ".js", ".ts", ".cs")
LINES = 200


def _file(index: int) -> list[str]:
    return [f"    int value{index}_{line} = compute({line}, {index});\n" for line in range(LINES)]


class _Builder:
    def __init__(self, path: str) -> None:
        self.repo = pygit2.init_repository(path, bare=True)
        self.time = 1_600_000_000

    def commit(self, files: dict[str, list[str]], parents: list[pygit2.Oid]) -> pygit2.Oid:
        index = pygit2.Index()
        for name, lines in files.items():
            index.add(pygit2.IndexEntry(name, self.repo.create_blob("".join(lines).encode()), FileMode.BLOB))
        self.time += 60
        who = pygit2.Signature("Bench", "bench@example.com", self.time, 0)
        return self.repo.create_commit(None, who, who, "c", index.write_tree(self.repo), parents)


def build(path: str, merges: int, files: int, seed: int = 7) -> int:
    """A chain of `merges` merges; returns how many of their files conflict."""
    rng = random.Random(seed)
    builder = _Builder(path)
    tree = {f"src/f{i}{EXTENSIONS[i % 4]}": _file(i) for i in range(files)}
    tip = builder.commit(tree, [])
    conflicting = 0
    for m in range(merges):
        ours, theirs, merged = ({k: list(v) for k, v in tree.items()} for _ in range(3))
        for name in rng.sample(sorted(tree), 3):
            line_ours = rng.randrange(LINES)
            clash = rng.random() < 0.5
            line_theirs = line_ours if clash else (line_ours + LINES // 2) % LINES
            text_ours = f"    int ours{m} = compute({line_ours}, {m});\n"
            text_theirs = f"    int theirs{m} = compute({line_theirs}, {m});\n"
            ours[name][line_ours] = text_ours
            theirs[name][line_theirs] = text_theirs
            merged[name][line_ours] = text_ours
            if clash:
                conflicting += 1
                merged[name][line_theirs] = rng.choice([text_ours, text_theirs, text_ours + text_theirs])
            else:
                merged[name][line_theirs] = text_theirs
        left = builder.commit(ours, [tip])
        right = builder.commit(theirs, [tip])
        tip = builder.commit(merged, [left, right])
        tree = merged
    builder.repo.references.create("refs/heads/main", tip)
    return conflicting


def _report(label: str, seconds: float, stats: dict) -> None:
    conflicts = stats["counts"].get("conflicts", 0)
    rate = stats["merges_done"] / seconds
    print(
        f"{label}: {seconds:6.2f} s  {rate:7.1f} merges/s  "
        f"{conflicts / seconds:7.1f} conflicts/s  ({conflicts} conflicts, {stats['regions']} regions)"
    )


def _on_cluster(repo_path: str, out: Path, scheduler: str, chunk: int) -> None:
    """Mine on a Dask cluster: the clock starts once a LocalCluster's workers are up."""
    from mergebert.data.mining.cluster import connect, mine_on_cluster

    options = MineOptions(progress=False, chunk_merges=chunk)
    with connect(scheduler) as client:
        client.wait_for_workers(1)
        start = time.perf_counter()
        (stats,) = mine_on_cluster([repo_path], out, options, client.scheduler.address)
        seconds = time.perf_counter() - start
    _report(f"mergebert mine --scheduler {scheduler} (units of {chunk})", seconds, stats)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--merges", type=int, default=600)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scheduler", nargs="+", default=[], help="Dask schedulers: ADDRESS or local:N.")
    parser.add_argument("--chunk-merges", type=int, default=100, help="Merges a unit on the cluster.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mergebert-bench-") as scratch:
        repo_path = str(Path(scratch) / "bench.git")
        start = time.perf_counter()
        conflicting = build(repo_path, args.merges, args.files)
        built = time.perf_counter() - start
        print(f"generated {args.merges} merges ({conflicting} conflicting files) in {built:.1f} s")
        for jobs in args.jobs:
            out = Path(scratch) / f"out{jobs}"
            start = time.perf_counter()
            stats = mine_repository(repo_path, out, MineOptions(jobs=jobs, progress=False))
            _report(f"mergebert mine --jobs {jobs}", time.perf_counter() - start, stats)
        for scheduler in args.scheduler:
            _on_cluster(repo_path, Path(scratch) / f"out-{scheduler}", scheduler, args.chunk_merges)
        repo = pygit2.Repository(repo_path)
        pairs = [[str(p) for p in repo[merge.oid].parent_ids] for merge in list_merges(repo)]
        start = time.perf_counter()
        for ours, theirs in pairs:
            subprocess.run(
                ["git", "-C", repo_path, "merge-tree", "--write-tree", ours, theirs],
                stdout=subprocess.DEVNULL,
                check=False,
            )
        seconds = time.perf_counter() - start
        rate = len(pairs) / seconds
        print(f"git merge-tree --write-tree: {seconds:6.2f} s  {rate:7.1f} merges/s  (one process a merge)")


if __name__ == "__main__":
    main()
