"""Training the MergeBERT classifier (``mergebert train``).

Pipeline: learn a byte-level BPE on the training records (or take a checkpoint's), featurise every unit
once through ``mergebert.neural.features`` into an ``.npz`` cache, train the encoder with the multi-hot loss,
select on the validation split (other repositories) with early stopping, then evaluate the best weights
on validation: per-class precision/recall, per-language accuracy, and the candidate-level accuracy of the
whole decoder with the confidence threshold that keeps precision at or above the target.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from mergebert.core.candidates import CLASS_NAMES, N_CLASSES, N_PATTERNS, TOKEN_CLASS, decode, units
from mergebert.core.languages import NAMES as LANGS
from mergebert.core.patterns import squash
from mergebert.data.records import conflict_input
from mergebert.neural.bpe import BPE, PAD
from mergebert.neural.features import EDIT_TYPES, KIND_TOKENS, FeatureConfig
from mergebert.neural.onnx_classifier import FORMAT
from training.data import read_records
from training.dataset import build_cache, load_cache
from training.model import MergeBert, make_config, multi_hot_loss


@dataclass
class TrainConfig:
    hidden: int = 128
    layers: int = 2
    heads: int = 4
    max_len: int = 96
    max_context: int = 32
    min_context: int = 16
    vocab_size: int = 8000
    batch_size: int = 64
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 300
    epochs: float = 3.0
    max_minutes: float = 45.0  # 0: no time budget (then the run is exactly reproducible)
    eval_every: int = 400
    valid_units: int = 4000  # units of the validation split whose accuracy is logged during training
    valid_conflicts: int = 1500  # conflicts of the validation split whose top-1 accuracy selects
    patience: int = 6
    bulk_weight: float = 0.25  # weight of records from bulk merges (wholesale take-ours/theirs)
    dropout: float = 0.1
    seed: int = 0
    threads: int = 2
    target_precision: float = 0.90
    beam: int = 8
    valid_fraction: float = 0.1  # share of training repositories held out when no validation data is given
    init_from: str | None = None
    vocab_from: str | None = None  # reuse this directory's vocab.json + merges.txt instead of learning one
    warm_start: str | None = None  # a model directory of ours (same shape) whose weights start the run
    # region units whose resolution is also a whole-region pattern learn that pattern, not TOKEN: otherwise
    # the multi-hot loss lets every region unit answer TOKEN (correct for ~88% of them) and leaves the choice
    # between the sides to the token units, which see less of the conflict
    prefer_patterns: bool = False  # tried in run m2: top-1 accuracy 48.1% vs 50.9% without (model card)
    extra: dict = field(default_factory=dict)


def _log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


# --------------------------------------------------------------------------------------------- data
def _split_by_repo(records: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
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


def _prepare_vocab(cfg: TrainConfig, records: list[dict], out_dir: str) -> BPE:
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
        for name in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(cfg.vocab_from or cfg.warm_start, name), os.path.join(out_dir, name))
    else:
        from training.bpe import train_bpe

        train_bpe(records, out_dir, vocab_size=cfg.vocab_size, seed=cfg.seed)
    return BPE.from_dir(out_dir)


def _cache_key(paths: list[str], vocab_dir: str, fcfg: FeatureConfig, keep: bool) -> str:
    h = hashlib.sha1()
    for p in paths:
        st = os.stat(p)
        h.update(f"{os.path.abspath(p)}:{st.st_size}:{int(st.st_mtime)};".encode())
    for name in ("vocab.json", "merges.txt"):
        with open(os.path.join(vocab_dir, name), "rb") as f:
            h.update(hashlib.sha1(f.read()).digest())
    h.update(json.dumps(fcfg.to_dict(), sort_keys=True).encode())
    h.update(b"keep" if keep else b"labelled")
    return h.hexdigest()[:16]


def _features(records, paths, vocab_dir, fcfg, cache_dir, name, keep, workers):
    if cache_dir and paths:
        path = os.path.join(cache_dir, f"{name}-{_cache_key(paths, vocab_dir, fcfg, keep)}.npz")
        if os.path.exists(path):
            arrays = load_cache(path)
            if int(arrays["n_records"]) == len(records):
                _log(f"{name}: features from cache {path}")
                return arrays
            path = path[: -len(".npz")] + f"-n{len(records)}.npz"  # a --limit run: a cache of its own
            if os.path.exists(path):
                _log(f"{name}: features from cache {path}")
                return load_cache(path)
    else:
        path = os.path.join(vocab_dir, f".{name}-features.npz")
    _log(f"{name}: featurising {len(records)} records")
    arrays = build_cache(
        records, vocab_dir, fcfg, path, keep_unlabelled=keep, workers=workers, log=lambda s: _log(s)
    )
    if not (cache_dir and paths):
        os.remove(path)
    return arrays


# --------------------------------------------------------------------------------------------- model
def _build_model(cfg: TrainConfig, bpe: BPE) -> MergeBert:
    pad_id = bpe.token_id(PAD)
    if cfg.init_from:
        from transformers import RobertaModel

        encoder = RobertaModel.from_pretrained(cfg.init_from, add_pooling_layer=False)
        rc = encoder.config
        encoder.resize_token_embeddings(len(bpe))
        old = encoder.embeddings.token_type_embeddings
        if old.num_embeddings != len(EDIT_TYPES):
            new = torch.nn.Embedding(len(EDIT_TYPES), rc.hidden_size)
            with torch.no_grad():
                new.weight[:] = old.weight[0]
            encoder.embeddings.token_type_embeddings = new
            rc.type_vocab_size = len(EDIT_TYPES)
        max_len = rc.max_position_embeddings - rc.pad_token_id - 1
        if cfg.max_len > max_len:
            raise ValueError(f"--max-len {cfg.max_len} exceeds the checkpoint's {max_len} positions")
        rc.vocab_size = len(bpe)
        return MergeBert(rc, encoder)
    rc = make_config(
        len(bpe),
        pad_id,
        cfg.max_len,
        hidden=cfg.hidden,
        layers=cfg.layers,
        heads=cfg.heads,
        dropout=cfg.dropout,
    )
    return MergeBert(rc)


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _batch(arrays, idx: np.ndarray, device: torch.device | None = None):
    if device is not None and device.type != "cpu":
        return tuple(t.to(device) for t in _batch(arrays, idx))
    width = int(arrays["lengths"][idx].max())
    return (
        torch.from_numpy(arrays["input_ids"][idx, :, :width].astype(np.int64)),
        torch.from_numpy(arrays["type_ids"][idx, :, :width].astype(np.int64)),
        torch.from_numpy(arrays["is_token"][idx].astype(np.float32)),
        torch.from_numpy(arrays["labels"][idx].astype(np.float32)),
    )


def _length_batches(arrays, idx: np.ndarray, batch_size: int, rng: np.random.Generator | None):
    """Batches of similar length: shuffle, sort within pools of 50 batches, shuffle the batches."""
    idx = idx.copy()
    if rng is not None:
        rng.shuffle(idx)
    pool = batch_size * 50
    batches = []
    for s in range(0, len(idx), pool):
        chunk = idx[s : s + pool]
        chunk = chunk[np.argsort(arrays["lengths"][chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if rng is not None:
        order = rng.permutation(len(batches))
        batches = [batches[i] for i in order]
    return batches


@torch.no_grad()
def predict(model: MergeBert, arrays, idx: np.ndarray, batch_size: int = 128) -> np.ndarray:
    model.eval()
    out = np.zeros((len(idx), N_CLASSES), dtype=np.float32)
    order = np.argsort(arrays["lengths"][idx], kind="stable")
    for s in range(0, len(order), batch_size):
        pos = order[s : s + batch_size]
        ids, tys, it, _ = _batch(arrays, idx[pos], _device(model))
        out[pos] = torch.softmax(model(ids, tys, it), dim=-1).float().cpu().numpy()
    return out


def _unit_metrics(probs: np.ndarray, labels: np.ndarray, langs: np.ndarray | None = None) -> dict:
    pred = probs.argmax(1)
    hit = labels[np.arange(len(pred)), pred] > 0
    res: dict = {"units": int(len(pred)), "accuracy": float(hit.mean()) if len(pred) else 0.0, "classes": {}}
    for c, name in enumerate(CLASS_NAMES):
        n_pred = int((pred == c).sum())
        n_true = int(labels[:, c].sum())
        tp = int(((pred == c) & (labels[:, c] > 0)).sum())
        res["classes"][name] = {
            "precision": tp / n_pred if n_pred else None,
            "recall": tp / n_true if n_true else None,
            "predicted": n_pred,
            "correct_in": n_true,
        }
    if langs is not None:
        res["languages"] = {
            lang: float(hit[langs == i].mean()) for i, lang in enumerate(LANGS) if (langs == i).any()
        }
    return res


# --------------------------------------------------------------------------------------------- record-level
def record_level(records: list[dict], arrays, probs: np.ndarray, beam: int, only=None) -> list[dict]:
    """Decode every validation record (or those in ``only``) with the model's probabilities: top
    candidate, confidence, correct. ``probs`` rows follow ``arrays``' rows."""
    by_record: dict[int, dict[int, np.ndarray]] = {}
    for row, (r, u) in enumerate(zip(arrays["record"], arrays["unit"], strict=False)):
        by_record.setdefault(int(r), {})[int(u)] = probs[row]
    out = []
    for i, rec in enumerate(records):
        if only is not None and i not in only:
            continue
        entry = {
            "lang": rec.get("lang"),
            "repo": rec.get("repo"),
            "bulk": bool(rec.get("bulk_merge")),
            "confidence": 0.0,
            "correct": False,
            "kind": None,
            "patterns": None,
        }
        unit_probs = by_record.get(i)
        if unit_probs is not None:
            conflict = conflict_input(rec)
            n_units = len(units(conflict))
            if len(unit_probs) == n_units:
                cands = decode(conflict, [unit_probs[k] for k in range(n_units)], beam=beam)
                if cands:
                    top = cands[0]
                    entry.update(
                        confidence=float(top.confidence),
                        kind=top.kind,
                        patterns=list(top.patterns),
                        correct=squash(top.text) == squash(rec["resolution"]),
                    )
        out.append(entry)
    return out


