"""One model policy: which classifier, with which threshold, every command uses.

The model comes from `--model` (from the current folder), else `$MERGEBERT_MODEL` (a relative one made a
path from the work tree's top by the front-ends: `cli._env_model_from_top`), else git config
`mergebert.model` (a path as git reads one: see `config_model`), else the model shipped in the package;
`none` (at any of those levels) means no model: clean token merges only. An empty value counts as unset,
as git counts an empty setting: the next level is used (an empty `--model`, which is more likely a
script's unset variable, with one line; `eval` refuses it).
The threshold comes from `--threshold`, else `$MERGEBERT_THRESHOLD`, else `mergebert.threshold`, else the
model's default (its config.json). Front-ends load the model lazily and fall back to the token merge
when it cannot be used (one line on stderr); `eval` asks for strict loading and fails instead.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mergebert.core.messages import warn

if TYPE_CHECKING:
    from mergebert.core.candidates import Candidate, ConflictInput
    from mergebert.core.classifier import Classifier

MODEL_ENV = "MERGEBERT_MODEL"
THRESHOLD_ENV = "MERGEBERT_THRESHOLD"
MODEL_CONFIG = "mergebert.model"
THRESHOLD_CONFIG = "mergebert.threshold"
NO_MODEL = "none"  # --model none / MERGEBERT_MODEL=none / mergebert.model=none: clean token merges only


class PolicyError(RuntimeError):
    """A setting that cannot be used (a threshold that is not a finite number, a model that will not load)."""


def parse_threshold(raw: str, where: str) -> float:
    """A finite confidence threshold from text; PolicyError naming `where` it came from otherwise."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PolicyError(f"{where}={raw!r} is not a threshold (a finite number such as 0.5)")
    return value


def config_model(value: str, top: str | None) -> str:
    """`mergebert.model` read as git reads a path setting (`git config --type=path`): `~/` expanded, and a
    relative path taken from `top`, the work tree's top (where git runs drivers); `none` kept as it is."""
    if not value or value.lower() == NO_MODEL:
        return value
    path = os.path.expanduser(value)
    return os.path.join(top, path) if top else path


def shipped_model_dir() -> str:
    """The model shipped inside the package (it may be absent in a source checkout)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "model")


@dataclass(frozen=True)
class ModelChoice:
    """What the policy decided: a model directory (None: the token merge only) and a threshold (None: the
    model's own)."""

    model: str | None
    threshold: float | None

    def describe(self) -> str:
        return f"model {self.model}" if self.model else "no model: clean token merges only"


def choose(
    model: str | None = None,
    threshold: float | None = None,
    *,
    config: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    strict: bool = False,
) -> ModelChoice:
    """Apply the precedence flag > environment > git config > shipped model.

    An unusable threshold setting is an error when `strict`; otherwise it is reported and the next level
    is used, so that a merge never stops on a setting.
    """
    env = os.environ if environ is None else environ
    settings = config or {}
    if model == "":
        error = PolicyError("--model '' names no model directory (give a directory, or 'none')")
        if strict:
            raise error
        warn(f"ignoring {error}")
        model = None
    if threshold is not None and not math.isfinite(threshold):
        raise PolicyError(f"--threshold {threshold} is not a finite number")
    if threshold is None:
        levels = (
            (f"${THRESHOLD_ENV}", env.get(THRESHOLD_ENV)),
            (THRESHOLD_CONFIG, settings.get(THRESHOLD_CONFIG)),
        )
        for where, raw in levels:
            if not raw:
                continue
            try:
                threshold = parse_threshold(raw, where)
                break
            except PolicyError as error:
                if strict:
                    raise
                warn(f"ignoring {error}")
    asked = model or env.get(MODEL_ENV) or settings.get(MODEL_CONFIG)
    if asked:
        return ModelChoice(None if asked.lower() == NO_MODEL else asked, threshold)
    shipped = shipped_model_dir()
    return ModelChoice(shipped if os.path.exists(os.path.join(shipped, "config.json")) else None, threshold)


def load(choice: ModelChoice, *, strict: bool = False) -> Classifier:
    """The classifier `choice` names. A model that cannot be used raises PolicyError when `strict`, else
    prints the one "model unavailable" line and gives the token merge only."""
    from mergebert.core.classifier import TokenMergeClassifier

    if choice.model is not None:
        try:
            from mergebert.neural import onnx_classifier

            return onnx_classifier.load_classifier(choice.model, choice.threshold)
        except Exception as error:  # a broken model (or runtime) never stops a merge
            if strict:
                raise PolicyError(f"cannot use the model in {choice.model}: {error}") from error
            warn(f"model unavailable ({type(error).__name__}: {error}); resolving with the token merge only")
    fallback = TokenMergeClassifier()
    if choice.threshold is not None:
        fallback.threshold = choice.threshold
    return fallback


class LazyClassifier:
    """Loads the chosen classifier on first use: a file merged without a line conflict never pays for it."""

    def __init__(self, choice: ModelChoice) -> None:
        self.choice = choice
        self._classifier: Classifier | None = None

    @property
    def loaded(self) -> Classifier:
        if self._classifier is None:
            self._classifier = load(self.choice)
        return self._classifier

    @property
    def threshold(self) -> float:
        return self.loaded.threshold

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        return self.loaded.rank(conflicts)
