"""Training the MergeBERT classifier (``mergebert train``).

Pipeline: ``prepare`` reads the records, learns a byte-level BPE (or takes a checkpoint's) and featurises
every unit once into an ``.npz`` cache; ``fit`` trains the encoder with the multi-hot loss, selecting on
the validation split (other repositories) with early stopping; ``metrics`` evaluates the best weights on
validation: per-class precision/recall, per-language accuracy, and the candidate-level accuracy of the
whole decoder with the confidence threshold that keeps precision at or above the target.
"""

from __future__ import annotations

import os
import random
import sys
import time
from dataclasses import asdict

import numpy as np
import torch

from mergebert.core.candidates import CLASS_NAMES
from mergebert.neural.bpe import BPE, PAD
from mergebert.neural.features import EDIT_TYPES, FeatureConfig
from mergebert.neural.onnx_classifier import FORMAT
from training import distributed
from training.config import TrainConfig, TrainingError
from training.fit import build_model, fit
from training.metrics import Selection, validation_report
from training.model import MergeBert
from training.modeldir import write_json
from training.prepare import log, prepare, records_digest


def train(
    data: list[str],
    out_dir: str,
    cfg: TrainConfig,
    valid: list[str] | None = None,
    cache_dir: str | None = None,
    workers: int = 2,
    limit: int | None = None,
) -> dict | None:
    """Train on the region records of `data` into `out_dir` (model.pt, config.json, metrics.json).

    Under torchrun (see `training/distributed.py`) every rank trains on its shard of the files and rank 0
    alone validates and writes; the others return None.
    """
    ranks = distributed.start()
    finished = False
    try:
        metrics = _train(data, out_dir, cfg, valid, cache_dir, workers, limit, ranks)
        finished = True
        return metrics
    finally:
        distributed.stop(ranks, finished=finished)


def _quiet(msg: str) -> None:
    """The log of ranks other than 0."""


def _train(
    data: list[str],
    out_dir: str,
    cfg: TrainConfig,
    valid: list[str] | None,
    cache_dir: str | None,
    workers: int,
    limit: int | None,
    ranks: distributed.Ranks | None,
) -> dict | None:
    main = ranks is None or ranks.rank == 0
    say = log if main else _quiet
    t_start = time.time()
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(max(1, cfg.threads))
    if main:
        os.makedirs(out_dir, exist_ok=True)

    prep = prepare(data, valid, out_dir, cfg, cache_dir, workers, limit, say, ranks)
    rng = np.random.default_rng(cfg.seed)
    selection = None
    if prep.valid is not None:
        n_labelled = int((prep.valid["labels"].sum(1) > 0).sum())
        if not n_labelled:
            raise TrainingError(
                f"no validation unit: no class reproduces the resolution of any conflict in the "
                f"{len(prep.valid_records)} validation records, so nothing selects the weights or calibrates"
            )
        selection = Selection.draw(prep.valid_records, prep.valid, cfg, rng)
        log(
            f"units: train {len(prep.train_idx)}, valid {n_labelled} labelled (selection on "
            f"{len(selection.conflicts)} conflicts)"
        )

    model = build_model(cfg, prep.bpe)
    if cfg.warm_start:
        warm_start(model, cfg.warm_start)
        say(f"weights from {cfg.warm_start}")
    device = ranks.device if ranks else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    say(
        f"model: {n_params / 1e6:.2f}M parameters on {device.type}, hidden {model.config.hidden_size}, "
        f"layers {model.config.num_hidden_layers}"
        + (f", {ranks.world} processes ({'nccl' if device.type == 'cuda' else 'gloo'})" if ranks else "")
    )
    select = (lambda: selection.score(model)) if selection is not None else None
    result = fit(model, prep.train, prep.train_idx, prep.weights, cfg, select, rng, say, ranks)
    if selection is None:
        return None
    model.to("cpu")
    log(
        f"training done: {result.steps} steps, {result.minutes:.1f} min; best step {result.best_step} "
        f"(selection accuracy {result.best_score:.4f})"
    )

    log("decoding validation conflicts for calibration")
    report = validation_report(model, prep.valid_records, prep.valid, cfg)
    calib = report["calibration"]
    log(
        f"calibration: threshold {calib['threshold']:.4f}, precision {calib['precision']}, "
        f"coverage {calib['coverage']:.3f}"
        + ("" if calib["reached"] else f" (no threshold reaches precision {calib['target']:.0%})")
        + f"; top-1 accuracy {report['conflicts']['all'].get('top1_accuracy')}"
    )

    save_model(out_dir, model, prep.bpe, cfg, prep.features, calib["threshold"])
    train_repositories = sorted({r.get("repo", "") for r in prep.train_records})
    metrics = {
        "train_records": len(prep.train_records),
        "valid_records": len(prep.valid_records),
        "train_units": result.units,
        "valid_units": n_labelled,
        "parameters": int(n_params),
        "steps": result.steps,
        "best_step": result.best_step,
        "train_minutes": result.minutes,
        "total_minutes": (time.time() - t_start) / 60,
        **report,
        "history": result.history,
        "config": asdict(cfg),
        "data": [os.path.abspath(p) for p in data],
        "valid_data": [os.path.abspath(p) for p in valid] if valid else None,
        "valid_repos": sorted({r.get("repo", "") for r in prep.valid_records}),
        "valid_digest": records_digest(prep.valid_records),
        "train_repositories": len(train_repositories),
        "train_repository_names": train_repositories,
    }
    write_json(os.path.join(out_dir, "metrics.json"), metrics)
    log("saved model.pt, config.json and metrics.json")
    return metrics


def warm_start(model: MergeBert, model_dir: str) -> None:
    """Load the weights of the model in `model_dir` (--warm-start) into `model`, of the same shape."""
    path = os.path.join(model_dir, "model.pt")
    if not os.path.exists(path):
        raise TrainingError(f"--warm-start {model_dir}: no model.pt there")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError:
        raise TrainingError(
            f"--warm-start {model_dir}: its model has another shape (give the --hidden, --layers, --heads "
            "and --max-len it was trained with)"
        ) from None


def save_model(
    out_dir: str, model: MergeBert, bpe: BPE, cfg: TrainConfig, fcfg: FeatureConfig, threshold: float
) -> None:
    """model.pt and config.json."""
    torch.save(
        {"state_dict": model.state_dict(), "roberta_config": model.config.to_dict()},
        os.path.join(out_dir, "model.pt"),
    )
    config = {
        "format": FORMAT,
        "class_names": list(CLASS_NAMES),
        "edit_types": list(EDIT_TYPES),
        "features": fcfg.to_dict(),
        "vocab": "vocab.json",
        "merges": "merges.txt",
        "onnx": "model.onnx",
        "pad_id": bpe.token_id(PAD),
        "threshold": threshold,
        "target_precision": cfg.target_precision,
        "beam": cfg.beam,
        "model": {
            "hidden": model.config.hidden_size,
            "layers": model.config.num_hidden_layers,
            "heads": model.config.num_attention_heads,
            "vocab_size": model.config.vocab_size,
        },
        "seed": cfg.seed,
    }
    write_json(os.path.join(out_dir, "config.json"), config)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `mergebert train`")