def calibrate(results: list[dict], target: float) -> dict:
    """Lowest confidence threshold whose accepted set has precision ≥ target (maximum coverage)."""
    conf = np.array([r["confidence"] for r in results])
    ok = np.array([r["correct"] for r in results], dtype=np.float64)
    order = np.argsort(-conf, kind="stable")
    cum = np.cumsum(ok[order])
    k = np.arange(1, len(order) + 1)
    prec = cum / k
    good = np.nonzero(prec >= target)[0]
    if len(good) == 0:
        return {
            "threshold": 1.01,
            "precision": None,
            "coverage": 0.0,
            "target": target,
            "curve": _curve(conf, ok),
        }
    last = int(good[-1])
    threshold = float(conf[order[last]])
    accepted = conf >= threshold
    return {
        "threshold": threshold,
        "precision": float(ok[accepted].mean()),
        "coverage": float(accepted.mean()),
        "target": target,
        "curve": _curve(conf, ok),
    }


def _curve(conf: np.ndarray, ok: np.ndarray) -> list[dict]:
    """Coverage and precision of the accepted conflicts at a few thresholds."""
    out = []
    for t in (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99):
        acc = conf >= t
        out.append(
            {
                "threshold": t,
                "coverage": float(acc.mean()) if len(acc) else 0.0,
                "precision": float(ok[acc].mean()) if acc.any() else None,
            }
        )
    return out


