"""Featurisation of classification units (numpy only; shared by training and runtime).

A unit (``candidates.Unit``: a whole line conflict or one token conflict) becomes four aligned sub-word
sequences, the MergeBERT input:

    0: a (ours) aligned to base      1: base aligned to a
    2: b (theirs) aligned to base    3: base aligned to b

Each sequence is ``[kind] before… </s> body… </s> after… </s>`` where ``kind`` is ``<region>`` or
``<token>``, ``before``/``after`` are the unit's context tokens (the same in all four sequences) and
``body`` is the side's tokens.  Every position carries an edit type (the model's ``token_type_ids``):
EQUAL for context, markers and unchanged tokens, INSERT / DELETE / REPLACE for edited tokens (from a
token-level alignment of the side against base), PAD for padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mergebert.core.tokendiff import opcodes
from mergebert.neural.bpe import BOS, BPE, EOS, PAD

REGION_TOKEN, TOKEN_TOKEN = "<region>", "<token>"
KIND_TOKENS = (REGION_TOKEN, TOKEN_TOKEN)

EQUAL, INSERT, DELETE, REPLACE, PAD_TYPE = range(5)
EDIT_TYPES = ("equal", "insert", "delete", "replace", "padding")
N_SEQ = 4
SIDES_SWAPPED = (2, 3, 0, 1)  # the four sequences' order with ours and theirs exchanged

MAX_SIDE_TOKENS = 192  # lexer tokens per side considered for alignment


def align(side: Sequence, base: Sequence) -> tuple[list[int], list[int]]:
    """Edit types of ``side``'s tokens against ``base`` and of ``base``'s tokens against ``side``."""
    st = [t.text for t in side]
    bt = [t.text for t in base]
    side_types = [EQUAL] * len(st)
    base_types = [EQUAL] * len(bt)
    if st == bt:
        return side_types, base_types
    for op, i1, i2, j1, j2 in opcodes(bt, st):
        if op == "equal":
            continue
        if op == "insert":  # in side, not in base
            side_types[j1:j2] = [INSERT] * (j2 - j1)
        elif op == "delete":  # in base, not in side
            base_types[i1:i2] = [DELETE] * (i2 - i1)
        else:  # replace
            side_types[j1:j2] = [REPLACE] * (j2 - j1)
            base_types[i1:i2] = [REPLACE] * (i2 - i1)
    return side_types, base_types


@dataclass(frozen=True)
class FeatureConfig:
    max_len: int = 128  # sub-words per sequence, markers included
    max_context: int = 64  # context sub-words per sequence (before + after)
    min_context: int = 16  # context kept even when the body is long

    def to_dict(self) -> dict:
        return {"max_len": self.max_len, "max_context": self.max_context, "min_context": self.min_context}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        return cls(**{k: int(d[k]) for k in ("max_len", "max_context", "min_context") if k in d})


class Featurizer:
    """Turns units into ``input_ids`` / ``type_ids`` arrays of shape (4, L)."""

    def __init__(self, bpe: BPE, config: FeatureConfig | None = None):
        self.bpe = bpe
        self.config = config or FeatureConfig()
        self.pad_id = bpe.token_id(PAD)
        self.bos_id = bpe.token_id(BOS)
        self.eos_id = bpe.token_id(EOS)
        self.kind_ids = {
            "region": bpe.vocab.get(REGION_TOKEN, self.bos_id),
            "token": bpe.vocab.get(TOKEN_TOKEN, self.bos_id),
        }

    def _subwords(
        self,
        tokens: Sequence,
        types: Sequence[int] | None = None,
        limit: int | None = None,
        from_end: bool = False,
    ) -> tuple[list[int], list[int]]:
        ids: list[int] = []
        tys: list[int] = []
        enc = self.bpe.encode_word
        seq = range(len(tokens) - 1, -1, -1) if from_end else range(len(tokens))
        for i in seq:
            tok = tokens[i]
            pieces = enc(tok.text, bool(tok.lead))
            ty = EQUAL if types is None else types[i]
            if from_end:
                ids[:0] = pieces
                tys[:0] = [ty] * len(pieces)
            else:
                ids.extend(pieces)
                tys.extend([ty] * len(pieces))
            if limit is not None and len(ids) >= limit:
                break
        if limit is not None and len(ids) > limit:
            if from_end:
                ids, tys = ids[-limit:], tys[-limit:]
            else:
                ids, tys = ids[:limit], tys[:limit]
        return ids, tys

    def unit(self, unit) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, type_ids), each int64 of shape (4, L) with L ≤ max_len (padded to the longest)."""
        cfg = self.config
        a = tuple(unit.a)[:MAX_SIDE_TOKENS]
        base = tuple(unit.base)[:MAX_SIDE_TOKENS]
        b = tuple(unit.b)[:MAX_SIDE_TOKENS]
        a_t, base_a_t = align(a, base)
        b_t, base_b_t = align(b, base)
        room = cfg.max_len - 4  # kind marker and three </s>
        body_cap = max(1, room - cfg.min_context)
        bodies = [
            self._subwords(a, a_t, body_cap),
            self._subwords(base, base_a_t, body_cap),
            self._subwords(b, b_t, body_cap),
            self._subwords(base, base_b_t, body_cap),
        ]
        longest = max(len(ids) for ids, _ in bodies)
        ctx_room = min(cfg.max_context, room - longest)
        before, _ = self._subwords(tuple(unit.before), None, ctx_room, from_end=True)
        after, _ = self._subwords(tuple(unit.after), None, ctx_room)
        half = ctx_room // 2
        if len(before) + len(after) > ctx_room:
            if len(before) <= half:
                after = after[: ctx_room - len(before)]
            elif len(after) <= ctx_room - half:
                before = before[len(before) - (ctx_room - len(after)) :]
            else:
                before = before[len(before) - half :]
                after = after[: ctx_room - half]
        kind = self.kind_ids.get(unit.kind, self.bos_id)
        rows = []
        for ids, tys in bodies:
            seq = [kind, *before, self.eos_id, *ids, self.eos_id, *after, self.eos_id]
            typ = [EQUAL] * (len(before) + 2) + tys + [EQUAL] * (len(after) + 2)
            rows.append((seq, typ))
        width = max(len(s) for s, _ in rows)
        input_ids = np.full((N_SEQ, width), self.pad_id, dtype=np.int64)
        type_ids = np.full((N_SEQ, width), PAD_TYPE, dtype=np.int64)
        for r, (seq, typ) in enumerate(rows):
            input_ids[r, : len(seq)] = seq
            type_ids[r, : len(typ)] = typ
        return input_ids, type_ids

    def batch(self, units: Sequence) -> dict[str, np.ndarray]:
        return collate([self.unit(u) for u in units], [u.kind == "token" for u in units], self.pad_id)


def collate(
    feats: Sequence[tuple[np.ndarray, np.ndarray]], is_token: Sequence[bool], pad_id: int
) -> dict[str, np.ndarray]:
    """Pads per-unit features to one batch: the model's inputs ``input_ids``, ``type_ids`` (B, 4, L) and
    ``is_token`` (B,) float (1.0 for token units, whose TOKEN class is masked)."""
    width = max((ids.shape[1] for ids, _ in feats), default=1)
    n = len(feats)
    input_ids = np.full((n, N_SEQ, width), pad_id, dtype=np.int64)
    type_ids = np.full((n, N_SEQ, width), PAD_TYPE, dtype=np.int64)
    for i, (ids, tys) in enumerate(feats):
        input_ids[i, :, : ids.shape[1]] = ids
        type_ids[i, :, : tys.shape[1]] = tys
    return {
        "input_ids": input_ids,
        "type_ids": type_ids,
        "is_token": np.asarray(is_token, dtype=np.float32).reshape(n),
    }
