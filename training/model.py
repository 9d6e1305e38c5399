"""The MergeBERT classifier in torch: one shared RoBERTa encoder over the four aligned sequences."""

from __future__ import annotations

import torch
from torch import nn

from mergebert.core.candidates import N_CLASSES, TOKEN_CLASS
from mergebert.neural.features import EDIT_TYPES, N_SEQ

MASK_VALUE = -1.0e4


def make_config(
    vocab_size: int,
    pad_id: int,
    max_len: int,
    hidden: int = 192,
    layers: int = 3,
    heads: int = 4,
    intermediate: int | None = None,
    dropout: float = 0.1,
):
    from transformers import RobertaConfig

    return RobertaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate or 4 * hidden,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        max_position_embeddings=max_len + pad_id + 1,
        type_vocab_size=len(EDIT_TYPES),
        pad_token_id=pad_id,
        bos_token_id=0,
        eos_token_id=2,
    )


class MergeBert(nn.Module):
    """Inputs ``input_ids``/``type_ids`` (B, 4, L) int64 and ``is_token`` (B,) float; output logits (B, 10)
    with the TOKEN class masked for token units."""

    def __init__(self, config, encoder: nn.Module | None = None):
        super().__init__()
        from transformers import RobertaModel

        self.config = config
        self.pad_id = int(config.pad_token_id)
        self.encoder = encoder if encoder is not None else RobertaModel(config, add_pooling_layer=False)
        self.seq_weights = nn.Parameter(torch.zeros(N_SEQ))
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.head = nn.Linear(config.hidden_size, N_CLASSES)

    def forward(
        self, input_ids: torch.Tensor, type_ids: torch.Tensor, is_token: torch.Tensor
    ) -> torch.Tensor:
        batch, n_seq, length = input_ids.shape
        ids = input_ids.reshape(batch * n_seq, length)
        types = type_ids.reshape(batch * n_seq, length)
        mask = (ids != self.pad_id).to(torch.int64)
        hidden = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        cls = hidden[:, 0].reshape(batch, n_seq, -1)
        weights = torch.softmax(self.seq_weights, dim=0)
        pooled = (cls * weights[None, :, None]).sum(dim=1)
        x = torch.tanh(self.dense(self.dropout(pooled)))
        logits = self.head(self.dropout(x))
        token_mask = torch.zeros_like(logits)
        token_mask[:, TOKEN_CLASS] = 1.0
        return logits + MASK_VALUE * is_token[:, None] * token_mask


class ProbabilityModel(nn.Module):
    """What ONNX exports: class probabilities."""

    def __init__(self, model: MergeBert):
        super().__init__()
        self.model = model

    def forward(self, input_ids, type_ids, is_token):
        return torch.softmax(self.model(input_ids, type_ids, is_token), dim=-1)


def multi_hot_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """−log Σ_{c correct} softmax(logits)_c, averaged (weighted) over the batch; ``targets`` is multi-hot."""
    logp = torch.log_softmax(logits, dim=-1)
    masked = logp.masked_fill(targets <= 0, float("-inf"))
    loss = -torch.logsumexp(masked, dim=-1)
    if weights is None:
        return loss.mean()
    return (loss * weights).sum() / weights.sum().clamp_min(1e-9)
