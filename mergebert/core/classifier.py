"""The classifier interface, and the model-free classifier that accepts only a clean token merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mergebert.core.candidates import Candidate, ConflictInput, token_merge_text


class Classifier(Protocol):
    threshold: float  # the confidence below which a conflict is left as it is

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        """For each conflict, candidate resolutions, best first (an empty list abstains)."""
        ...


class TokenMergeClassifier:
    """No model: a conflict that the token merge settles completely gets that merge, others are left."""

    threshold = 0.0

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        return [
            [] if conflict.token_conflicts else [Candidate(token_merge_text(conflict, ()), "token", (), 1.0)]
            for conflict in conflicts
        ]
