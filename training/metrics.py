"""Validation metrics and calibration: unit-level precision/recall, record-level decoding of the units'
probabilities (the runtime's own `candidates.decode`), the confidence threshold for a target precision,
and the sample of validation conflicts whose top-1 accuracy selects the weights during training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mergebert.core.candidates import CLASS_NAMES, decode, units
from mergebert.core.languages import NAMES as LANGS
from mergebert.core.patterns import squash
from mergebert.data.records import conflict_input
from training.config import TrainConfig
from training.dataset import Arrays
from training.fit import predict
from training.model import MergeBert

# the threshold calibration writes where none reaches the target precision: the highest the runtime takes
# (a threshold is a confidence, 0 to 1), which still accepts a confidence of exactly 1 (calibrate reports
# what it accepts)
NEVER = 1.0


def unit_metrics(probs: np.ndarray, labels: np.ndarray, langs: np.ndarray | None = None) -> dict:
    """Accuracy of the units' top class, and per class precision and recall."""
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
    """Lowest confidence threshold whose accepted set (confidence >= threshold, the resolver's rule) has
    precision >= target (maximum coverage), else NEVER; with the precision and coverage it accepts, and
    whether that precision reaches the target (``reached``)."""
    conf = _as_compared(np.array([r["confidence"] for r in results], dtype=np.float64))
    ok = np.array([r["correct"] for r in results], dtype=np.float64)
    order = np.argsort(-conf, kind="stable")
    ranked = conf[order]
    precision = np.cumsum(ok[order]) / np.arange(1, len(order) + 1)
    # a threshold takes all of a tie or none of it: only a tie's last row ends a set it can accept
    cut = np.isfinite(ranked)
    cut[:-1] &= ranked[:-1] > ranked[1:]
    good = np.nonzero(cut & (precision >= target))[0]
    threshold = float(ranked[good[-1]]) if len(good) else NEVER
    accepted = conf >= threshold
    return {
        "threshold": threshold,
        "precision": float(ok[accepted].mean()) if accepted.any() else None,
        "coverage": float(accepted.mean()) if len(accepted) else 0.0,
        "reached": bool(len(good)),
        "target": target,
        "curve": _curve(conf, ok),
    }


def _as_compared(conf: np.ndarray) -> np.ndarray:
    """Confidences as a threshold within [0, 1] sees them: past 1 (a sum of probabilities rounded up) as 1;
    NaN, which passes no threshold, as below every one."""
    return np.where(np.isnan(conf), -np.inf, np.minimum(conf, 1.0))


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
    """Top-1 accuracy, share resolved and precision at `threshold`, overall and per language."""

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


@dataclass
class Selection:
    """The validation sample that selects the weights: units (logged) and whole conflicts (decoded)."""

    records: list[dict]
    arrays: Arrays
    unit_rows: np.ndarray
    conflicts: set[int]
    conflict_rows: np.ndarray
    beam: int

    @classmethod
    def draw(
        cls, records: list[dict], arrays: Arrays, cfg: TrainConfig, rng: np.random.Generator
    ) -> Selection:
        labelled = np.nonzero(arrays["labels"].sum(1) > 0)[0]
        unit_rows = np.sort(rng.choice(labelled, size=min(cfg.valid_units, len(labelled)), replace=False))
        n = len(records)
        conflicts = set(rng.choice(n, size=min(cfg.valid_conflicts, n), replace=False).tolist())
        conflict_rows = np.nonzero(np.isin(arrays["record"], list(conflicts)))[0]
        return cls(records, arrays, unit_rows, conflicts, conflict_rows, cfg.beam)

    def score(self, model: MergeBert) -> tuple[float, float]:
        """(top-1 accuracy of the decoded candidates on the conflicts, unit accuracy): the first is what
        the resolver does; the second rewards answering TOKEN everywhere and is only logged."""
        unit_acc = unit_metrics(
            predict(model, self.arrays, self.unit_rows), self.arrays["labels"][self.unit_rows]
        )
        rows = {
            "record": self.arrays["record"][self.conflict_rows],
            "unit": self.arrays["unit"][self.conflict_rows],
        }
        probs = predict(model, self.arrays, self.conflict_rows)
        results = record_level(self.records, rows, probs, self.beam, only=self.conflicts)
        return float(np.mean([r["correct"] for r in results])), unit_acc["accuracy"]


def validation_report(model: MergeBert, records: list[dict], arrays: Arrays, cfg: TrainConfig) -> dict:
    """Unit-level metrics, the calibration and the record-level summary on the whole validation split."""
    labelled = np.nonzero(arrays["labels"].sum(1) > 0)[0]
    probs = predict(model, arrays, np.arange(len(arrays["labels"])))
    unit_eval = unit_metrics(probs[labelled], arrays["labels"][labelled], arrays["lang"][labelled])
    for name, is_token in (("region_units", 0), ("token_units", 1)):
        rows = labelled[arrays["is_token"][labelled] == is_token]
        unit_eval[name] = unit_metrics(probs[rows], arrays["labels"][rows])
    results = record_level(records, arrays, probs, cfg.beam)
    calib = calibrate(results, cfg.target_precision)
    return {
        "unit_level": unit_eval,
        "calibration": calib,
        "conflicts": summarise_records(results, calib["threshold"]),
    }
