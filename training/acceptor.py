"""Fitting the classifier's second stage (``mergebert/neural/acceptor.py``) on whole conflicting files.

1. ``collect``: every scenario file goes through the runtime's own path — git's line merge, the file's
   facts, the encoder and decoder of the model being completed — and each conflict's first candidates get
   their acceptor features, whether they pass the parse check, and whether they equal the developers'
   resolution.
2. ``fit``: gradient-boosted trees early-stopped on held-out repositories: the calibrator, P(candidate is
   the resolution), and the ranker, the same over the ranker's features (each feature against the best
   and the worst of the conflict's candidates), whose order the resolver tries the candidates in.
3. The default threshold: out-of-fold scores (folds by repository) are replayed through the resolver's
   own rule (candidates in the ranker's order; one below the threshold leaves the conflict; the first
   that passes the splice check is taken), and the highest threshold that still gets as many
   conflicts right as the token merge alone (plus a margin) becomes the default; the threshold that
   reaches a target precision is reported beside it.

The files used here must come from repositories the encoder did not train on, and never from the
validation split that the results are quoted on.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from mergebert.core.atomic import atomic_write, uninterrupted
from mergebert.core.candidates import ConflictInput
from mergebert.core.filefacts import FileFacts
from mergebert.core.linemerge import CleanText, LineConflict, merge_lines
from mergebert.core.messages import some_of, warn
from mergebert.core.patterns import squash
from mergebert.core.resolver import MAX_PARSE_CHECKS, conflict_inputs, skip_reasons
from mergebert.core.splice import SpliceCheck
from mergebert.core.textio import dominant_eol
from mergebert.data.evaluate import ENCODER_REPOSITORIES, listed_repositories
from mergebert.data.mining.align import align
from mergebert.data.pools import pool_map
from mergebert.data.records import Record, conflict_input, is_region, read_records, record_language
from mergebert.data.stats import token_merge_settles
from mergebert.neural.acceptor import (
    FEATURE_NAMES,
    Acceptor,
    candidate_features,
    ranker_features,
    with_ranker,
)
from mergebert.neural.boosted_trees import pack
from training.config import TrainingError

_CLASSIFIER = None


@dataclass
class Rows:
    """Candidate rows (features, parses, correct, conflict id) and per-conflict facts of many files."""

    features: list[np.ndarray]
    parses: list[bool]
    correct: list[bool]
    conflict: list[int]
    repo: list[str]  # per conflict
    lang: list[str]  # per conflict
    file: list[int]  # per conflict: the index of its scenario file
    token_merge_correct: list[bool]  # per conflict: a clean token merge that equals the resolution

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "features": np.concatenate(self.features) if self.features else np.zeros((0, len(FEATURE_NAMES))),
            "parses": np.asarray(self.parses, dtype=bool),
            "correct": np.asarray(self.correct, dtype=bool),
            "conflict": np.asarray(self.conflict, dtype=np.int64),
            "repo": np.asarray(self.repo, dtype=object),
            "lang": np.asarray(self.lang, dtype=object),
            "file_index": np.asarray(self.file, dtype=np.int64),
            "token_merge_correct": np.asarray(self.token_merge_correct, dtype=bool),
        }


def _init(model_dir: str) -> None:
    global _CLASSIFIER
    from mergebert.neural.onnx_classifier import OnnxClassifier

    _CLASSIFIER = OnnxClassifier(model_dir, threads=1, with_acceptor=False)


def _scored_rows(
    record: Record,
    inputs: Sequence[ConflictInput],
    expected: Sequence[str],
    check_for: Callable[[int], SpliceCheck],
) -> dict:
    """The candidate rows of the conflicts ``inputs`` of one file (``record`` names its repository and
    language): features, whether the splice accepts each candidate (``check_for(i)`` checks conflict i),
    and whether it equals the resolution ``expected[i]``."""
    scored = [i for i, skip in enumerate(skip_reasons(inputs)) if skip is None]
    decoded = _CLASSIFIER.decode_all([inputs[i] for i in scored])
    features = candidate_features([inputs[i] for i in scored], decoded)
    lang = record_language(record)
    out = {
        "repo": record.get("repo", ""),
        "n": len(inputs),
        "lang": (lang.name if lang else record.get("lang")) or "",
        "rows": [],
        "token_merge_correct": [False] * len(inputs),
    }
    for i, entry, rows in zip(scored, decoded, features, strict=True):
        # read from the token merge itself: the decoder may have folded it into a region candidate
        out["token_merge_correct"][i] = token_merge_settles(inputs[i], expected[i])
        check = check_for(i)
        for candidate, row in zip(entry.candidates, rows, strict=False):
            accepted = check.refusal(candidate.text) is None
            out["rows"].append((i, row, accepted, squash(candidate.text) == expected[i]))
    return out


def collect_file(record: Record) -> dict | None:
    """One scenario's candidate rows; None when its conflicts cannot all be aligned with the resolution."""
    base, ours, theirs = record["base"], record["ours"], record["theirs"]
    chunks = merge_lines(base, ours, theirs)
    alignment = align(chunks, record["resolved"])
    if not alignment.resolutions or not alignment.complete:
        return None
    expected = [squash(text or "") for text in alignment.resolutions]
    lang, eol = record_language(record), dominant_eol(ours)
    inputs = conflict_inputs(chunks, lang, FileFacts(base, ours, theirs, chunks))
    return _scored_rows(record, inputs, expected, lambda i: SpliceCheck(chunks, i, lang, eol))


