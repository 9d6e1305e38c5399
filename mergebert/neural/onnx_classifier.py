"""The neural classifier at run time: ONNX Runtime only (no torch).

``load_classifier(model_dir)`` reads a model directory (``config.json``, ``model.onnx``, ``vocab.json``,
``merges.txt``), checks that the vocabulary is the model's (the size config.json records, and the model
runs on its last id), and returns an ``OnnxClassifier``.  ``rank`` featurises every unit of every conflict
it is given (a file's conflicts come in one call) and scores them in one ONNX Runtime run, then decodes
each conflict's candidates with ``candidates.decode`` (beam over the token conflicts' patterns).

Which model a command uses, and what happens when it cannot be loaded, is decided in
``mergebert.neural.policy``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mergebert.core.candidates import N_CLASSES, Candidate, ConflictInput, decode, units
from mergebert.neural.acceptor import Acceptor, Decoded
from mergebert.neural.bpe import BPE
from mergebert.neural.features import N_SEQ, FeatureConfig, Featurizer, collate

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

THREADS_ENV = "MERGEBERT_THREADS"
FORMAT = "mergebert-model/1"  # config.json "format" of the model directories training writes
MAX_BATCH = 256  # units per ONNX Runtime call
FATAL_ONLY = 4  # ONNX Runtime log severity: its own errors are not printed, the ModelError says them


class ModelError(Exception):
    """The model directory is missing, incomplete or unreadable, or its vocabulary is not its model's."""


def _providers(ort) -> list[str]:
    available = ort.get_available_providers()
    wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in wanted if p in available] or available


def _said(err: Exception) -> str:
    """ONNX Runtime's message in one line, its status message alone where it gives one."""
    return " ".join(str(err).rpartition("Status Message: ")[2].split())


def _open_session(onnx_path: str, threads: int | None) -> InferenceSession:
    """An ONNX Runtime session on `onnx_path` that logs nothing itself (mergebert says what failed)."""
    if not os.path.exists(onnx_path):
        raise ModelError(f"{onnx_path} is missing")
    try:
        # read when onnxruntime is imported: no device id or telemetry database in the user's ~/.cache, and
        # no "[W:onnxruntime ... Failed to persist telemetry device ID" line where HOME is not writable
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        env_threads = os.environ.get(THREADS_ENV)
        n_threads = threads if threads is not None else int(env_threads) if env_threads else 0
        if n_threads:
            opts.intra_op_num_threads = n_threads
            opts.inter_op_num_threads = 1
        opts.log_severity_level = FATAL_ONLY
        return ort.InferenceSession(onnx_path, opts, providers=_providers(ort))
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelError(f"cannot load {onnx_path}: {_said(err)}") from None


