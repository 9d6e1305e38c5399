"""The training run's settings: one dataclass whose fields carry their default and their `--option` help.

`training.cli` generates the `mergebert train` options from these fields, so each default exists once.
Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mergebert.neural.model_config import FEATURE_MINIMUMS


class TrainingError(Exception):
    """What stops a run whose data or settings cannot train, said in one line."""


def setting(default: Any, help: str, **option: Any) -> Any:
    """A field that is also a `mergebert train` option; `option` overrides the generated one (flag,
    directory, range: click.IntRange/FloatRange's arguments)."""
    return field(default=default, metadata={"help": help, **option})


AT_LEAST_1 = {"min": 1}


@dataclass
class TrainConfig:
    hidden: int = setting(128, "Encoder width.", range=AT_LEAST_1)
    layers: int = setting(2, "Encoder layers.", range=AT_LEAST_1)
    heads: int = setting(4, "Attention heads.", range=AT_LEAST_1)
    max_len: int = setting(96, "Sub-words per aligned sequence.", range={"min": FEATURE_MINIMUMS["max_len"]})
    max_context: int = setting(
        32, "Context sub-words per sequence.", range={"min": FEATURE_MINIMUMS["max_context"]}
    )
    min_context: int = setting(
        16,
        "Context sub-words kept even when the body is long.",
        range={"min": FEATURE_MINIMUMS["min_context"]},
    )
    vocab_size: int = setting(8000, "BPE vocabulary size.")
    batch_size: int = setting(64, "Units per training step.", range=AT_LEAST_1)
    lr: float = setting(5e-4, "Peak learning rate.")
    weight_decay: float = setting(0.01, "AdamW weight decay.")
    warmup_steps: int = setting(300, "Linear learning-rate warm-up steps.", range=AT_LEAST_1)
    epochs: float = setting(3.0, "Passes over the training units (or until the time budget ends).")
    max_minutes: float = setting(
        45.0, "Training time budget (the LR schedule follows it); 0 = none (exactly reproducible)."
    )
    eval_every: int = setting(400, "Validation every N steps.", range=AT_LEAST_1)
    valid_units: int = setting(4000, "Validation units whose accuracy is logged during training.")
    valid_conflicts: int = setting(1500, "Validation conflicts whose top-1 accuracy selects the weights.")
    patience: int = setting(6, "Early stop after N bad validations.", range=AT_LEAST_1)
    bulk_weight: float = setting(0.25, "Loss weight of bulk-merge records (0 drops them).")
    dropout: float = setting(0.1, "Encoder dropout.")
    swap_sides: float = setting(
        0.0, "Share of each batch's units shown with ours and theirs swapped (their labels mirrored)."
    )
    seed: int = setting(0, "Random seed.")
    threads: int = setting(2, "torch CPU threads.", range=AT_LEAST_1)
    target_precision: float = setting(0.90, "Precision the calibrated confidence threshold keeps.")
    beam: int = setting(8, "Beam width over the token conflicts' patterns.", range=AT_LEAST_1)
    valid_fraction: float = setting(
        0.1,
        "Share of training repositories held out when no --valid data is given.",
        range={"min": 0.0, "max": 1.0, "max_open": True},
    )
    init_from: str | None = setting(
        None, "A local RoBERTa-family checkpoint (with vocab.json, merges.txt) to start from.", directory=True
    )
    vocab_from: str | None = setting(
        None, "Reuse this directory's vocab.json + merges.txt instead of learning a BPE.", flag="--vocab",
        directory=True,
    )  # fmt: skip
    warm_start: str | None = setting(
        None, "Start from the weights (and vocabulary) of a model directory of ours with the same shape.",
        directory=True,
    )  # fmt: skip
    # region units whose resolution is also a whole-region pattern learn that pattern, not TOKEN: otherwise
    # the multi-hot loss lets every region unit answer TOKEN (correct for ~88% of them) and leaves the choice
    # between the sides to the token units, which see less of the conflict
    prefer_patterns: bool = setting(
        False,  # tried in run m2: top-1 accuracy 48.1% vs 50.9% without (model card)
        "Region units learn a whole-region pattern rather than TOKEN when both reproduce the resolution.",
    )
    extra: dict = field(default_factory=dict)
