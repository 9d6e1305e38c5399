"""The one call every git front-end makes: merge three blobs, never fail, say what happened.

`merge_blobs` runs the resolver and, when anything inside it raises, falls back to git's own line merge
(libgit2, then `git merge-file` as the last resort), so a driver or command built on it always has a
complete merge result to write: the worst case is exactly what git alone would have produced.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mergebert.core.messages import warn as warn  # the front-ends' one warn, re-exported
from mergebert.git import gitinfo

if TYPE_CHECKING:
    import pygit2

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


def pick_classifier(
    model: str | None = None, threshold: float | None = None, repo: pygit2.Repository | None = None
) -> Classifier:
    """The classifier the model policy chooses (flag, environment, `repo`'s git config, shipped model),
    loaded only when a conflict needs it."""
    from mergebert.neural import policy

    return policy.LazyClassifier(policy.choose(model, threshold, config=gitinfo.settings(repo)))


def _why(reason: str) -> str:
    """A left conflict's reason without its figures: `confidence below threshold`, `no candidate parses`."""
    words = re.sub(r"\([^)]*\)|\b\d+(?:\.\d+)?\b", " ", reason)
    return re.sub(r"\bconflicts\b", "conflict", " ".join(words.split()))


def report_line(path: str, outcome: Outcome) -> str | None:
    """What every front-end prints for a file that had line conflicts (None for one that had none):
    `src/App.java: resolved 2 of 3 conflicts (1 left: confidence below threshold)`."""
    if not outcome.conflicts:
        return None
    plural = "s" if outcome.conflicts != 1 else ""
    line = f"{path}: resolved {outcome.resolved} of {outcome.conflicts} conflict{plural}"
    if not outcome.left:
        return line
    reasons = [_why(r.reason) for r in outcome.resolutions if r.text is None]
    if outcome.message and not reasons:
        reasons = [outcome.message.removeprefix(f"{path}: ")]
    why = ", ".join(dict.fromkeys(reasons))
    return f"{line} ({outcome.left} left{': ' + why if why else ''})"
