"""`mergebert driver %O %A %B %L %P [%S %X %Y]`: git's merge-driver contract.

git hands over three temporary files (base, current, other), the conflict marker size, the path and, on
git 2.44 or later, the conflict labels; the driver OVERWRITES the current file (%A) with the merge result
and exits 0 when it is clean, 1 when conflicts are left. Whatever goes wrong inside mergebert (an option
it does not know, an internal error, a resolve past the time limit), %A receives git's own line-merge
result with its markers, written atomically, so installing the driver never makes a merge worse than git's.

The arguments are parsed here, not by click: a path such as `-h.cs` or `--help.ts` is a path. Nothing heavy
(pygit2, tree-sitter, the model) is imported before there is a conflict to resolve. git normally reaches
this module through the shell entry point `driver.sh`, which settles files without conflicts by itself.
"""

from __future__ import annotations

import errno
import os
import sys
import time

from mergebert.core.messages import INTERRUPTED_STATUS, open_standard_fds, say, warn, write_names_as_bytes
from mergebert.core.timebounds import not_within, time_limit, within

# The warm path (a daemon answers) imports only what it needs: not typing, dataclasses or threading.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import pygit2

    from mergebert.core.classifier import Classifier
    from mergebert.core.options import Labels, MergeOptions
    from mergebert.git.daemon import Reply
    from mergebert.git.frontend import Outcome

HELP = """\
Usage: mergebert driver [--model DIR] [--threshold X] [--conflict-status N]
                        BASE CURRENT OTHER [MARKER_SIZE [PATH [S X Y]]]

  Merge driver for git: %O %A %B %L %P, and on git >= 2.44 the labels %S %X %Y.

  Overwrites CURRENT (%A) with the merge result: conflicts mergebert resolves are settled, the others
  keep git's markers. Exit 0 when CURRENT holds no conflict (as git counts its own merge's: one whose
  sides are equal is none in the merge style, which writes it as plain text), 1 otherwise; also 1 when
  mergebert resolved something and `git config mergebert.confirm` is not false, so that git stops for
  you to check the file (`mergebert review`) and `git add` it. Its decisions are recorded for
  `mergebert review`. `mergebert install` configures it. If anything fails, CURRENT receives git's own
  line merge, as git alone would have written it.

Options:
  --model DIR            Model directory, or 'none' for the token merge only.
  --threshold X          Confidence below which a conflict is left.
  --conflict-status N    Exit status when conflicts are left, in place of 1 (driver.sh passes 3, to tell
                         it from a Python that failed to start).
  -h, --help             Show this message and exit.
"""
# The seconds all files of one git command's operation (`decisionlog.account`) may take together.
OPERATION_VARIABLE = "MERGEBERT_OPERATION_TIMEOUT"
DEFAULT_OPERATION_TIMEOUT = 60.0
# Used by the shell entry point (driver.sh) to tell "conflicts left" from a Python that failed to start,
# which also exits 1.
CONFLICT_STATUS_OPTION = "--conflict-status"
KNOWN_OPTIONS = ("--model", "--threshold", CONFLICT_STATUS_OPTION)
# On (the default) unless set to false: git stops after a file in which mergebert resolved something.
CONFIRM_KEY = "mergebert.confirm"
# The record's key (dropped before the log) of a line git's own merge prints, which the driver prints in its
# place: [stream, line]. git's merge of a file merged as binary warns, where ort prints on stdout and the
# recursive strategy's code (`-s recursive`, `am`, `checkout -m`) on stderr.
GITS_LINE = "gits_line"
# How git names its temporary files of %O %A %B, before six random letters or digits (`_files_after`).
GITS_NAME = ".merge_file_"
TEMPORARY = f"{GITS_NAME}XXXXXX"
# The exit status when %A was not written (its versions could not be read, or it could not be replaced):
# not 0 and not the conflict status, so that driver.sh writes git's own merge there.
UNWRITTEN_STATUS = 2


