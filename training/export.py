"""Export a trained model to ONNX (``mergebert export``), check it against torch, optionally quantise.

Writes ``model.onnx`` (inputs ``input_ids``/``type_ids`` (batch, 4, length) int64 and ``is_token`` (batch,)
float32; output ``probs`` (batch, 10); batch and length dynamic), verifies that ONNX Runtime and torch agree
within 1e-4 on a sample, and tries dynamic int8 quantisation, kept only when unit accuracy on validation
drops by less than half a point.  With validation data the confidence threshold is re-calibrated on the
ONNX model's own probabilities.
"""

from __future__ import annotations

import filecmp
import json
import os
import time
from collections.abc import Iterator

import numpy as np
import torch

from mergebert.core.candidates import N_CLASSES
from mergebert.core.messages import some_of, warn
from mergebert.neural.bpe import BPE
from mergebert.neural.features import FeatureConfig
from training.config import TrainingError
from training.model import MergeBert, ProbabilityModel
from training.modeldir import ACCEPTOR_FILES, drop_acceptor, write_json
from training.quiet import quantization_advice, tracing_warnings

TOLERANCE = 1e-4
MAX_QUANT_DROP = 0.005


def load_torch(model_dir: str) -> MergeBert:
    from transformers import RobertaConfig

    ckpt = torch.load(os.path.join(model_dir, "model.pt"), map_location="cpu", weights_only=False)
    rc = RobertaConfig.from_dict(ckpt["roberta_config"])
    rc._attn_implementation = "eager"  # plain ops: exports cleanly with dynamic length
    model = MergeBert(rc)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model


def export_onnx(model: MergeBert, path: str, opset: int = 17) -> None:
    wrapper = ProbabilityModel(model).eval()
    pad = model.pad_id
    ids = torch.full((2, 4, 12), pad, dtype=torch.int64)
    ids[:, :, :8] = torch.randint(5, model.config.vocab_size, (2, 4, 8))
    ids[:, :, 0] = 0
    types = torch.zeros((2, 4, 12), dtype=torch.int64)
    types[:, :, 8:] = 4
    is_token = torch.tensor([0.0, 1.0])
    with torch.no_grad(), tracing_warnings():
        torch.onnx.export(
            wrapper,
            (ids, types, is_token),
            path,
            input_names=["input_ids", "type_ids", "is_token"],
            output_names=["probs"],
            dynamic_axes={
                "input_ids": {0: "batch", 2: "length"},
                "type_ids": {0: "batch", 2: "length"},
                "is_token": {0: "batch"},
                "probs": {0: "batch"},
            },
            opset_version=opset,
            dynamo=False,
        )


def _session(path: str, threads: int = 2):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def ort_predict(session, arrays, idx: np.ndarray, batch_size: int = 128) -> np.ndarray:
    out = np.zeros((len(idx), N_CLASSES), dtype=np.float32)
    order = np.argsort(arrays["lengths"][idx], kind="stable")
    for s in range(0, len(order), batch_size):
        pos = order[s : s + batch_size]
        rows = idx[pos]
        width = int(arrays["lengths"][rows].max())
        feed = {
            "input_ids": arrays["input_ids"][rows, :, :width].astype(np.int64),
            "type_ids": arrays["type_ids"][rows, :, :width].astype(np.int64),
            "is_token": arrays["is_token"][rows].astype(np.float32),
        }
        out[pos] = session.run(["probs"], feed)[0]
    return out


