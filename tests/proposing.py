"""A test double of the Classifier interface (mergebert.core.classifier): it proposes fixed candidates,
for the tests of how the resolver, the splice and the evaluation use what a classifier ranks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mergebert.core.candidates import Candidate, ConflictInput

# A candidate's text, or how it is made from the conflict it resolves.
Text = str | Callable[[ConflictInput], str]


class Proposes:
    """A classifier that proposes, for every conflict, the candidates given, in that order (best first):
    (text, confidence) pairs; `threshold` is the Classifier's."""

    def __init__(self, *candidates: tuple[Text, float], threshold: float = 0.0) -> None:
        self.candidates, self.threshold = candidates, threshold

    @classmethod
    def alike(cls, *texts: Text, confidence: float, threshold: float = 0.0) -> Proposes:
        """Proposes `texts`, each with `confidence`."""
        return cls(*((text, confidence) for text in texts), threshold=threshold)

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        return [
            [
                Candidate(text(conflict) if callable(text) else text, "region", ("A",), confidence)
                for text, confidence in self.candidates
            ]
            for conflict in conflicts
        ]