def summarise_records(results: list[dict], threshold: float) -> dict:
    def block(rs):
        if not rs:
            return {}
        conf = np.array([r["confidence"] for r in rs])
        ok = np.array([r["correct"] for r in rs])
        acc = conf >= threshold
        return {
            "conflicts": len(rs),
            "top1_accuracy": float(ok.mean()),
            "resolved": float(acc.mean()),
            "precision_at_threshold": float(ok[acc].mean()) if acc.any() else None,
            "correct_at_threshold": float((ok & acc).mean()),
        }

    out = {"all": block(results)}
    for lang in LANGS:
        out[lang] = block([r for r in results if r["lang"] == lang])
    kinds: dict[str, int] = {}
    for r in results:
        key = r["kind"] if r["kind"] != "region" else f"region {r['patterns'][0]}"
        kinds[str(key)] = kinds.get(str(key), 0) + 1
    out["top_candidate_kinds"] = kinds
    return out


# --------------------------------------------------------------------------------------------- main
def train(
    data: list[str],
    out_dir: str,
    cfg: TrainConfig,
    valid: list[str] | None = None,
    cache_dir: str | None = None,
    workers: int = 2,
    limit: int | None = None,
) -> dict:
    t_start = time.time()
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(max(1, cfg.threads))
    os.makedirs(out_dir, exist_ok=True)

    records = list(read_records(data, limit=limit))
    if valid:
        valid_records = list(read_records(valid, limit=limit))
        train_records = records
    else:
        train_records, valid_records = _split_by_repo(records, cfg.valid_fraction, cfg.seed)
    _log(f"records: train {len(train_records)}, valid {len(valid_records)}")
    if not train_records or not valid_records:
        raise ValueError("need training and validation records")

    bpe = _prepare_vocab(cfg, train_records, out_dir)
    fcfg = FeatureConfig(cfg.max_len, cfg.max_context, cfg.min_context)
    tr = _features(train_records, data if valid else None, out_dir, fcfg, cache_dir, "train", False, workers)
    va = _features(valid_records, valid, out_dir, fcfg, cache_dir, "valid", True, workers)

    train_idx = np.arange(len(tr["labels"]))
    if cfg.prefer_patterns:
        region_rows = (tr["is_token"] == 0) & (tr["labels"][:, :N_PATTERNS].sum(1) > 0)
        tr["labels"] = tr["labels"].copy()
        tr["labels"][region_rows, TOKEN_CLASS] = 0
        _log(f"prefer patterns: TOKEN dropped from {int(region_rows.sum())} region units' labels")
    weights_all = np.where(tr["bulk"] > 0, cfg.bulk_weight, 1.0).astype(np.float32)
    if cfg.bulk_weight <= 0:
        train_idx = train_idx[tr["bulk"] == 0]
    va_labelled = np.nonzero(va["labels"].sum(1) > 0)[0]
    rng = np.random.default_rng(cfg.seed)
    sel_idx = np.sort(rng.choice(va_labelled, size=min(cfg.valid_units, len(va_labelled)), replace=False))
    # selection: top-1 accuracy of the decoded candidates on a sample of validation conflicts (what the
    # resolver does); unit accuracy is logged too but rewards answering TOKEN everywhere
    n_valid = len(valid_records)
    sel_records = set(rng.choice(n_valid, size=min(cfg.valid_conflicts, n_valid), replace=False).tolist())
    sel_rows = np.nonzero(np.isin(va["record"], list(sel_records)))[0]
    sel_arrays = {"record": va["record"][sel_rows], "unit": va["unit"][sel_rows]}
    _log(
        f"units: train {len(train_idx)}, valid {len(va_labelled)} labelled (selection on {len(sel_records)}"
        f" conflicts)"
    )

    def select_score() -> tuple[float, float]:
        probs_u = predict(model, va, sel_idx)
        unit_acc = _unit_metrics(probs_u, va["labels"][sel_idx])["accuracy"]
        probs_r = predict(model, va, sel_rows)
        res = record_level(valid_records, sel_arrays, probs_r, cfg.beam, only=sel_records)
        return float(np.mean([r["correct"] for r in res])), unit_acc

    model = _build_model(cfg, bpe)
    if cfg.warm_start:
        ckpt = torch.load(os.path.join(cfg.warm_start, "model.pt"), map_location="cpu", weights_only=False)
        model.load_state_dict(ckpt["state_dict"])
        _log(f"weights from {cfg.warm_start}")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    _log(
        f"model: {n_params / 1e6:.2f}M parameters on {device.type}, hidden {model.config.hidden_size}, "
        f"layers {model.config.num_hidden_layers}"
    )
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embeddings" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embeddings" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
    )
    steps_per_epoch = math.ceil(len(train_idx) / cfg.batch_size)
    total_steps = max(1, int(steps_per_epoch * cfg.epochs))
    budget = cfg.max_minutes * 60 if cfg.max_minutes > 0 else None
    _log(
        f"plan: {total_steps} steps ({steps_per_epoch}/epoch, batch {cfg.batch_size})"
        + (f", time budget {cfg.max_minutes:.0f} min" if budget else "")
    )

    best = {"accuracy": -1.0, "step": 0, "state": None}
    history = []
    step = 0
    bad_evals = 0
    ema = None
    t_train = time.time()
    seen = 0
    stop = False
    epoch = 0
    while not stop:
        for batch_idx in _length_batches(tr, train_idx, cfg.batch_size, rng):
            elapsed = time.time() - t_train
            progress = step / total_steps
            if budget:
                progress = max(progress, elapsed / budget)
            if progress >= 1.0:
                stop = True
                break
            lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup_steps) * max(0.0, 1.0 - progress)
            for g in opt.param_groups:
                g["lr"] = lr
            model.train()
            ids, tys, it, labels = _batch(tr, batch_idx, device)
            w = torch.from_numpy(weights_all[batch_idx]).to(device)
            loss = multi_hot_loss(model(ids, tys, it), labels, w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            seen += len(batch_idx)
            lv = loss.item()
            ema = lv if ema is None else 0.98 * ema + 0.02 * lv
            if step % 50 == 0:
                rate = seen / (time.time() - t_train)
                left = (1 - progress) * (
                    budget
                    if budget and progress == elapsed / budget
                    else (time.time() - t_train) / max(progress, 1e-9)
                )
                _log(
                    f"epoch {epoch + 1} step {step}/{total_steps} [{'#' * int(20 * progress):<20}] "
                    f"loss {ema:.4f} lr {lr:.2e} {rate:.0f} units/s, ~{left / 60:.0f} min left"
                )
            if step % cfg.eval_every == 0:
                score, unit_acc = select_score()
                history.append(
                    {
                        "step": step,
                        "loss": ema,
                        "valid_accuracy": score,
                        "valid_unit_accuracy": unit_acc,
                        "minutes": (time.time() - t_train) / 60,
                    }
                )
                improved = score > best["accuracy"]
                if improved:
                    best = {
                        "accuracy": score,
                        "step": step,
                        "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                    }
                    bad_evals = 0
                else:
                    bad_evals += 1
                _log(
                    f"valid step {step}: conflict top-1 accuracy {score:.4f} (best {best['accuracy']:.4f} "
                    f"at {best['step']}){' *' if improved else ''}, unit accuracy {unit_acc:.4f}"
                )
                if bad_evals >= cfg.patience:
                    _log("early stop: no improvement")
                    stop = True
                    break
        epoch += 1
    # final selection check
    score, unit_acc = select_score()
    history.append(
        {
            "step": step,
            "loss": ema,
            "valid_accuracy": score,
            "valid_unit_accuracy": unit_acc,
            "minutes": (time.time() - t_train) / 60,
        }
    )
    if score > best["accuracy"] or best["state"] is None:
        best = {"accuracy": score, "step": step, "state": model.state_dict()}
    model.load_state_dict(best["state"])
    model.to("cpu")
    train_minutes = (time.time() - t_train) / 60
    _log(
        f"training done: {step} steps, {train_minutes:.1f} min; best step {best['step']} "
        f"(selection accuracy {best['accuracy']:.4f})"
    )

    # full validation evaluation
    probs_all = predict(model, va, np.arange(len(va["labels"])))
    unit_eval = _unit_metrics(probs_all[va_labelled], va["labels"][va_labelled], va["lang"][va_labelled])
    region_rows = va_labelled[va["is_token"][va_labelled] == 0]
    token_rows = va_labelled[va["is_token"][va_labelled] == 1]
    unit_eval["region_units"] = _unit_metrics(probs_all[region_rows], va["labels"][region_rows])
    unit_eval["token_units"] = _unit_metrics(probs_all[token_rows], va["labels"][token_rows])
    _log("decoding validation conflicts for calibration")
    results = record_level(valid_records, va, probs_all, cfg.beam)
    calib = calibrate(results, cfg.target_precision)
    summary = summarise_records(results, calib["threshold"])
    _log(
        f"calibration: threshold {calib['threshold']:.4f}, precision {calib['precision']}, "
        f"coverage {calib['coverage']:.3f}; top-1 accuracy {summary['all'].get('top1_accuracy')}"
    )

    save_model(out_dir, model, bpe, cfg, fcfg, calib["threshold"])
    metrics = {
        "train_records": len(train_records),
        "valid_records": len(valid_records),
        "train_units": int(len(train_idx)),
        "valid_units": int(len(va_labelled)),
        "parameters": int(n_params),
        "steps": step,
        "best_step": best["step"],
        "train_minutes": train_minutes,
        "total_minutes": (time.time() - t_start) / 60,
        "unit_level": unit_eval,
        "calibration": calib,
        "conflicts": summary,
        "history": history,
        "config": asdict(cfg),
        "data": [os.path.abspath(p) for p in data],
        "valid_data": [os.path.abspath(p) for p in valid] if valid else None,
    }
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    _log(f"saved to {out_dir}")
    return metrics


def save_model(
    out_dir: str, model: MergeBert, bpe: BPE, cfg: TrainConfig, fcfg: FeatureConfig, threshold: float
) -> None:
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
    path = os.path.join(out_dir, "config.json")
    if os.path.exists(path):  # keep what export added
        with open(path) as f:
            old = json.load(f)
        for key in ("onnx", "quantized", "export"):
            if key in old:
                config[key] = old[key]
    with open(path, "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `mergebert train`")
