"""`mergebert review [PATHS...]` and `mergebert review --undo PATHS...`: what the merge driver decided.

The listing reads the driver's decision log (`decisionlog`): per file, every conflict mergebert resolved
(the three sides with git's labels, the chosen text, pattern and confidence) and every one it left, with
why. `--undo` puts git's own conflict back where the driver resolved one: the regions where what the driver
wrote differs from git's line merge of the file (both recorded) are found, by a line diff, in the working
file; each one still as the driver wrote it there (not its text found again between the markers of git's
own conflict of that region, which the same line diff finds in the working file, as in a side of git's
conflict put back; other marker lines, of a conflict being resolved by hand, say, do not count) is
replaced by git's conflict, byte for byte (each conflict whole or not at all); one the user has edited
since is refused; every other byte of the file stays. While the operation is in progress, git then holds
the path unmerged again, with its conflict's stages, and rerere, where on, has the conflict's preimage as
git records it at a stop. It writes under the lock
`resolve` and `mergetool` take (`marked.one_writer`). At a stop of a rebase, `git am` or picks, the listing
tells the files of the stop git is at from those of earlier steps, and a folder to undo takes only the
former: an earlier step's file is undone only where named, its change then going into the commit of the
step being applied.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import ConfigLevel, FilterMode

from mergebert.core import atomic, lineranges, markers, messages, tokendiff
from mergebert.core.linemerge import conflicts_of, merge_lines
from mergebert.core.messages import INTERRUPTED_STATUS, warn
from mergebert.core.textio import UnsupportedContent, decode_sides, shown_lines, split_lines
from mergebert.git import decisionlog, driver, gitcmd, gitinfo, marked, rerere
from mergebert.git.colour import wants_colour
from mergebert.git.frontend import left_in_record


class ReviewError(Exception):
    """Nothing to review: not in a repository, or no decisions recorded."""


@dataclass(frozen=True)
class Log:
    """The decision log of the last operation: its header and the latest record of each file."""

    operation: dict[str, Any]
    records: list[dict[str, Any]]


def load(repo: pygit2.Repository) -> Log:
    """The log under `repo`'s git directory; per file (and operation and commit applied) only its latest
    record, in the order of the latest records, as a repeated operation (a merge aborted and run again)
    records it again."""
    found = decisionlog.read(repo.path)
    if found is None:
        raise ReviewError(
            "no decisions recorded in this repository: the merge driver records them when it meets "
            "conflicts (`mergebert install` configures it)"
        )
    header, records = found
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        key = (
            record["path"],
            str(decisionlog.operation_of(header, record).get("key")),
            record.get("commit", ""),
        )
        latest.pop(key, None)
        latest[key] = record
    return Log(header, list(latest.values()))


def head_id(repo: pygit2.Repository) -> str:
    """HEAD's id, "" on an unborn branch."""
    return "" if repo.head_is_unborn else str(repo.head.target)


def in_progress(repo: pygit2.Repository, log: Log, record: dict[str, Any]) -> bool:
    """Whether `record` is the merge driver's in the operation git has stopped in now (in a rebase or a
    sequence of picks: for the commit being applied)."""
    return decisionlog.current(repo.path, head_id(repo), log.operation)(record)


@dataclass(frozen=True)
class Kind:
    """An operation the log names, in words."""

    noun: str  # in a word or two: "a stash apply within the rebase"
    title: str  # `review`'s header, formatted with the operation's `head`, `name` and `onto` (`describe`)
    over: str = ""  # what is over once git cannot hold its files unmerged again (`finished`); else `noun`,
    # which also names one run within the logged operation (a record's own, `decisionlog.nested`)
    step: str = ""  # of an operation of several steps, each committed before the next: what one step is


# the operations the log names: by their kind, and those known by HEAD alone (`decisionlog.OWN_MERGES`) by
# the git command making them
KINDS = {
    "merge": Kind("merge", "merge of {name} into {head}"),
    "rebase": Kind("rebase", "rebase{onto}", over="rebase's pick", step="pick"),
    "am": Kind("git am", "git am of a patch series", over="patch", step="patch"),
    "sequence": Kind("picks", "cherry-pick or revert of several commits", over="pick", step="pick"),
    "cherry-pick": Kind("cherry-pick", "cherry-pick on {head}", over="operation"),
    "revert": Kind("revert", "revert on {head}", over="operation"),
    "stash": Kind("stash apply", "stash apply on {head}", over="operation"),
    "checkout": Kind("checkout -m", "checkout -m on {head}", over="operation"),
    "switch": Kind("switch -m", "switch -m on {head}", over="operation"),
}
HEAD_ALONE = Kind(  # known by HEAD alone, its command unknown (no /proc)
    "merge", "operation on {head} (a cherry-pick, revert, stash apply or checkout -m)", over="operation"
)
UNKNOWN = Kind("operation", "git operation")  # a kind a later release logged


def kind_of(operation: Mapping[str, Any]) -> Kind:
    """The words for `operation` (a log's header, or a record's own operation)."""
    if operation.get("kind") == "head":
        return KINDS.get(operation.get("command", ""), HEAD_ALONE)
    return KINDS.get(operation.get("kind", ""), UNKNOWN)


