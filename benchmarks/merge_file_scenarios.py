"""`mergebert merge-file -p` as a user runs it, over scenario files: how many conflicts it resolves,
how many of those equal the developers' own resolution (whitespace ignored), and how many it leaves.

    python benchmarks/merge_file_scenarios.py [DATA] [--limit N] [--jobs J] [-- merge-file options]

DATA defaults to ../shared/data/valid.scenarios.jsonl.gz. Each scenario runs one `mergebert merge-file`
process (the installed command, with its default model), so this also measures what a user waits for.
Answers are read off the output between git's clean chunks, as `mergebert eval` scores them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mergebert.core.linemerge import merge_lines
from mergebert.data.evaluate import clean_segments, score_output
from mergebert.data.mining.align import align
from mergebert.data.records import Record, read_records

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "valid.scenarios.jsonl.gz"
EXTENSIONS = {"java": ".java", "javascript": ".js", "typescript": ".ts", "csharp": ".cs"}


def run_one(record: Record, extra: list[str]) -> tuple[str, list[str], float]:
    """(language, per-conflict outcomes, seconds) for one scenario through `mergebert merge-file -p`."""
    chunks = merge_lines(record["base"], record["ours"], record["theirs"])
    alignment = align(chunks, record["resolved"])
    expected = [text or "" for text in alignment.resolutions]
    suffix = EXTENSIONS[record["lang"]]
    with tempfile.TemporaryDirectory(prefix="mergebert-bench-") as tmp:
        paths = []
        for name in ("ours", "base", "theirs"):
            path = Path(tmp) / f"{name}{suffix}"
            path.write_text(record[name], encoding="utf-8", newline="")
            paths.append(str(path))
        started = time.perf_counter()
        done = subprocess.run(
            ["mergebert", "merge-file", "-p", "--diff3", *extra, *paths], capture_output=True, check=False
        )
        seconds = time.perf_counter() - started
    if done.returncode == 255:
        sys.stderr.write(f"{record['id']}: {done.stderr.decode(errors='replace').strip()}\n")
    output = done.stdout.decode("utf-8", errors="replace")
    return record["lang"], score_output(clean_segments(chunks), expected, output), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    args.extra = argv[cut + 1 :]  # options passed on to merge-file
    if not Path(args.data).exists():
        sys.exit(f"no data at {args.data}")
    records = [
        r
        for r in read_records([args.data], limit=args.limit)
        if align(merge_lines(r["base"], r["ours"], r["theirs"]), r["resolved"]).complete
    ]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda record: run_one(record, args.extra), records))
    per_language: dict[str, Counter[str]] = {}
    for lang, outcomes, _ in results:
        per_language.setdefault(lang, Counter()).update(outcomes)
        per_language.setdefault("all", Counter()).update(outcomes)
    print(f"{len(results)} scenario files through `mergebert merge-file -p --diff3 {' '.join(args.extra)}`")
    print(f"{'language':<12}{'conflicts':>10}{'resolved':>10}{'= developers':>14}{'wrong':>8}{'left':>8}")
    for lang in sorted(per_language, key=lambda name: (name == "all", name)):
        counts = per_language[lang]
        total = sum(counts.values())
        resolved = counts["correct"] + counts["wrong"]
        print(
            f"{lang:<12}{total:>10}{resolved:>10}{counts['correct']:>14}{counts['wrong']:>8}{counts['left']:>8}"
        )
    seconds = sorted(seconds for _, _, seconds in results)
    print(f"median merge-file wall time {seconds[len(seconds) // 2] * 1000:.0f} ms per file")


if __name__ == "__main__":
    main()
