"""`mergebert driver %O %A %B %L %P`: git's merge-driver contract.

git hands over three temporary files (base, current, other), the conflict marker size and the path; the
driver writes the merge result into the current file (%A) and exits 0 when it is clean, 1 when
conflicts are left. Whatever goes wrong inside mergebert, %A receives git's own line-merge result
(written atomically, never half), so installing the driver can never make a merge worse than git's.
"""

from __future__ import annotations

from mergebert.core.options import MergeOptions
from mergebert.git import frontend, gitinfo


def _marker_size(value: str) -> int:
    if value.isdigit() and int(value) > 0:
        return int(value)
    frontend.warn(f"marker size {value!r} is not a positive number; using 7")
    return 7


def summary(path: str, outcome: frontend.Outcome) -> str | None:
    """One line for git's merge output when mergebert resolved something."""
    if not outcome.resolved:
        return None
    left = f", {outcome.left} left" if outcome.left else ""
    return f"{path}: resolved {outcome.resolved} of {outcome.conflicts} conflicts{left}"


def run(
    base_path: str,
    current_path: str,
    other_path: str,
    marker_size: str,
    path: str,
    *,
    model: str | None = None,
    threshold: float | None = None,
) -> int:
    """Merge into `current_path`; the exit status git expects (0 clean, 1 conflicts left)."""
    try:
        with open(base_path, "rb") as f:
            base = f.read()
        with open(current_path, "rb") as f:
            ours = f.read()
        with open(other_path, "rb") as f:
            theirs = f.read()
    except OSError as error:
        frontend.warn(f"{path}: cannot read the versions to merge ({error}); nothing written")
        return 1
    size = _marker_size(marker_size)
    labels, style, repo = gitinfo.DEFAULT_LABELS, "merge", None
    try:
        repo = gitinfo.open_repo(".")
        labels, style = gitinfo.conflict_labels(repo), gitinfo.conflict_style(repo)
    except Exception as error:  # labels are cosmetic: keep merging with the defaults
        frontend.warn(f"cannot read the repository ({error}); using default conflict labels")
    outcome = frontend.merge_blobs(
        base,
        ours,
        theirs,
        path=path,
        options=MergeOptions(size, labels, style),
        classifier=frontend.pick_classifier(model, threshold, repo),
    )
    if outcome.message:
        frontend.warn(outcome.message)
    try:
        from mergebert.core import textio

        textio.atomic_write(current_path, outcome.data)
    except Exception as error:  # %A is untouched (atomic write): git's index still holds all sides
        frontend.warn(f"{path}: cannot write the merge result ({error}); left ours in place")
        return 1
    line = summary(path, outcome)
    if line:
        frontend.warn(line)
    return 0 if outcome.left == 0 else 1
