"""`mergebert mine --scheduler`: the repositories' merges mined on a Dask cluster (the `[cluster]` extra).

Workers plan each repository (list its merges) and mine work units: a repository's merges, in chunks of
`MineOptions.chunk_merges` for a long history. Only this client writes the output files, and it writes each
repository's outcomes in merge order, oldest first across chunks, through the same `RepositoryOutput` as a
local run: the same records, de-duplication, `.stats.json` and `.done.jsonl`. A unit whose worker dies runs
again elsewhere (Dask reschedules it); merges already written are not written again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dask.distributed import Client, Future, LocalCluster, as_completed, get_worker

from mergebert.data.mining.miner import (
    MergeOutcome,
    MineOptions,
    RepositoryError,
    RepositoryOutput,
    RepositoryPlan,
    claim_name,
    mine_unit,
    plan_repository,
)
from mergebert.data.mining.walk import MergeRef
from mergebert.data.progress import Progress

RETRIES = 3  # a unit that raises runs again this many times (a dead worker's units always run again)


@contextmanager
def connect(scheduler: str) -> Iterator[Client]:
    """A client of the scheduler at ADDRESS, or of a LocalCluster of N worker processes for `local:N`."""
    if not scheduler.startswith("local:"):
        with Client(scheduler) as client:
            yield client
        return
    workers = int(scheduler.removeprefix("local:"))
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster, Client(cluster) as client:
        yield client


def _scratch() -> str | None:
    """The worker's own scratch folder (where clones go)."""
    try:
        return get_worker().local_directory
    except ValueError:  # not on a worker
        return None


def _plan_task(source: str, options: MineOptions) -> RepositoryPlan | RepositoryError:
    """The repository's plan, or why it cannot be mined (the other repositories go on)."""
    try:
        return plan_repository(source, options, _scratch())
    except RepositoryError as err:
        return err


def _unit_task(
    source: str, name: str, merges: Sequence[MergeRef], languages: frozenset[str] | None
) -> list[MergeOutcome]:
    return mine_unit(source, name, merges, languages, _scratch())


@dataclass
class _Repository:
    """One repository being mined: its output and the chunks that came back before their turn."""

    index: int  # position among the sources
    plan: RepositoryPlan
    output: RepositoryOutput
    chunks: int
    start: float
    written: int = 0  # chunks written so far, in order
    arrived: dict[int, list[MergeOutcome]] = field(default_factory=dict)


class _Run:
    """The client's side of one `mine --scheduler` run."""

    def __init__(self, client: Client, sources: Sequence[str], out_dir: Path, options: MineOptions) -> None:
        self.client, self.sources, self.out_dir, self.options = client, sources, out_dir, options
        self.pending = as_completed(with_results=True)
        self.tasks: dict[str, tuple[str, Any]] = {}  # future key -> ("plan", (index, start)) | ("unit", ...)
        self.active: dict[str, _Repository] = {}  # by name: one repository of a name at a time
        self.waiting: dict[str, list[tuple[int, RepositoryPlan, float]]] = {}
        self.stats: dict[int, dict[str, Any] | RepositoryError] = {}
        self.progress = Progress(0, "mine", "merges") if options.progress else None

    def _submit(self, kind: str, tag: Any, function: Any, *args: Any) -> None:
        future: Future = self.client.submit(function, *args, retries=RETRIES, pure=False)
        self.tasks[future.key] = (kind, tag)
        self.pending.add(future)

    def run(self) -> list[dict[str, Any] | RepositoryError]:
        for index, source in enumerate(self.sources):
            self._submit("plan", (index, time.monotonic()), _plan_task, source, self.options)
        for future, result in self.pending:
            kind, tag = self.tasks.pop(future.key)
            if kind == "plan" and isinstance(result, RepositoryError):
                self.stats[tag[0]] = result
            elif kind == "plan":
                index, start = tag
                self._start(index, result, start)
            else:
                name, chunk = tag
                self._receive(self.active[name], chunk, result)
        if self.progress:
            self.progress.close()
        return [self.stats[index] for index in range(len(self.sources))]

    def _start(self, index: int, plan: RepositoryPlan, start: float) -> None:
        plan = claim_name(self.out_dir, plan)
        if plan.name in self.active:
            self.waiting.setdefault(plan.name, []).append((index, plan, start))
            return
        try:
            output = RepositoryOutput(self.out_dir, plan, self.options)
        except RepositoryError as err:
            self.stats[index] = err
            self._start_waiting(plan.name)
            return
        todo = output.todo()
        size = max(1, self.options.chunk_merges)
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        repository = _Repository(index, plan, output, len(chunks), start)
        self.active[plan.name] = repository
        if self.progress:
            self.progress.total += len(todo)
        for number, chunk in enumerate(chunks):
            args = (self.sources[index], plan.name, chunk, self.options.languages)
            self._submit("unit", (plan.name, number), _unit_task, *args)
        if not chunks:
            self._finish(repository)

    def _receive(self, repository: _Repository, chunk: int, outcomes: list[MergeOutcome]) -> None:
        repository.arrived[chunk] = outcomes
        output = repository.output
        while repository.written in repository.arrived:
            for outcome in repository.arrived.pop(repository.written):
                output.add(outcome)
            repository.written += 1
        if repository.written == repository.chunks:
            self._finish(repository)
        if self.progress:
            self.progress.update(
                len(outcomes),
                note=f"{len(self.stats)}/{len(self.sources)} repositories, {output.counts['conflicts']} "
                f"conflicts, {len(output.region_ids)} regions ({repository.plan.name})",
            )

    def _finish(self, repository: _Repository) -> None:
        seconds = time.monotonic() - repository.start
        self.stats[repository.index] = repository.output.write_stats(seconds)
        del self.active[repository.plan.name]
        self._start_waiting(repository.plan.name)

    def _start_waiting(self, name: str) -> None:
        """Start the next repository of this name that waits for the one before it to finish."""
        waiting = self.waiting.get(name)
        if waiting:
            self._start(*waiting.pop(0))


def mine_on_cluster(
    sources: Sequence[str], out_dir: str | os.PathLike[str], options: MineOptions, scheduler: str
) -> list[dict[str, Any] | RepositoryError]:
    """Mine the repositories at `sources` (paths the workers see, or clone URLs) on the Dask scheduler at
    `scheduler` (or `local:N`); returns each one's stats, or why it could not be mined, in the order of
    `sources`."""
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    with connect(scheduler) as client:
        return _Run(client, sources, target, options).run()
