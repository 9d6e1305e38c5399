"""Median wall time of `mergebert driver` on a conflicted file next to `git merge-file` on the same file.

    python benchmarks/driver_latency.py [--runs N] [--lines L]

The file is a Java class of L lines with one conflict a token merge settles (the driver's everyday
case); each run copies the current version afresh, as git does, and times the whole process.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def java(lines: int, call: str) -> str:
    methods = "".join(f"    static int f{i}(int x) {{ return x + {i}; }}\n" for i in range(lines))
    return f"public class App {{\n{methods}    void run() {{\n        {call}\n    }}\n}}\n"


def median_seconds(command: list[str], current: Path, ours: str, runs: int, ok: tuple[int, ...]) -> float:
    times = []
    for _ in range(runs):
        current.write_text(ours)
        start = time.perf_counter()
        status = subprocess.run(command, capture_output=True, check=False).returncode
        times.append(time.perf_counter() - start)
        if status not in ok:
            raise SystemExit(f"{command[0]} exited {status}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=500)
    args = parser.parse_args()
    mergebert = shutil.which("mergebert", path=str(Path(sys.executable).parent)) or "mergebert"
    base = java(args.lines, 'Server s = new Server("localhost", 8080, false);')
    ours = java(args.lines, 'Server s = new Server("0.0.0.0", 8080, false);')
    theirs = java(args.lines, 'Server s = new Server("localhost", 8080, true);')
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "base").write_text(base)
        (folder / "theirs").write_text(theirs)
        current = folder / "current"
        files = [str(current), str(folder / "base"), str(folder / "theirs")]
        git = median_seconds(["git", "merge-file", *files], current, ours, args.runs, ok=(1,))
        driver_args = [mergebert, "driver", files[1], files[0], files[2], "7", "App.java"]
        driver = median_seconds(driver_args, current, ours, args.runs, ok=(0, 1))
    size = len(ours.encode())
    print(f"file: {args.lines + 6} lines, {size} bytes, 1 conflict; median of {args.runs} runs")
    print(f"git merge-file    {git * 1000:8.1f} ms  (leaves the conflict)")
    print(f"mergebert driver  {driver * 1000:8.1f} ms  (resolves it)")
    print(f"ratio             {driver / git:8.1f} x")


if __name__ == "__main__":
    main()
