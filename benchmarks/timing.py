"""Timing shared by the benchmarks that run a command next to git's."""

from __future__ import annotations

import statistics
import subprocess
import time


def median_seconds(command: list[str], runs: int) -> tuple[float, int]:
    """The median wall time of `runs` runs of `command`, and its last exit status."""
    times, status = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        status = subprocess.run(command, capture_output=True, check=False).returncode
        times.append(time.perf_counter() - start)
    return statistics.median(times), status
