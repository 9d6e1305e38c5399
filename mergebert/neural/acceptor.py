"""The classifier's second stage: the probability that a decoded candidate is the developers' resolution,
and the order in which a conflict's candidates are tried.

The encoder scores each conflict's units on their own; the decoder (``candidates.decode``) turns those
scores into ranked candidate texts. The acceptor then looks at each of a conflict's first candidates
together with what the whole file shows — which side changed more of the rest of the file, what the
encoder thinks of the file's other conflicts, whether the token merge is clean, sizes, language — and at
what the candidate's own text shows against the sides (``candidate_text``: each side's change kept or
lost, lines repeated, brackets unbalanced). Two sets of gradient-boosted trees read these rows, both
fitted on conflicts from repositories the encoder never saw (``training/acceptor.py``) and evaluated here
with numpy (``boosted_trees``):

- the calibrator gives each candidate, on its own, the probability that it is right: its confidence,
  which the threshold is compared with;
- the ranker also sees how each candidate's features compare with the best and the worst of its
  conflict's candidates (``ranker_features``), and orders them. A model without one orders them by
  confidence.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mergebert.core.atomic import atomic_write
from mergebert.core.candidates import TOKEN_CLASS, Candidate, ConflictInput
from mergebert.core.patterns import PATTERNS, squash
from mergebert.core.textio import line_count
from mergebert.neural.boosted_trees import BoostedTrees
from mergebert.neural.candidate_text import TEXT_FEATURE_NAMES, ConflictText

CANDIDATES_SCORED = 4  # a conflict's first candidates (by the decoder's order) that the acceptor scores
LANGUAGES = ("java", "javascript", "typescript", "csharp")
_A, _B = 0, 1  # the A and B patterns' class indices

FEATURE_NAMES: tuple[str, ...] = (
    "bias",
    "confidence",
    "log_confidence",
    "margin_to_next",
    "gap_from_top",
    *(f"rank_{i}" for i in range(CANDIDATES_SCORED)),
    *(f"kind_{pattern.name}" for pattern in PATTERNS),
    "kind_clean_token_merge",
    "kind_token_choices",
    "token_merge_clean",
    "log_token_conflicts",
    "same_as_ours",
    "same_as_theirs",
    "same_as_base",
    "p_token",
    "p_ours",
    "p_theirs",
    "file_direction",
    "file_direction_x_side",
    "abs_file_direction",
    "log_ours_changed",
    "log_theirs_changed",
    "whole_file",
    "others_lean",
    "others_lean_x_side",
    "others_top_side",
    "others_top_side_x_side",
    "log_conflicts",
    *(f"lang_{name}" for name in LANGUAGES),
    "log_lines_ours",
    "log_lines_base",
    "log_lines_theirs",
    "log_candidate_chars",
    "candidate_chars_vs_sides",
    *TEXT_FEATURE_NAMES,
)
RANKER_FEATURE_NAMES: tuple[str, ...] = (
    *FEATURE_NAMES,
    *(f"{name}_minus_best" for name in FEATURE_NAMES),
    *(f"{name}_minus_worst" for name in FEATURE_NAMES),
)
RANKER = "ranker_"  # the prefix of the ranker's arrays among the acceptor's parameters
FITTED_FOR = "model_sha256"  # the stored SHA-256 of the model.onnx the acceptor was fitted for


def model_digest(onnx_path: str) -> str:
    """The SHA-256 of a model.onnx, which an acceptor records as the model it was fitted for."""
    digest = hashlib.sha256()
    with open(onnx_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def with_ranker(params: Mapping[str, Any], ranker: Mapping[str, Any]) -> dict[str, Any]:
    """The acceptor's parameters ``params`` and a ranker's trees (``boosted_trees.pack``'s arrays over
    RANKER_FEATURE_NAMES), stored under the RANKER prefix as ``Acceptor`` reads them."""
    named = {"features": list(RANKER_FEATURE_NAMES), **ranker}
    return {**params, **{RANKER + name: value for name, value in named.items()}}


def ranker_features(features: np.ndarray, conflict: np.ndarray) -> np.ndarray:
    """Candidate rows (``conflict``: each row's conflict number) followed by each feature's difference from
    the highest and from the lowest value among its conflict's candidates (``RANKER_FEATURE_NAMES``)."""
    conflicts = int(conflict.max()) + 1 if len(conflict) else 0
    highest = np.full((conflicts, features.shape[1]), -np.inf, dtype=features.dtype)
    lowest = np.full((conflicts, features.shape[1]), np.inf, dtype=features.dtype)
    np.maximum.at(highest, conflict, features)
    np.minimum.at(lowest, conflict, features)
    return np.concatenate([features, features - highest[conflict], features - lowest[conflict]], axis=1)


@dataclass(frozen=True)
class Decoded:
    """One conflict as the encoder and decoder left it: ranked candidates and the region unit's scores."""

    candidates: list[Candidate]
    region: np.ndarray  # (10,) probabilities of the region unit


def _side(candidate_key: str, ours_key: str, theirs_key: str) -> int:
    """+1 for a candidate that is ours (whitespace aside), -1 for theirs, 0 otherwise or when both."""
    return int(candidate_key == ours_key) - int(candidate_key == theirs_key)


def _file_leans(decoded: Sequence[Decoded], keys: Sequence[tuple[str, str]]) -> tuple[list[float], list[int]]:
    """Per conflict, the encoder's lean to ours over theirs (P(A) − P(B)) and its top candidate's side."""
    leans = [float(d.region[_A] - d.region[_B]) for d in decoded]
    tops = [
        _side(squash(d.candidates[0].text), ours, theirs) if d.candidates else 0
        for d, (ours, theirs) in zip(decoded, keys, strict=True)
    ]
    return leans, tops


def candidate_features(conflicts: Sequence[ConflictInput], decoded: Sequence[Decoded]) -> list[np.ndarray]:
    """Per conflict, a (k, len(FEATURE_NAMES)) array for its first k ≤ CANDIDATES_SCORED candidates.

    ``conflicts`` are all the conflicts of one file that the encoder scored, in file order.
    """
    keys = [(squash(c.ours), squash(c.theirs)) for c in conflicts]
    leans, tops = _file_leans(decoded, keys)
    total_lean, total_top, n = sum(leans), sum(tops), len(conflicts)
    out: list[np.ndarray] = []
    for index, (conflict, entry) in enumerate(zip(conflicts, decoded, strict=True)):
        ours_key, theirs_key = keys[index]
        base_key = squash(conflict.base)
        others = max(n - 1, 1)
        others_lean = (total_lean - leans[index]) / others if n > 1 else 0.0
        others_top = (total_top - tops[index]) / others if n > 1 else 0.0
        facts = conflict.file
        direction = facts.direction if facts else 0.0
        clean = not conflict.token_conflicts
        side_chars = max(len(ours_key), len(theirs_key), 1)
        lang = conflict.lang.name if conflict.lang else ""
        shown = entry.candidates[:CANDIDATES_SCORED]
        sides = (conflict.ours, conflict.base, conflict.theirs, conflict.prefix, conflict.suffix)
        text_rows = ConflictText(*sides).rows([candidate.text for candidate in shown]) if shown else []
        rows = []
        for rank, candidate in enumerate(shown):
            key = squash(candidate.text)
            side = _side(key, ours_key, theirs_key)
            following = shown[rank + 1].confidence if rank + 1 < len(shown) else 0.0
            kind = [0.0] * (len(PATTERNS) + 2)
            if candidate.kind == "region":
                kind[[p.name for p in PATTERNS].index(candidate.patterns[0])] = 1.0
            else:
                kind[len(PATTERNS) + bool(candidate.patterns)] = 1.0
            rows.append(
                [
                    1.0,
                    candidate.confidence,
                    math.log(candidate.confidence + 1e-6),
                    candidate.confidence - following,
                    shown[0].confidence - candidate.confidence,
                    *(float(rank == i) for i in range(CANDIDATES_SCORED)),
                    *kind,
                    float(clean),
                    math.log1p(len(conflict.token_conflicts)),
                    float(key == ours_key),
                    float(key == theirs_key),
                    float(key == base_key),
                    float(entry.region[TOKEN_CLASS]),
                    float(entry.region[_A]),
                    float(entry.region[_B]),
                    direction,
                    direction * side,
                    abs(direction),
                    math.log1p(facts.ours_changed) if facts else 0.0,
                    math.log1p(facts.theirs_changed) if facts else 0.0,
                    float(facts is not None),
                    others_lean,
                    others_lean * side,
                    others_top,
                    others_top * side,
                    math.log1p(n),
                    *(float(lang == name) for name in LANGUAGES),
                    math.log1p(line_count(conflict.ours)),
                    math.log1p(line_count(conflict.base)),
                    math.log1p(line_count(conflict.theirs)),
                    math.log1p(len(key)),
                    len(key) / side_chars,
                    *text_rows[rank],
                ]
            )
        out.append(np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES)))
    return out


