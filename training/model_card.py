# ruff: noqa: E501  (the card's prose lines)
"""Writes MODEL_CARD.md for a model directory from its config.json, metrics.json and export.json.

python -m training.model_card MODEL_DIR --command "mergebert train ..." [--notes FILE]
"""

from __future__ import annotations

import argparse
import json
import os

from mergebert.core.languages import NAMES


def _data_lines(metrics: dict, tc: dict) -> list[str]:
    """Where the encoder's training and checkpoint-choosing records came from."""
    data = ", ".join(f"`{os.path.basename(p)}`" for p in metrics.get("data") or [])
    held_out = metrics.get("valid_repos")
    untouched = " No validation file played a part."
    if metrics.get("valid_data"):
        valid = ", ".join(f"`{os.path.basename(p)}`" for p in metrics["valid_data"])
        source = f"{valid} (other repositories; its `*.scenarios` come from the same ones, so `mergebert eval` there is not independent)"
        untouched = ""
    elif held_out and set(held_out) == set(metrics.get("train_repository_names") or []):
        source = f"every tenth record of the one repository of {data}, held out of training"
    else:
        source = f"the {len(held_out or [])} repositories of {data} held out of training ({tc.get('valid_fraction'):.0%})"
    return [
        f"- train: {metrics.get('train_records')} region records of {data}"
        + (f" ({metrics['train_repositories']} repositories)" if "train_repositories" in metrics else "")
        + f" → {metrics.get('train_units')} labelled units (region units with at least one",
        "  correct class, token units whose region's TOKEN class is correct); conflicts over 20 000",
        f"  characters skipped; bulk-merge records weighted {tc.get('bulk_weight')}.",
        f"- checkpoint choice: {metrics.get('valid_records')} records of {source}, {metrics.get('valid_units')}",
        f"  labelled units; the top-1 accuracy of {tc.get('valid_conflicts')} of their conflicts selects the checkpoint",
        f"  (early stopping); all of them give the unit metrics below.{untouched}",
    ]


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _calibration_section(cfg: dict, calib: dict) -> list[str]:
    return [
        "## Calibration",
        "",
        f"Threshold **{cfg.get('threshold', 0):.4f}** (in `config.json`): "
        + (
            "the lowest confidence at which the validation conflicts accepted have precision ≥ "
            if calib.get("reached", True)
            else "the highest the runtime takes, as no threshold reaches a precision of "
        )
        + f"{_pct(calib.get('target'))}; there it accepts "
        f"{_pct(calib.get('coverage'))} of them with precision {_pct(calib.get('precision'))}. "
        "Override with `--threshold`, `MERGEBERT_THRESHOLD` or git config `mergebert.threshold` "
        "(`mergebert eval` reads no git config: `--threshold`, else `MERGEBERT_THRESHOLD`).",
        "",
    ]


def _acceptor_section(cfg: dict, report: dict) -> list[str]:
    chosen, zero, strict = report["chosen"], report["at_zero"], report.get("precision_threshold")
    decoder = report["decoder_only_curve"][0]
    lines = [
        "## Second stage (acceptor) and the default threshold",
        "",
        f"`acceptor.npz` (see `mergebert/neural/acceptor.py`) was fitted by `mergebert fit-acceptor` on "
        f"{report['conflicts']} line conflicts of {report['files']} whole files from "
        f"{len(report['repositories'])} repositories the encoder never saw (never the validation files)"
        + (
            f", and on {report['region_conflicts']} conflicts of {report['region_files']} other files known "
            "only as region records (no whole file), from the region records' repositories the encoder never "
            "saw (which may include repositories without whole files)"
            if report.get("region_files")
            else ""
        )
        + ". Figures below are out of fold (five folds by repository), on the whole files alone, replaying "
        "the resolver's rule:",
        "",
        "| | threshold | accuracy | precision | answered |",
        "|---|---|---|---|---|",
        f"| default ({report['rule']}) | **{cfg.get('threshold', 0):.2f}** | {_pct(chosen['accuracy'])} | "
        f"{_pct(chosen['precision'])} | {_pct(chosen['answered'])} |",
    ]
    if strict:
        lines.append(
            f"| ≥ {_pct(report['target_precision'])} precision | {strict['threshold']:.2f} | "
            f"{_pct(strict['accuracy'])} | {_pct(strict['precision'])} | {_pct(strict['answered'])} |"
        )
    lines += [
        f"| every conflict answered | 0 | {_pct(zero['accuracy'])} | {_pct(zero['precision'])} | "
        f"{_pct(zero['answered'])} |",
        f"| decoder confidence, no acceptor | 0 | {_pct(decoder['accuracy'])} | {_pct(decoder['precision'])} | "
        f"{_pct(decoder['answered'])} |",
        f"| token merge alone | – | {_pct(report['token_merge_only_accuracy'])} | | |",
        "",
        "Override with `--threshold`, `MERGEBERT_THRESHOLD` or git config `mergebert.threshold` "
        "(`mergebert eval` reads no git config: `--threshold`, else `MERGEBERT_THRESHOLD`).",
        "",
    ]
    return lines