class Arguments:
    """What git passed, checked; `problem` is why the driver must fall back to git's line merge."""

    def __init__(
        self,
        base: str,
        current: str,
        other: str,
        *,
        marker_size: int = 7,
        path: str = "",
        labels: Labels | None = None,
        model: str | None = None,
        threshold: float | None = None,
        conflict_status: int = 1,
        problem: str | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.base, self.current, self.other = base, current, other
        self.marker_size, self.path, self.labels = marker_size, path, labels
        self.model, self.threshold = model, threshold
        self.conflict_status, self.problem, self.warnings = conflict_status, problem, warnings


class UsageError(Exception):
    """No BASE CURRENT OTHER (git always passes them): there is nothing to write to."""


def parse(argv: list[str]) -> Arguments:
    """Leading options, then the positional arguments exactly as given (a path may start with '-'). An
    unknown leading option is a problem, not a file: git takes %A, written or not, as the conflicted
    file, so where git's three files follow, git's line merge must be written there (`_files_after`)."""
    options: dict[str, str] = {}
    unknown: list[str] = []
    rest = list(argv)
    while rest and rest[0].startswith("-") and rest[0] not in ("-", "--"):
        name, equals, value = rest.pop(0).partition("=")
        if name not in KNOWN_OPTIONS:
            unknown.append(name)
            continue
        if not equals and not rest:
            raise UsageError(f"{name} needs a value")
        options[name] = value if equals else rest.pop(0)
    if rest[:1] == ["--"]:
        rest.pop(0)
    if len(rest) < 3:
        raise UsageError("expected BASE CURRENT OTHER [MARKER_SIZE [PATH [S X Y]]]")
    skipped: list[str] = []
    if unknown:
        skipped, rest = _files_after(rest)
    base, current, other, *more = rest
    warnings: list[str] = []
    problem = _unknown(unknown, skipped) if unknown else None
    size = 7
    if more:
        value = more.pop(0)
        if _number(value) and int(value) > 0:
            size = int(value)
        else:
            warnings.append(f"marker size {value!r} is not a positive number; using 7")
    path = more.pop(0) if more else current
    labels = None
    if len(more) == 3:
        ancestor, ours, theirs = more
        labels, more = (ours, ancestor, theirs), []
    if more:
        warnings.append(f"{path}: ignored extra arguments {more!r}")
    threshold = None
    if "--threshold" in options:
        from mergebert.neural import policy

        try:
            threshold = policy.parse_threshold(options["--threshold"], "--threshold")
        except policy.PolicyError as error:
            problem = "; ".join(filter(None, (problem, str(error))))
    status = options.get(CONFLICT_STATUS_OPTION, "1")
    return Arguments(
        base=base,
        current=current,
        other=other,
        marker_size=size,
        path=path,
        labels=labels,
        model=options.get("--model"),
        threshold=threshold,
        conflict_status=int(status) if _number(status) else 1,
        problem=problem,
        warnings=tuple(warnings),
    )


def _number(value: str) -> bool:
    """Whether `value` is a whole number as git writes one (ASCII digits: `int` takes others too)."""
    return value.isascii() and value.isdigit()


def _files_after(rest: list[str]) -> tuple[list[str], list[str]]:
    """`rest` split where BASE CURRENT OTHER start, after an unknown option whose values (if any) cannot
    be told from its spelling: the one window of three existing files that git named (`_gits_temporary`).
    None, or two (a path so named), is no guess: the wrong three would let git commit a merge without
    theirs."""
    starts = [start for start in range(len(rest) - 2) if all(map(_gits_temporary, rest[start : start + 3]))]
    if not starts:
        where = f"no three of git's temporary files ({TEMPORARY}) in a row"
        raise UsageError(f"after the unknown option, {where}; nothing written")
    if len(starts) > 1:
        where = f"{len(starts)} runs of three of git's temporary files ({TEMPORARY})"
        raise UsageError(f"after the unknown option, {where}: which is %A is unknown; nothing written")
    skipped = rest[: starts[0]]
    return skipped[:-1] if skipped[-1:] == ["--"] else skipped, rest[starts[0] :]


def _gits_temporary(name: str) -> bool:
    """Whether `name` is an existing regular file named as git names the files of %O %A %B: `.merge_file_`
    and six ASCII letters or digits (git 2.39 makes them in the work tree's root; the directory is not
    checked)."""
    base = os.path.basename(name)
    mark = base[len(GITS_NAME) :]
    named = base.startswith(GITS_NAME) and len(mark) == len("XXXXXX") and mark.isascii() and mark.isalnum()
    return named and os.path.isfile(name)


def _unknown(names: list[str], skipped: list[str]) -> str:
    """The problem line of unknown options (`names`) and what followed them before the files (`skipped`)."""
    plural = "s" if len(names) > 1 else ""
    problem = f"unknown option{plural} {', '.join(map(repr, names))}"
    return f"{problem}, then {', '.join(map(repr, skipped))} before the files" if skipped else problem


class Bounds:
    """A driver call's deadline (`time.monotonic()`'s), set at its start and kept by every stage: the
    file's limit or, if less, its operation's time left; `why` a file past it gets git's merge; `first`:
    its operation's first file."""

    def __init__(self) -> None:
        from mergebert.git import decisionlog

        self.start = time.monotonic()
        limit, budget = time_limit(), time_limit(OPERATION_VARIABLE, DEFAULT_OPERATION_TIMEOUT)
        self.located: tuple[str, str] | None = None  # the repository's git folder and HEAD (`locate`)
        try:
            self.located = decisionlog.locate()
            self.account = decisionlog.account(self.located)
            spent = None if self.account is None else decisionlog.spent(self.account)
        except Exception as error:  # the file keeps its own limit
            warn(f"cannot read the time this git operation took ({type(error).__name__}: {error})")
            self.account, spent = None, None
        self.first = spent is None
        left = budget - (spent or 0.0)
        self.deadline = self.start + min(limit, max(left, 0.0))
        if limit <= left:
            self.why = not_within(limit)
        elif left > 0:
            self.why = f"not resolved within {left:.3g} s, the rest of this git operation's {budget:g} s"
            self.why += f" (${OPERATION_VARIABLE})"
        else:
            self.why = f"the time for this git operation ({budget:g} s) is spent (${OPERATION_VARIABLE})"

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def spend(self) -> None:
        """Add the seconds since the call started to its operation's account."""
        if self.account is None:
            return
        from mergebert.git import decisionlog

        try:
            decisionlog.spend(self.account, time.monotonic() - self.start)
        except OSError as error:  # this file's time only is not counted
            warn(f"cannot record the time this file took ({error})")


class Settings:
    """How git would merge and write a conflict, and the repository; `remade`: the calling git makes a
    conflict again on the user's request (`git checkout --conflict`) or re-merges a merge commit to show
    it (`--remerge-diff`), which is git's alone to make; `logged`: the merge is the user's operation, whose
    decisions go to the log (not `git merge-tree`'s); `rerere`: the calling git replays recorded
    resolutions after its merge; `command`: the calling git's command, which the log files the merge under
    (`decisionlog.operation`); `squash`: the command is a `git merge --squash`."""

    def __init__(
        self,
        options: MergeOptions,
        repo: pygit2.Repository | None,
        *,
        remade: bool = False,
        logged: bool = True,
        rerere: bool = True,
        command: str | None = None,
        squash: bool = False,
    ) -> None:
        self.options, self.repo, self.remade, self.logged, self.rerere = options, repo, remade, logged, rerere
        self.command, self.squash = command, squash
        self.names: list[str] = []  # the work-tree files git writes the merge to (`gitinfo.work_tree_names`)
        self.recursive = False  # the calling git merges with the recursive strategy's code (see GITS_LINE)


def squashing(repo: pygit2.Repository | None, calling: list[str]) -> bool:
    """Whether a `git merge` command line (`gitinfo.calling_git`) asks for a squash, after the branch's
    merge options (`gitinfo.branch_merge_options`), as git reads them: the last `--squash` or `--no-squash`
    (either abbreviated as far as no other option shares the start)."""
    from mergebert.git import gitinfo

    squash = False
    for word in gitinfo.branch_merge_options(repo) + calling:
        if len(word) >= len("--sq") and "--squash".startswith(word):
            squash = True
        elif len(word) >= len("--no-sq") and "--no-squash".startswith(word):
            squash = False
    return squash


def repository_settings(
    args: Arguments, blobs: tuple[bytes, bytes, bytes], caller: int | None = None
) -> Settings:
    """The `Settings` of the merge of `blobs` (base, ours, theirs), from the repository and the git running
    the driver (`caller`: the process whose parent that git is; the driver's parent when None): git's
    labels (its own when it passed them), style and marker size, its `-X` options, which line merge it
    makes, and what kind of merge it is (a conflict made again, `merge-tree`'s, one after which rerere
    replays)."""
    from mergebert.core.options import DEFAULT_LABELS, MergeOptions
    from mergebert.git import gitinfo

    try:
        repo = gitinfo.open_repo(".")
        calling = gitinfo.calling_git(caller)
        remaking = gitinfo.remaking_conflict(repo, calling, args.path, blobs[1], blobs[2])
        style = gitinfo.requested_style(calling)  # checkout --conflict=STYLE; the old merge-tree: merge
        if remaking:  # git's labels for it: ours, base, theirs
            labels, size = args.labels or DEFAULT_LABELS, args.marker_size
            options = gitinfo.merge_options(
                repo,
                args.path,
                size=size,
                labels=labels,
                style=style,
                engine="myers",  # as checkout -m
            )
            return Settings(options, repo, remade=True)
        # a branch switch's --conflict=merge leaves a configured diff3 or zdiff3 as it is (git 2.39)
        style = None if style == "merge" and gitinfo.subcommand(calling) in ("checkout", "switch") else style
        based = (style or gitinfo.conflict_style(repo)) != "merge"  # the base's label is written
        if gitinfo.remerging(calling):  # `--remerge-diff`: shows what git's own merge leaves
            labels = args.labels or gitinfo.remerged_sides(repo, calling, args.path, *blobs[1:], based).labels
            engine, size = gitinfo.line_engine(repo, calling), args.marker_size
            options = gitinfo.merge_options(repo, args.path, size=size, labels=labels, engine=engine)
            return Settings(options, repo, remade=True, logged=False)
        sides = gitinfo.conflict_sides(repo, calling=calling, base=based)
        found_labels = gitinfo.labelled(repo, sides, args.path, calling)
        labels = args.labels or found_labels.labels
        given = gitinfo.strategy_options(repo, calling)
        options = gitinfo.merge_options(
            repo,
            args.path,
            size=args.marker_size,
            labels=labels,
            style=style,
            favour=gitinfo.merge_favour(given),
            whitespace=gitinfo.merge_whitespace(given),
            engine=gitinfo.line_engine(repo, calling),
        )
        logged = repo is not None and not gitinfo.in_memory(calling)  # no log outside a repository
        rerere = gitinfo.runs_rerere(calling)
        command = gitinfo.subcommand(calling)
        squash = command == "merge" and squashing(repo, calling or [])
        found = Settings(options, repo, logged=logged, rerere=rerere, command=command, squash=squash)
        found.names = gitinfo.work_tree_names(found_labels.paths, args.path)
        found.recursive = found_labels.recursive or command in ("checkout", "switch")
        return found
    except Exception as error:  # labels are cosmetic: keep merging with the defaults
        warn(f"cannot read the repository ({error}); using default conflict labels")
        return Settings(MergeOptions(args.marker_size, args.labels or DEFAULT_LABELS), None)


class Decided:
    """A file's merge result, and the record of its decisions for the log (None: nothing to record);
    `quiet`: nothing to print either; `logged`: the merge is one whose decisions go to the log, for
    `mergebert review` (not `git merge-tree`'s); `name`: the file as its lines name it, where not %P
    (`_named`)."""

    def __init__(
        self, outcome: Outcome, record: dict[str, Any] | None, quiet: bool = False, logged: bool = True
    ) -> None:
        self.outcome, self.record, self.quiet, self.logged = outcome, record, quiet, logged
        self.name: str | None = None


def decided(
    args: Arguments, blobs: tuple[bytes, bytes, bytes], options: MergeOptions, outcome: Outcome
) -> Decided:
    """`outcome` with its record; a record that cannot be made is only reported, never fatal."""
    from mergebert.git import frontend

    try:
        record = frontend.decision_record(args.path, blobs, options, outcome)
        details = record["conflicts_detail"] if record is not None else []
        blocks = blocks_held(details, outcome, options.marker_size) if details else None
        if record is not None and blocks is not None:  # where the file's conflicts are told from its blocks
            record["blocks"] = blocks
    except Exception as error:  # the log is for review: the merge result stands without it
        warn(f"{args.path}: cannot record the decisions ({type(error).__name__}: {error})")
        record = None
    return Decided(outcome, record)


def blocks_held(details: list[dict[str, Any]], outcome: Outcome, size: int) -> list[list[Any]] | None:
    """The conflict blocks the written file holds, each as [first line, end line, the `index` of each
    conflict of `details` it holds], from which `review` lists the conflicts left as the file shows them:
    where mergebert resolved some, a block lies in the lines of each conflict left it shows (conflicts
    written joined, as git joins them, each take the whole block's lines); where it resolved none (the
    file is git's merge, whose blocks may join or split mergebert's conflicts), a block holds the conflicts
    whose lines meet its own, both with every conflict given our side (all of them where that text is not
    the same length in both); None where git's merge holds lines like markers outside its conflicts."""
    from mergebert.core import lineranges, markers
    from mergebert.core.linemerge import conflicts_held, ours_spans, ours_text, parse_diff3
    from mergebert.core.textio import split_lines
    from mergebert.git.frontend import left_in_record

    found = markers.blocks(outcome.data.split(b"\n"), size)
    if not outcome.resolved and len(found) != outcome.left:  # lines like markers in git's clean text
        return None
    left = [d for d in details if left_in_record(d)]
    if outcome.resolved:  # a block lies within the lines written for each conflict left it shows
        spans = [(d["index"], d["lines"]) for d in left if d["lines"]]
        held = [
            [start, end, [i for i, lines in spans if lineranges.within(start, end, *lines)]]
            for start, end in found
        ]
        return [block for block in held if block[2]]  # not lines like markers in clean text
    everyone = [d["index"] for d in left]
    try:
        written = parse_diff3(outcome.data.decode("utf-8", "surrogateescape"), marker_size=size)
    except ValueError:  # a marker line git's merge left unpaired
        return [[start, end, everyone] for start, end in found]
    blocks, conflicts = ours_spans(written), ours_spans(outcome.chunks)
    lines = [len(split_lines("".join(map(ours_text, chunks)))) for chunks in (written, outcome.chunks)]
    if lines[0] != lines[1] or len(conflicts) != len(details) or len(blocks) != len(found):
        return [[start, end, everyone] for start, end in found]
    held = [[details[i]["index"] for i in indices] for indices in conflicts_held(blocks, conflicts)]
    return [[start, end, indices or everyone] for (start, end), indices in zip(found, held, strict=True)]


def left_to_git(
    args: Arguments,
    blobs: tuple[bytes, bytes, bytes],
    options: MergeOptions,
    merged: tuple[bytes, int],
    why: str,
    kept: str = "kept git's line merge",
) -> Decided:
    """A file merged by git's means (`merged`: the bytes and the conflicts left in them), not mergebert's,
    with the reason the report and the log give."""
    from mergebert.git import frontend

    data, left = merged
    outcome = frontend.Outcome(data, left, left, message=f"{args.path}: {why}; {kept}")
    return decided(args, blobs, options, outcome)


def resolve(
    args: Arguments,
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    caller: int | None = None,
    classifier_for: Callable[[Any, Any, Any], Classifier] | None = None,
) -> Decided:
    """The merge result (in this process or the daemon's): mergebert's, or git's own merge where the file
    must get it (see `_decide`). `classifier_for(model, threshold, repo)` defaults to the front-ends' lazy
    classifier."""
    from mergebert.core import faults

    if faults.injected("stall"):
        import threading

        threading.Event().wait()  # a resolve that never ends, for the time limit's tests
    blobs = (base, ours, theirs)
    settings = repository_settings(args, blobs, caller)
    return _named(args, settings, _as_logged(settings, _decide(args, blobs, settings, classifier_for), blobs))


def blob_id(data: bytes) -> str:
    """The id git gives `data` as a blob (SHA-1)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _as_logged(settings: Settings, result: Decided, blobs: tuple[bytes, bytes, bytes]) -> Decided:
    """`result` without its record, and not pointing to the log, where `settings`' merge is not logged;
    else its record names the calling git's command and, where mergebert resolved something, the blob ids
    of the versions merged (`blobs`: base, ours, theirs), from which `review --undo` makes the path
    unmerged again where git's state files do not name the commits merged (a stash applied)."""
    if not settings.logged:
        result.record, result.logged = None, False
        return result
    if result.record is not None and settings.command:
        result.record["command"] = settings.command
    if result.record is not None and settings.squash:
        result.record["squash"] = True
    if result.record is not None and "output" in result.record:
        result.record["blobs"] = [blob_id(data) for data in blobs]
    return result


def _named(args: Arguments, settings: Settings, result: Decided) -> Decided:
    """`result` named as git's messages name the file, where git writes the merge to other work-tree files
    than %P (a rename: `Settings.names`): its lines say those files, and its record lists them (`files`),
    filed under the one file, or, where both sides renamed it apart, under %P (`review.work_files`)."""
    names = settings.names
    if not names or names == [args.path]:
        return result
    from mergebert.git import decisionlog

    result.name = decisionlog.files_named(names, args.path)
    message = result.outcome.message
    if message and message.startswith(f"{args.path}: "):
        import dataclasses

        result.outcome = dataclasses.replace(result.outcome, message=result.name + message[len(args.path) :])
    if result.record is not None:
        result.record["files"] = names
        result.record["path"] = names[0] if len(names) == 1 else args.path
    return result


def _decide(
    args: Arguments,
    blobs: tuple[bytes, bytes, bytes],
    settings: Settings,
    classifier_for: Callable[[Any, Any, Any], Classifier] | None,
) -> Decided:
    """`resolve`'s result under `settings`: git's line merge for a conflict made again on request, for
    arguments with a problem and where rerere holds the user's resolution; git's merge where the
    repository declares another one for the file (`attributes`); else mergebert's (`frontend.merge_blobs`,
    which steps aside for -X options and where git's own merge is clean)."""
    from mergebert.git import attributes, frontend, gitinfo, rerere

    options, repo = settings.options, settings.repo
    if settings.remade:  # nothing to report or record: the merge's own decisions stay in the log
        data, left = frontend.line_merge(*blobs, options)
        return Decided(frontend.Outcome(data, left, left), None, quiet=True)
    if args.problem:
        return left_to_git(args, blobs, options, frontend.line_merge(*blobs, options), args.problem)
    gits = None  # git's own line merge, where rerere needs it before the resolver
    if repo is not None and settings.rerere and rerere.enabled_in(repo):
        merged = gits = frontend.line_merge(*blobs, options)
        as_written = gitinfo.to_worktree(repo, args.path)(merged[0])  # rerere reads the work tree's file
        if rerere.has_resolution(repo, as_written, options.marker_size):
            why = "git rerere holds a resolution you recorded"
            return left_to_git(args, blobs, options, merged, why, kept="left for git to replay it")
    configured = gitinfo.config_value(repo, "core.attributesFile")
    declared = attributes.declared_merge(args.path, configured)
    if declared is not None:  # the repository's .gitattributes give the file a merge of their own
        merged = attributes.merge_as_declared(declared, blobs, options, args.path)
        why = f"merge={declared} in {attributes.declared_in(args.path, declared, configured)}"
        result = left_to_git(args, blobs, options, merged, why, kept="merged as git does")
        if declared in attributes.BINARY and options.favour is None and result.record is not None:
            ours, _, theirs = options.labels  # git's own line for a binary merge, which it cannot print here
            line = f"warning: Cannot merge binary files: {args.path} ({ours} vs. {theirs})"
            result.record[GITS_LINE] = ["stderr" if settings.recursive else "stdout", line]
        return result
    pick = classifier_for or frontend.pick_classifier
    outcome = frontend.merge_blobs(
        *blobs, path=args.path, options=options, classifier=pick(args.model, args.threshold, repo), git=gits
    )
    return decided(args, blobs, options, outcome)


def git_outcome(args: Arguments, base: bytes, ours: bytes, theirs: bytes, why: str) -> Decided:
    """git's own line merge by git's binaries (`frontend.gits_merge`), independent of whatever failed."""
    from mergebert.git import frontend

    blobs = (base, ours, theirs)
    settings = repository_settings(args, blobs)
    options = settings.options
    merged = frontend.gits_merge(*blobs, options)
    return _named(args, settings, _as_logged(settings, left_to_git(args, blobs, options, merged, why), blobs))


def confirming() -> bool:
    """Whether git must stop on a file mergebert resolved something in: `mergebert.confirm` (git's own
    config reading, `git -c` included), on unless false."""
    from mergebert.git import gitcmd

    try:
        asked = ("config", "--type=bool", "--get", CONFIRM_KEY)
        value = gitcmd.git(*asked, env=gitcmd.config_env(), accept=(0, 1)).stdout.strip()
    except gitcmd.GitError as error:
        warn(f"{CONFIRM_KEY}: {error}; git stops for you to confirm")
        return True
    return value != b"false"


def _log(path: str, record: dict[str, Any] | None, located: tuple[str, str] | None) -> bool:
    """Add the file's record to the decision log (in the repository `located`, where known); whether it is
    written there. A failure is reported and changes nothing else."""
    if record is None:
        return False
    from mergebert.git import decisionlog

    try:
        return decisionlog.append(record, found=located) is not None
    except Exception as error:  # the merge result is written: only `mergebert review` misses this file
        warn(
            f"{path}: cannot write the decision log ({type(error).__name__}: {error}); `mergebert review` "
            "will not list it"
        )
        return False


def _unlogged(line: str) -> str:
    """A report line (`frontend.report_line`) without its pointer to `mergebert review`."""
    from mergebert.git import frontend

    return line.replace(f"; {frontend.REVIEW})", ")").replace(f" ({frontend.REVIEW})", "")


def _fault(stage: str) -> None:
    """A full disk at `stage` where $MERGEBERT_TEST_FAULT names it, for the tests."""
    from mergebert.core import faults

    if faults.injected(stage):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _write(
    args: Arguments,
    data: bytes,
    held: int,
    lines: list[str],
    record: dict[str, Any] | None,
    resolved: int,
    logged: bool,
    located: tuple[str, str] | None,
) -> int:
    """Write the result to %A atomically, then record it (in the repository `located`: a driver that dies
    before, driver.sh then writing git's merge, leaves no record) and print its lines, which point to
    `mergebert review` only where the record is written; the exit status
    git expects: conflicts left in `data` (`held`: its blocks, `Outcome.held`, as git counts its own
    merge's, where a conflict whose sides are equal is plain text in the merge style), or,
    in confirm mode, mergebert resolved something (`logged`: what to check it with is `mergebert review`,
    and the user's operation stops for `git add`; not so in `git merge-tree`); UNWRITTEN_STATUS when %A
    cannot be written."""
    from mergebert.core import atomic
    from mergebert.git import decisionlog

    stop = resolved > 0 and confirming()  # before the write: nothing slow is left between it and the record
    name = decisionlog.files_named(record.get("files", ()) if record is not None else (), args.path)
    gits = record.pop(GITS_LINE, None) if record is not None else None
    try:
        _fault("write")
        atomic.atomic_write(args.current, data)
    except Exception as error:
        full = isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)
        if not (full and atomic.overwritten(args.current, data)):  # %A as it was, for driver.sh
            warn(f"{args.path}: cannot write the merge result ({error}); nothing written")
            return UNWRITTEN_STATUS
    written = _log(args.path, record, located)  # before the lines that point to the log
    if gits:
        say(gits[1], stdout=gits[0] == "stdout")
    for line in lines:
        warn(line if written else _unlogged(line))
    if stop and held == 0 and logged:
        check = " (mergebert review)" if written else ""
        warn(f"{name}: left unmerged for you to confirm: check it{check}, then git add it")
    elif stop and held == 0:
        warn(f"{name}: left conflicted for you to confirm ({CONFIRM_KEY})")
    return 0 if held == 0 and not stop else args.conflict_status