def stepping(repo: pygit2.Repository, log: Log) -> bool:
    """Whether the log is of an operation of several steps, each committed before the next (`Kind.step`),
    that git is stopped in now."""
    several = bool(kind_of(log.operation).step)
    return several and decisionlog.running(repo.path, head_id(repo), log.operation)


def at_earlier_step(repo: pygit2.Repository, log: Log) -> Callable[[dict[str, Any]], bool]:
    """Whether a record was made at an earlier step of the operation of several steps git is stopped in
    (an earlier pick, committed or skipped), not at the one it is at."""
    if not stepping(repo, log):
        return lambda record: False
    now = decisionlog.current(repo.path, head_id(repo), log.operation)
    return lambda record: not now(record)


def conflicts_recorded(record: dict[str, Any], blobs: Sequence[bytes]) -> bool:
    """Whether `record` holds exactly the line conflicts of the three versions (base, ours, theirs)."""
    try:
        (base, ours, theirs), _ = decode_sides(*blobs)
    except UnsupportedContent:
        return False
    conflicts = conflicts_of(merge_lines(base, ours, theirs))
    recorded = [(d.get("ours"), d.get("base"), d.get("theirs")) for d in record.get("conflicts_detail", ())]
    return recorded == [(c.ours, c.base, c.theirs) for c in conflicts]


def renormalizing(repo: pygit2.Repository) -> bool:
    """Whether git's merges renormalize (`merge.renormalize`, a git boolean: true, yes, on or a number
    other than 0)."""
    return gitinfo.git_bool(gitinfo.config_value(repo, "merge.renormalize") or "")


def as_git_merged(
    repo: pygit2.Repository, path: str, versions: Sequence[bytes], renormalize: bool | None = None
) -> list[bytes]:
    """`path`'s versions (base, ours, theirs) as git's merge read them: where it renormalizes (`renormalize`,
    else `merge.renormalize`), each in git's canonical form, through the to-worktree then the to-index
    conversion (what git hands a merge driver); as they are otherwise."""
    if not (renormalizing(repo) if renormalize is None else renormalize):
        return list(versions)
    # libgit2 keeps CRLFs going into the index where the index holds a version of `path` with a CR (its
    # safer autocrlf), and refuses them under core.safecrlf, both of which git skips when it renormalizes:
    # the filters are read from a second opening of the repository whose index, in memory only, holds no
    # entry for `path`, and whose config, for this opening only, says core.safecrlf=false
    private = gitinfo.open_repo(repo.workdir)
    if private is None:  # the work tree gone meanwhile
        return list(versions)
    for stage in range(4):  # Index.remove names the path as the file system does (os.fsencode)
        with contextlib.suppress(OSError):  # no entry at that stage
            private.index.remove(path, stage)
    gitinfo.read_also(private, "[core]\n\tsafecrlf = false\n", ConfigLevel.WORKTREE)
    name = os.fsencode(path)
    filters = [private.load_filter_list(name, mode) for mode in (FilterMode.TO_WORKTREE, FilterMode.TO_ODB)]
    converted = []
    for data in versions:
        for found in filters:
            data = found.apply_to_buffer(data) if found is not None else data
        converted.append(data)
    return converted


def current_record(repo: pygit2.Repository, path: str) -> dict[str, Any] | None:
    """The merge driver's record of `path` in the operation git has stopped in, where its conflicts are
    those of the versions git holds unmerged for `path` now (as git merged them); None when there is no
    such record."""
    blobs = gitinfo.unmerged_versions(repo, path)
    if blobs is None:
        return None
    try:
        log = load(repo)
    except ReviewError:
        return None
    records = [r for r in log.records if r["path"] == path and in_progress(repo, log, r)]
    if not records or not conflicts_recorded(records[-1], as_git_merged(repo, path, blobs)):
        return None
    return records[-1]


class PathError(ReviewError):
    """A path argument outside the work tree, or one under which no file it names is."""


def repo_paths(repo: pygit2.Repository, given: Sequence[str]) -> dict[str, str]:
    """Paths as the user typed them (relative to the current folder), each with its repository path ("" for
    the top of the work tree); PathError for one outside the work tree."""
    top = Path(repo.workdir).resolve()
    found = {}
    for path in given:
        absolute = Path(os.path.abspath(path))
        real = Path(os.path.realpath(absolute.parent)) / absolute.name  # a symbolic link itself stays
        try:
            relative = real.relative_to(top).as_posix()
        except ValueError:
            raise PathError(f"{path}: outside the work tree {top}") from None
        found[path] = "" if relative == "." else relative
    return found


def _under(path: str, folder: str) -> bool:
    return not folder or path == folder or path.startswith(folder + "/")


