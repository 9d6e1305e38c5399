"""How often git's two line merges disagree on real conflicted files: the ort strategy's (what `git merge`,
`rebase` and `cherry-pick` write; `mergebert/git/ortmerge.py`) against `git merge-file`'s.

    python benchmarks/ort_vs_merge_file.py ../shared/data/valid.scenarios.jsonl.gz [...]

Prints, over the whole files of the scenario records: files where one merge conflicts and the other is
clean, files both merge cleanly into different bytes, and files both leave conflicted with the conflicts
placed differently (same labels, merge style).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from mergebert.core.options import MergeOptions
from mergebert.data.records import read_records
from mergebert.git import frontend, ortmerge

KINDS = (
    "ort clean, merge-file conflicted",
    "merge-file clean, ort conflicted",
    "both clean, other bytes",
    "both conflicted, placed differently",
)


def kind(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> str | None:
    """How the two merges of one file disagree (one of KINDS), or None when they agree."""
    ort, ort_left = ortmerge.merge(base, ours, theirs, options)
    merge_file, file_left = frontend.git_merge_file(base, ours, theirs, options)
    if (ort_left == 0) != (file_left == 0):
        return KINDS[0] if ort_left == 0 else KINDS[1]
    if ort != merge_file:
        return KINDS[2] if ort_left == 0 else KINDS[3]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="+", help="*.scenarios.jsonl.gz files (whole files)")
    args = parser.parse_args()
    options = MergeOptions(labels=("HEAD", "base", "feature"), engine="ort")
    counts: Counter[str | None] = Counter()
    start = time.perf_counter()
    for record in read_records(args.scenarios):
        counts[kind(*(record[side].encode() for side in ("base", "ours", "theirs")), options)] += 1
    files = sum(counts.values())
    print(f"{files} files, {time.perf_counter() - start:.0f} s")
    for name in KINDS:
        print(f"  {name:36s} {counts[name]:5d}  ({counts[name] / max(files, 1):.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