def printed(args: Arguments, result: Decided) -> list[str]:
    """The lines to print for a decided file (none when it is quiet)."""
    if result.quiet:
        return []
    from mergebert.git import frontend

    return frontend.report(result.name or args.path, result.outcome, review=result.logged)


def _write_decided(args: Arguments, result: Decided, located: tuple[str, str] | None) -> int:
    outcome, lines = result.outcome, printed(args, result)
    record, resolved = result.record, outcome.resolved
    return _write(args, outcome.data, outcome.held, lines, record, resolved, result.logged, located)


def _ask_daemon(args: Arguments, base: bytes, ours: bytes, theirs: bytes, bounds: Bounds) -> Reply | None:
    from mergebert.git import daemon

    if not daemon.enabled():
        return None
    try:
        return daemon.ask(args, base, ours, theirs, bounds.deadline)
    except daemon.Unusable as error:
        if bounds.first:  # once per git operation, not once per file
            warn(f"resolver daemon not used: {error}; each file is resolved in a process of its own, slower")
        return None
    except Exception as error:  # the daemon is an optimisation: resolve here instead
        warn(f"{args.path}: resolver daemon unusable ({type(error).__name__}: {error}); resolving here")
        return None


def run(args: Arguments) -> int:
    """Merge into `args.current`; exit 0 clean, `args.conflict_status` (1) when conflicts are left.

    The per-repository daemon resolves when it can (see daemon.py); otherwise this process does, with the
    time left of the file's (`Bounds`)."""
    try:
        with open(args.base, "rb") as f:
            base = f.read()
        with open(args.current, "rb") as f:
            ours = f.read()
        with open(args.other, "rb") as f:
            theirs = f.read()
    except OSError as error:
        warn(f"{args.path}: cannot read the versions to merge ({error}); nothing written")
        return UNWRITTEN_STATUS
    for message in args.warnings:
        warn(message)
    bounds = Bounds()
    reply = _ask_daemon(args, base, ours, theirs, bounds) if bounds.left() > 0 else None
    if reply is not None and not reply.timed_out:
        bounds.spend()
        resolved = reply.conflicts - reply.left  # counted as the file shows them (`Outcome.count`)
        lines, record, logged = list(reply.lines), reply.record, reply.logged
        return _write(args, reply.data, reply.left, lines, record, resolved, logged, bounds.located)
    left = 0.0 if reply is not None else bounds.left()  # the daemon ran out of the file's time
    result = within(left, lambda: resolve(args, base, ours, theirs)) if left > 0 else None
    bounds.spend()
    if isinstance(result, BaseException):
        why = f"internal error ({type(result).__name__}: {result})"
        return _write_decided(args, git_outcome(args, base, ours, theirs, why), bounds.located)
    if result is not None:
        return _write_decided(args, result, bounds.located)
    status = _write_decided(args, git_outcome(args, base, ours, theirs, bounds.why), bounds.located)
    if left > 0:  # the resolve thread may be stuck in native code: end the process without waiting for it
        from mergebert.core import tempdirs

        tempdirs.exit_now(status)
    return status


def main(argv: list[str] | None = None) -> int:
    """Entry point for `mergebert driver` and for `python -m mergebert.git.driver` (driver.sh)."""
    argv = sys.argv[1:] if argv is None else argv
    open_standard_fds()
    write_names_as_bytes()  # a file name as git writes it in its own lines
    if argv and argv[0] in ("-h", "--help"):
        print(HELP, end="")
        return 0
    try:
        args = parse(argv)
    except UsageError as error:
        warn(f"driver: {error}; see `mergebert driver --help`")
        return UNWRITTEN_STATUS
    from mergebert.core import atomic

    atomic.interrupt_on_signals()
    try:
        return run(args)
    except KeyboardInterrupt:  # ^C, kill, a closed terminal: %A as it was (driver.sh then writes git's merge)
        return INTERRUPTED_STATUS


if __name__ == "__main__":
    raise SystemExit(main())