def selected(wanted: Mapping[str, str], paths: Iterable[str], what: str) -> list[str]:
    """The repository `paths` under the `wanted` ones (`repo_paths`; all of them when none is given), in
    order; PathError for a wanted path with none of them under it (`what` names what it should match)."""
    paths = sorted(set(paths))
    for typed, folder in wanted.items():
        if not any(_under(path, folder) for path in paths):
            raise PathError(f"{typed}: matches no {what}")
    return [path for path in paths if not wanted or any(_under(path, w) for w in wanted.values())]


# ---------------------------------------------------------------------------------------------- listing


class Style:
    """ANSI colour where `wants_colour` allows it."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    @classmethod
    def for_stdout(cls) -> Style:
        return cls(wants_colour())

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour and text else text


BOLD, GREEN, YELLOW, DIM = "1", "32", "33", "2"


def describe(operation: dict[str, Any]) -> str:
    """The operation a log belongs to, in words."""
    head = operation.get("head", "")[:7] or "an unborn branch"
    when = (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(operation.get("time", 0)))
        if "time" in operation
        else ""
    )
    name = operation.get("name", "")
    what = kind_of(operation).title.format(
        head=head, name=name or operation.get("commit", "")[:7], onto=f" onto {name[:7]}" if name else ""
    )
    return what + (f", {when}" if when else "")


def _indented(text: str, prefix: str = "      ") -> list[str]:
    return [prefix + line for line in shown_lines(text)] or [prefix + "(nothing)"]


def _marker(char: str, label: str, size: int) -> str:
    return char * size + (f" {label}" if label else "")


def entries(record: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The conflicts `review` lists for a file, numbered: where the record has the written file's blocks
    (`driver.blocks_held`), those mergebert resolved and each block it left, in the file's order, a block
    with the reasons of the conflicts it holds; else each conflict of mergebert's line merge."""
    details = record.get("conflicts_detail", ())
    blocks = record.get("blocks")
    if blocks is None:
        return [(detail["index"] + 1, detail) for detail in details]
    reasons = {detail["index"]: detail.get("reason") or "" for detail in details}
    left = [
        {"lines": [start, end], "reason": "; ".join(dict.fromkeys(reasons.get(i, "") for i in held))}
        for start, end, held in blocks
    ]
    resolved = [detail for detail in details if not left_in_record(detail)]
    ordered = sorted(resolved + left, key=lambda entry: entry["lines"][0] if entry.get("lines") else 0)
    return list(enumerate(ordered, 1))


def file_lines(record: dict[str, Any], style: Style, *, applying: bool = False, step: str = "") -> list[str]:
    """One file's decisions, as `review` prints them; `applying`: name the commit being applied, and `step`
    the step of the operation it was (`step_of`)."""
    listed = entries(record)
    conflicts, left = record["conflicts"], record["left"]
    if "blocks" in record:  # as the file holds them
        conflicts, left = len(listed), sum(1 for _, entry in listed if left_in_record(entry))
    plural = "s" if conflicts != 1 else ""
    name = decisionlog.files_named(record.get("files") or (), record["path"])
    title = f"{name}: resolved {conflicts - left} of {conflicts} conflict{plural}"
    labels = record.get("labels") or ["ours", "base", "theirs"]
    if applying or step:
        title += f" (applying {labels[2]}{': ' * bool(step)}{step})"
    lines = [style(title, BOLD)]
    if record.get("message"):
        lines.append(f"  {record['message']}")
    if record.get("slim"):
        lines.append("  (the texts were not recorded: the decision log was full)")
    size = record.get("marker_size", 7)
    ours_label, base_label, theirs_label = labels
    for number, detail in listed:
        where = f" (line {detail['lines'][0] + 1})" if detail.get("lines") else ""
        name = f"  conflict {number}{where}"
        if left_in_record(detail):
            lines.append(f"{name}: {style('left', YELLOW)}: {detail.get('reason', '')}")
            continue
        confidence = detail.get("confidence")
        said = f"{detail.get('pattern')}, confidence {confidence:.2f}" if confidence is not None else ""
        lines.append(f"{name}: {style('resolved', GREEN)} by {said}")
        if "ours" in detail:
            lines.append(style("    " + _marker("<", ours_label, size), DIM))
            lines += _indented(detail["ours"])
            lines.append(style("    " + _marker("|", base_label, size), DIM))
            lines += _indented(detail["base"])
            lines.append(style("    " + "=" * size, DIM))
            lines += _indented(detail["theirs"])
            lines.append(style("    " + _marker(">", theirs_label, size), DIM))
            lines.append("    chosen:")
            lines += _indented(detail["text"])
    return lines


def step_of(repo: pygit2.Repository, log: Log) -> Callable[[dict[str, Any]], str]:
    """Which step of the operation a record was made at, in words, where the log tells several apart: this
    stop or an earlier pick of the operation of several steps git is stopped in, and an operation run
    within the logged one (`decisionlog.nested`: a stash applied at a stop), at this stop or not."""
    earlier, stepped, kind = at_earlier_step(repo, log), stepping(repo, log), kind_of(log.operation)

    def step(record: dict[str, Any]) -> str:
        if "operation" in record:
            own = kind_of(record["operation"]).noun
            return f"a {own} {'at an earlier stop' if earlier(record) else 'within the ' + kind.noun}"
        if not stepped:
            return ""
        return f"an earlier {kind.step}" if earlier(record) else "this stop"

    return step


