"""`mergebert merge-file`: `git merge-file` with mergebert's resolver in the middle.

Same argument order (CURRENT BASE OTHER), same labels (the file names unless `-L` says otherwise), same
marker size, conflict style (outside a repository, as the `git merge-file` on PATH writes it there: older
releases read no config outside one) and `--ours`/`--theirs`/`--union` options (with which git's merge
settles every conflict and mergebert decides nothing); the result goes into CURRENT unless `-p` prints it.
The exit status is the number of conflicts left (at most 127), 255 on error, 129 for a command line it
cannot use, exactly like git's. A resolve longer than the merge driver's limit for a file
($MERGEBERT_DRIVER_TIMEOUT) gives git's own merge, with one line saying so.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from collections.abc import Sequence

from mergebert.core import atomic, markers, tempdirs, timebounds
from mergebert.core.messages import INTERRUPTED_STATUS
from mergebert.core.options import ConflictStyle, Favour
from mergebert.core.textio import is_binary
from mergebert.git import frontend, gitcmd, gitinfo

ERROR = 255
NOTHING_WRITTEN = "nothing written"  # what a ^C before the result is out leaves
USAGE = 129  # git's exit status for a command line it cannot use
DEFAULT_MARKER_SIZE = 7  # what git uses for a size below 1
# why CURRENT cannot be replaced by a copy where it can still be written in place
NO_COPY = (errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT)


def run(
    current: str,
    base: str,
    other: str,
    *,
    labels: Sequence[str] = (),
    stdout: bool = False,
    quiet: bool = False,
    marker_size: int = DEFAULT_MARKER_SIZE,
    style: ConflictStyle | None = None,
    favour: Favour | None = None,
    language: str | None = None,
    path: str | None = None,
    model: str | None = None,
    threshold: float | None = None,
) -> int:
    """Merge like `git merge-file`; returns the exit status."""
    if len(labels) > 3:
        frontend.warn("too many labels on the command line (-L: at most ours, base, theirs)")
        return USAGE
    if language is not None:
        from mergebert.core import languages

        try:
            languages.language_by_name(language)
        except KeyError:
            frontend.warn(f"unknown language {language!r} (java, javascript, typescript, tsx, csharp)")
            return USAGE
    names = [current, base, other]
    names[: len(labels)] = labels
    blobs = []
    for name in (current, base, other):  # each checked as it is read, as git does: the first at fault named
        try:
            with open(name, "rb") as f:
                blobs.append(f.read())
        except OSError as error:
            frontend.warn(f"cannot read {name}: {error.strerror}")
            return ERROR
        if is_binary(blobs[-1]):
            frontend.warn(f"cannot merge binary files: {name}")
            return ERROR
    repo = gitinfo.open_repo_gently(".")
    labels3 = (names[0], names[1], names[2])
    style = style or (_style_outside_a_repository() if repo is None else None)
    size = marker_size if marker_size > 0 else DEFAULT_MARKER_SIZE
    options = gitinfo.merge_options(repo, None, size=size, labels=labels3, style=style, favour=favour)
    ours, base_blob, theirs = blobs
    where = path or current
    classifier = frontend.pick_classifier(model, threshold, repo)
    limit = timebounds.time_limit()  # a file's whole resolve, as the merge driver's
    try:
        outcome = timebounds.within(
            limit,
            lambda: frontend.merge_blobs(
                base_blob, ours, theirs, path=where, language=language, options=options, classifier=classifier
            ),
        )
    except KeyboardInterrupt:  # ^C while it resolves: CURRENT as it was, the resolve's thread not waited for
        frontend.warn(f"interrupted: {NOTHING_WRITTEN}")
        tempdirs.exit_now(INTERRUPTED_STATUS)
    stuck = outcome is None
    if not isinstance(outcome, frontend.Outcome):  # git's own merge, and why
        why = timebounds.not_within(limit)
        if outcome is not None:
            why = f"internal error ({type(outcome).__name__}: {outcome})"
        data, left = frontend.line_merge(base_blob, ours, theirs, options)
        outcome = frontend.Outcome(data, left, left, message=f"{where}: {why}; kept git's line merge")
    status = ERROR
    if _put(current, outcome.data, stdout=stdout):
        status = min(outcome.held, 127)
        if not quiet:  # said once the result is out: a line that cannot be written costs nothing else
            for line in frontend.report(where, outcome, review=False):
                frontend.warn(line)
    if stuck:  # the resolve thread may be stuck in native code: end without waiting for it
        tempdirs.exit_now(status)
    return status


def _put(current: str, data: bytes, *, stdout: bool) -> bool:
    """`data` printed (`stdout`) or written into CURRENT: atomically or, where no copy can be made beside it
    (a full disk, a folder this process may not write), in place as git writes it; whether it is out (where
    not, one line says why)."""
    if stdout:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # `-p | head -0`: nobody reads it
            tempdirs.die_of_sigpipe()
        except OSError as error:
            frontend.warn(f"cannot write the result to standard output: {error.strerror}")
            return False
        return True
    try:
        atomic.atomic_write(current, data)
    except OSError as error:
        with atomic.uninterrupted():  # in place, a signal would leave CURRENT cut short
            written = error.errno in NO_COPY and atomic.overwritten(current, data)
        if not written:
            frontend.warn(f"cannot write {current}: {error.strerror}")
            return False
    return True


def _style_outside_a_repository() -> ConflictStyle | None:
    """The conflict style `git merge-file` writes outside a repository, where its releases differ: the
    user's merge.conflictStyle (None: read it as inside one) in those that read the config there, git's
    default ("merge") in older ones. Asked of git with a one-line conflict where the config says more."""
    if gitinfo.conflict_style(None) == "merge":
        return None
    with tempfile.TemporaryDirectory(prefix="mergebert-style-") as folder:
        files = []
        for name in ("ours", "base", "theirs"):
            files.append(os.path.join(folder, name))
            with open(files[-1], "w", encoding="utf-8") as f:
                f.write(f"{name}\n")
        try:
            probe = gitcmd.git("merge-file", "-p", *files, accept=range(128))
        except (gitcmd.GitError, OSError):  # no git to run, so no merge-file of its own to match
            return None
    return None if markers.pattern(7, "|").search(probe.stdout.decode("utf-8", "replace")) else "merge"
