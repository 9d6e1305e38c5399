"""95% bootstrap intervals over files: how far a rate measured on few repositories' files can be trusted."""

from __future__ import annotations

import numpy as np

ROUNDS = 1000


def bootstrap(
    per_file_right: np.ndarray, per_file_total: np.ndarray, rounds: int = ROUNDS
) -> tuple[float, float]:
    """95% interval of (right / total), resampling files with replacement (a fixed seed: the same data
    gives the same interval)."""
    rng = np.random.default_rng(0)
    files = len(per_file_total)
    picks = rng.integers(0, files, size=(rounds, files))
    ratios = per_file_right[picks].sum(1) / np.maximum(per_file_total[picks].sum(1), 1)
    return float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))
