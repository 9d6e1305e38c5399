"""The acceptor's ablation table: each lever of the second stage on and off, chosen on held-out training
repositories and quoted on other files.

    python -m training.ablation MODEL_DIR --fit FIT.scenarios.jsonl.gz... --exclude-repos-of TRAIN.regions...
        [--regions FIT.regions.jsonl.gz...] --quote QUOTE.scenarios.jsonl.gz... [--fit-rows F.npz]
        [--quote-rows Q.npz]

For every variant an acceptor is fitted on the FIT files (repositories the encoder never saw), its
default threshold chosen there out of fold by the shipped rule (as many right as the token merge alone,
plus a margin), and the 90%-precision threshold likewise; all are replayed through the
resolver's rule on the QUOTE files, whose answers are never used for any choice. The full variant's
accuracy at threshold 0 is also given per language with a 95% bootstrap interval over files.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from mergebert.data.intervals import bootstrap
from mergebert.data.records import read_records
from mergebert.neural.acceptor import FEATURE_NAMES, Acceptor
from mergebert.neural.candidate_text import TEXT_FEATURE_NAMES
from training.acceptor import (
    THRESHOLDS,
    ExtraRows,
    cached_rows,
    choose_threshold,
    curve,
    decoder_confidence,
    fit_with,
    held_out_files,
    match_token_merge,
    out_of_fold,
    region_rows,
    replay,
)

FILE_FACTS = (
    "file_direction",
    "file_direction_x_side",
    "abs_file_direction",
    "log_ours_changed",
    "log_theirs_changed",
    "whole_file",
)
OTHER_CONFLICTS = (
    "others_lean",
    "others_lean_x_side",
    "others_top_side",
    "others_top_side_x_side",
    "log_conflicts",
)


@dataclass(frozen=True)
class Variant:
    """An acceptor of the table: the features it loses (None: no acceptor at all, the decoder's own
    confidence), whether the region files train it too, and whether it has a ranker."""

    dropped: tuple[str, ...] | None
    regions: bool = True
    ranker: bool = True


VARIANTS: dict[str, Variant] = {
    "decoder confidence only (no acceptor)": Variant(None),
    "acceptor without file facts or other conflicts": Variant(FILE_FACTS + OTHER_CONFLICTS),
    "acceptor without file facts": Variant(FILE_FACTS),
    "acceptor without the other conflicts": Variant(OTHER_CONFLICTS),
    "acceptor without the candidate's text": Variant(TEXT_FEATURE_NAMES),
    "acceptor fitted on whole files only (no region files)": Variant((), regions=False),
    "acceptor without the ranker (candidates by confidence)": Variant((), ranker=False),
    "acceptor, all features (shipped)": Variant(()),
}
Scores = tuple[np.ndarray, np.ndarray]  # each candidate row's confidence and order key (Acceptor.scores)


def _masked(features: np.ndarray, dropped: tuple[str, ...]) -> np.ndarray:
    out = features.copy()
    out[:, [FEATURE_NAMES.index(name) for name in dropped]] = 0.0
    return out


def _point(scores: Scores, rows: dict, threshold: float) -> dict:
    probs, order = scores
    args = (rows["parses"], rows["correct"], rows["conflict"], len(rows["repo"]))
    return curve(probs, *args, [threshold], order=order)[0]


# a variant for which no threshold qualifies answers nothing (as fit-acceptor then writes no threshold):
# above every confidence, 1 included (calibration's NEVER, 1, still takes a confidence of exactly 1)
NONE_QUALIFIES = math.inf


def _threshold(choose: Callable[..., dict], *args: object) -> float:
    """The threshold of the point ``choose(*args)`` picks, or NONE_QUALIFIES."""
    try:
        return float(choose(*args)["threshold"])
    except ValueError:
        return NONE_QUALIFIES


def _shown(threshold: float) -> str:
    return "none" if threshold == NONE_QUALIFIES else f"{threshold:.2f}"


def _pair(point: dict) -> str:
    precision = f"{point['precision']:.1%}" if point["precision"] is not None else "–"
    return f"{point['accuracy']:.1%} / {precision}"


def by_language(scores: Scores, rows: dict, threshold: float) -> dict[str, dict]:
    """Accuracy per language with its bootstrap interval over files."""
    probs, order = scores
    answers = replay(probs, rows["parses"], rows["correct"], rows["conflict"], threshold, order)
    right = np.zeros(len(rows["repo"]))
    for conflict, ok in answers.items():
        right[conflict] = ok
    out = {}
    for lang in sorted(set(rows["lang"].tolist())):
        inside = rows["lang"] == lang
        files = rows["file_index"][inside]
        names, index = np.unique(files, return_inverse=True)
        per_file_right = np.bincount(index, weights=right[inside], minlength=len(names))
        per_file_total = np.bincount(index, minlength=len(names)).astype(float)
        low, high = bootstrap(per_file_right, per_file_total)
        out[lang] = {
            "accuracy": float(right[inside].mean()),
            "low": low,
            "high": high,
            "conflicts": int(inside.sum()),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--fit", nargs="+", required=True)
    parser.add_argument("--exclude-repos-of", nargs="*", default=[])
    parser.add_argument("--regions", nargs="*", default=[], help="region files that also train the acceptor")
    parser.add_argument("--quote", nargs="+", required=True)
    parser.add_argument("--margin", type=float, default=0.01)
    parser.add_argument("--fit-rows", help="an .npz to keep (and reuse) the fitting files' candidate rows")
    parser.add_argument("--quote-rows", help="the same for the quoted files")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()

    fit_records, files = held_out_files(args.fit, args.exclude_repos_of, args.regions)
    repos = {record.get("repo", "") for record in fit_records}
    fit_rows = cached_rows(args.fit_rows, fit_records, args.model_dir, args.jobs)
    quote_rows = cached_rows(args.quote_rows, list(read_records(args.quote)), args.model_dir, args.jobs)
    extra = ExtraRows.of(region_rows(args.fit_rows, files, args.model_dir, args.jobs)) if files else None
    groups = fit_rows["repo"][fit_rows["conflict"]]
    n_fit = len(fit_rows["repo"])
    print(
        f"fit: {n_fit} conflicts from {len(repos)} repositories; quote: {len(quote_rows['repo'])} conflicts"
    )
    print(f"token merge alone on the quoted files: accuracy {quote_rows['token_merge_correct'].mean():.1%}\n")
    fit_token_merge = float(fit_rows["token_merge_correct"].mean())
    print(
        "| variant | default threshold | quote accuracy at 0 | quote accuracy / precision at default | "
        "90%-precision threshold | quote accuracy / precision there |"
    )
    print("|---|---|---|---|---|---|")
    for name, variant in VARIANTS.items():
        if variant.dropped is None:
            oof = decoder_confidence(fit_rows["features"])
            fit_scores = (oof, oof)
            quoted = decoder_confidence(quote_rows["features"])
            quote_scores = (quoted, quoted)
        else:
            columns = (_masked(fit_rows["features"], variant.dropped), fit_rows["correct"], groups)
            columns += (fit_rows["conflict"],)
            masked = None
            if extra is not None and variant.regions:
                masked = replace(extra, features=_masked(extra.features, variant.dropped))
            fit_scores = out_of_fold(*columns, extra=masked, ranker=variant.ranker)
            acceptor = Acceptor(fit_with(*columns, masked, ranker=variant.ranker))
            quote_features = _masked(quote_rows["features"], variant.dropped)
            quote_scores = acceptor.scores(quote_features, quote_rows["conflict"])
        fit_args = (fit_rows["parses"], fit_rows["correct"], fit_rows["conflict"], n_fit)
        points = curve(fit_scores[0], *fit_args, THRESHOLDS, order=fit_scores[1])
        default = _threshold(match_token_merge, points, fit_token_merge, args.margin)
        strict = _threshold(choose_threshold, points, 0.90)
        zero, at_default = _point(quote_scores, quote_rows, 0.0), _point(quote_scores, quote_rows, default)
        print(
            f"| {name} | {_shown(default)} | {zero['accuracy']:.1%} | {_pair(at_default)} | "
            f"{_shown(strict)} | {_pair(_point(quote_scores, quote_rows, strict))} |"
        )
        if name.endswith("(shipped)"):
            full = (quote_scores, default)
    print("\nfull acceptor per language (accuracy, 95% bootstrap interval over files):\n")
    print("| language | conflicts | at threshold 0 | at the default threshold |")
    print("|---|---|---|---|")
    zero, default = by_language(full[0], quote_rows, 0.0), by_language(full[0], quote_rows, full[1])
    for lang in zero:
        z, d = zero[lang], default[lang]
        print(
            f"| {lang} | {z['conflicts']} | {z['accuracy']:.1%} ({z['low']:.1%}–{z['high']:.1%}) | "
            f"{d['accuracy']:.1%} ({d['low']:.1%}–{d['high']:.1%}) |"
        )


if __name__ == "__main__":
    main()
