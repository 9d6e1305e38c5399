"""Preparing a training run: records, the split by repository, the BPE vocabulary and the feature caches."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mergebert.core.candidates import N_PATTERNS, TOKEN_CLASS
from mergebert.core.messages import some_of, warn
from mergebert.neural.bpe import BPE
from mergebert.neural.features import KIND_TOKENS, FeatureConfig
from training.config import TrainConfig, TrainingError
from training.data import read_records
from training.dataset import Arrays, build_cache, load_cache
from training.distributed import Ranks, from_main, shard_by_file


def log(msg: str) -> None:
    """A training log line, time-stamped, on stdout."""
    print(time.strftime("%H:%M:%S"), msg, flush=True)


@dataclass
class Prepared:
    """Everything the fitting loop and the validation metrics need."""

    train_records: list[dict]
    valid_records: list[dict]
    bpe: BPE
    features: FeatureConfig
    train: Arrays  # featurised labelled training units (of this rank's shard under torchrun)
    valid: Arrays | None  # featurised validation units, unlabelled ones too; None on ranks other than 0
    train_idx: np.ndarray  # training rows used
    weights: np.ndarray  # loss weight of every training row


def split_by_repo(records: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, valid): a `fraction` of the repositories held out whole (every tenth record with one)."""
    repos = sorted({r.get("repo", "") for r in records})
    rng = random.Random(seed)
    rng.shuffle(repos)
    n_valid = max(1, round(len(repos) * fraction)) if len(repos) > 1 else 0
    held = set(repos[:n_valid])
    train = [r for r in records if r.get("repo", "") not in held]
    valid = [r for r in records if r.get("repo", "") in held]
    if not valid:  # one repository only: hold out every tenth record
        valid = records[::10]
        train = [r for i, r in enumerate(records) if i % 10]
    return train, valid


def held_out_of(data: list[str], metrics: dict) -> list[dict]:
    """The records a run without --valid held out of its DATA, as its metrics.json names them: in DATA's
    order, the first `valid_records` of the repositories `valid_repos` lists (of every tenth record when the
    run read that one repository alone), whatever DATA gained since."""
    records = list(read_records(data))
    held = set(metrics["valid_repos"])
    kept = [r for r in records if r.get("repo", "") in held]
    if _read_one_repository(records, metrics):
        kept = kept[::10]
    return kept[: metrics.get("valid_records")]


def _read_one_repository(records: list[dict], metrics: dict) -> bool:
    """Whether a run read the one repository it held records of out (so every tenth): metrics.json's
    `train_repository_names` say, or, in an older one, the repositories of DATA's first records (as many as
    the run read)."""
    held = set(metrics["valid_repos"])
    if "train_repository_names" in metrics:
        return set(metrics["train_repository_names"]) == held
    read = metrics.get("train_records", 0) + metrics.get("valid_records", 0)
    return {r.get("repo", "") for r in records[: read or None]} == held


REGION_FILES = "train reads region files (*.regions.jsonl.gz); scenario files are skipped"


def records_digest(records: list[dict]) -> str:
    """SHA-256 of `records` in order: metrics.json keeps the held-out records', which export checks."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True).encode() + b"\n")
    return digest.hexdigest()


def held_out_key(valid_records: list[dict]) -> str:
    """The split of a run without --valid, for the feature caches: the repositories held out."""
    return "held out: " + json.dumps(sorted({r.get("repo", "") for r in valid_records}))


def read_split(
    data: list[str], valid: list[str] | None, cfg: TrainConfig, limit: int | None
) -> tuple[list[dict], list[dict]]:
    """(train, valid) region records: `data`'s and `valid`'s, or `data`'s split by repository."""
    records = list(read_records(data, limit=limit))
    if not records:
        raise TrainingError(f"no region records in DATA: {REGION_FILES}")
    if valid:
        valid_records = list(read_records(valid, limit=limit))
        if not valid_records:
            raise TrainingError(f"no region records in the --valid files: {REGION_FILES}")
        _warn_of_shared_repositories(records, valid_records)
        return records, valid_records
    train, held = split_by_repo(records, cfg.valid_fraction, cfg.seed)
    if not train:
        raise TrainingError(_nothing_to_train(records, cfg, limit))
    return train, held