def collect_regions_of_file(records: Sequence[Record]) -> dict:
    """The candidate rows of one file's region records (its conflicts without the whole file: no file
    facts; the splice check sees the conflict between its prefix and suffix)."""
    lang = record_language(records[0])

    def check_for(i: int) -> SpliceCheck:
        record = records[i]
        sides = LineConflict(record["ours"], record["base"], record["theirs"])
        around = (CleanText(record.get("prefix", "")), sides, CleanText(record.get("suffix", "")))
        chunks = [chunk for chunk in around if not isinstance(chunk, CleanText) or chunk.text]
        return SpliceCheck(chunks, 0, lang, dominant_eol(record["ours"]))

    expected = [squash(record["resolution"]) for record in records]
    inputs = [conflict_input(record) for record in records]
    return _scored_rows(records[0], inputs, expected, check_for)


def region_files(regions: Sequence[str], scenarios: Sequence[Record], seen: set[str]) -> list[list[Record]]:
    """The region records of ``regions`` grouped by file (merge and path) in conflict order, less those of
    the repositories ``seen`` (see ``repositories_of``) and of files the ``scenarios`` already hold whole."""
    whole = {(record.get("merge"), record.get("path")) for record in scenarios}
    files: dict[tuple, list[Record]] = {}
    for record in _of_kind(regions, region=True):
        key = (record.get("merge"), record.get("path"))
        if record.get("repo", "") not in seen and key not in whole:
            files.setdefault(key, []).append(record)
    return [sorted(group, key=lambda record: record.get("index", 0)) for group in files.values()]


@dataclass(frozen=True)
class _Failed:
    """A file whose collecting raised (its exception, as text)."""

    error: str


def _guarded(worker: Callable[[Any], dict | None], file: Any) -> dict | None | _Failed:
    """`worker(file)`, or what it raised: a StopIteration that reached `pool.imap` would end its results
    early without a word."""
    try:
        return worker(file)
    except Exception as error:
        return _Failed(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)


def _file_name(file: Any) -> str:
    """The repository and path of a scenario record or of a group of region records."""
    record = file[0] if isinstance(file, list | tuple) else file
    return f"{record.get('repo', '')} {record.get('path', '')}".strip()


def collect(
    files: Iterable[Any],
    model_dir: str,
    workers: int = 2,
    worker: Callable[[Any], dict | None] = collect_file,
) -> Rows:
    """Candidate rows of every file in ``files`` (scored with the model in ``model_dir``): scenario
    records by default, or groups of region records with ``worker=collect_regions_of_file``.
    TrainingError when collecting any file raised: rows are never fitted on what the others left."""
    rows = Rows([], [], [], [], [], [], [], [])
    files = list(files)
    guarded = partial(_guarded, worker)
    # spawn, not fork: ONNX Runtime does not survive being forked after it was loaded
    collected = pool_map(
        guarded,
        files,
        jobs=workers,
        chunksize=8,
        initializer=_init,
        initargs=(model_dir,),
        start_method="spawn",
    )
    results = list(collected)
    failed = [
        (file, result) for file, result in zip(files, results, strict=True) if isinstance(result, _Failed)
    ]
    if failed:
        file, first = failed[0]
        raise TrainingError(
            f"collecting candidate rows failed on {len(failed)} of {len(files)} files (first: "
            f"{_file_name(file)}: {first.error}): no acceptor written"
        )
    for number, result in enumerate(results):
        if result is None:
            continue
        first = len(rows.repo)
        rows.repo.extend([result["repo"]] * result["n"])
        rows.lang.extend([result["lang"]] * result["n"])
        rows.file.extend([number] * result["n"])
        rows.token_merge_correct.extend(result["token_merge_correct"])
        for index, row, parses, correct in result["rows"]:
            rows.features.append(row[None, :])
            rows.parses.append(parses)
            rows.correct.append(correct)
            rows.conflict.append(first + index)
    return rows


