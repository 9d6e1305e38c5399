"""The fields of a model's config.json that the runtime uses, checked before the model is: a value it
cannot use makes the model corrupt (``ConfigError`` names the field), never a silent setting."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mergebert.core.candidates import CLASS_NAMES

FEATURE_MINIMUMS = {"max_len": 5, "max_context": 0, "min_context": 0}  # max_len: 4 markers and a sub-word
FILE_FIELDS = ("onnx", "vocab", "merges")


class ConfigError(ValueError):
    """A config.json field the runtime cannot use."""


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_config(config: Mapping[str, Any], *, threshold_used: bool) -> None:
    """Raise ConfigError for the first field of ``config`` the runtime cannot use. ``threshold`` must be a
    finite number, and a confidence (0 to 1) where it is the threshold used (``threshold_used``: no
    threshold was given from a flag, the environment or git config)."""
    threshold = config.get("threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise ConfigError(f"threshold {threshold!r} is not a number")
    if threshold_used and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"threshold {threshold!r} is not a confidence (a number from 0 to 1)")
    beam = config.get("beam", 8)
    if not _whole(beam) or beam < 1:
        raise ConfigError(f"beam {beam!r} is not a beam width (a whole number, at least 1)")
    names = config.get("class_names", list(CLASS_NAMES))
    if not isinstance(names, list) or tuple(names) != CLASS_NAMES:
        raise ConfigError(f"class_names {names!r} are not this version's classes ({', '.join(CLASS_NAMES)})")
    model = config.get("model", {})
    if not isinstance(model, Mapping):
        raise ConfigError(f"model {model!r} is not the model's shape (an object with vocab_size)")
    size = model.get("vocab_size", 1)
    if not _whole(size) or size < 1:
        raise ConfigError(f"model.vocab_size {size!r} is not a vocabulary size")
    features = config.get("features", {})
    if not isinstance(features, Mapping):
        raise ConfigError(f"features {features!r} is not an object")
    for name, least in FEATURE_MINIMUMS.items():
        value = features.get(name, least)
        if not _whole(value) or value < least:
            raise ConfigError(f"features.{name} {value!r} is not a whole number of at least {least}")
    for name in FILE_FIELDS:
        if not isinstance(config.get(name, "file"), str) or not config.get(name, "file"):
            raise ConfigError(f"{name} {config.get(name)!r} is not a file name")
    acceptor = config.get("acceptor")
    if acceptor is not None and not isinstance(acceptor, str):
        raise ConfigError(f"acceptor {acceptor!r} is not a file name")
