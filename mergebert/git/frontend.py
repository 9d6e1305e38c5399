"""The one call every git front-end makes: merge three blobs, never fail, say what happened.

`merge_blobs` runs the resolver and, when it resolves nothing or anything inside it raises, gives git's own
line merge (`git merge-file`, libgit2 if git cannot run), so a driver or command built on it always has a
complete merge result to write: the worst case is exactly what git alone would have produced.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mergebert.core.messages import warn as warn  # the front-ends' one warn, re-exported
from mergebert.core.options import MergeOptions
from mergebert.core.textio import is_binary
from mergebert.git import gitcmd, gitinfo

if TYPE_CHECKING:
    import pygit2

    from mergebert.core.classifier import Classifier
    from mergebert.core.resolver import Resolution

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


def git_merge_file(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """git's own `git merge-file -p`: the merged bytes and the number of conflicts git counted."""
    with tempfile.TemporaryDirectory(prefix="mergebert-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        args = ["merge-file", "-p", f"--marker-size={options.marker_size}"]
        if options.style != "merge":
            args.append(f"--{options.style}")
        for label in options.labels:
            args += ["-L", label]
        proc = gitcmd.git(*args, *paths, accept=range(128))
    return proc.stdout, proc.returncode


def line_merge(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """git's own line merge: `git merge-file`, the reference mergebert must equal where it resolves
    nothing; libgit2 when git cannot do it, and binary content kept as ours with one conflict, as git does."""
    from mergebert.core import linemerge

    if any(is_binary(data) for data in (base, ours, theirs)):
        return linemerge.merge_bytes(base, ours, theirs, options)
    try:
        _fault("linemerge")
        return git_merge_file(base, ours, theirs, options)
    except Exception:  # any failure here still has a correct fallback
        return linemerge.merge_bytes(base, ours, theirs, options)


def merge_blobs(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    path: str | None,
    options: MergeOptions,
    language: str | None = None,
    classifier: Classifier | None = None,
    suggest: bool = False,
) -> Outcome:
    """Resolve what mergebert can. Where it resolves nothing, for content it cannot handle, and on any
    internal error, the result is git's own line merge (the latter two with a one-line message).
    With `suggest`, the resolutions list their suggestions (the interactive commands)."""
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
            options=options,
            suggest=suggest,
        )
        if result.fallback or (result.conflicts and result.left == result.conflicts):
            data, left = line_merge(base, ours, theirs, options)
            message = f"{where}{result.fallback}; kept git's line merge" if result.fallback else None
            return Outcome(data, left, left, tuple(result.resolutions), message)
        return Outcome(result.data, result.conflicts, result.left, tuple(result.resolutions))
    except Exception as error:  # the contract: never fail, fall back to git's line merge
        data, left = line_merge(base, ours, theirs, options)
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
