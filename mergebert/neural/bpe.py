"""Byte-level BPE encoder (GPT-2 / RoBERTa ``vocab.json`` + ``merges.txt`` format), pure Python.

The vocabulary is *learned* at training time with ``tokenizers`` (``training/bpe.py``) or comes from a
RoBERTa-family checkpoint, and is *applied* here, by training and runtime alike, so that the model sees
exactly the same sub-words in both.  The unit of encoding is one lexer token: its text is mapped to
byte-level characters, prefixed with ``Ġ`` (the byte-level space) when the token has leading whitespace,
and split by the ranked merges.  Results are cached per (text, leading-space) pair.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

# RoBERTa's special tokens; a vocabulary learned by ``training/bpe.py`` puts them first in this order.
PAD, BOS, EOS, UNK, MASK = "<pad>", "<s>", "</s>", "<unk>", "<mask>"
SPECIAL_TOKENS = (BOS, PAD, EOS, UNK, MASK)

MAX_TOKEN_CHARS = 64  # longer tokens (long string/comment words) are cut before encoding
MAX_TOKEN_PIECES = 12  # and contribute at most this many sub-words


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=False))


class BPE:
    """Applies a byte-level BPE vocabulary to lexer tokens."""

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]]):
        self.vocab = dict(vocab)
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.byte_map = bytes_to_unicode()
        self.unk_id = self.vocab.get(UNK, 0)
        self._cache: dict[tuple[str, bool], tuple[int, ...]] = {}

    # -- loading ---------------------------------------------------------------------------------
    @classmethod
    def from_files(cls, vocab_path: str | os.PathLike, merges_path: str | os.PathLike) -> BPE:
        with open(vocab_path, encoding="utf-8") as f:
            vocab = json.load(f)
        merges: list[tuple[str, str]] = []
        with open(merges_path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#version"):
                    continue
                left, _, right = line.partition(" ")
                if right:
                    merges.append((left, right))
        return cls(vocab, merges)

    @classmethod
    def from_dir(cls, directory: str | os.PathLike) -> BPE:
        return cls.from_files(os.path.join(directory, "vocab.json"), os.path.join(directory, "merges.txt"))

    def __len__(self) -> int:
        return max(self.vocab.values()) + 1 if self.vocab else 0

    def token_id(self, token: str) -> int:
        return self.vocab.get(token, self.unk_id)

    # -- encoding --------------------------------------------------------------------------------
    def _bpe(self, word: str) -> list[str]:
        parts = list(word)
        ranks = self.ranks
        while len(parts) > 1:
            best = None
            best_rank = None
            for i in range(len(parts) - 1):
                r = ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            first, second = parts[best], parts[best + 1]
            merged: list[str] = []
            i = 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return parts

    def encode_word(self, text: str, space: bool = False) -> tuple[int, ...]:
        """Sub-word ids of one lexer token (``space``: the token has leading whitespace)."""
        key = (text, space)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        raw = text[:MAX_TOKEN_CHARS].encode("utf-8", "surrogatepass")
        word = ("Ġ" if space else "") + "".join(self.byte_map[b] for b in raw)
        ids: list[int] = []
        if word:
            for piece in self._bpe(word):
                pid = self.vocab.get(piece)
                if pid is None:  # vocabulary without the full byte alphabet
                    ids.extend(self.vocab.get(ch, self.unk_id) for ch in piece)
                else:
                    ids.append(pid)
        out = tuple(ids[:MAX_TOKEN_PIECES])
        if len(self._cache) < 500_000:
            self._cache[key] = out
        return out

    def encode_tokens(self, tokens) -> list[int]:
        """Concatenated sub-word ids of a sequence of ``Token`` (anything with ``.text`` and ``.lead``)."""
        out: list[int] = []
        for tok in tokens:
            out.extend(self.encode_word(tok.text, bool(tok.lead)))
        return out

    def decode(self, ids) -> str:
        """Inverse mapping, for debugging only."""
        inv = {v: k for k, v in self.vocab.items()}
        back = {c: b for b, c in self.byte_map.items()}
        chars = "".join(inv.get(int(i), "") for i in ids)
        return bytes(back[c] for c in chars if c in back).decode("utf-8", "replace")
