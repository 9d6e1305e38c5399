"""The neural classifier at run time: ONNX Runtime only (no torch).

``load_classifier(model_dir)`` reads a model directory (``config.json``, ``model.onnx``, ``vocab.json``,
``merges.txt``), checks config.json's fields (``model_config``), that the vocabulary is the model's (the
size config.json records, and the model runs on its last id), that model.onnx takes the inputs the runtime
feeds and gives probabilities for a fixed probe (a model whose training diverged gives NaN), and that the
acceptor was fitted for this model.onnx where it records which; and returns an ``OnnxClassifier``.
``rank`` featurises every unit of every conflict it is given (a file's conflicts come in one call) and
scores them in one ONNX Runtime run, then decodes each conflict's candidates with ``candidates.decode``
(beam over the token conflicts' patterns). Scores that are not probabilities decide nothing: ``rank``
raises ``Unranked`` and the resolver decides the file's conflicts with the token merge only, as for a
model refused on load, after one line (once per classifier: per process, or per daemon) naming the model.

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
from mergebert.core.classifier import Unranked
from mergebert.core.messages import warn
from mergebert.neural.acceptor import Acceptor, Decoded, model_digest
from mergebert.neural.bpe import BPE
from mergebert.neural.features import N_SEQ, FeatureConfig, Featurizer, collate
from mergebert.neural.model_config import ConfigError, check_config

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

THREADS_ENV = "MERGEBERT_THREADS"
FORMAT = "mergebert-model/1"  # config.json "format" of the model directories training writes
MAX_BATCH = 256  # units per ONNX Runtime call
FATAL_ONLY = 4  # ONNX Runtime log severity: its own errors are not printed, the ModelError says them
INPUTS = {  # the inputs the runtime feeds: name, (type, rank)
    "input_ids": ("tensor(int64)", 3),
    "type_ids": ("tensor(int64)", 3),
    "is_token": ("tensor(float)", 1),
}
OUTPUT = "probs"  # (batch, N_CLASSES) class probabilities
SUM_TOLERANCE = 1e-3  # how far past 1 probabilities may sum (rounding)


class ModelError(Exception):
    """The model directory is missing, incomplete or unreadable, or its vocabulary is not its model's."""


class ScoresError(ModelError):
    """The model gave scores that are not probabilities (NaN, say) for some unit, or ONNX Runtime could not
    run it on them; `gave` says what."""

    def __init__(self, onnx_path: str, gave: str) -> None:
        super().__init__(f"{onnx_path} gave {gave} for a file's conflicts")
        self.gave = gave


NOT_NUMBERS = "scores that are not numbers (NaN)"
NOT_PROBABILITIES = "scores that are not probabilities (0 to 1, sum 1)"
GAVE_SHORT = {NOT_NUMBERS: "NaN", NOT_PROBABILITIES: "scores that are not probabilities"}  # else an error


def scores_fault(probs: np.ndarray) -> str | None:
    """None where each row is a distribution over the N_CLASSES classes (finite, from 0 to 1, summing to
    1); else what they are instead (NOT_NUMBERS, NOT_PROBABILITIES)."""
    if probs.ndim != 2 or probs.shape[1] != N_CLASSES:
        return NOT_PROBABILITIES
    if not np.isfinite(probs).all():
        return NOT_NUMBERS
    in_range = bool(((probs >= 0.0) & (probs <= 1.0)).all())
    if not in_range or not (np.abs(probs.sum(axis=1) - 1.0) <= SUM_TOLERANCE).all():
        return NOT_PROBABILITIES
    return None


def _providers(ort) -> list[str]:
    available = ort.get_available_providers()
    wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in wanted if p in available] or available


def _said(err: Exception) -> str:
    """ONNX Runtime's message in one line, its status message alone where it gives one."""
    return " ".join(str(err).rpartition("Status Message: ")[2].split())


