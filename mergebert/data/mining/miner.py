"""`mergebert mine`: replay every merge of a repository in memory and record its resolved conflicts."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, RepositoryOpenFlag

from mergebert.core.languages import language_for_path
from mergebert.core.linemerge import StoredBlobs
from mergebert.core.messages import warn
from mergebert.core.textio import UnsupportedContent, decode
from mergebert.data.mining.extract import FileTexts, extract_file
from mergebert.data.mining.filters import MAX_BLOB_BYTES, content_reason, long_line_reason, path_reason
from mergebert.data.mining.walk import (
    MergeRef,
    list_merges,
    merge_bases,
    origin_name,
    repo_name,
    repository_key,
)
from mergebert.data.pools import pool_map
from mergebert.data.progress import Progress
from mergebert.data.records import (
    REGION_FIELDS,
    SCENARIO_FIELDS,
    Record,
    append_records,
    ordered,
    read_intact,
    write_records,
)

BULK_MIN_REGIONS = 30
BULK_SHARE = 0.9
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^[^/\s]+@[^/\s]+:", re.IGNORECASE)
INTERRUPTED = "the merges mined so far are kept; run the same command again to resume"


class RepositoryError(Exception):
    """A repository that cannot be mined (not a repository, a URL that does not clone, ...); the message is
    one line that names it."""


@dataclass(frozen=True)
class MineOptions:
    languages: frozenset[str] | None = None  # data names (java, javascript, typescript, csharp); None: all
    max_regions: int = 20  # per merge commit
    max_scenarios: int = 10  # per merge commit
    since: int | None = None  # Unix time: only merges committed at or after it
    max_merges: int | None = None  # only the newest this many merges
    jobs: int = 1
    progress: bool = True
    chunk_merges: int = 2000  # on a cluster: a repository with more merges is mined in units of this many


@dataclass
class MergeOutcome:
    oid: str
    regions: list[Record] = field(default_factory=list)
    scenarios: list[Record] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def _merge_date(commit: pygit2.Commit) -> str:
    zone = timezone(timedelta(minutes=commit.commit_time_offset))
    return datetime.fromtimestamp(commit.commit_time, zone).isoformat()


def _changed(old: pygit2.Tree, new: pygit2.Tree) -> dict[str, str]:
    """The files whose content `new` changes: path in `old` → path in `new` (another when renamed)."""
    diff = old.diff_to_tree(new)
    diff.find_similar(flags=DiffFind.FIND_RENAMES)  # not the repository's diff.renames setting
    return {
        d.old_file.path: d.new_file.path
        for d in diff.deltas
        if d.status in (DeltaStatus.MODIFIED, DeltaStatus.RENAMED) and d.old_file.id != d.new_file.id
    }


def _entry(tree: pygit2.Tree, path: str) -> pygit2.Object | None:
    try:
        return tree[path]
    except KeyError:
        return None


def _file_texts(blobs: Sequence[pygit2.Blob]) -> list[str] | str:
    """The four texts (base, ours, theirs, merge; a BOM kept as U+FEFF), or why the file is left out."""
    if any(blob.size > MAX_BLOB_BYTES for blob in blobs):
        return "blob over 1 MB"
    texts, eols = [], set()
    for i, blob in enumerate(blobs):
        try:
            decoded = decode(blob.data)
        except UnsupportedContent as err:
            return "binary" if err.reason.startswith("binary") else "not UTF-8"
        texts.append(decoded.marked)
        if i < 3 and "\n" in decoded.text:
            eols.add(decoded.eol)
    if len(eols) > 1:
        return "line endings differ"
    for text in texts[1:3]:
        reason = content_reason(text)
        if reason:
            return reason
    return long_line_reason(texts) or texts


def mine_merge(
    repo: pygit2.Repository, name: str, merge: MergeRef, languages: frozenset[str] | None
) -> MergeOutcome:
    """Regions and scenarios of one merge commit, before de-duplication and caps."""
    out = MergeOutcome(merge.oid)
    counts = out.counts
    counts["merges"] += 1
    commit = repo[merge.oid]
    ours, theirs = commit.parents
    if commit.tree_id in (ours.tree_id, theirs.tree_id):
        counts["skipped merge: result is one parent verbatim"] += 1
        return out
    best = repo.merge_base(ours.id, theirs.id)
    if best is None:
        counts["skipped merge: no merge base"] += 1
        return out
    base = repo[best]
    bases: list[str] | None = None
    ours_changed, theirs_changed = _changed(base.tree, ours.tree), _changed(base.tree, theirs.tree)
    for path in sorted(ours_changed.keys() & theirs_changed.keys()):
        lang = language_for_path(path)
        if lang is None or (languages is not None and lang.name not in languages):
            continue
        counts["files changed on both sides"] += 1
        reason = path_reason(path)
        if reason is None and {ours_changed[path], theirs_changed[path]} != {path}:
            reason = "renamed in merge"
        entries = [_entry(c.tree, path) for c in (base, ours, theirs, commit)]
        if reason is None and not all(isinstance(e, pygit2.Blob) for e in entries):
            reason = "deleted or not a file in merge"
        if reason is None:
            bases = bases if bases is not None else merge_bases(repo, ours.id, theirs.id)
            if len({str(getattr(_entry(repo[b].tree, path), "id", None)) for b in bases}) > 1:
                reason = "merge bases disagree"
        texts = _file_texts(entries) if reason is None else reason  # type: ignore[arg-type]
        if isinstance(texts, str):
            counts[f"skipped file: {texts}"] += 1
            continue
        stored = StoredBlobs(repo, (entries[0].id, entries[1].id, entries[2].id))  # type: ignore[union-attr]
        regions, scenario = extract_file(FileTexts(path, lang.name, *texts, stored=stored), counts)
        out.regions.extend(regions)
        if scenario is not None:
            out.scenarios.append(scenario)
    if out.regions:
        labels = Counter(region["line_label"] for region in out.regions)
        bulk = len(out.regions) >= BULK_MIN_REGIONS and labels.most_common(1)[0][1] >= BULK_SHARE * len(
            out.regions
        )
        meta = {
            "repo": name,
            "merge": merge.oid,
            "ours_commit": str(ours.id),
            "theirs_commit": str(theirs.id),
            "base_commit": str(best),
            "merge_date": _merge_date(commit),
            "pr_ref_only": merge.pr_ref_only,
            "bulk_merge": bulk,
        }
        out.regions = [ordered({**region, **meta}, REGION_FIELDS) for region in out.regions]
        out.scenarios = [ordered({**scenario, **meta}, SCENARIO_FIELDS) for scenario in out.scenarios]
    return out


def mine_one(
    repo: pygit2.Repository, name: str, merge: MergeRef, languages: frozenset[str] | None
) -> MergeOutcome:
    """mine_merge, with a merge that cannot be read counted as skipped rather than stopping the run."""
    try:
        return mine_merge(repo, name, merge, languages)
    except (KeyError, pygit2.GitError) as err:  # e.g. a parent missing from a shallow clone
        outcome = MergeOutcome(merge.oid)
        outcome.counts["merges"] += 1
        outcome.counts[f"skipped merge: unreadable ({type(err).__name__})"] += 1
        return outcome


def read_sources(lines: Iterable[str]) -> list[str]:
    """The repositories a --repos-file lists, one a line; blank lines and `#` comments are ignored."""
    stripped = (line.strip() for line in lines)
    return [line for line in stripped if line and not line.startswith("#")]


def is_url(source: str) -> bool:
    """Whether a repository source is a clone URL (scheme:// or user@host:path) rather than a path."""
    return bool(_URL.match(source))


def _mirror_remote(repo: pygit2.Repository, name: str, url: str) -> pygit2.Remote:
    """The clone's origin, fetching every ref as it is (branches, tags and pull-request refs)."""
    return repo.remotes.create(name, url, "+refs/*:refs/*")


@contextmanager
def local_copy(source: str, scratch: str | None = None) -> Iterator[str]:
    """The repository's path: `source` itself, or for a URL a bare clone of all its refs (pull-request
    refs too) in a new folder under `scratch`, removed afterwards."""
    if not is_url(source):
        yield source
        return
    folder = tempfile.mkdtemp(prefix="mergebert-clone-", dir=scratch)
    try:
        try:
            pygit2.clone_repository(source, folder, bare=True, remote=_mirror_remote)
        except pygit2.GitError as err:
            raise RepositoryError(f"{source}: cannot clone: {err}") from err
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class RepositoryPlan:
    """A repository's name, what identifies it (`repository_key`, or the clone URL), and the merges to
    mine, oldest first."""

    name: str
    path: str
    merges: tuple[MergeRef, ...]
    by_folder: bool = False  # named after its folder (no origin remote): another repository may share it


def open_repository(path: str, source: str) -> pygit2.Repository:
    """The repository at `path` (the local copy of `source`), not one around a folder inside its work tree."""
    try:
        return pygit2.Repository(path, RepositoryOpenFlag.NO_SEARCH)
    except pygit2.GitError as err:
        raise RepositoryError(f"{source}: not a git repository") from err


def _plan(repo: pygit2.Repository, source: str, options: MineOptions) -> RepositoryPlan:
    if repo.is_shallow:
        warn(
            f"{source}: a shallow clone: merges whose parents or merge base lie beyond its history are not "
            "mined (run git fetch --unshallow there to mine its whole history)"
        )
    path = source if is_url(source) else repository_key(repo)
    merges = tuple(list_merges(repo, options.since, options.max_merges))
    return RepositoryPlan(repo_name(repo), path, merges, by_folder=origin_name(repo) is None)


def plan_repository(source: str, options: MineOptions, scratch: str | None = None) -> RepositoryPlan:
    """The plan of the repository at `source` (a path or a clone URL)."""
    with local_copy(source, scratch) as path:
        return _plan(open_repository(path, source), source, options)


def mine_unit(
    source: str,
    name: str,
    merges: Sequence[MergeRef],
    languages: frozenset[str] | None,
    scratch: str | None = None,
) -> list[MergeOutcome]:
    """One work unit on a cluster: some merges of one repository (a path or a clone URL)."""
    with local_copy(source, scratch) as path:
        repo = pygit2.Repository(path)
        return [mine_one(repo, name, merge, languages) for merge in merges]


_WORKER: tuple[pygit2.Repository, str, frozenset[str] | None] | None = None


def _init_worker(path: str, name: str, languages: frozenset[str] | None) -> None:
    global _WORKER
    _WORKER = (pygit2.Repository(path), name, languages)


def _run_worker(merge: MergeRef) -> MergeOutcome:
    assert _WORKER is not None
    return mine_one(_WORKER[0], _WORKER[1], merge, _WORKER[2])


def output_stem(name: str) -> str:
    """File-name stem for a repository name: owner/name → owner__name."""
    return name.replace("/", "__")


def _parsed(line: str) -> Any:
    """The JSON value of a done list's line, or None where it is torn (no line break, or not JSON)."""
    if not line.endswith("\n"):
        return None
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def _done_path(out_dir: Path, name: str) -> Path:
    return out_dir / f"{output_stem(name)}.done.jsonl"


def _recorded_source(out_dir: Path, name: str) -> str | None:
    """The source the output named `name` in out_dir is mined from; None when there is none (or it is
    not recorded)."""
    try:
        with _done_path(out_dir, name).open(encoding="utf-8") as lines:
            first = json.loads(lines.readline())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return first.get("repository")


def _same_repository(recorded: str | None, plan: RepositoryPlan) -> bool:
    """Whether a done list's recorded source is the plan's repository, or none is recorded: its key, or a
    path to it (as releases before keys recorded it)."""
    if recorded in (None, plan.path):
        return True
    try:
        return repository_key(pygit2.Repository(recorded, RepositoryOpenFlag.NO_SEARCH)) == plan.path
    except pygit2.GitError:  # moved, removed, or a clone URL
        return False


def claim_name(out_dir: Path, plan: RepositoryPlan) -> RepositoryPlan:
    """The plan under a name of its own in out_dir: a repository named after its folder is `<folder>-2`
    (-3, ...) when another repository's output there has that name already, on every run."""
    if not plan.by_folder:
        return plan  # the origin's owner/name: the same repository wherever it is cloned
    name, number = plan.name, 1
    while not _same_repository(_recorded_source(out_dir, name), plan):
        number += 1
        name = f"{plan.name}-{number}"
    if name != plan.name:
        warn(f"{plan.path}: another repository in {out_dir} is named {plan.name}; this one is {name}")
    return replace(plan, name=name)


def mining_options(options: MineOptions) -> dict[str, Any]:
    """The options that decide what a merge yields, as the command line names them: every run into a DIR
    must repeat them."""
    return {
        "languages": ",".join(sorted(options.languages)) if options.languages else "all",
        "max-conflicts-per-merge": options.max_regions,
        "max-scenarios-per-merge": options.max_scenarios,
    }


class RepositoryOutput:
    """The three output files of one repository plus the done list that makes a run resumable: its first
    line names the source and the options it is mined with, each other line is a merge done."""

    def __init__(self, out_dir: Path, plan: RepositoryPlan, options: MineOptions) -> None:
        stem = output_stem(plan.name)
        self.plan = plan
        self.options = mining_options(options)
        self.max_regions, self.max_scenarios = options.max_regions, options.max_scenarios
        self.regions_path = out_dir / f"{stem}.regions.jsonl.gz"
        self.scenarios_path = out_dir / f"{stem}.scenarios.jsonl.gz"
        self.stats_path = out_dir / f"{stem}.stats.json"
        self.done_path = _done_path(out_dir, plan.name)
        self.done: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.region_ids: set[str] = set()
        self.scenario_ids: set[str] = set()
        self.languages: dict[str, Counter[str]] = {}
        self._load_done()
        self._load_records()
        for path in (self.regions_path, self.scenarios_path):
            if not path.exists():  # every repository has its files, empty ones too
                write_records(path, [])
        self.already_done = sum(merge.oid in self.done for merge in plan.merges)

    def _load_done(self) -> None:
        if not self.done_path.exists():
            header = {"repository": self.plan.path, "options": self.options}
            self.done_path.write_text(json.dumps(header) + "\n", encoding="utf-8")
            return
        lines = self.done_path.read_text(encoding="utf-8").splitlines(keepends=True)
        intact = [(line, entry) for line in lines if (entry := _parsed(line)) is not None]
        for _, entry in intact:
            if "repository" in entry:
                self._check_options(entry["options"])
            else:
                self.done.add(entry["merge"])
                self.counts.update(entry["counts"])
        if len(intact) < len(lines):  # a torn last line: that merge runs again
            self.done_path.write_text("".join(line for line, _ in intact), encoding="utf-8")

    def _check_options(self, recorded: dict[str, Any]) -> None:
        differ = [
            f"--{key} {value} (not {self.options.get(key)})"
            for key, value in recorded.items()
            if self.options.get(key) != value
        ]
        if differ:
            raise RepositoryError(
                f"{self.plan.path}: {self.done_path.parent} holds it mined with {', '.join(differ)}; "
                "give the same options or mine into a fresh DIR"
            )

    def _load_records(self) -> None:
        """The records of the merges done; those of a merge not marked done (a run cut short) are
        dropped, to be mined again."""
        for path, ids, kind in (
            (self.regions_path, self.region_ids, "regions"),
            (self.scenarios_path, self.scenario_ids, "scenarios"),
        ):
            if not path.exists():
                continue
            records, intact = read_intact(path)
            kept = [record for record in records if record["merge"] in self.done]
            if not intact or len(kept) < len(records):
                write_records(path, kept)
            for record in kept:
                ids.add(record["id"])
                self.languages.setdefault(record["lang"], Counter())[kind] += 1

    def todo(self) -> list[MergeRef]:
        """The plan's merges that no run has finished yet."""
        return [merge for merge in self.plan.merges if merge.oid not in self.done]

    def add(self, outcome: MergeOutcome) -> None:
        """Write one merge's records, within the per-merge caps (unless that merge is done already: a
        retried work unit)."""
        if outcome.oid in self.done:
            return
        counts = outcome.counts
        regions = self._fresh(outcome.regions, self.region_ids, "region", self.max_regions, counts)
        scenarios = self._fresh(outcome.scenarios, self.scenario_ids, "scenario", self.max_scenarios, counts)
        append_records(self.regions_path, regions)
        append_records(self.scenarios_path, scenarios)
        for kind, records in (("regions", regions), ("scenarios", scenarios)):
            for record in records:
                self.languages.setdefault(record["lang"], Counter())[kind] += 1
        counts["regions written"] += len(regions)
        counts["scenarios written"] += len(scenarios)
        with self.done_path.open("a", encoding="utf-8") as done:
            done.write(json.dumps({"merge": outcome.oid, "counts": dict(counts)}) + "\n")
        self.done.add(outcome.oid)
        self.counts.update(counts)

    @staticmethod
    def _fresh(
        records: list[Record], seen: set[str], kind: str, cap: int, counts: Counter[str]
    ) -> list[Record]:
        kept = []
        for record in records:
            if record["id"] in seen:
                counts[f"skipped {kind}: duplicate"] += 1
            elif len(kept) >= cap:
                counts[f"skipped {kind}: over per-merge cap"] += 1
            else:
                seen.add(record["id"])
                kept.append(record)
        return kept

    def write_stats(self, seconds: float) -> dict[str, Any]:
        """The stats file: this run's merges (listed, done, done by an earlier run) and the DIR's totals."""
        totals = {k: v for k, v in sorted(self.counts.items()) if not k.startswith("skipped")}
        skipped = {k: v for k, v in sorted(self.counts.items()) if k.startswith("skipped")}
        plan = self.plan
        stats = {
            "repo": plan.name,
            "path": plan.path,
            "options": self.options,
            "merges_listed": len(plan.merges),
            "merges_done": sum(merge.oid in self.done for merge in plan.merges),
            "merges_already_done": self.already_done,
            "regions": len(self.region_ids),
            "scenarios": len(self.scenario_ids),
            "languages": {lang: dict(c) for lang, c in sorted(self.languages.items())},
            "counts": totals,
            "skipped": skipped,
            "seconds_last_run": round(seconds, 3),
        }
        self.stats_path.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
        return stats


def _outcomes(path: str, name: str, todo: list[MergeRef], options: MineOptions) -> Iterator[MergeOutcome]:
    jobs = options.jobs if len(todo) > 1 else 1
    chunk = max(1, min(16, len(todo) // (jobs * 8)))
    opened = (path, name, options.languages)
    yield from pool_map(
        _run_worker, todo, jobs=jobs, chunksize=chunk, initializer=_init_worker, initargs=opened
    )


def mine_repository(source: str, out_dir: str | os.PathLike[str], options: MineOptions) -> dict[str, Any]:
    """Mine one repository (a path or a clone URL) into out_dir; merges finished by an earlier run are
    skipped."""
    start = time.monotonic()
    with local_copy(source) as path:
        repo = open_repository(path, source)
        target = Path(out_dir)
        target.mkdir(parents=True, exist_ok=True)
        plan = claim_name(target, _plan(repo, source, options))
        output = RepositoryOutput(target, plan, options)
        _mine_todo(output, repo.path, options)
    return output.write_stats(time.monotonic() - start)


def _mine_todo(output: RepositoryOutput, path: str, options: MineOptions) -> None:
    """Mine the merges no run has finished yet into `output`, with a progress line that ends even when
    the run is cut short (^C)."""
    todo = output.todo()
    progress = Progress(len(todo), output.plan.name, "merges") if options.progress and todo else None
    try:
        for outcome in _outcomes(path, output.plan.name, todo, options):
            output.add(outcome)
            if progress:
                conflicts, regions = output.counts["conflicts"], len(output.region_ids)
                progress.update(note=f"{conflicts} conflicts, {regions} regions")
    finally:
        if progress:
            progress.close()


def summary(stats: dict[str, Any], out_dir: str) -> str:
    """The line `mine` prints for a repository mined: its merges and records, and where its stats are."""
    counts, before = stats["counts"], stats["merges_already_done"]
    return (
        f"{stats['repo']}: {stats['merges_done']}/{stats['merges_listed']} merges"
        f"{f' ({before} already done)' if before else ''}, "
        f"{counts.get('conflicts', 0)} conflicts, {stats['regions']} regions, "
        f"{stats['scenarios']} scenarios, {sum(stats['skipped'].values())} left out by reason "
        f"(see {out_dir}/{output_stem(stats['repo'])}.stats.json){_nothing_recorded(stats)}"
    )


def _nothing_recorded(stats: dict[str, Any]) -> str:
    """Why a repository's output files hold no record, for its summary line; empty when they hold some."""
    if stats["regions"] or stats["scenarios"]:
        return ""
    found = "no conflict recorded" if stats["counts"].get("merges") else "no two-parent merge found"
    return f"; {found}: the output files hold no records"


def mine_each(
    sources: Sequence[str], out_dir: str | os.PathLike[str], options: MineOptions
) -> Iterator[dict[str, Any] | RepositoryError]:
    """Mine several repositories, one after the other: each one's stats, or why it could not be mined."""
    for source in sources:
        try:
            yield mine_repository(source, out_dir, options)
        except RepositoryError as err:
            yield err
        except (pygit2.GitError, OSError) as err:
            yield RepositoryError(f"{source}: {err}")