def render(model_dir: str, command: str, notes: str = "") -> str:
    def load(name):
        path = os.path.join(model_dir, name)
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return json.load(f)

    cfg, metrics, export = load("config.json"), load("metrics.json"), load("export.json")
    files = {
        n: os.path.getsize(os.path.join(model_dir, n))
        for n in ("model.onnx", "vocab.json", "merges.txt")
        if os.path.exists(os.path.join(model_dir, n))
    }
    m = cfg.get("model", {})
    tc = metrics.get("config", {})
    unit = metrics.get("unit_level", {})
    conflicts = export.get("conflicts") or metrics.get("conflicts", {})
    calib = export.get("calibration") or metrics.get("calibration", {})
    lines = [
        "# mergebert default model",
        "",
        "MergeBERT-style classifier (Svyatkovskiy et al., FSE 2022) trained from scratch: one shared RoBERTa",
        "encoder reads four aligned sub-word sequences per unit (a→base, base→a, b→base, base→b) with edit-type",
        "embeddings (equal/insert/delete/replace/padding) and context; learned weights combine the four [CLS]",
        'vectors and a linear layer scores 10 classes (the nine patterns + TOKEN, "use the token merge").',
        "",
        "## Size",
        "",
        f"- encoder: hidden {m.get('hidden')}, {m.get('layers')} layers, {m.get('heads')} heads, "
        f"vocabulary {m.get('vocab_size')} (byte-level BPE learned on the training split); "
        f"{metrics.get('parameters', 0) / 1e6:.2f}M parameters",
        f"- sequences: at most {cfg.get('features', {}).get('max_len')} sub-words each, "
        f"{cfg.get('features', {}).get('max_context')} of them context",
        "- files: "
        + ", ".join(f"{n} {s / 1e6:.2f} MB" for n, s in files.items())
        + f" ({'int8 dynamic quantisation' if cfg.get('quantized') else 'fp32'}); "
        f"total {sum(files.values()) / 1e6:.1f} MB",
        "",
        "## Data",
        "",
        *_data_lines(metrics, tc),
        "",
        "## Training",
        "",
        "```sh",
        command,
        "```",
        "",
        f"- {metrics.get('steps')} steps of batch {tc.get('batch_size')} "
        f"(best at step {metrics.get('best_step')}), {metrics.get('train_minutes', 0):.0f} min of training, "
        f"{metrics.get('total_minutes', 0):.0f} min in all, on 2 shared CPU cores; seed {tc.get('seed')}",
        f"- AdamW lr {tc.get('lr')}, warm-up {tc.get('warmup_steps')} steps, linear decay over the time budget "
        f"({tc.get('max_minutes')} min), dropout {tc.get('dropout')}; loss −log Σ P(correct classes)",
        f"- ours and theirs swapped (labels mirrored) in {tc.get('swap_sides', 0.0):.0%} of each batch's units",
        "",
        "## Validation metrics",
        "",
        "Unit level (argmax class is one of the unit's correct classes):",
        "",
        f"- all units: accuracy {_pct(unit.get('accuracy'))} ({unit.get('units')} units); region units "
        f"{_pct(unit.get('region_units', {}).get('accuracy'))}, token units "
        f"{_pct(unit.get('token_units', {}).get('accuracy'))}",
        "- per language: " + ", ".join(f"{k} {_pct(v)}" for k, v in unit.get("languages", {}).items()),
        "",
        "| class | precision | recall | predicted | correct in |",
        "|---|---|---|---|---|",
    ]
    for name, c in unit.get("classes", {}).items():
        lines.append(
            f"| {name} | {_pct(c['precision'])} | {_pct(c['recall'])} | {c['predicted']} | "
            f"{c['correct_in']} |"
        )
    lines += [
        "",
        "(Labels are multi-hot: recall counts a unit under every class that would have been correct, so it",
        "understates classes that usually coincide with another, e.g. A+B-BASE with TOKEN.)",
        "",
        "Line-conflict level: the decoder's top candidate (region pattern or token merge with a beam over the",
        "token conflicts) against the developer's resolution, whitespace ignored; *resolved* = share of",
        "conflicts whose top confidence reaches the threshold (before the resolver's parse check):",
        "",
        "| | conflicts | top-1 accuracy | resolved at threshold | precision at threshold |",
        "|---|---|---|---|---|",
    ]
    for key in ("all", *NAMES):
        b = conflicts.get(key) or {}
        if b:
            lines.append(
                f"| {key} | {b.get('conflicts')} | {_pct(b.get('top1_accuracy'))} | {_pct(b.get('resolved'))}"
                f" | {_pct(b.get('precision_at_threshold'))} |"
            )
    acceptor = load("acceptor_metrics.json")
    lines += [""] + (_acceptor_section(cfg, acceptor) if acceptor else _calibration_section(cfg, calib))
    if export:
        lines += [
            "## Export",
            "",
            f"ONNX Runtime vs torch: max |Δp| {export.get('torch_ort_max_abs_diff', 0):.1e} on "
            f"{export.get('checked_units')} validation units. Unit accuracy fp32 "
            f"{_pct(export.get('valid_unit_accuracy_fp32'))}"
            + (
                f", int8 {_pct(export.get('valid_unit_accuracy_int8'))}"
                if "valid_unit_accuracy_int8" in export
                else ""
            )
            + f" → shipped as {'int8' if cfg.get('quantized') else 'fp32'}.",
            "",
        ]
    if notes:
        lines += [notes.rstrip(), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("--command", required=True)
    parser.add_argument("--notes", help="markdown file appended to the card")
    args = parser.parse_args()
    notes = ""
    if args.notes:
        with open(args.notes, encoding="utf-8") as f:
            notes = f.read()
    with open(os.path.join(args.model_dir, "MODEL_CARD.md"), "w") as f:
        f.write(render(args.model_dir, args.command, notes))


if __name__ == "__main__":
    main()
