"""Classifier latency on one CPU thread: per token conflict and per line conflict.

    python benchmarks/classifier_latency.py [--model DIR] [--data ../shared/data/valid.regions.jsonl.gz]
                                            [--conflicts 300] [--threads 1]

Takes line conflicts from the validation regions (or built-in Java examples when the data is absent),
loads the model with ONNX Runtime limited to one thread, and times
  * per token conflict: featurising one token-conflict unit and scoring it alone (one ORT call), and
  * per line conflict: the whole `rank` (all units in one call, plus candidate decoding),
reporting median and 95th percentile. Model load time is reported separately.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "valid.regions.jsonl.gz"


def _examples(path: Path, n: int) -> list[dict]:
    if not path.exists():
        call = 'Server s = new Server("{}", 8080, {});\n'
        return [
            {
                "ours": call.format("0.0.0.0", "false"),
                "base": call.format("localhost", "false"),
                "theirs": call.format("localhost", "true"),
                "prefix": "class A {\n void f() {\n",
                "suffix": " }\n}\n",
                "lang": "java",
            }
        ] * n
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if len(rec["ours"]) + len(rec["base"]) + len(rec["theirs"]) > 20000:
                continue
            out.append(rec)
            if len(out) >= n:
                break
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--conflicts", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from mergebert.core.candidates import ConflictInput, units
    from mergebert.core.languages import language_by_name
    from mergebert.neural.features import collate
    from mergebert.neural.onnx_classifier import load_classifier

    start = time.perf_counter()
    from mergebert.neural.onnx_classifier import OnnxClassifier
    from mergebert.neural.policy import shipped_model_dir

    classifier = OnnxClassifier(args.model or shipped_model_dir(), threads=args.threads)
    load_s = time.perf_counter() - start
    assert load_classifier  # the public entry point; OnnxClassifier used directly to pin the threads

    records = _examples(args.data, args.conflicts)
    conflicts = [
        ConflictInput.from_texts(
            r["ours"],
            r["base"],
            r["theirs"],
            r.get("prefix", ""),
            r.get("suffix", ""),
            language_by_name(r["lang"]),
        )
        for r in records
    ]
    for c in conflicts[:5]:  # warm up (lexer caches, ORT first run)
        classifier.rank([c])

    per_token: list[float] = []
    per_region: list[float] = []
    units_per_conflict: list[int] = []
    for conflict in conflicts:
        us = units(conflict)
        units_per_conflict.append(len(us))
        for unit in us[1:]:
            t0 = time.perf_counter()
            feats = classifier.featurizer.unit(unit)
            batch = collate([feats], [True], classifier.featurizer.pad_id)
            classifier.session.run(["probs"], batch)
            per_token.append(time.perf_counter() - t0)
        fresh = ConflictInput.from_texts(
            conflict.ours, conflict.base, conflict.theirs, conflict.prefix, conflict.suffix, conflict.lang
        )
        t0 = time.perf_counter()
        classifier.rank([fresh])
        per_region.append(time.perf_counter() - t0)

    print(
        f"model: {classifier.model_dir} (load {load_s * 1000:.0f} ms), ORT threads: {args.threads}, "
        f"providers: {classifier.session.get_providers()}"
    )
    print(
        f"line conflicts: {len(conflicts)} ({'validation data' if args.data.exists() else 'built-in'}), "
        f"token conflicts: {len(per_token)}, "
        f"units per conflict: mean {statistics.mean(units_per_conflict):.2f}"
    )
    if per_token:
        print(
            f"per token conflict (featurise + score):  median {statistics.median(per_token) * 1000:6.2f} ms  "
            f"p95 {pct(per_token, 95) * 1000:6.2f} ms"
        )
    print(
        "per line conflict (lex, merge, score, decode): "
        f"median {statistics.median(per_region) * 1000:6.2f} ms  "
        f"p95 {pct(per_region, 95) * 1000:6.2f} ms"
    )


if __name__ == "__main__":
    main()
