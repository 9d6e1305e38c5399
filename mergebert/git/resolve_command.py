"""`mergebert resolve [PATHS...]`: resolve the conflicted files of a merge, rebase or cherry-pick in place.

The three versions come from the index (stages 1, 2, 3), as git merged them (with `merge.renormalize`, each in
git's canonical form, as git renormalized them). Only conflicts still marked in the working file are replaced
(`marked.py`): hand-made resolutions and every other byte stay. The file is rewritten atomically only when
mergebert resolved something, after a `<file>.orig` backup, once every file is decided (so ^C during `-i`
writes nothing; a ^C while they are written is ignored: all of them are), and only if it still holds what was
read: a file the user changed meanwhile is left alone, and so is one that another resolve or mergetool wrote
(they write one at a time, `marked.one_writer`: never a second backup). `--add` then stages them with one
`git add`, which git makes whole or not at all. Files deleted on one side, binary files, non-regular files and
working files without conflict markers are reported and left alone. A path argument outside the work tree, or
with no conflicted file at or under it, is an error.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pygit2

from mergebert.core import markers
from mergebert.core.atomic import ChangedMeanwhile
from mergebert.core.messages import INTERRUPTED_STATUS, ctrl_c_says, say
from mergebert.core.textio import is_binary
from mergebert.git import frontend, gitcmd, gitinfo, marked, review

if TYPE_CHECKING:
    from mergebert.core.classifier import Classifier
    from mergebert.core.options import MergeOptions
    from mergebert.core.resolver import Resolution
    from mergebert.git.interactive import Asker

REGULAR_MODES = (pygit2.enums.FileMode.BLOB, pygit2.enums.FileMode.BLOB_EXECUTABLE)


@dataclass(frozen=True)
class Change:
    """A working file's bytes before and after: what `write` puts there once every file is decided; `kept`:
    the conflicts the file shows before, which it keeps where it cannot be written."""

    before: bytes
    after: bytes
    kept: int


@dataclass
class Row:
    """One line of the report, and the change to its file."""

    path: str
    conflicts: int | None = None
    resolved: int | None = None
    left: int | None = None
    notes: list[str] = field(default_factory=list)
    change: Change | None = None


def describe(resolution: Resolution) -> str:
    """`1:token-merge` (`[A,B]`: patterns deciding its token conflicts) or `2:B+A` (a pattern over the
    whole region) for a resolved conflict, `3:left (reason)` otherwise."""
    number, candidate = resolution.index + 1, resolution.candidate
    if resolution.text is None or candidate is None:
        return f"{number}:left ({resolution.reason})"
    if candidate.kind == "token":
        decided = f"[{','.join(candidate.patterns)}]" if candidate.patterns else ""
        return f"{number}:token-merge{decided}"
    return f"{number}:{'/'.join(candidate.patterns)}"


def _diff(path: str, before: bytes, after: bytes) -> str:
    lines = difflib.unified_diff(
        before.decode("utf-8", "replace").splitlines(keepends=True),
        after.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    no_eol = "\n\\ No newline at end of file\n"
    return "".join(line if line.endswith("\n") else line + no_eol for line in lines)


def resolve_one(
    repo: pygit2.Repository,
    path: str,
    entries: tuple[pygit2.IndexEntry | None, ...],
    *,
    dry_run: bool,
    classifier: Classifier | None = None,
    asker: Asker | None = None,
) -> Row:
    """Resolve one conflicted path, asking the user through `asker` if given: the report's line, with the
    change to make to the file (`write`; with `dry_run`, printed as a diff instead). Never raises for the
    file's content."""
    row = Row(path)
    if asker is not None and asker.quit:
        row.notes.append("not asked (quit); left alone")
        return row
    base, ours, theirs = entries
    if ours is None or theirs is None:
        row.notes.append(f"deleted by {'us' if ours is None else 'them'}; left alone")
        return row
    if any(e is not None and e.mode not in REGULAR_MODES for e in entries):
        row.notes.append("not a regular file (symlink or submodule); left alone")
        return row
    blobs = [repo[e.id].data if e is not None else b"" for e in entries]
    if any(is_binary(blob) for blob in blobs):
        row.notes.append("binary; left alone")
        return row
    blobs = review.as_git_merged(repo, path, blobs)
    worktree = Path(repo.workdir) / path
    try:
        current = worktree.read_bytes()
    except OSError:
        row.notes.append("working file missing; left alone")
        return row
    options = gitinfo.merge_options(repo, path)
    reopening = asker is not None and asker.ask_all  # the driver's resolutions may be asked about too
    if not reopening and not markers.has_conflict(current, options.marker_size):
        from mergebert.git.interactive import without_markers

        row.notes.append(f"{without_markers(repo, path, current, blobs, options.marker_size)}; left alone")
        return row

    def merged(merging: MergeOptions) -> frontend.Outcome:
        return frontend.merge_blobs(
            blobs[0],
            blobs[1],
            blobs[2],
            path=path,
            options=merging,
            classifier=classifier,
            suggest=asker is not None,
        )

    outcome = merged(options)
    if outcome.message:  # mergebert could not handle the content: nothing of its own to put in
        row.notes.append(outcome.message)
        return row
    if asker is None:
        applied = marked.resolved_file(repo, path, current, blobs, options, outcome, merged)
        answers = {}
    else:
        session = asker.resolve(repo, path, current, blobs, options, outcome.resolutions)
        applied, answers = session.applied, session.notes
        row.notes.extend(session.remarks)
    size = options.marker_size
    count = applied.count(outcome.chunks, size)
    row.conflicts, row.resolved, row.left = count.conflicts, count.resolved, count.left
    for resolution, still_marked in zip(outcome.resolutions, applied.found, strict=True):
        number = resolution.index + 1
        if not still_marked:
            row.notes.append(f"{number}:not marked (kept)")
        elif resolution.index in answers:
            row.notes.append(f"{number}:{answers[resolution.index]}")
        else:
            row.notes.append(describe(resolution))
    if applied.unmatched:
        row.notes.append(marked.unmatched_note(applied.unmatched))
    if count.unpaired:
        row.notes.append(f"{count.unpaired} left: {frontend.UNPAIRED}; kept as they are")
    data = applied.data
    if data == current:
        return row
    if dry_run:
        say(_diff(path, current, data).removesuffix("\n"), stdout=True)
    else:
        row.change = Change(
            current, data, frontend.counted(current, 0, applied.conflicts, outcome.chunks, size).left
        )
    return row


