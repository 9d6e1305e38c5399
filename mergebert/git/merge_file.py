"""`mergebert merge-file`: `git merge-file` with mergebert's resolver in the middle.

Same argument order (CURRENT BASE OTHER), same labels (the file names unless `-L` says otherwise), same
marker size, conflict style (outside a repository, as the `git merge-file` on PATH writes it there: older
releases read no config outside one) and `--ours`/`--theirs`/`--union` options (with which git's merge
settles every conflict and mergebert decides nothing); the result goes into CURRENT unless `-p` prints it.
The exit status is the number of conflicts left (at most 127), 255 on error, exactly like git's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence

from mergebert.core import markers
from mergebert.core.options import ConflictStyle, Favour
from mergebert.core.textio import is_binary
from mergebert.git import frontend, gitcmd, gitinfo

ERROR = 255


def run(
    current: str,
    base: str,
    other: str,
    *,
    labels: Sequence[str] = (),
    stdout: bool = False,
    quiet: bool = False,
    marker_size: int = 7,
    style: ConflictStyle | None = None,
    favour: Favour | None = None,
    language: str | None = None,
    path: str | None = None,
    model: str | None = None,
    threshold: float | None = None,
) -> int:
    """Merge like `git merge-file`; returns the exit status."""
    if len(labels) > 3:
        frontend.warn("too many -L labels (at most 3: ours, base, theirs)")
        return ERROR
    names = [current, base, other]
    names[: len(labels)] = labels
    blobs = []
    for name in (current, base, other):
        try:
            with open(name, "rb") as f:
                blobs.append(f.read())
        except OSError as error:
            frontend.warn(f"cannot read {name}: {error.strerror}")
            return ERROR
    if any(is_binary(blob) for blob in blobs):
        frontend.warn(f"cannot merge binary files: {current}")
        return ERROR
    if language is not None:
        from mergebert.core import languages

        try:
            languages.language_by_name(language)
        except KeyError:
            frontend.warn(f"unknown language {language!r} (java, javascript, typescript, tsx, csharp)")
            return ERROR
    repo = gitinfo.open_repo_gently(".")
    labels3 = (names[0], names[1], names[2])
    style = style or (_style_outside_a_repository() if repo is None else None)
    options = gitinfo.merge_options(repo, None, size=marker_size, labels=labels3, style=style, favour=favour)
    ours, base_blob, theirs = blobs
    outcome = frontend.merge_blobs(
        base_blob,
        ours,
        theirs,
        path=path or current,
        language=language,
        options=options,
        classifier=frontend.pick_classifier(model, threshold, repo),
    )
    if stdout:
        sys.stdout.buffer.write(outcome.data)
        sys.stdout.buffer.flush()
    else:
        from mergebert.core import textio

        try:
            textio.atomic_write(current, outcome.data)
        except OSError as error:
            frontend.warn(f"cannot write {current}: {error.strerror}")
            return ERROR
    if not quiet:  # said once the result is out: a line that cannot be written costs nothing else
        for line in frontend.report(path or current, outcome, review=False):
            frontend.warn(line)
    return min(outcome.held, 127)


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