TREE_SETTINGS = {  # chosen out of fold on train2 against the MLPs they replaced (MODEL_CARD.md)
    "learning_rate": 0.05,
    "max_iter": 400,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 50,
    "l2_regularization": 1.0,
    "early_stopping": True,
}
BAGGED = 3  # tree ensembles per set of trees (calibrator, ranker), each early-stopped on its own repositories


def fit(
    features: np.ndarray,
    correct: np.ndarray,
    groups: np.ndarray,
    conflict: np.ndarray,
    *,
    seed: int = 0,
    ranker: bool = True,
) -> dict:
    """The acceptor's parameters (``Acceptor``): the calibrator, P(correct | features), and, unless
    ``ranker`` is false, the ranker, the same over ``ranker_features`` (``conflict``: each row's conflict
    number); each ``bagged``."""
    params = {"features": list(FEATURE_NAMES), **bagged(features, correct, groups, seed=seed)}
    if not ranker:
        return params
    return with_ranker(params, bagged(ranker_features(features, conflict), correct, groups, seed=seed))


def bagged(features: np.ndarray, correct: np.ndarray, groups: np.ndarray, *, seed: int) -> dict:
    """BAGGED gradient-boosted tree ensembles (``fit_trees``) averaged over the log-odds into one set of
    trees, as ``boosted_trees.pack`` stores them (one fit varies with the repositories it stops on)."""
    models = [fit_trees(features, correct, groups, seed=seed * BAGGED + i) for i in range(BAGGED)]
    trees = [
        {**tree, "value": [value / BAGGED for value in tree["value"]]}
        for model in models
        for tree in model_trees(model)
    ]
    baseline = float(np.mean([np.ravel(model._baseline_prediction)[0] for model in models]))
    return pack(baseline, trees)


