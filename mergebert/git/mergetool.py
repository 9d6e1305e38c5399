"""`mergebert mergetool "$BASE" "$LOCAL" "$REMOTE" "$MERGED"`: a tool for `git mergetool --tool mergebert`.

Writes the merge of the three versions into $MERGED and exits 0 only when no conflict is left, so that
with `trustExitCode = true` git marks exactly the fully resolved files as resolved.
"""

from __future__ import annotations

import os

from mergebert.git import frontend, gitinfo


def _read(path: str, *, missing_ok: bool) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        if missing_ok:  # no common ancestor (add/add): git passes a base that may not exist
            return b""
        raise


def run(
    base_path: str,
    local_path: str,
    remote_path: str,
    merged_path: str,
    *,
    model: str | None = None,
    threshold: float | None = None,
) -> int:
    """Merge into `merged_path`; 0 when it is conflict-free, 1 otherwise."""
    try:
        base = _read(base_path, missing_ok=True)
        ours = _read(local_path, missing_ok=False)
        theirs = _read(remote_path, missing_ok=False)
    except OSError as error:
        frontend.warn(f"cannot read the versions to merge ({error}); {merged_path} left alone")
        return 1
    repo = gitinfo.open_repo(os.path.dirname(os.path.abspath(merged_path)))
    path = merged_path
    if repo is not None and repo.workdir:
        path = os.path.relpath(os.path.abspath(merged_path), repo.workdir)
    outcome = frontend.merge_blobs(
        base,
        ours,
        theirs,
        path=path,
        options=gitinfo.merge_options(repo, path),
        classifier=frontend.pick_classifier(model, threshold, repo),
    )
    if outcome.message:
        frontend.warn(outcome.message)
    from mergebert.core import textio

    textio.atomic_write(merged_path, outcome.data)
    line = frontend.report_line(path, outcome)
    if line:
        frontend.warn(line)
    return 0 if outcome.left == 0 else 1