def _threads_from_environment() -> int:
    """The threads `$MERGEBERT_THREADS` asks for (0: ONNX Runtime's default, also where it is unset); a
    value that is not a whole number in the digits 0-9 is ignored with one line, as a bad
    `$MERGEBERT_THRESHOLD` is; one above the CPUs this process may run on is lowered to them, with one line:
    more threads than CPUs only contend (and past a C int ONNX Runtime refuses the session)."""
    raw = os.environ.get(THREADS_ENV, "")
    number = raw.strip()
    if not (number.isascii() and number.isdigit()):
        if raw:
            warn(
                f"ignoring ${THREADS_ENV}={raw!r} (not a positive whole number of threads in the digits 0-9)"
            )
        return 0
    cpus = _cpus()
    if int(number) > cpus:
        warn(f"${THREADS_ENV}={number} is more than the {cpus} CPUs this process may run on; using {cpus}")
        return cpus
    return int(number)


def _cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


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
        n_threads = threads if threads is not None else _threads_from_environment()
        if n_threads:
            opts.intra_op_num_threads = n_threads
            opts.inter_op_num_threads = 1
        opts.log_severity_level = FATAL_ONLY
        return ort.InferenceSession(onnx_path, opts, providers=_providers(ort))
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelError(f"cannot load {onnx_path}: {_said(err)}") from None