def fit_trees(features: np.ndarray, correct: np.ndarray, groups: np.ndarray, *, seed: int) -> Any:
    """scikit-learn's histogram gradient boosting, early-stopped on a tenth of the groups (repositories)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    names = sorted(set(groups.tolist()))
    random.Random(seed).shuffle(names)
    held = set(names[: max(1, len(names) // 10)])
    stop = np.array([g in held for g in groups.tolist()], dtype=bool)
    if stop.all():  # one repository only: every tenth row stops the fit instead
        stop = np.arange(len(groups)) % 10 == 0
    model = HistGradientBoostingClassifier(**TREE_SETTINGS, random_state=seed)
    return model.fit(features[~stop], correct[~stop], X_val=features[stop], y_val=correct[stop])


def model_trees(model: Any) -> list[dict]:
    """The trees of a fitted binary ``HistGradientBoostingClassifier``, as ``boosted_trees.pack`` takes
    them."""
    # scikit-learn keeps the trees in private attributes; tests/test_acceptor.py checks this reading of
    # them against its own predict_proba.
    trees = []
    for (predictor,) in model._predictors:  # one tree per boosting round of a binary classifier
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported by the runtime's trees")
        trees.append(
            {
                "feature": nodes["feature_idx"].tolist(),
                "threshold": nodes["num_threshold"].tolist(),
                "missing_left": nodes["missing_go_to_left"].astype(bool).tolist(),
                "left": nodes["left"].tolist(),
                "right": nodes["right"].tolist(),
                "leaf": nodes["is_leaf"].astype(bool).tolist(),
                "value": nodes["value"].tolist(),
            }
        )
    return trees


@dataclass(frozen=True)
class ExtraRows:
    """Candidate rows that only ever train (region records: conflicts without their whole file)."""

    features: np.ndarray
    correct: np.ndarray
    groups: np.ndarray  # the repository of each row
    conflict: np.ndarray  # the conflict number of each row

    @classmethod
    def of(cls, arrays: dict[str, np.ndarray]) -> ExtraRows:
        conflict = arrays["conflict"]
        return cls(arrays["features"], arrays["correct"], arrays["repo"][conflict], conflict)

    def without(self, repositories: set[str]) -> ExtraRows:
        keep = np.array([group not in repositories for group in self.groups.tolist()], dtype=bool)
        return ExtraRows(self.features[keep], self.correct[keep], self.groups[keep], self.conflict[keep])


def fit_with(
    features: np.ndarray,
    correct: np.ndarray,
    groups: np.ndarray,
    conflict: np.ndarray,
    extra: ExtraRows | None,
    seed: int = 0,
    ranker: bool = True,
) -> dict:
    """``fit`` on the rows and, where given, the extra rows (their conflicts numbered after the rows')."""
    if extra is not None and len(extra.correct):
        features = np.concatenate([features, extra.features])
        correct = np.concatenate([correct, extra.correct])
        groups = np.concatenate([groups, extra.groups])
        conflict = np.concatenate(
            [conflict, extra.conflict + (int(conflict.max()) + 1 if len(conflict) else 0)]
        )
    return fit(features, correct, groups, conflict, seed=seed, ranker=ranker)


def out_of_fold(
    features: np.ndarray,
    correct: np.ndarray,
    groups: np.ndarray,
    conflict: np.ndarray,
    folds: int = 5,
    extra: ExtraRows | None = None,
    ranker: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's confidence and order key (``Acceptor.scores``) from an acceptor fitted on the other folds
    (folds by repository), and on the extra rows of every repository outside the row's fold."""
    names = sorted(set(groups.tolist()))
    random.Random(1).shuffle(names)
    fold_of = {name: i % folds for i, name in enumerate(names)}
    fold = np.array([fold_of[g] for g in groups])
    if len(names) < folds:  # too few repositories to fold by: fold by row
        fold = np.arange(len(groups)) % folds
    probs, order = np.zeros(len(correct)), np.zeros(len(correct))
    for k in range(folds):
        inside = fold == k
        held = set(groups[inside].tolist())
        others = extra.without(held) if extra is not None else None
        rest = (features[~inside], correct[~inside], groups[~inside], conflict[~inside])
        params = fit_with(*rest, others, seed=k, ranker=ranker)
        probs[inside], order[inside] = Acceptor(params).scores(features[inside], conflict[inside])
    return probs, order


def replay(
    probs: np.ndarray,
    parses: np.ndarray,
    correct: np.ndarray,
    conflict: np.ndarray,
    threshold: float,
    order: np.ndarray | None = None,
) -> dict[int, bool]:
    """The resolver's rule per conflict: candidates by ``order`` (higher first; the probabilities where it
    is None), the conflict left at the first below the threshold, the first that parses taken. Returns the
    answered conflicts, each with whether its answer is right."""
    answers: dict[int, bool] = {}
    rows = np.lexsort((-(probs if order is None else order), conflict))
    tried: dict[int, int] = {}
    closed: set[int] = set()
    for row in rows:
        c = int(conflict[row])
        if c in closed:
            continue
        tried[c] = tried.get(c, 0) + 1
        if tried[c] > MAX_PARSE_CHECKS or probs[row] < threshold:
            closed.add(c)
        elif parses[row]:
            answers[c] = bool(correct[row])
            closed.add(c)
    return answers


def curve(
    probs: np.ndarray,
    parses: np.ndarray,
    correct: np.ndarray,
    conflict: np.ndarray,
    n_conflicts: int,
    thresholds: Sequence[float],
    order: np.ndarray | None = None,
) -> list[dict]:
    """Accuracy (correct / all conflicts), precision and answered share at each threshold (``replay``)."""
    out = []
    for threshold in thresholds:
        answers = replay(probs, parses, correct, conflict, threshold, order)
        right = sum(answers.values())
        out.append(
            {
                "threshold": float(threshold),
                "accuracy": right / max(n_conflicts, 1),
                "precision": right / len(answers) if answers else None,
                "answered": len(answers) / max(n_conflicts, 1),
            }
        )
    return out


def match_token_merge(points: Sequence[dict], token_merge_accuracy: float, margin: float) -> dict:
    """The highest threshold whose accuracy is at least the token merge's (plus ``margin``): as many
    conflicts right as without a model, and, where the acceptor separates right from wrong, fewer wrong."""
    good = [p for p in points if p["answered"] and p["accuracy"] >= token_merge_accuracy + margin]
    if not good:
        raise ValueError(f"no threshold reaches the token merge's accuracy {token_merge_accuracy:.1%}")
    return max(good, key=lambda p: p["threshold"])


def choose_threshold(points: Sequence[dict], target: float) -> dict:
    """The point with the highest accuracy among those whose precision reaches ``target``."""
    good = [p for p in points if p["precision"] is not None and p["precision"] >= target]
    if not good:
        raise ValueError(f"no threshold reaches precision {target:.0%}")
    return max(good, key=lambda p: (p["accuracy"], -p["threshold"]))


def cached_rows(
    path: str | None,
    files: list[Any],
    model_dir: str,
    workers: int,
    worker: Callable[[Any], dict | None] = collect_file,
) -> dict[str, np.ndarray]:
    """collect(...).arrays(), kept in (and read back from) the .npz ``path`` when one is given: read back
    only when it was collected by this model, with these features, from these files (``rows_source``)."""
    source = rows_source(files, model_dir) if path else ""
    if path and os.path.exists(path):
        with np.load(path, allow_pickle=True) as saved:
            if str(saved.get(_SOURCE, "")) == source:
                return {key: saved[key] for key in saved.files if key != _SOURCE}
        warn(f"{path} holds rows of another model or other files: collecting them again")
    arrays = collect(files, model_dir, workers, worker).arrays()
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        saved = io.BytesIO()
        np.savez(saved, **arrays, **{_SOURCE: np.array(source)})
        atomic_write(path, saved.getvalue())
    return arrays


_SOURCE = "rows_source"  # the cache's key for ``rows_source``


def rows_source(files: Sequence[Any], model_dir: str) -> str:
    """A digest of what candidate rows come from: the model's files, the feature names, and the ids of
    the records (scenario records, or groups of region records)."""
    digest = hashlib.sha256()
    for name in ("model.onnx", "vocab.json", "merges.txt"):
        path = os.path.join(model_dir, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
    digest.update("\0".join(FEATURE_NAMES).encode())
    for item in files:
        for record in item if isinstance(item, list | tuple) else [item]:
            digest.update(f"{record.get('id', '')}\0".encode())
        digest.update(b"\1")
    return digest.hexdigest()


def region_rows(
    rows_cache: str | None, files: Sequence[Sequence[Record]], model_dir: str, workers: int
) -> dict[str, np.ndarray]:
    """``cached_rows`` of the region ``files`` (see ``region_files``), kept beside the scenario rows'
    ``rows_cache``."""
    path = rows_cache and os.path.splitext(rows_cache)[0] + ".regions.npz"
    return cached_rows(path, list(files), model_dir, workers, collect_regions_of_file)


def decoder_confidence(features: np.ndarray) -> np.ndarray:
    """The decoder's own confidence of each candidate row (the acceptor switched off)."""
    return features[:, FEATURE_NAMES.index("confidence")].astype(np.float64)


THRESHOLDS = tuple(np.round(np.arange(0.0, 1.0001, 0.01), 2))


def repositories_of(paths: Sequence[str]) -> set[str]:
    """The repositories of the records in ``paths`` (what the encoder trained on), read once."""
    return {record.get("repo", "") for record in read_records(list(paths))} if paths else set()


def _of_kind(paths: Sequence[str], region: bool) -> Iterator[Record]:
    """The records of ``paths``; TrainingError names a file that holds the other kind."""
    for path in paths:
        for record in read_records([path]):
            if is_region(record) != region:
                held, place = ("scenario", "as SCENARIOS") if region else ("region", "with --regions")
                raise TrainingError(f"{path} holds {held} records: give it {place}")
            yield record


def held_out_records(scenarios: Sequence[str], seen: set[str]) -> list[Record]:
    """The scenario records whose repository is not among those ``seen`` (see ``repositories_of``)."""
    return [record for record in _of_kind(scenarios, region=False) if record.get("repo", "") not in seen]


def held_out_files(
    scenarios: Sequence[str],
    exclude: Sequence[str],
    regions: Sequence[str] = (),
    model_dir: str | None = None,
) -> tuple[list[Record], list[list[Record]]]:
    """The scenario records of ``scenarios`` and the region files of ``regions`` (see ``region_files``)
    whose repositories have no record in ``exclude`` (what the encoder trained on, read once); warns of
    those ``model_dir``'s encoder trained on all the same (its metrics.json's list): they stay, as a
    user's only repository must, but their encoder scores are in-sample."""
    seen = repositories_of(exclude)
    records = held_out_records(scenarios, seen)
    trained = listed_repositories(model_dir, ENCODER_REPOSITORIES)
    if in_sample := [record for record in records if record.get("repo", "") in trained]:
        repositories = sorted({record.get("repo", "") for record in in_sample})
        warn(
            f"{len(in_sample)} scenario files come from {len(repositories)} repositories the encoder trained "
            f"on ({some_of(repositories)}): their scores are in-sample; --exclude-repos-of with the "
            "training data leaves them out"
        )
    return records, region_files(regions, records, seen) if regions else []


def require_exported(model_dir: str) -> None:
    """TrainingError unless ``model_dir`` holds an exported model (what the acceptor scores)."""
    if not os.path.exists(os.path.join(model_dir, "model.onnx")):
        raise TrainingError(f"no model.onnx in {model_dir}: run mergebert export first")


def complete_model(
    model_dir: str,
    records: Sequence[Record],
    *,
    regions: Sequence[Sequence[Record]] = (),
    margin: float = 0.01,
    target: float = 0.90,
    workers: int = 2,
    rows_cache: str | None = None,
    log=print,
) -> dict:
    """Fit the acceptor for the model in ``model_dir`` on the scenario ``records`` and the files of
    region records ``regions`` (see ``region_files``); write ``acceptor.npz``, set the config's
    acceptor and default threshold (see ``match_token_merge``; chosen on the whole files alone, as the
    front-ends see them), and return the report, which also names the threshold that reaches ``target``
    precision."""
    repos = {record.get("repo", "") for record in records}
    log(f"acceptor: {len(records)} scenario files from {len(repos)} held-out repositories")
    arrays = cached_rows(rows_cache, list(records), model_dir, workers)
    n = len(arrays["repo"])
    groups = arrays["repo"][arrays["conflict"]]
    log(f"acceptor: {n} conflicts, {len(arrays['correct'])} candidates")
    extra, region_conflicts = None, 0
    if regions:
        region_arrays = region_rows(rows_cache, regions, model_dir, workers)
        extra, region_conflicts = ExtraRows.of(region_arrays), len(region_arrays["repo"])
        log(
            f"acceptor: and {region_conflicts} region conflicts of {len(regions)} other files, "
            f"{len(extra.correct)} candidates"
        )
    columns = (arrays["features"], arrays["correct"], groups, arrays["conflict"])
    oof, order = out_of_fold(*columns, extra=extra)
    args = (arrays["parses"], arrays["correct"], arrays["conflict"], n)
    points = curve(oof, *args, THRESHOLDS, order=order)
    token_merge = float(arrays["token_merge_correct"].mean()) if n else 0.0
    try:
        chosen = match_token_merge(points, token_merge, margin)
    except ValueError as error:
        raise TrainingError(f"out of fold, {error} plus --margin {margin:g}: no acceptor written") from None
    try:
        strict = choose_threshold(points, target)
    except ValueError:
        strict = None
    params = fit_with(*columns, extra)
    report = {
        "files": len(records),
        "conflicts": n,
        "region_files": len(regions),
        "region_conflicts": region_conflicts,
        "repositories": sorted(repos),
        "rule": f"highest threshold with out-of-fold accuracy >= token merge alone + {margin:.0%}",
        "chosen": chosen,
        "target_precision": target,
        "precision_threshold": strict,
        "curve": points,
        "at_zero": points[0],
        "decoder_only_curve": curve(decoder_confidence(arrays["features"]), *args, THRESHOLDS),
        "token_merge_only_accuracy": token_merge,
    }
    with uninterrupted():  # a ^C now waits: the acceptor, its threshold and its metrics are written together
        _write_acceptor(model_dir, params, report)
    return report


def _write_acceptor(model_dir: str, params: Mapping[str, Any], report: dict[str, Any]) -> None:
    """MODEL_DIR/acceptor.npz, the acceptor and its threshold set in config.json, acceptor_metrics.json."""
    Acceptor.save(params, os.path.join(model_dir, "acceptor.npz"))
    config_path = os.path.join(model_dir, "config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config.update(acceptor="acceptor.npz", threshold=report["chosen"]["threshold"])
    config.pop("target_precision", None)
    atomic_write(config_path, json.dumps(config, indent=1).encode("utf-8"))
    metrics_path = os.path.join(model_dir, "acceptor_metrics.json")
    atomic_write(metrics_path, json.dumps(report, indent=1).encode("utf-8"))
