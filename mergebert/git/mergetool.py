"""`mergebert mergetool "$BASE" "$LOCAL" "$REMOTE" "$MERGED" ["$BACKUP"]`: `git mergetool --tool mergebert`.

Resolves the conflicts still marked in $MERGED (the working file, so resolutions made by hand stay) and
exits 0 only when no conflict is left, so that with `trustExitCode = true` git marks exactly the fully
resolved files as resolved. When conflicts are left, git answers the failed tool by restoring $MERGED from
its backup copy; so a partial result is written into that backup as well ($BACKUP, passed by the tool
command or found beside $LOCAL where git-mergetool puts it) and the user keeps both the resolutions and
the markers. Written after $MERGED, the backup is also the newer file, so with `trustExitCode = false`
git does not take the file for resolved either. With `--interactive` (`git mergetool --tool mergebert-i`)
it asks about each conflict it leaves, with the keys and the loop of `mergebert resolve -i`, and writes
nothing where the file was changed while it asked (by hand, in an editor) but that edit into the backup, so
that git's restore keeps it. A file
without markers is left alone; where it is the merge driver's result awaiting confirmation, the message
says so. In a repository that holds $MERGED unmerged, the versions merged are the index's, as `resolve`
reads them: $BASE, $LOCAL and $REMOTE are their working-tree form (`ident` expands each one's `$Id$` to
its own id, a line git's merge never saw differ).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mergebert.core import markers, textio
from mergebert.core.messages import INTERRUPTED_STATUS
from mergebert.git import frontend, gitinfo, marked, review

if TYPE_CHECKING:
    from collections.abc import Callable

    import pygit2

    from mergebert.core.options import MergeOptions


def _read(path: str, *, missing_ok: bool) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        if missing_ok:  # no common ancestor (add/add): git passes a base that may not exist
            return b""
        raise


NO_BACKUP = "git-mergetool's backup not found; git will restore the file as it was"


def backup_of(local_path: str) -> str | None:
    """git-mergetool's backup of $MERGED, `<name>_BACKUP_<pid><ext>` beside `<name>_LOCAL_<pid><ext>`."""
    folder, name = os.path.split(local_path)
    head, separator, tail = name.rpartition("_LOCAL_")
    candidate = os.path.join(folder, f"{head}_BACKUP_{tail}")
    return candidate if separator and os.path.isfile(candidate) else None


def _applied(
    repo: pygit2.Repository | None,
    path: str,
    current: bytes,
    blobs: tuple[bytes, bytes, bytes],
    options: MergeOptions,
    outcome: frontend.Outcome,
    remerge: Callable[[MergeOptions], frontend.Outcome],
    *,
    interactive: bool,
) -> marked.Applied:
    """mergebert's resolutions (`outcome`'s) put into `current`, the working file (`marked.resolved_file`);
    with `interactive`, the user's answers about the conflicts they leave too."""
    if not interactive:
        return marked.resolved_file(repo, path, current, blobs, options, outcome, remerge)
    from mergebert.git.interactive import Asker, Terminal

    asker = Asker(Terminal(), cwd=repo.workdir if repo is not None else None)
    return asker.resolve(repo, path, current, blobs, options, outcome.resolutions).applied


def run(
    base_path: str,
    local_path: str,
    remote_path: str,
    merged_path: str,
    backup_path: str | None = None,
    *,
    model: str | None = None,
    threshold: float | None = None,
    interactive: bool = False,
) -> int:
    """Resolve what is still marked in `merged_path`, asking about the rest when `interactive`; 0 when no
    conflict is left in it, 1 otherwise."""
    try:
        blobs = (
            _read(base_path, missing_ok=True),
            _read(local_path, missing_ok=False),
            _read(remote_path, missing_ok=False),
        )
        current = _read(merged_path, missing_ok=False)
    except OSError as error:
        frontend.warn(f"cannot read the versions to merge ({error}); {merged_path} left alone")
        return 1
    repo = gitinfo.open_repo_gently(os.path.dirname(os.path.abspath(merged_path)))
    path = merged_path
    if repo is not None and repo.workdir:
        path = os.path.relpath(os.path.abspath(merged_path), repo.workdir)
    if repo is not None:  # the stages git merged, as `resolve` reads them (the files are their working-tree
        # form: `$Id$` expanded by `ident` to each one's own id, a smudge filter's output), else the files
        blobs = review.as_git_merged(repo, path, gitinfo.unmerged_versions(repo, path) or blobs)
    options = gitinfo.merge_options(repo, path)
    if not markers.has_conflict(current, options.marker_size):
        from mergebert.git.interactive import without_markers

        frontend.warn(
            f"{path}: {without_markers(repo, path, current, blobs, options.marker_size)}; left as it is"
        )
        return 1
    classifier = frontend.pick_classifier(model, threshold, repo)

    def merged(merging: MergeOptions) -> frontend.Outcome:
        return frontend.merge_blobs(
            *blobs, path=path, options=merging, classifier=classifier, suggest=interactive
        )

    try:
        outcome = merged(options)
        if outcome.message:  # content mergebert cannot handle: the file stays as git wrote it
            frontend.warn(outcome.message)
            return 1
        applied = _applied(repo, path, current, blobs, options, outcome, merged, interactive=interactive)
    except KeyboardInterrupt:  # ^C, at a question or before: as `resolve -i`, nothing is written
        frontend.warn("interrupted: nothing written")
        return INTERRUPTED_STATUS
    count = applied.count(outcome.chunks, options.marker_size)
    left = count.left
    backup = backup_path or backup_of(local_path)
    try:
        with marked.writing(repo):  # the file and its backup both, or git restores the file as it was
            now = marked.now(merged_path)
            if now != current:  # edited while it asked (by hand, in an editor): the user's
                if backup and now is not None:  # git moves its backup over the file after a failed tool
                    textio.atomic_write(backup, now)
                frontend.warn(f"{path}: {marked.CHANGED}")
                if now is not None and not backup:
                    frontend.warn(f"{path}: {NO_BACKUP}")
                return 1
            if applied.replaced:
                textio.atomic_write(merged_path, applied.data)
                if left and backup:
                    textio.atomic_write(backup, applied.data)
    except KeyboardInterrupt:  # while it waited for another mergebert to finish writing
        frontend.warn("interrupted: nothing written")
        return INTERRUPTED_STATUS
    if left and applied.replaced and not backup:
        frontend.warn(f"{path}: {NO_BACKUP}")
    still = tuple(r for r, found in zip(outcome.resolutions, applied.found, strict=True) if found)
    report = frontend.Outcome(applied.data, count.conflicts, count.left, still, unpaired=count.unpaired)
    line = frontend.report_line(path, report)
    if line:
        frontend.warn(line)
    if applied.unmatched:
        frontend.warn(f"{path}: {marked.unmatched_note(applied.unmatched)}")
    return 0 if left == 0 else 1