def _trees(params: Mapping[str, Any], names: tuple[str, ...], what: str) -> BoostedTrees:
    """The trees in ``params``, refused unless they were fitted on the features ``names``."""
    if tuple(str(name) for name in params.get("features", ())) != names:
        raise ValueError(f"the acceptor's {what} was fitted on other features than this version computes")
    return BoostedTrees(params)


class Acceptor:
    """The calibrator's and the ranker's gradient-boosted trees over candidate features."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        """``params``: the calibrator's feature names (``features``) and ``boosted_trees.pack``'s arrays, and
        the ranker's, where it has one, under the same names prefixed with RANKER."""
        self.trees = _trees(params, FEATURE_NAMES, "calibrator")
        ranker = {name[len(RANKER) :]: value for name, value in params.items() if name.startswith(RANKER)}
        self.ranker = _trees(ranker, RANKER_FEATURE_NAMES, "ranker") if ranker else None
        # None for an acceptor saved before acceptors recorded it: not checked
        self.fitted_for = str(params[FITTED_FOR]) if FITTED_FOR in params else None

    @classmethod
    def from_file(cls, path: str) -> Acceptor:
        """The acceptor that ``save`` wrote to ``path``; ValueError when it is not one."""
        if path.endswith(".json"):
            raise ValueError("it was fitted by an older mergebert: run `mergebert fit-acceptor` again")
        unreadable = ValueError("not an acceptor .npz (truncated, or another kind of file)")
        try:
            stored = np.load(path, allow_pickle=False)
            if not isinstance(stored, np.lib.npyio.NpzFile):  # a lone .npy array
                raise unreadable
            with stored:
                params = {name: stored[name] for name in stored.files}
        except (zipfile.BadZipFile, ValueError, EOFError, zlib.error):  # not numpy's advice to unpickle
            raise unreadable from None
        return cls(params)

    @staticmethod
    def save(params: Mapping[str, Any], path: str, model_onnx: str | None = None) -> None:
        """Write ``params`` (see ``__init__``) to ``path``, atomically, as an uncompressed .npz, stamped with
        the digest of ``model_onnx`` (default: the model.onnx beside ``path``, where there is one), which
        loading checks."""
        names = {
            key: np.asarray(params[key], dtype=str)
            for key in ("features", RANKER + "features")
            if key in params
        }
        onnx_path = model_onnx or os.path.join(os.path.dirname(os.path.abspath(path)), "model.onnx")
        stamp = {FITTED_FOR: np.asarray(model_digest(onnx_path))} if os.path.isfile(onnx_path) else {}
        buffer = io.BytesIO()
        np.savez(buffer, **{**params, **names, **stamp})
        atomic_write(path, buffer.getvalue())

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(candidate is the resolution) for each row of ``features``: the calibrator's confidence."""
        return self.trees.probabilities(features)

    def scores(self, features: np.ndarray, conflict: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate row's confidence and its order key among its conflict's candidates (``conflict``:
        each row's conflict number; higher first): the ranker's log-odds, or the confidence without one."""
        confidence = self.probabilities(features)
        if self.ranker is None:
            return confidence, confidence
        return confidence, self.ranker.log_odds(ranker_features(features, conflict))

    def rerank(self, conflicts: Sequence[ConflictInput], decoded: Sequence[Decoded]) -> list[list[Candidate]]:
        """Each conflict's first candidates in the ranker's order, with the calibrator's confidences."""
        rows = candidate_features(conflicts, decoded)
        if not rows:
            return []
        conflict = np.repeat(np.arange(len(rows)), [len(conflict_rows) for conflict_rows in rows])
        confidence, order = self.scores(np.concatenate(rows), conflict)
        ranked: list[list[Candidate]] = []
        start = 0
        for entry, conflict_rows in zip(decoded, rows, strict=True):
            own = range(start, start + len(conflict_rows))
            start += len(conflict_rows)
            rescored = [
                (float(order[row]), replace(c, confidence=float(confidence[row])))
                for c, row in zip(entry.candidates, own, strict=False)
            ]
            ranked.append([candidate for _, candidate in sorted(rescored, key=lambda pair: -pair[0])])
        return ranked