def _is_confidence(value: float) -> bool:
    """A number from 0 to 1 (a sum of one resolution's probabilities may pass 1 by rounding); not NaN."""
    return 0.0 <= value <= 1.0 + SUM_TOLERANCE


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
        self.config = self._read_config(threshold_used=threshold is None)
        self.bpe = self._read_vocabulary()
        self.featurizer = Featurizer(self.bpe, FeatureConfig.from_dict(self.config.get("features", {})))
        self._check_pad_id()
        self.beam = int(self.config.get("beam", 8))
        self.threshold = float(self.config.get("threshold", 0.5) if threshold is None else threshold)
        self.onnx_path = os.path.join(self.model_dir, self.config.get("onnx", "model.onnx"))
        self.session = _open_session(self.onnx_path, threads)
        self._check_interface()
        self._probe()
        self.acceptor = self._load_acceptor() if with_acceptor else None
        self._failure_said = False  # the line saying the model failed on a file is printed once

    def _read_config(self, *, threshold_used: bool) -> dict:
        """config.json, of the format training writes, with fields the runtime can use."""
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
        try:
            check_config(config, threshold_used=threshold_used)
        except ConfigError as err:
            raise ModelError(f"{config_path}: {err}") from None
        return config

    def _read_vocabulary(self) -> BPE:
        """vocab.json and merges.txt, of the size config.json records for the model (`model.vocab_size`)."""
        vocab_path = os.path.join(self.model_dir, self.config.get("vocab", "vocab.json"))
        merges_path = os.path.join(self.model_dir, self.config.get("merges", "merges.txt"))
        try:
            bpe = BPE.from_files(vocab_path, merges_path)
        except (OSError, ValueError) as err:
            raise ModelError(f"cannot read the model's vocabulary: {err}") from None
        expected = self.config.get("model", {}).get("vocab_size")  # a shape check_config has checked
        if expected is not None and expected != len(bpe):
            raise ModelError(
                f"{vocab_path} has {len(bpe)} entries; config.json gives the model {expected}: "
                "the vocabulary is not this model's"
            )
        return bpe

    def _check_pad_id(self) -> None:
        """config.json's `pad_id` (where given) is the vocabulary's <pad>, which the featurizer pads with."""
        pad_id = self.config.get("pad_id", self.featurizer.pad_id)
        if pad_id != self.featurizer.pad_id:
            raise ModelError(
                f"{os.path.join(self.model_dir, 'config.json')}: pad_id {pad_id} is not the vocabulary's "
                f"<pad> id {self.featurizer.pad_id}"
            )

    def _check_interface(self) -> None:
        """model.onnx takes the inputs the runtime feeds (names, types, ranks) and gives `probs`."""
        inputs = {i.name: (i.type, len(i.shape)) for i in self.session.get_inputs()}
        if inputs != INPUTS:
            raise ModelError(
                f"{self.onnx_path} takes {inputs}, not the inputs mergebert feeds {INPUTS}: "
                "not a MergeBERT model"
            )
        outputs = [o.name for o in self.session.get_outputs()]
        if OUTPUT not in outputs:
            raise ModelError(f"{self.onnx_path} gives {outputs}, not {OUTPUT!r}: not a MergeBERT model")

    def _probe(self) -> None:
        """One run on a fixed region unit and token unit of the longest length the features give, holding
        ids 0, 1, ... and the vocabulary's last: the model takes the vocabulary's ids (its embedding is no
        smaller) and scores the units with N_CLASSES probabilities each (NaN: its training diverged)."""
        width = self.featurizer.config.max_len
        last = len(self.bpe) - 1
        ids = np.arange(N_SEQ * width, dtype=np.int64).reshape(N_SEQ, width) % len(self.bpe)
        ids[-1, -1] = last
        unit = (ids, np.zeros((N_SEQ, width), dtype=np.int64))
        try:
            (probs,) = self.session.run(
                [OUTPUT], collate([unit, unit], [False, True], self.featurizer.pad_id)
            )
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
            self._check_embedding(last)
            raise ModelError(
                f"{self.onnx_path} cannot score a unit of {width} sub-words (features.max_len): {_said(err)}"
            ) from None
        probs = np.asarray(probs)
        if probs.shape != (2, N_CLASSES):
            raise ModelError(
                f"{self.onnx_path} gives scores of shape {list(probs.shape)} for 2 units, not "
                f"[2, {N_CLASSES}]: not a MergeBERT model"
            )
        fault = scores_fault(probs)
        if fault is not None:
            diverged = ": training diverged" if fault == NOT_NUMBERS else ""
            raise ModelError(f"{self.onnx_path} gives {fault}{diverged}")

    def _check_embedding(self, last: int) -> None:
        """Where the probe failed, whether for the vocabulary: the model scores a unit of one id, `last`."""
        unit = (np.full((N_SEQ, 1), last, dtype=np.int64), np.zeros((N_SEQ, 1), dtype=np.int64))
        try:
            self.session.run([OUTPUT], collate([unit], [False], self.featurizer.pad_id))
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(
                f"{self.onnx_path} does not take the ids of the {last + 1}-entry vocabulary: the vocabulary "
                f"is not this model's ({_said(err)})"
            ) from None

    def _load_acceptor(self) -> Acceptor | None:
        """The second stage named by the config (None for a model without one)."""
        name = self.config.get("acceptor")
        if not name:
            return None
        path = os.path.join(self.model_dir, name)
        try:
            acceptor = Acceptor.from_file(path)
        except (OSError, ValueError, KeyError) as err:
            raise ModelError(f"cannot read the model's acceptor {path}: {err}") from None
        if acceptor.fitted_for is not None and acceptor.fitted_for != model_digest(self.onnx_path):
            raise ModelError(
                f"{path} was fitted for another model.onnx than {self.onnx_path}: "
                "run mergebert fit-acceptor again"
            )
        return acceptor

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
            try:
                scores = np.asarray(self.session.run([OUTPUT], batch)[0])
            except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
                raise ScoresError(self.onnx_path, f"an error ({_said(err)})") from None
            fault = scores_fault(scores)
            if fault is not None:
                raise ScoresError(self.onnx_path, fault)
            out[chunk] = scores
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
        """Each conflict's candidates, best first, never one whose confidence is not one (NaN passes no
        threshold); Unranked where the model gave scores that are not probabilities for the file, said in
        one line the first time."""
        try:
            decoded = self.decode_all(conflicts)
        except ScoresError as error:
            if not self._failure_said:
                self._failure_said = True
                warn(
                    f"model failed ({type(error).__name__}: {error}); resolving each file it fails on with "
                    "the token merge only"
                )
            raise Unranked(f"the model gave {GAVE_SHORT.get(error.gave, 'an error')}") from None
        if self.acceptor is None:
            ranked = [entry.candidates for entry in decoded]
        else:
            ranked = self.acceptor.rerank(conflicts, decoded)
        return [[c for c in candidates if _is_confidence(c.confidence)] for candidates in ranked]


def load_classifier(
    model_dir: str | os.PathLike | None = None, threshold: float | None = None
) -> OnnxClassifier:
    """The classifier in ``model_dir`` (default: the shipped model); raises ``ModelError`` when unusable."""
    from mergebert.neural.policy import shipped_model_dir

    return OnnxClassifier(str(model_dir) if model_dir is not None else shipped_model_dir(), threshold)