def ended_where_it_began(repo: pygit2.Repository, log: Log) -> bool:
    """Whether the logged rebase or sequence of picks is over with HEAD back where it started (as after
    `--abort`), so that none of its decisions is in HEAD; never for a `git rebase --apply`, whose key names
    no starting head."""
    words = str(log.operation.get("key", "")).split(" ")
    if log.operation.get("kind") not in ("rebase", "sequence") or len(words) < 3:
        return False
    return words[1] == head_id(repo) and not decisionlog.running(repo.path, head_id(repo), log.operation)


ABORTED = " (no longer in progress: HEAD is back where it started, as after --abort)"


def listing(
    log: Log, paths: Sequence[str], style: Style, step: Callable[[dict[str, Any]], str], aborted: bool = False
) -> list[str]:
    """The whole review: the operation (`aborted`: over, HEAD where it began), then the decisions in each of
    `paths`, each with its `step`."""
    records = [r for r in log.records if r["path"] in paths]
    lines = [style(f"mergebert review: {describe(log.operation)}{ABORTED * aborted}", BOLD)]
    for record in records:
        applying = log.operation.get("kind") != "merge"
        lines += ["", *file_lines(record, style, applying=applying, step=step(record))]
    if not records:
        lines.append("no files recorded")
    return lines


# ------------------------------------------------------------------------------------------------- undo


def _mapping(old: Sequence[bytes], new: Sequence[bytes]) -> list[int | None]:
    """For each line of `old`, the line of `new` it is kept as (None where it was changed or dropped)."""
    where: list[int | None] = [None] * len(old)
    for tag, a, b, c, _ in tokendiff.opcodes(old, new):
        if tag == "equal":
            for i in range(b - a):
                where[a + i] = c + i
    return where


def _found(where: Sequence[int | None], start: int, end: int) -> tuple[int, int] | None:
    """Where lines start..end of the old text lie, unchanged and together, in the new one; an empty range
    is found between its two neighbours kept next to each other."""
    if end > start:
        first = where[start]
        if first is None or where[start:end] != list(range(first, first + end - start)):
            return None
        return first, first + end - start
    before = where[start - 1] if start > 0 else -1
    after = where[start] if start < len(where) else None
    if before is None or (start < len(where) and after != before + 1):
        return None
    return before + 1, before + 1


def _inside_gits(
    blocks: Sequence[tuple[int, int]], where: Sequence[int | None], c: int, d: int, place: tuple[int, int]
) -> bool:
    """Whether `place` (lines of the working file) lies, wholly or in part, between the marker lines of one
    of git's conflict `blocks` within its lines c..d, both found in the working file by the line diff
    `where` (git's conflict put back, maybe edited since); the markers of any other conflict do not count."""
    for start, end in blocks:
        if lineranges.overlap(start, end, c, d):
            first, last = where[start], where[end - 1]
            if first is not None and last is not None and lineranges.overlap(first + 1, last, *place):
                return True
    return False


def _beside_markers(lines: Sequence[bytes], start: int, end: int, size: int) -> bool:
    """Whether the line just before lines start..end, or just after them, is a conflict marker line."""
    return any(0 <= at < len(lines) and markers.kind(lines[at], size) for at in (start - 1, end))


