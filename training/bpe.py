"""Learning the byte-level BPE vocabulary with ``tokenizers`` (training only).

The result is saved in GPT-2/RoBERTa format (``vocab.json`` + ``merges.txt``) and applied at training and
run time by :class:`mergebert.neural.bpe.BPE`.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterable

from mergebert.neural.bpe import SPECIAL_TOKENS
from mergebert.neural.features import KIND_TOKENS

_WS = re.compile(r"\s+")


def _texts(records: Iterable[dict], seed: int, context_fraction: float) -> Iterable[str]:
    # whitespace runs become one space: the encoder marks leading whitespace with a single "Ġ" and never
    # sees indentation, so whitespace-only merges would waste vocabulary
    rng = random.Random(seed)
    for rec in records:
        yield _WS.sub(" ", rec["ours"])
        yield _WS.sub(" ", rec["base"])
        yield _WS.sub(" ", rec["theirs"])
        if rng.random() < context_fraction:
            yield _WS.sub(" ", rec.get("prefix", ""))
            yield _WS.sub(" ", rec.get("suffix", ""))


def train_bpe(
    records: Iterable[dict],
    out_dir: str | os.PathLike,
    vocab_size: int = 8000,
    min_frequency: int = 3,
    seed: int = 0,
    context_fraction: float = 0.3,
) -> None:
    """Learn a byte-level BPE on the conflict sides (and part of the context) and save it in ``out_dir``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS) + list(KIND_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_texts(records, seed, context_fraction), trainer=trainer)
    os.makedirs(out_dir, exist_ok=True)
    tok.model.save(str(out_dir))