def write(repo: pygit2.Repository, row: Row, *, backup: bool) -> bool:
    """Make `row`'s change to its working file (after a backup of it, with `backup`); whether it did. A file
    changed since it was read is left alone, and its row says so."""
    from mergebert.core import textio

    if row.change is None:
        return False
    worktree = Path(repo.workdir) / row.path
    if not marked.unchanged(worktree, row.change.before):
        row.conflicts = row.resolved = row.left = None  # what the file holds now is the user's
        row.notes = [marked.CHANGED]
        return False
    backed_up = None
    try:
        if backup:
            backed_up = f"{worktree}{free_backup_suffix(str(worktree))}"
            textio.atomic_write(backed_up, row.change.before)
        textio.atomic_write(worktree, row.change.after, expected=row.change.before)
    except (OSError, ChangedMeanwhile) as error:  # git's conflict, or the user's save, stays; the backup goes
        if backed_up is not None and os.path.exists(backed_up):
            os.unlink(backed_up)
        if isinstance(error, ChangedMeanwhile):
            row.conflicts = row.resolved = row.left = None
            row.notes = [marked.CHANGED]
        else:
            row.conflicts, row.resolved, row.left = row.change.kept, 0, row.change.kept
            row.notes = [f"cannot write: {error.strerror or error}"]
        return False
    if backed_up is not None and not backed_up.endswith(BACKUP):
        row.notes.append(f"backup {row.path}{backed_up.removeprefix(str(worktree))}")
    return True


def stage(repo: pygit2.Repository, rows: Sequence[Row]) -> bool:
    """`git add` the files of `rows` with one command (git writes its index whole: all of them or none);
    whether git did, or nothing was to be staged."""
    if not rows:
        return True
    try:
        gitcmd.git("add", "--", *(row.path for row in rows), cwd=repo.workdir)
    except gitcmd.GitError as error:
        frontend.warn(f"cannot stage the files resolved: {error.first_line}")
        return False
    for row in rows:
        row.notes.append("staged")
    return True


