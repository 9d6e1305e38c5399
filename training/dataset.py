"""Turning mined region records into cached feature arrays (through mergebert's own featurisation).

Each record gives a line conflict; ``candidates.units`` splits it into a region unit and one unit per
token conflict, ``candidates.label_units`` gives each unit's correct classes, and
``features.Featurizer`` turns each unit into the model's arrays.  The cache is one ``.npz`` per data set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import numpy as np

from mergebert.core.candidates import N_CLASSES, label_units, units
from mergebert.core.languages import NAMES as LANGS
from mergebert.data.pools import pool_map
from mergebert.data.records import conflict_input
from mergebert.neural.bpe import BPE
from mergebert.neural.features import FeatureConfig, Featurizer

Arrays = dict[str, np.ndarray]  # a feature cache: one row per unit (see build_cache)

_FZ: Featurizer | None = None


def _init(bpe: BPE, cfg: dict) -> None:
    global _FZ
    _FZ = Featurizer(bpe, FeatureConfig.from_dict(cfg))


def _featurise(job: tuple[int, dict, bool]):
    """(record index, [(ids, types, is_token, labels-bitmask, unit index)], status)."""
    index, rec, keep_unlabelled = job
    conflict = conflict_input(rec)
    if conflict.too_large:
        return index, [], "too large"
    try:
        us = units(conflict)
        labels = label_units(conflict, rec["resolution"])
    except Exception as exc:  # noqa: BLE001 - a bad record must not stop the run
        return index, [], f"error: {type(exc).__name__}"
    if labels is None and not keep_unlabelled:
        return index, [], "unlabelled"
    out = []
    for k, unit in enumerate(us):
        classes = labels[k] if labels is not None else frozenset()
        if not classes and not keep_unlabelled:
            continue
        ids, tys = _FZ.unit(unit)
        mask = 0
        for c in classes:
            mask |= 1 << c
        out.append((ids, tys, unit.kind == "token", mask, k))
    return index, out, "ok" if labels is not None else "unlabelled"


def build_cache(
    records: Sequence[dict],
    bpe: BPE | str,
    cfg: FeatureConfig,
    out_path: str | None,
    *,
    keep_unlabelled: bool = False,
    workers: int = 2,
    log=print,
) -> Arrays:
    """Featurise ``records`` with ``bpe`` (or the one in that directory) and save the arrays to ``out_path``
    (npz) unless it is None; returns them."""
    if isinstance(bpe, str):
        bpe = BPE.from_dir(bpe)
    repos = sorted({r.get("repo", "") for r in records})
    repo_index = {r: i for i, r in enumerate(repos)}
    work = ((i, r, keep_unlabelled) for i, r in enumerate(records))
    rows: list[tuple] = []
    status: dict[str, int] = {}
    start = time.time()
    featurised = pool_map(
        _featurise,
        work,
        jobs=workers,
        chunksize=32,
        initializer=_init,
        initargs=(bpe, cfg.to_dict()),
        start_method="fork",
        ordered=False,
    )
    for done, (index, out, st) in enumerate(featurised, start=1):
        status[st] = status.get(st, 0) + 1
        for ids, tys, is_token, mask, k in out:
            rows.append((index, k, ids, tys, is_token, mask))
        if done % 5000 == 0:
            seconds = time.time() - start
            log(f"  featurised {done}/{len(records)} records, {len(rows)} units, {seconds:.0f}s")
    rows.sort(key=lambda r: (r[0], r[1]))
    n = len(rows)
    max_len = cfg.max_len
    input_ids = np.full((n, 4, max_len), 1, dtype=np.int32)
    type_ids = np.full((n, 4, max_len), 4, dtype=np.int8)
    lengths = np.zeros(n, dtype=np.int16)
    labels = np.zeros((n, N_CLASSES), dtype=np.uint8)
    for j, (_, _, ids, tys, _, mask) in enumerate(rows):
        w = ids.shape[1]
        input_ids[j, :, :w] = ids
        type_ids[j, :, :w] = tys
        lengths[j] = w
        for c in range(N_CLASSES):
            if mask >> c & 1:
                labels[j, c] = 1
    rec_idx = np.array([r[0] for r in rows], dtype=np.int32)
    arrays = {
        "input_ids": input_ids,
        "type_ids": type_ids,
        "lengths": lengths,
        "is_token": np.array([r[4] for r in rows], dtype=np.uint8),
        "labels": labels,
        "record": rec_idx,
        "unit": np.array([r[1] for r in rows], dtype=np.int16),
        "lang": np.array(
            [LANGS.index(records[i].get("lang")) if records[i].get("lang") in LANGS else -1 for i in rec_idx],
            dtype=np.int8,
        ),
        "repo": np.array([repo_index[records[i].get("repo", "")] for i in rec_idx], dtype=np.int32),
        "bulk": np.array([bool(records[i].get("bulk_merge")) for i in rec_idx], dtype=np.uint8),
        "repos": np.array(repos, dtype=object),
        "n_records": np.array(len(records)),
    }
    if out_path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
        np.savez(out_path, **arrays)
    log(f"  {len(records)} records -> {n} units in {time.time() - start:.0f}s; records: {status}")
    return arrays


def load_cache(path: str) -> Arrays:
    with np.load(path, allow_pickle=True) as z:
        return {k: z[k] for k in z.files}
