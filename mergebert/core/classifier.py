"""The classifier interface, and the model-free classifier that accepts only a clean token merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mergebert.core.candidates import Candidate, ConflictInput, token_merge_text


class Unranked(Exception):
    """A classifier cannot rank a file's conflicts (its model failed on them); the message says why, as in
    `the model gave NaN`."""


class Classifier(Protocol):
    threshold: float  # the confidence below which a conflict is left as it is

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        """For each conflict, candidate resolutions, best first (an empty list abstains); raises Unranked
        where it cannot rank them."""
        ...


class TokenMergeClassifier:
    """No model: a conflict that the token merge settles completely gets that merge, others are left."""

    threshold = 0.0

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        return [
            [] if conflict.token_conflicts else [Candidate(token_merge_text(conflict, ()), "token", (), 1.0)]
            for conflict in conflicts
        ]


def rank_or_token_merge(
    classifier: Classifier, conflicts: Sequence[ConflictInput]
) -> tuple[list[list[Candidate]], str | None]:
    """`classifier`'s candidates for `conflicts`, and None; where it cannot rank them (Unranked), the
    token merge's, as where its model was refused on load, and why."""
    try:
        return classifier.rank(conflicts), None
    except Unranked as failure:
        return TokenMergeClassifier().rank(conflicts), str(failure)