BACKUP = ".orig"


def free_backup_suffix(worktree: str) -> str:
    """`.orig`, or `.orig.1`, `.orig.2`... where that file exists already: a backup (the user's, a
    mergetool's, an earlier `resolve`'s) is never overwritten."""
    suffix, number = BACKUP, 0
    while os.path.lexists(f"{worktree}{suffix}"):
        number += 1
        suffix = f"{BACKUP}.{number}"
    return suffix


def print_table(rows: Sequence[Row]) -> None:
    """file / conflicts / resolved / left / patterns and notes, aligned, on stdout (after the files are
    written: a table nobody reads changes nothing)."""

    def cell(value: int | None) -> str:
        return "-" if value is None else str(value)

    header = ("file", "conflicts", "resolved", "left", "patterns / notes")
    body = [(r.path, cell(r.conflicts), cell(r.resolved), cell(r.left), " ".join(r.notes)) for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]
    for line in [header, *body]:
        say(
            f"{line[0]:<{widths[0]}}  {line[1]:>{widths[1]}}  {line[2]:>{widths[2]}}  "
            f"{line[3]:>{widths[3]}}  {line[4]}".rstrip(),
            stdout=True,
        )


def run(
    paths: Sequence[str],
    *,
    dry_run: bool = False,
    add: bool = False,
    backup: bool = True,
    model: str | None = None,
    threshold: float | None = None,
    interactive: bool = False,
    ask_all: bool = False,
) -> int:
    """Resolve the conflicted files under `paths` (all when empty), asking about each conflict left when
    `interactive` (about every one with `ask_all`); 0 when none is left conflicted (nor left alone, changed
    since it was read)."""
    try:
        repo = gitinfo.open_repo(".")
    except gitinfo.RepositoryRefused as error:
        frontend.warn(str(error))
        return 2
    if repo is None or repo.workdir is None:
        frontend.warn("not inside a git working tree")
        return 2
    conflicts = {
        next(e.path for e in triple if e is not None): triple for triple in repo.index.conflicts or ()
    }
    try:
        chosen = review.selected(review.repo_paths(repo, paths), conflicts, "conflicted file")
    except review.PathError as error:
        frontend.warn(str(error))
        return 2
    if not chosen:
        say("no conflicted files", stdout=True)
        return 0
    classifier = frontend.pick_classifier(model, threshold, repo)
    asker = None
    if interactive:
        from mergebert.git.interactive import Asker, Terminal

        asker = Asker(Terminal(), ask_all=ask_all, cwd=repo.workdir)
    try:
        rows = [
            resolve_one(repo, path, conflicts[path], dry_run=dry_run, classifier=classifier, asker=asker)
            for path in chosen
        ]
    except KeyboardInterrupt:  # ^C, at a question or before: as `git add -p`, nothing is written
        frontend.warn("interrupted: nothing written")
        return INTERRUPTED_STATUS
    staged_note = "; git status shows what is staged" if add else ""
    written: list[Row] | None = None
    after_writing = "nothing written" if dry_run else f"every file is written{staged_note}"
    with ctrl_c_says(after_writing):  # a ^C (a kill) once the files are written, as while the table prints
        try:
            with marked.writing(repo):  # the questions answered, every file is written
                written = [row for row in rows if write(repo, row, backup=backup)]
        except KeyboardInterrupt:
            if written is None:  # while it waited for another mergebert to finish writing
                frontend.warn("interrupted: nothing written")
                return INTERRUPTED_STATUS
            raise
        try:
            staged = stage(repo, [row for row in written if row.left == 0]) if add else True
        except KeyboardInterrupt:  # git add stopped (its index as it was, or all of them staged)
            print_table(rows)
            frontend.warn(f"interrupted while staging: every file is written{staged_note}")
            return INTERRUPTED_STATUS
        print_table(rows)
    return 0 if staged and all(r.left == 0 for r in rows) else 1
