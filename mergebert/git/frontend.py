"""The one call every git front-end makes: merge three blobs, never fail, say what happened.

`merge_blobs` runs the resolver and, when anything inside it raises, falls back to git's own line merge
(libgit2, then `git merge-file` as the last resort), so a driver or command built on it always has a
complete merge result to write: the worst case is exactly what git alone would have produced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mergebert.core.candidates import Candidate, ConflictInput
    from mergebert.core.classifier import Classifier
    from mergebert.core.resolver import Resolution

Labels = tuple[str, str, str]

# Like git's GIT_TEST_* variables: make a stage fail on purpose, so tests can prove the fallbacks work.
FAULT_VARIABLE = "MERGEBERT_TEST_FAULT"


@dataclass(frozen=True)
class Outcome:
    """A complete merge result: the bytes to write, and how many conflicts it still holds."""

    data: bytes
    conflicts: int
    left: int
    resolutions: tuple[Resolution, ...] = ()
    message: str | None = None

    @property
    def resolved(self) -> int:
        """Conflicts mergebert settled."""
        return self.conflicts - self.left


def _fault(stage: str) -> None:
    if stage in os.environ.get(FAULT_VARIABLE, "").split(","):
        raise RuntimeError(f"fault injected by {FAULT_VARIABLE}={stage}")


def git_merge_file(
    base: bytes, ours: bytes, theirs: bytes, *, marker_size: int, labels: Labels, style: str
) -> tuple[bytes, int]:
    """git's own `git merge-file -p`: the last-resort line merge, independent of libgit2."""
    with tempfile.TemporaryDirectory(prefix="mergebert-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        args = ["git", "merge-file", "-p", f"--marker-size={marker_size}"]
        if style == "diff3":
            args.append("--diff3")
        for label in labels:
            args += ["-L", label]
        proc = subprocess.run([*args, *paths], capture_output=True, check=False)
    if proc.returncode < 0 or proc.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout, proc.returncode


def line_merge(
    base: bytes, ours: bytes, theirs: bytes, *, marker_size: int, labels: Labels, style: str
) -> tuple[bytes, int]:
    """git's line merge through libgit2, or through `git merge-file` if libgit2 fails."""
    try:
        _fault("linemerge")
        from mergebert.core import linemerge

        return linemerge.merge_bytes(base, ours, theirs, marker_size=marker_size, labels=labels, style=style)
    except Exception:  # any failure here still has a correct fallback
        return git_merge_file(base, ours, theirs, marker_size=marker_size, labels=labels, style=style)


def merge_blobs(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    path: str | None,
    language: str | None = None,
    marker_size: int = 7,
    labels: Labels = ("ours", "base", "theirs"),
    style: str = "merge",
    classifier: Classifier | None = None,
    threshold: float | None = None,
) -> Outcome:
    """Resolve what mergebert can; for content it cannot handle, or on any internal error, return git's
    line merge with a one-line message (binary content: ours, one conflict, as git's binary driver does).
    """
    where = f"{path}: " if path else ""
    try:
        _fault("resolve")
        from mergebert.core import resolver

        result = resolver.resolve_bytes(
            base,
            ours,
            theirs,
            path=path,
            language=language,
            classifier=classifier,
            threshold=threshold,
            marker_size=marker_size,
            labels=labels,
            style=style,
        )
        if result.conflicts and result.left == result.conflicts and not result.fallback:
            # Nothing resolved: give git's own bytes (its "merge" style refines conflicts further).
            data, left = line_merge(base, ours, theirs, marker_size=marker_size, labels=labels, style=style)
            return Outcome(data=data, conflicts=left, left=left, resolutions=tuple(result.resolutions))
        return Outcome(
            data=result.data,
            conflicts=result.conflicts,
            left=result.left,
            resolutions=tuple(result.resolutions),
            message=f"{where}{result.fallback}; kept git's line merge" if result.fallback else None,
        )
    except Exception as error:  # the contract: never fail, fall back to git's line merge
        data, left = line_merge(base, ours, theirs, marker_size=marker_size, labels=labels, style=style)
        message = f"{where}internal error ({type(error).__name__}: {error}); kept git's line merge"
        return Outcome(data=data, conflicts=left, left=left, message=message)


def _load_classifier(model: str | None, threshold: float | None) -> Classifier:
    """The neural classifier: `model`, else $MERGEBERT_MODEL, else the model shipped in the package; the
    token merge alone when there is none, or it cannot be loaded (with a message on stderr)."""
    from mergebert.core.classifier import TokenMergeClassifier

    try:
        from mergebert.neural import onnx_classifier

        asked = model or os.environ.get(onnx_classifier.MODEL_ENV)
        shipped = Path(onnx_classifier.default_model_dir(), "config.json").exists()
        if not asked and not shipped:
            return TokenMergeClassifier()
        return onnx_classifier.default_classifier(model, threshold)
    except Exception as error:  # a broken model never stops a merge
        warn(f"model unavailable ({type(error).__name__}: {error}); resolving with the token merge only")
        return TokenMergeClassifier()


class LazyClassifier:
    """Loads the classifier on first use: a file git merges without a line conflict never pays for it."""

    def __init__(self, model: str | None = None, threshold: float | None = None) -> None:
        self._arguments = (model, threshold)
        self._classifier: Classifier | None = None

    @property
    def loaded(self) -> Classifier:
        if self._classifier is None:
            self._classifier = _load_classifier(*self._arguments)
        return self._classifier

    @property
    def threshold(self) -> float:
        return self.loaded.threshold

    def rank(self, conflicts: Sequence[ConflictInput]) -> list[list[Candidate]]:
        return self.loaded.rank(conflicts)


def pick_classifier(model: str | None = None, threshold: float | None = None) -> Classifier:
    """The classifier every front-end uses, loaded only when a conflict needs it."""
    return LazyClassifier(model, threshold)


def warn(message: str) -> None:
    """One line on stderr, prefixed like git's own messages."""
    print(f"mergebert: {message}", file=sys.stderr)