class OnnxClassifier:
    """Classifier over an exported MergeBERT model."""

    def __init__(
        self,
        model_dir: str,
        threshold: float | None = None,
        threads: int | None = None,
        *,
        with_acceptor: bool = True,
    ):
        """``with_acceptor=False`` leaves out the second stage (fitting a new one never needs the old)."""
        self.model_dir = os.path.abspath(model_dir)
        if not os.path.isdir(self.model_dir):
            raise ModelError(f"no model directory {self.model_dir}")
        self.config = self._read_config()
        self.bpe = self._read_vocabulary()
        self.featurizer = Featurizer(self.bpe, FeatureConfig.from_dict(self.config.get("features", {})))
        self.beam = int(self.config.get("beam", 8))
        self.threshold = float(self.config.get("threshold", 0.5) if threshold is None else threshold)
        onnx_path = os.path.join(self.model_dir, self.config.get("onnx", "model.onnx"))
        self.session = _open_session(onnx_path, threads)
        names = {i.name for i in self.session.get_inputs()}
        if names != {"input_ids", "type_ids", "is_token"}:
            raise ModelError(f"{onnx_path}: unexpected inputs {sorted(names)}")
        self._check_embedding(onnx_path)
        self.acceptor = self._load_acceptor() if with_acceptor else None

    def _read_config(self) -> dict:
        """config.json, of the format training writes."""
        config_path = os.path.join(self.model_dir, "config.json")
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        except FileNotFoundError:
            raise ModelError(f"{config_path} is missing") from None
        except (OSError, ValueError) as err:
            raise ModelError(f"{config_path} is unreadable: {err}") from None
        if config.get("format") != FORMAT:
            raise ModelError(f"{config_path}: unknown model format {config.get('format')!r}")
        return config

    def _read_vocabulary(self) -> BPE:
        """vocab.json and merges.txt, of the size config.json records for the model (`model.vocab_size`)."""
        vocab_path = os.path.join(self.model_dir, self.config.get("vocab", "vocab.json"))
        merges_path = os.path.join(self.model_dir, self.config.get("merges", "merges.txt"))
        try:
            bpe = BPE.from_files(vocab_path, merges_path)
        except (OSError, ValueError) as err:
            raise ModelError(f"cannot read the model's vocabulary: {err}") from None
        model = self.config.get("model")
        expected = model.get("vocab_size") if isinstance(model, dict) else None
        if expected is not None and expected != len(bpe):
            raise ModelError(
                f"{vocab_path} has {len(bpe)} entries; config.json gives the model {expected}: "
                "the vocabulary is not this model's"
            )
        return bpe

    def _check_embedding(self, onnx_path: str) -> None:
        """The model scores a unit holding the vocabulary's last id: its embedding is no smaller."""
        last = len(self.bpe) - 1
        unit = (np.full((N_SEQ, 1), last, dtype=np.int64), np.zeros((N_SEQ, 1), dtype=np.int64))
        try:
            self.session.run(["probs"], collate([unit], [False], self.featurizer.pad_id))
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(
                f"{onnx_path} does not take the ids of the {last + 1}-entry vocabulary: the vocabulary is "
                f"not this model's ({_said(err)})"
            ) from None

    def _load_acceptor(self) -> Acceptor | None:
        """The second stage named by the config (None for a model without one)."""
        name = self.config.get("acceptor")
        if not name:
            return None
        try:
            return Acceptor.from_file(os.path.join(self.model_dir, name))
        except (OSError, ValueError, KeyError) as err:
            raise ModelError(f"cannot read the model's acceptor {name}: {err}") from None

    # -- scoring ---------------------------------------------------------------------------------
    def unit_probabilities(self, all_units: Sequence) -> np.ndarray:
        """(n, N_CLASSES) class probabilities of the units, scored in length-sorted batches."""
        if not all_units:
            return np.zeros((0, N_CLASSES), dtype=np.float32)
        feats = [self.featurizer.unit(u) for u in all_units]
        is_token = [u.kind == "token" for u in all_units]
        order = sorted(range(len(feats)), key=lambda i: feats[i][0].shape[1])
        out = np.zeros((len(feats), N_CLASSES), dtype=np.float32)
        for s in range(0, len(order), MAX_BATCH):
            chunk = order[s : s + MAX_BATCH]
            batch = collate([feats[i] for i in chunk], [is_token[i] for i in chunk], self.featurizer.pad_id)
            out[chunk] = self.session.run(["probs"], batch)[0]
        return out

    def decode_all(self, conflicts: Sequence[ConflictInput]) -> list[Decoded]:
        """The encoder's scores and the decoder's ranked candidates for each conflict (one ORT pass)."""
        per_conflict = [units(c) for c in conflicts]
        flat = [u for us in per_conflict for u in us]
        probs = self.unit_probabilities(flat)
        decoded: list[Decoded] = []
        at = 0
        for conflict, us in zip(conflicts, per_conflict, strict=True):
            unit_probs = probs[at : at + len(us)]
            at += len(us)
            decoded.append(Decoded(decode(conflict, unit_probs, beam=self.beam), unit_probs[0]))
        return decoded

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        decoded = self.decode_all(conflicts)
        if self.acceptor is None:
            return [entry.candidates for entry in decoded]
        return self.acceptor.rerank(conflicts, decoded)


def load_classifier(
    model_dir: str | os.PathLike | None = None, threshold: float | None = None
) -> OnnxClassifier:
    """The classifier in ``model_dir`` (default: the shipped model); raises ``ModelError`` when unusable."""
    from mergebert.neural.policy import shipped_model_dir

    return OnnxClassifier(str(model_dir) if model_dir is not None else shipped_model_dir(), threshold)