def _warn_of_shared_repositories(train: list[dict], valid: list[dict]) -> None:
    shared = sorted({r.get("repo", "") for r in train} & {r.get("repo", "") for r in valid})
    if shared:
        warn(
            f"--valid shares {len(shared)} repositories with DATA ({some_of(shared)}): the checkpoint choice "
            "and the calibration are in-sample there"
        )


def _nothing_to_train(records: list[dict], cfg: TrainConfig, limit: int | None) -> str:
    """Why holding out the validation split left no training record."""
    repos = len({r.get("repo", "") for r in records})
    if repos > 1:
        return (
            f"--valid-fraction {cfg.valid_fraction:g} holds out all {repos} repositories of DATA: none left "
            "to train on"
        )
    given = f" (--limit {limit})" if limit else ""
    return (
        f"{len(records)} region record{given}: too few to hold some out for validation and train on the rest"
    )


def prepare_vocab(cfg: TrainConfig, records: list[dict], out_dir: str) -> BPE:
    """The run's BPE in `out_dir`: a checkpoint's (plus our kind tokens), a given one, or learned."""
    if cfg.init_from:
        for name in ("vocab.json", "merges.txt"):
            src = os.path.join(cfg.init_from, name)
            if not os.path.exists(src):
                raise FileNotFoundError(f"--init-from {cfg.init_from}: no {name} (a RoBERTa byte-level BPE)")
            shutil.copy(src, os.path.join(out_dir, name))
        with open(os.path.join(out_dir, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        nxt = max(vocab.values()) + 1
        for tok in KIND_TOKENS:
            if tok not in vocab:
                vocab[tok] = nxt
                nxt += 1
        with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
    elif cfg.vocab_from or cfg.warm_start:
        source, option = (cfg.vocab_from, "--vocab") if cfg.vocab_from else (cfg.warm_start, "--warm-start")
        for name in ("vocab.json", "merges.txt"):
            if not os.path.exists(os.path.join(source, name)):
                raise TrainingError(f"{option} {source}: no {name} there")
            shutil.copy(os.path.join(source, name), os.path.join(out_dir, name))
    else:
        from training.bpe import train_bpe

        train_bpe(records, out_dir, vocab_size=cfg.vocab_size, seed=cfg.seed)
    bpe = BPE.from_dir(out_dir)
    if cfg.warm_start and (cfg.vocab_from or cfg.init_from):
        given = f"--vocab {cfg.vocab_from}" if cfg.vocab_from else f"--init-from {cfg.init_from}"
        _fits_warm_start(cfg.warm_start, given, len(bpe))
    return bpe


def _fits_warm_start(model_dir: str, given: str, size: int) -> None:
    """Refuse, before featurising, a vocabulary (`given`, of `size`) of another size than --warm-start's."""
    try:
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            trained = json.load(f)["model"]["vocab_size"]
    except (OSError, ValueError, KeyError):
        return  # `train.warm_start` refuses the weights if they do not fit
    if trained != size:
        raise TrainingError(
            f"--warm-start {model_dir}: its model was trained on {trained} sub-words, the vocabulary of "
            f"{given} has {size} sub-words: leave out {given.split()[0]} to go on with the model's own"
        )


def _cache_key(paths: list[str], vocab_dir: str, fcfg: FeatureConfig, keep: bool, split: str) -> str:
    """What a feature cache depends on: the files, the vocabulary, the features, the split of the files."""
    h = hashlib.sha1()
    for p in paths:
        st = os.stat(p)
        h.update(f"{os.path.abspath(p)}:{st.st_size}:{int(st.st_mtime)};".encode())
    for name in ("vocab.json", "merges.txt"):
        with open(os.path.join(vocab_dir, name), "rb") as f:
            h.update(hashlib.sha1(f.read()).digest())
    h.update(json.dumps(fcfg.to_dict(), sort_keys=True).encode())
    h.update(b"keep" if keep else b"labelled")
    h.update(split.encode())
    return h.hexdigest()[:16]


def features(
    records: list[dict],
    paths: list[str] | None,
    vocab_dir: str,
    fcfg: FeatureConfig,
    cache_dir: str | None,
    name: str,
    keep: bool,
    workers: int,
    log: Callable[[str], None] = log,
    split: str = "",
) -> Arrays:
    """The records' feature arrays, from `cache_dir` when they were built before from the same files (and
    the same `split` of them: see `held_out_key`)."""
    path = None
    if cache_dir and paths:
        path = os.path.join(cache_dir, f"{name}-{_cache_key(paths, vocab_dir, fcfg, keep, split)}.npz")
        if os.path.exists(path):
            arrays = load_cache(path)
            if int(arrays["n_records"]) == len(records):
                log(f"{name}: features from cache {path}")
                return arrays
            path = path[: -len(".npz")] + f"-n{len(records)}.npz"  # a --limit run: a cache of its own
            if os.path.exists(path):
                log(f"{name}: features from cache {path}")
                return load_cache(path)
    log(f"{name}: featurising {len(records)} records")
    return build_cache(records, vocab_dir, fcfg, path, keep_unlabelled=keep, workers=workers, log=log)


def prepare(
    data: list[str],
    valid: list[str] | None,
    out_dir: str,
    cfg: TrainConfig,
    cache_dir: str | None,
    workers: int,
    limit: int | None,
    log: Callable[[str], None] = log,
    ranks: Ranks | None = None,
) -> Prepared:
    """Read and split the records, build the vocabulary, featurise, and weight the training units.

    Under torchrun rank 0 builds the vocabulary and sends it to the others, each rank featurises its shard
    of the training files, and only rank 0 the validation split; the others write nothing.
    """
    train_records, valid_records = read_split(data, valid, cfg, limit)
    log(f"records: train {len(train_records)}, valid {len(valid_records)}")
    split = "" if valid else held_out_key(valid_records)

    fcfg = FeatureConfig(cfg.max_len, cfg.max_context, cfg.min_context)
    main = ranks is None or ranks.rank == 0
    bpe = prepare_vocab(cfg, train_records, out_dir) if main else None
    shard, name = train_records, "train"
    if ranks is not None:
        bpe = from_main(ranks, bpe)
        shard, name = shard_by_file(train_records, ranks), f"train-shard{ranks.rank}of{ranks.world}"
        log(f"rank {ranks.rank} of {ranks.world}: {len(shard)} training records (sharded by file)")
    va: Arrays | None = None
    if main:
        tr = features(shard, data, out_dir, fcfg, cache_dir, name, False, workers, log, split=split)
        va = features(
            valid_records, valid or data, out_dir, fcfg, cache_dir, "valid", True, workers, log, split=split
        )
    else:
        tr = build_cache(shard, bpe, fcfg, None, workers=workers, log=log)

    train_idx = np.arange(len(tr["labels"]))
    if ranks is None and not len(train_idx):
        raise TrainingError(
            f"no training unit: no class reproduces the resolution of any conflict in the {len(shard)} "
            "training records"
        )
    if cfg.prefer_patterns:
        region_rows = (tr["is_token"] == 0) & (tr["labels"][:, :N_PATTERNS].sum(1) > 0)
        tr["labels"] = tr["labels"].copy()
        tr["labels"][region_rows, TOKEN_CLASS] = 0
        log(f"prefer patterns: TOKEN dropped from {int(region_rows.sum())} region units' labels")
    weights = np.where(tr["bulk"] > 0, cfg.bulk_weight, 1.0).astype(np.float32)
    if cfg.bulk_weight <= 0:
        train_idx = train_idx[tr["bulk"] == 0]
    return Prepared(train_records, valid_records, bpe, fcfg, tr, va, train_idx, weights)
