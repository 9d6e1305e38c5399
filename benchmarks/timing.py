"""Timing shared by the benchmarks that run a command next to git's."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def median_seconds(command: list[str], runs: int) -> tuple[float, int]:
    """The median wall time of `runs` runs of `command`, and its last exit status."""
    times, status = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        status = subprocess.run(command, capture_output=True, check=False).returncode
        times.append(time.perf_counter() - start)
    return statistics.median(times), status


def merge_file_next_to_git(files: Sequence[str], runs: int) -> tuple[float, float, int]:
    """`git merge-file -p` and this environment's `mergebert merge-file -p` on the same `files` (ours, base,
    theirs): git's median seconds, mergebert's, and mergebert's exit status."""
    mergebert = shutil.which("mergebert", path=str(Path(sys.executable).parent)) or "mergebert"
    git, _ = median_seconds(["git", "merge-file", "-p", *files], runs)
    ours, status = median_seconds([mergebert, "merge-file", "-p", *files], runs)
    return git, ours, status