def _training_metrics(model_dir: str) -> dict:
    """The model's metrics.json (what training used and measured), or {} without one."""
    try:
        with open(os.path.join(model_dir, "metrics.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _validation_files(valid: list[str] | None, metrics: dict) -> tuple[list[str] | None, bool, str]:
    """(files, held_out, ""): `valid`, else what training validated on: its --valid files, or (held_out)
    the DATA it held records out of, as `metrics` names them; (None, False, why) when there are none."""
    if valid:
        return valid, False, ""
    files, held_out = metrics.get("valid_data"), False
    if not files and metrics.get("valid_repos"):
        files, held_out = metrics.get("data"), True
    if not files:
        return None, False, "metrics.json names none"
    missing = [p for p in files if not os.path.exists(p)]
    if missing:
        return None, False, f"metrics.json names files that are gone: {', '.join(missing)}"
    return files, held_out, ""


def _valid_arrays(
    model_dir: str,
    valid: list[str] | None,
    cache_dir: str | None,
    limit: int | None,
    cfg: dict,
    metrics: dict,
):
    """(records, features, "") of the first `limit` validation records: `valid`'s, else those training
    validated on (`_validation_files`; the very records it held out); (None, None, why) when none can."""
    from training.data import read_records
    from training.prepare import features, held_out_key, held_out_of

    files, held_out, why = _validation_files(valid, metrics)
    if files is None:
        return None, None, why
    split = ""
    if held_out:
        records = held_out_of(files, metrics)
        why = _changed_since_training(records, metrics)
        if why:
            return None, None, why
        split = held_out_key(records)  # as training keyed its cache
        records = records[:limit]
    else:
        records = list(read_records(files, limit=limit))
    fcfg = FeatureConfig.from_dict(cfg["features"])
    arrays = features(records, files, model_dir, fcfg, cache_dir, "valid", True, 2, split=split)
    if not (arrays["labels"].sum(1) > 0).any():
        given = (
            f"first {len(records)} validation records (--limit {limit})" if limit else "validation records"
        )
        return None, None, f"no class reproduces any resolution in the {given}"
    return records, arrays, ""


def _changed_since_training(records: list[dict], metrics: dict) -> str:
    """Why `records`, DATA's (`held_out_of`), are not those training validated on; "" when they are (by
    metrics.json's digest of them, or in an older one, as many as it counts)."""
    from training.prepare import records_digest

    trained = metrics.get("valid_records", len(records))
    held = some_of(metrics["valid_repos"])
    if len(records) != trained:
        count = f"DATA holds {len(records)} of the {trained} records of {held} training held out"
        return f"{count}: it changed since training"
    if "valid_digest" in metrics and metrics["valid_digest"] != records_digest(records):
        return f"DATA's records of {held} are not those training held out: they changed since training"
    return ""


def _synthetic(model: MergeBert, n: int = 48, seed: int = 0):
    rng = np.random.default_rng(seed)
    max_len = model.config.max_position_embeddings - model.pad_id - 1
    ids = np.full((n, 4, max_len), model.pad_id, dtype=np.int32)
    types = np.full((n, 4, max_len), 4, dtype=np.int8)
    lengths = rng.integers(8, max_len + 1, n).astype(np.int16)
    for i, w in enumerate(lengths):
        ids[i, :, :w] = rng.integers(5, model.config.vocab_size, (4, w))
        ids[i, :, 0] = 0
        types[i, :, :w] = rng.integers(0, 4, (4, w))
    return {
        "input_ids": ids,
        "type_ids": types,
        "lengths": lengths,
        "is_token": (rng.random(n) < 0.5).astype(np.uint8),
        "labels": np.zeros((n, N_CLASSES), dtype=np.uint8),
    }


def export(
    model_dir: str,
    valid: list[str] | None = None,
    quantize: bool = True,
    cache_dir: str | None = None,
    limit: int | None = None,
    sample: int = 256,
    seed: int = 0,
) -> Iterator[str]:
    """Export, verify, quantise; yields report lines. Raises RuntimeError when ORT and torch disagree."""
    if not os.path.exists(os.path.join(model_dir, "model.pt")):
        raise TrainingError(f"no model.pt in {model_dir}: train a model there first (mergebert train -o DIR)")
    drafts = [os.path.join(model_dir, f"model.{kind}.onnx") for kind in ("fp32", "int8")]
    try:
        yield from _export(model_dir, valid, quantize, cache_dir, limit, sample, seed, *drafts)
    finally:
        for path in drafts:
            if os.path.exists(path):
                os.remove(path)


def _export(
    model_dir: str,
    valid: list[str] | None,
    quantize: bool,
    cache_dir: str | None,
    limit: int | None,
    sample: int,
    seed: int,
    fp32_path: str,
    q_path: str,
) -> Iterator[str]:
    """`export`, writing its drafts to `fp32_path` and `q_path` (the caller removes them)."""
    from training.fit import finite_weights, predict
    from training.metrics import calibrate, record_level, summarise_records

    t0 = time.time()
    model = load_torch(model_dir)
    if not finite_weights(model):
        raise TrainingError(
            f"{model_dir}/model.pt holds weights that are not numbers (NaN or infinite): its training "
            "diverged; train it again with a lower --lr"
        )
    export_onnx(model, fp32_path)
    yield f"exported to ONNX ({os.path.getsize(fp32_path) / 1e6:.1f} MB fp32)"

    cfg_path = os.path.join(model_dir, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    metrics = _training_metrics(model_dir)
    records, va, why = _valid_arrays(model_dir, valid, cache_dir, limit, cfg, metrics)
    if va is None:
        skipped = "int8 not tried, threshold not recalibrated" if quantize else "threshold not recalibrated"
        warn(f"no validation data ({why}): {skipped}; pass --valid")
    rng = np.random.default_rng(seed)
    check = va if va is not None else _synthetic(model)
    n = len(check["lengths"])
    sample_idx = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    torch_probs = predict(model, check, sample_idx)
    sess = _session(fp32_path)
    ort_probs = ort_predict(sess, check, sample_idx)
    diff = float(np.abs(torch_probs - ort_probs).max())
    yield f"ONNX Runtime vs torch on {len(sample_idx)} units: max |Δp| = {diff:.2e} (tolerance {TOLERANCE:g})"
    if not diff <= TOLERANCE:  # NaN too
        raise RuntimeError(f"ONNX Runtime and torch disagree: {diff:.2e} > {TOLERANCE:g}")

    target = _target_precision(cfg, metrics)
    chosen = fp32_path
    quantized = False
    report: dict = {"torch_ort_max_abs_diff": diff, "checked_units": int(len(sample_idx))}
    if va is not None:
        labelled = np.nonzero(va["labels"].sum(1) > 0)[0]
        eval_idx = labelled
        base_probs = ort_predict(sess, va, eval_idx)
        acc_fp32 = float((va["labels"][eval_idx, base_probs.argmax(1)] > 0).mean())
        report["valid_unit_accuracy_fp32"] = acc_fp32
        yield f"validation unit accuracy (fp32 ONNX): {acc_fp32:.4f} on {len(eval_idx)} units"
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            with quantization_advice():
                quantize_dynamic(fp32_path, q_path, weight_type=QuantType.QInt8)
            q_sess = _session(q_path)
            q_probs = ort_predict(q_sess, va, eval_idx)
            acc_q = float((va["labels"][eval_idx, q_probs.argmax(1)] > 0).mean())
            report["valid_unit_accuracy_int8"] = acc_q
            keep = acc_fp32 - acc_q < MAX_QUANT_DROP
            yield (
                f"int8 ({os.path.getsize(q_path) / 1e6:.1f} MB): accuracy {acc_q:.4f}, drop "
                f"{100 * (acc_fp32 - acc_q):.2f} pt -> {'kept' if keep else 'discarded'}"
            )
            if keep:
                chosen, quantized, sess = q_path, True, q_sess
        probs_all = ort_predict(sess, va, np.arange(len(va["lengths"])))
        results = record_level(records, va, probs_all, int(cfg.get("beam", 8)))
        calib = calibrate(results, target)
        summary = summarise_records(results, calib["threshold"])
        report["calibration"] = calib
        report["conflicts"] = summary
        yield (
            f"calibrated threshold {calib['threshold']:.4f}: precision {calib['precision']}, "
            f"resolves {calib['coverage']:.3f} of validation conflicts"
            + ("" if calib["reached"] else f" (no threshold reaches precision {target:.0%})")
            + f"; top-1 accuracy {summary['all'].get('top1_accuracy')}"
        )
    cfg["onnx"] = "model.onnx"
    cfg["quantized"] = quantized
    if "acceptor" in cfg:
        _settle_acceptor(model_dir, cfg, metrics, chosen, report, target)
    elif "calibration" in report:
        cfg["threshold"] = report["calibration"]["threshold"]
    cfg["export"] = {k: v for k, v in report.items() if k != "conflicts"}
    onnx_path = os.path.join(model_dir, "model.onnx")
    os.replace(chosen, onnx_path)
    write_json(cfg_path, cfg)
    write_json(os.path.join(model_dir, "export.json"), report)
    # sanity: the runtime loads it
    BPE.from_dir(model_dir)
    yield (
        f"wrote model.onnx ({os.path.getsize(onnx_path) / 1e6:.1f} MB, {'int8' if quantized else 'fp32'}) "
        f"in {time.time() - t0:.0f}s"
    )


def _target_precision(cfg: dict, metrics: dict) -> float:
    """The precision the decoder's threshold keeps: the config's, else training's (fit-acceptor drops it)."""
    trained = metrics.get("config", {}).get("target_precision", 0.9)
    return float(cfg.get("target_precision", trained))


def _settle_acceptor(
    model_dir: str, cfg: dict, metrics: dict, new_onnx: str, report: dict, target: float
) -> None:
    """Keep `cfg`'s acceptor and its threshold when model.onnx stays the same; else drop the acceptor (it
    was fitted on the old model's outputs) and give the threshold back to the decoder's calibration."""
    from training.metrics import NEVER

    old_onnx = os.path.join(model_dir, "model.onnx")
    calibrated = report.get("calibration", metrics.get("calibration", {})).get("threshold")
    if os.path.exists(old_onnx) and filecmp.cmp(old_onnx, new_onnx, shallow=False):
        warn(f"model.onnx is unchanged: the acceptor and its threshold {cfg['threshold']:.2f} stay")
        return
    drop_acceptor(model_dir, cfg)
    cfg["threshold"] = NEVER if calibrated is None else calibrated
    cfg["target_precision"] = target
    warn(
        f"model.onnx changed: removed the acceptor fitted on the old one ({', '.join(ACCEPTOR_FILES)}); the "
        f"threshold is the decoder's calibration {cfg['threshold']:.4f}: run mergebert fit-acceptor again"
    )