def _within_block(blocks: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether lines start..end lie, wholly or in part, inside one of the conflict `blocks` (an empty range:
    between two of a block's lines)."""
    if end > start:
        return any(lineranges.overlap(s, e, start, end) for s, e in blocks)
    return any(s < start < e for s, e in blocks)  # strictly inside: at a block's end is outside it


def _changes(
    written: Sequence[bytes], git: Sequence[bytes], size: int, own: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int, int]]:
    """Where what the driver wrote differs from git's merge (lines a..b of it, c..d of git's), each of git's
    conflicts and each of the driver's (`own`: those `review` lists, lines of what it wrote) whole: the line
    diff's changes within or beside one conflict of git's, or within one of the driver's, are joined,
    with the lines between them (a one-sided resolution is found as two insertions around the line it kept;
    a block the driver placed otherwise than git, as a change at each of its ends)."""
    spans = markers.blocks(git, size)
    changes: list[tuple[int, int, int, int]] = []
    joined: set[tuple[str, int]] = set()  # the conflicts the last change touches
    for tag, a, b, c, d in tokendiff.opcodes(written, git):
        if tag == "equal":
            continue
        touched = {("git", n) for n, span in enumerate(spans) if lineranges.meet(*span, c, d)}
        touched |= {("own", n) for n, span in enumerate(own) if lineranges.overlap(*span, a, b)}
        if changes and touched & joined:
            changes[-1] = (changes[-1][0], b, changes[-1][2], d)
            joined |= touched
        else:
            changes.append((a, b, c, d))
            joined = touched
    return changes


EDITED = "edited since mergebert resolved it; left as it is"  # a region refused
EDITED_OR_SKIPPED = (  # one of an earlier step of a rebase or picks (`refusal`)
    "not as mergebert wrote it: changed since (by you or a later step), or its step was skipped; "
    "left as it is"
)
CHANGED = "not as mergebert wrote it: changed since (by you or a later step); left as it is"  # a stash's
ABORTED_RUN = "not as mergebert wrote it: the run was aborted (HEAD is back where it started); left as it is"


@dataclass(frozen=True)
class Undone:
    """The working file with git's conflicts put back, and what happened to each region."""

    data: bytes
    restored: list[str]
    refused: list[str]
    already: list[str]


def undo(record: dict[str, Any], working: bytes, to_worktree: Any = bytes) -> Undone:
    """git's conflicts back into `working` wherever the driver's resolution is still as it wrote it; a
    conflict is put back whole or not at all."""
    written, git = (split_lines(to_worktree(decisionlog.unpack(record[key]))) for key in ("output", "git"))
    current = split_lines(working)
    from_written, from_git = _mapping(written, current), _mapping(git, current)
    spans = [(number, entry["lines"]) for number, entry in entries(record) if entry.get("lines")]
    size = record.get("marker_size", 7)
    blocks = markers.blocks(git, size)
    wrote = markers.blocks(written, size)
    out: list[bytes] = []
    restored, refused, already = [], [], []
    cursor = 0
    for a, b, c, d in _changes(written, git, size, [(s, e) for _, (s, e) in spans]):
        numbers = [number for number, (s, e) in spans if lineranges.overlap(a, b, s, e)]
        name = f"conflict{'s' * (len(numbers) > 1)} {', '.join(map(str, numbers))}"
        name = name if numbers else "a region mergebert merged cleanly"  # where git's conflict lies
        place = _found(from_written, a, b)
        if (
            place is not None
            and _inside_gits(blocks, from_git, c, d, place)
            and not _within_block(wrote, a, b)
        ):
            place = None  # the driver's text found again inside git's conflict here: a side of it, say
        if (
            place is not None
            and _beside_markers(current, *place, size)
            and not _beside_markers(written, a, b, size)
        ):
            place = None  # beside marker lines the driver did not write there: a side of a conflict, say
        if place is None:
            if _found(from_git, c, d) is not None:
                already.append(f"{name}: already git's conflict")
            else:
                refused.append(f"{name}: {EDITED}")
            continue
        start, end = place
        out += current[cursor:start] + git[c:d]
        cursor = end
        # the first line of git's first conflict the region holds or starts in
        first = min([s for s, e in blocks if lineranges.overlap(s, e, c, d)], default=c)
        restored.append(f"{name} (line {len(out) - (d - first) + 1}): git's conflict put back")
    out += current[cursor:]
    return Undone(b"".join(out), restored, refused, already)


def _logged_merge(repo: pygit2.Repository, log: Log) -> tuple[str, str, str] | None:
    """The commits (ours, base, theirs) of the merge of one commit the log names: those of a squash merge,
    which leaves no MERGE_HEAD for `gitinfo.conflict_sides` to read."""
    operation = log.operation
    merged = str(operation.get("key", "")).split(" ")[2:]
    if operation.get("kind") != "merge" or len(merged) != 1 or not operation.get("head"):
        return None
    base = repo.merge_base(operation["head"], merged[0])
    return (operation["head"], str(base), merged[0]) if base is not None else None


def _merged_stages(repo: pygit2.Repository, log: Log, path: str) -> list[gitinfo.Stage]:
    """The stages of `path` in the commits the operation git has stopped in merges (`gitinfo.conflict_sides`,
    else the merge the log names: ours, base, theirs), each where a rename put it."""
    commits = gitinfo.conflict_sides(repo).commits or _logged_merge(repo, log)
    if commits is None:
        return []
    stages = []
    for number, commit, side_path in zip(
        (2, 1, 3), commits, gitinfo.side_paths(repo, commits, path), strict=True
    ):
        tree = repo.revparse_single(commit).peel(pygit2.Tree)
        if side_path in tree:
            entry = tree[side_path]
            stages.append(gitinfo.Stage(number, entry.filemode, str(entry.id)))
    return sorted(stages)


def _index_entries(repo: pygit2.Repository, path: str) -> list[tuple[int, int, str, bool]]:
    """`path`'s index entries as git reads the index on disk: (stage, mode, blob id, skip-worktree)."""
    listing = gitcmd.git(
        "--literal-pathspecs", "ls-files", "-s", "-t", "-z", "--", path, cwd=repo.workdir
    ).stdout.decode("utf-8", "surrogateescape")
    entries = []
    for entry in listing.split("\0"):
        info, tab, name = entry.partition("\t")
        words = info.split()
        if tab and name == path and len(words) == 4 and words[3].isdigit():
            entries.append((int(words[3]), int(words[1], 8), words[2], words[0] == "S"))
    return entries


def _recorded_stages(repo: pygit2.Repository, record: dict[str, Any], path: str) -> list[gitinfo.Stage]:
    """The stages of the versions the driver merged, by the blob ids its record keeps (a stash applied,
    whose commits no state file names), where the repository holds them; the mode of `path`'s entry."""
    modes = [mode for number, mode, _, _ in _index_entries(repo, path) if number in (0, 2)]
    mode = modes[0] if modes else 0o100644
    empty = driver.blob_id(b"")  # the base git hands the driver of an add/add: no stage 1
    return [
        gitinfo.Stage(number, mode, oid)
        for number, oid in zip((1, 2, 3), record.get("blobs", ()), strict=False)
        if oid in repo and not (number == 1 and oid == empty)
    ]


def _versions(repo: pygit2.Repository, stages: Sequence[gitinfo.Stage]) -> tuple[bytes, bytes, bytes] | None:
    """The stages' contents as (base, ours, theirs); None without ours or theirs."""
    data = {stage.number: repo[stage.oid].data for stage in stages}
    return (data.get(1, b""), data[2], data[3]) if 2 in data and 3 in data else None


def _write_stages(repo: pygit2.Repository, path: str, stages: Sequence[gitinfo.Stage]) -> None:
    """Replace `path`'s index entry by `stages` (`git update-index --index-info`)."""
    removed = f"0 {'0' * len(stages[0].oid)}\t{path}"
    entries = [removed, *(f"{stage.mode:o} {stage.oid} {stage.number}\t{path}" for stage in stages)]
    data = "".join(entry + "\0" for entry in entries).encode("utf-8", "surrogateescape")
    gitcmd.git("update-index", "-z", "--index-info", data=data, cwd=repo.workdir)


def _renamed_stages(
    repo: pygit2.Repository, record: dict[str, Any], where: str
) -> list[gitinfo.Stage] | None:
    """The stage git's rename/rename left at `where`, one side's name of a file both sides renamed apart
    (git's merge of the content, markers included, in the stage of that side), to write there: as the
    index has it, else as the resolve-undo record `git add` left, the driver's merge in it replaced by
    git's; None where the index holds it unmerged without the driver's merge (nothing to write); empty
    where it is not found."""
    index = [
        gitinfo.Stage(number, mode, oid) for number, mode, oid, _ in _index_entries(repo, where) if number
    ]
    stages = index or gitinfo.resolve_undo(repo, where)
    written = driver.blob_id(decisionlog.unpack(record["output"]))
    if not any(stage.oid == written for stage in stages):
        return None if index else []
    git = str(repo.create_blob(decisionlog.unpack(record["git"])))
    return [gitinfo.Stage(s.number, s.mode, git if s.oid == written else s.oid) for s in stages]


def _conflict_stages(
    repo: pygit2.Repository, log: Log, record: dict[str, Any], path: str
) -> list[gitinfo.Stage]:
    """The stages of git's conflict at `path`: the first found of the resolve-undo record `git add` left,
    the versions of the commits merged and those the record names, whose versions have exactly the
    record's conflicts; empty where none has."""
    finds: tuple[Callable[[], list[gitinfo.Stage]], ...] = (
        lambda: gitinfo.resolve_undo(repo, path),
        lambda: _merged_stages(repo, log, path),
        lambda: _recorded_stages(repo, record, path),
    )
    for find in finds:
        try:
            stages = find()
            versions = _versions(repo, stages)
        except (gitcmd.GitError, pygit2.GitError, KeyError, ValueError):
            continue
        if versions is not None and conflicts_recorded(record, as_git_merged(repo, path, versions)):
            return stages
    return []


def unmerge(
    repo: pygit2.Repository, log: Log, record: dict[str, Any], path: str, where: str | None = None
) -> tuple[str | None, bool]:
    """Make `path` (its merge at `where`, where both sides renamed it apart) unmerged again, with the
    stages git's conflict had (`_conflict_stages`, `_renamed_stages`), as `git checkout -m` does, while
    the operation is in progress (`finished` says when it is over); what to say, if anything, and whether
    git holds it unmerged now."""
    where = where or path
    if where == path and gitinfo.unmerged_versions(repo, path) is not None:
        return None, True
    try:
        stages = (
            _conflict_stages(repo, log, record, path)
            if where == path
            else _renamed_stages(repo, record, where)
        )
        if stages is None:
            return None, True
        if stages:
            _write_stages(repo, where, stages)
            return None, True
    except (gitcmd.GitError, pygit2.GitError) as error:  # another git holds the index, say
        first = error.first_line if isinstance(error, gitcmd.GitError) else str(error)
        return f"{where}: cannot make it unmerged again: {first}", False
    return f"{where}: cannot make it unmerged again: the versions git merged are not found", False


def typed_here(repo: pygit2.Repository, path: str) -> str:
    """Repository path `path` as a shell command run in the current folder names it: relative to that
    folder and quoted (`./` before a leading `-`, which a command would take for an option)."""
    relative = os.path.relpath(Path(repo.workdir).resolve() / path, Path.cwd().resolve())
    return shlex.quote(f"./{relative}" if relative.startswith("-") else relative)


def finished(repo: pygit2.Repository, log: Log, record: dict[str, Any], path: str, where: str) -> str | None:
    """What to tell the user where the operation of `record` is over, so that git cannot hold `where`
    unmerged again (a commit must follow the resolution); None while it is in progress, or where git holds
    `path` unmerged all the same."""
    if where == path and gitinfo.unmerged_versions(repo, path) is not None:
        return None
    if in_progress(repo, log, record):
        return None
    kind = kind_of(decisionlog.operation_of(log.operation, record))
    over = kind.noun if "operation" in record else kind.over or kind.noun
    added = f"`git add {typed_here(repo, where)}`"
    if stepping(repo, log):
        step = kind_of(log.operation).step
        labels = record.get("labels") or ()
        of = f" of {labels[2]}" if len(labels) > 2 and "operation" not in record else ""
        return (
            f"{where}: the {over}{of} is over: git cannot hold it unmerged again, and what you change in it "
            f"now goes into the commit of the {step} being applied; resolve it yourself, then {added}"
        )
    return (
        f"{where}: the {over} is over: git cannot hold it unmerged again; resolve it yourself, "
        f"then {added} and commit it"
    )


def _unwritten(repo: pygit2.Repository, path: str) -> tuple[bytes, int] | None:
    """What the driver's merge staged for `path` where git did not write it to the work tree (outside a
    sparse checkout's cone: a merged entry with the skip-worktree bit), as the work tree would have it,
    and its mode; None for any other path."""
    if os.path.lexists(Path(repo.workdir) / path):
        return None
    entries = _index_entries(repo, path)
    if [(number, skip) for number, _, _, skip in entries] != [(0, True)]:
        return None
    _, mode, oid, _ = entries[0]
    return gitinfo.to_worktree(repo, path)(repo[oid].data), mode


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def work_files(repo: pygit2.Repository, log: Log, record: dict[str, Any]) -> list[str]:
    """The work-tree files that hold the driver's merge of `record`'s path: those the driver found git
    writes it to (its `files`), else the path itself, but where both sides renamed it apart (git's
    rename/rename, whose content the driver merges under the base's name) the two names git writes that
    merge to."""
    path = record["path"]
    if record.get("files"):
        return list(record["files"])
    if os.path.lexists(Path(repo.workdir) / path) or [n for n, *_ in _index_entries(repo, path)] != [1]:
        return [path]
    commits = gitinfo.conflict_sides(repo).commits or _logged_merge(repo, log)
    try:
        ours, _, theirs = gitinfo.side_paths(repo, commits, path) if commits else (path, path, path)
    except (gitcmd.GitError, pygit2.GitError, KeyError, ValueError):
        return [path]
    renamed = [name for name in (ours, theirs) if name != path]
    return renamed if len(set(renamed)) == 2 else [path]


def refusal(repo: pygit2.Repository, log: Log, record: dict[str, Any]) -> str:
    """Why a region of `record`'s file not as the driver wrote it is left: edited since, but for a record of
    an earlier step of an operation of several steps, changed by you or a later step (a pick: or skipped),
    or its run aborted (`ended_where_it_began`)."""
    if not kind_of(log.operation).step or in_progress(repo, log, record):
        return EDITED
    if ended_where_it_began(repo, log):
        return ABORTED_RUN
    return CHANGED if "operation" in record else EDITED_OR_SKIPPED


NOT_LOGGED = (
    "the decision log has no record of this merge of the file (its record was not written); left as it is"
)
EARLIER = (
    "the decision log's record of it is of an earlier operation than the one git is stopped in; left as it is"
)
STOPPED_IN = ("MERGE_HEAD", "rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD")  # git's state


def not_of_this_operation(repo: pygit2.Repository, log: Log, path: str, record: dict[str, Any]) -> str | None:
    """Why `record` may not be undone as the driver's merge of `path` in the operation git is stopped in, if
    any (None where it may): where git is stopped in another operation than the logged one (EARLIER: a
    merge of its own whose records were not written, the log's lock held too long, say, or one the driver
    had no part in), or where git holds `path` unmerged with versions other than the record's (NOT_LOGGED;
    by the blob ids of the versions the driver merged, renormalized or not, as `-X renormalize` may have
    had git merge them whatever the config says; a record without them, by its conflicts)."""
    stopped = any(os.path.lexists(os.path.join(repo.path, name)) for name in STOPPED_IN)
    logged = in_progress(repo, log, record) or decisionlog.running(repo.path, head_id(repo), log.operation)
    if stopped and not logged:
        return EARLIER
    held = gitinfo.unmerged_versions(repo, path)
    if held is None:
        return None
    for renormalize in (False, True):
        versions = as_git_merged(repo, path, held, renormalize)
        if record.get("blobs"):
            if [driver.blob_id(data) for data in versions] == list(record["blobs"]):
                return None
        elif conflicts_recorded(record, versions):
            return None
    return NOT_LOGGED


def undo_file(
    repo: pygit2.Repository, log: Log, path: str, say: Callable[[str], None], where: str | None = None
) -> bool:
    """Undo the driver's resolutions of `path` (in the file `where`, `work_files`) by its record of the step
    git is stopped at, else its latest one, make it unmerged again, then say what was put back; whether
    every region was put back (or nothing needed it) with the path unmerged."""
    where = where or path
    records = [record for record in log.records if record["path"] == path]
    record = ([r for r in records if in_progress(repo, log, r)] or records)[-1]
    refused = not_of_this_operation(repo, log, path, record)
    if refused is not None:
        say(f"{where}: {refused}")
        return False
    if "output" not in record:
        if record["conflicts"] == record["left"]:
            say(f"{where}: nothing to undo (mergebert resolved nothing)")
            return True
        why = "the decision log was full" if record.get("slim") else "what the driver wrote was not recorded"
        say(f"{where}: cannot undo: {why}")
        return False
    target = Path(repo.workdir) / where
    unwritten = _unwritten(repo, where)
    try:
        working = target.read_bytes() if unwritten is None else unwritten[0]
    except OSError as error:
        say(f"{where}: cannot read it ({error.strerror})")
        return False
    result = undo(record, working, gitinfo.to_worktree(repo, where))
    if result.restored:
        try:
            if unwritten is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
            atomic.atomic_write(target, result.data, expected=working if unwritten is None else None)
            if unwritten is not None and unwritten[1] & 0o111:  # as git checks an executable file out
                target.chmod(target.stat().st_mode | (0o111 & ~_umask()))
        except atomic.ChangedMeanwhile:
            say(f"{where}: changed while it was undone; left as it is")
            return False
        except OSError as error:
            say(f"{where}: cannot write it ({error.strerror or error}); nothing put back")
            return False
    why = refusal(repo, log, record)
    refused = [line.replace(EDITED, why) for line in result.refused]
    lines = [f"{where}: {line}" for line in result.restored + result.already + refused]
    over = finished(repo, log, record, path, where)
    if result.restored:  # one instruction: after the operation, a commit must follow the `git add`
        lines.append(over or f"{where}: resolve it yourself, then `git add {typed_here(repo, where)}`")
    if over or not (result.restored or result.already):
        for line in lines or [f"{where}: nothing to undo"]:
            say(line)
        return not result.refused
    said, unmerged = unmerge(repo, log, record, path, where)  # the file and its index first, then the lines
    if said is None and unmerged and where == path:  # git's conflict back: recorded as at the stop
        said = rerere.record_preimage(repo, path, result.data, record.get("marker_size", 7))
    for line in [*lines, *([said] if said else [])]:
        say(line)
    return unmerged and not result.refused


def undoable(repo: pygit2.Repository, log: Log, wanted: Mapping[str, str], files: Sequence[str]) -> list[str]:
    """Of the `files` the `wanted` paths select, those `--undo` takes: a file named, and under a folder
    those the driver handled at the stop git is at, not at an earlier step of the operation in progress
    (committed, or skipped: git cannot hold them unmerged again, and a change to them would go into the
    commit of the step being applied); PathError for a folder with none of them."""
    earlier = at_earlier_step(repo, log)
    late = {file for r in log.records if not earlier(r) for file in work_files(repo, log, r)}
    named = set(wanted.values()) & set(files)
    taken = [file for file in files if file in named or file in late]
    for typed, folder in wanted.items():
        if folder not in named and not any(_under(file, folder) for file in taken):
            raise PathError(
                f"{typed}: matches no file the merge driver handled at the stop git is at; a file of an "
                f"earlier {kind_of(log.operation).step} is undone only where you name it"
            )
    return taken


def run(paths: Sequence[str], *, undo_paths: bool, style: Style) -> int:
    """The `review` command: 0 when done, 1 when nothing is recorded, a region was refused or a path cannot
    be made unmerged again (each path is undone all the same)."""
    try:
        repo = gitinfo.open_repo(".")
    except gitinfo.RepositoryRefused as error:
        raise ReviewError(str(error)) from None
    if repo is None or repo.workdir is None:
        raise ReviewError("not inside a git work tree")
    log = load(repo)
    handled = f"file the merge driver handled in the {describe(log.operation)}"
    recorded = {file: r["path"] for r in log.records for file in work_files(repo, log, r)}
    wanted = repo_paths(repo, paths)
    files = selected(wanted, recorded, handled)
    if not undo_paths:
        shown = list(dict.fromkeys(recorded[file] for file in files))
        lines = listing(log, shown, style, step_of(repo, log), ended_where_it_began(repo, log))
        messages.say("\n".join(lines), stdout=True)
        return 0
    files = undoable(repo, log, wanted, files)
    ok = True
    try:
        # as `resolve` and `mergetool`, which write working files too; each file and its index whole
        with marked.writing(repo):
            for file in files:
                done = undo_file(repo, log, recorded[file], partial(messages.say, stdout=True), file)
                ok = ok and done
    except KeyboardInterrupt:  # while it waited for another mergebert to finish writing
        warn("interrupted: nothing written")
        return INTERRUPTED_STATUS
    return 0 if ok else 1
