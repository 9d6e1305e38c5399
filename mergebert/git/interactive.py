"""The one interactive loop, shared by `mergebert resolve -i` and `mergebert mergetool --interactive`.

For each conflict a file still shows, it prints the three sides with their labels, then the resolver's
suggestions (`resolve_text(..., suggest=True)`: up to three distinct texts that pass the parse check, in
the model's order), each as a diff against ours with its pattern and confidence, and reads one key, as
`git add -p` does. The answers become the conflicts' resolutions, which `marked.py` puts into the working
file like any other: hand edits and every other byte stay, a skipped conflict keeps git's markers. With
`--all` the regions the merge driver resolved in the operation git has stopped in (its record for the
commit being applied, whose conflicts are those git holds now), where nobody has edited them since, are
first turned back into git's conflicts, each whole (`review.undo`), asked about the same way, and kept as
the driver wrote them when skipped.

Answers are read one line at a time straight from the file descriptor, unbuffered, so that a script can
pipe them in and whatever follows is left to the next reader (git mergetool's own prompts, the tool it
runs for the next file); the end of the input is `q`, and ^C ends the command before anything is
written. While the `e` editor runs, ^C is the editor's, as git leaves it (`launch_editor`): the command
ends only with an editor that ^C ends. rich colours the output only on a terminal, and never with
NO_COLOR set; it is imported here only, never on the merge driver's path.
"""

from __future__ import annotations

import difflib
import os
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergebert.core import atomic, markers
from mergebert.core.linemerge import LineConflict, conflicts_of, merge_lines, render
from mergebert.core.options import MergeOptions
from mergebert.core.textio import decode_sides, dominant_eol, shown_lines
from mergebert.git import frontend, gitcmd, gitinfo, marked
from mergebert.git.colour import wants_colour

if TYPE_CHECKING:
    import pygit2

    from mergebert.core.resolver import Resolution

HELP = """\
o - take ours
t - take theirs
b - take both: ours, then theirs
e - edit the conflict in your editor, starting from its markers
s - skip: leave the conflict as it was (marked, or as the merge driver resolved it)
q - quit: keep what was decided, leave the conflicts not answered as they were
? - print help
Ctrl-C - abort: write nothing at all (in the editor: the editor's, as in git)"""


def help_text(suggestions: int) -> str:
    """The keys' help, the suggestion numbers only where there are suggestions to take."""
    numbers = ",".join(str(number) for number in range(1, suggestions + 1))
    return f"{numbers} - take that suggestion\n{HELP}" if numbers else HELP


DIFF_CONTEXT = 3  # unchanged lines of ours shown around each change in a suggestion's diff


class Terminal:
    """Where questions go (stdout, through rich) and answers come from (a file descriptor, one line each)."""

    def __init__(self, fd: int = 0, colour: bool | None = None) -> None:
        from rich.console import Console

        colour = wants_colour() if colour is None else colour
        self.console = Console(
            color_system="standard" if colour else None,
            force_terminal=colour,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=True,
        )
        self.fd = fd
        self.echo = not os.isatty(fd)  # scripted answers: end the prompt's line ourselves

    def say(self, text: str = "", style: str | None = None, end: str = "\n") -> None:
        self.console.print(text, style=style, end=end)

    def answer(self, prompt: str) -> str | None:
        """The next line of input after `prompt`, stripped; None at the end of the input. ^C raises
        KeyboardInterrupt: the command stops, writing nothing."""
        self.say(prompt, "bold blue", end="")
        self.console.file.flush()
        line = bytearray()
        try:
            while (byte := os.read(self.fd, 1)) not in (b"", b"\n"):
                line += byte
        except OSError:  # no input at all: as at its end
            self.say()
            return None
        if self.echo:
            self.say(line.decode("utf-8", "replace"))
        elif not byte:  # ^D on a terminal, which echoes no line break: the prompt's line ends here
            self.say()
        return None if not byte and not line else line.decode("utf-8", "replace").strip()


@dataclass(frozen=True)
class Question:
    """One conflict to answer."""

    path: str
    number: int  # among the file's questions, from 1
    total: int
    conflict: LineConflict
    resolution: Resolution
    marked: str  # the conflict as git writes it: the editor's starting text
    options: MergeOptions
    driver: dict[str, Any] | None = None  # the merge driver's record, where it resolved the conflict


@dataclass(frozen=True)
class Choice:
    text: str | None  # the conflict's resolution; None: it stays marked
    note: str  # for the report: "suggestion 2 (B)", "ours", "theirs", "both", "edited", "skipped"


@dataclass(frozen=True)
class Session:
    """A file's answers applied to its working file."""

    applied: marked.Applied
    notes: dict[int, str]  # per conflict asked (by index): what became of it
    remarks: tuple[str, ...] = ()  # the merge driver's resolutions not asked about, and why


@dataclass(frozen=True)
class Reopened:
    """A working file with the merge driver's resolutions, where nobody has edited them since, turned back
    into git's conflicts (`mergebert review --undo`'s way), so that `--all` can ask about them."""

    data: bytes
    decisions: dict[int, dict[str, Any]]  # the driver's record of each conflict it resolved, by index
    remarks: tuple[str, ...]  # what is not reopened, and why (a region edited since)


def reopen(repo: pygit2.Repository, path: str, working: bytes) -> Reopened | None:
    """`working` with the driver's resolutions reopened: those of the operation git has stopped in, for the
    conflicts git holds unmerged for `path` now (`review.current_record`); None when there are none."""
    from mergebert.git import review

    record = review.current_record(repo, path)
    if record is None or "output" not in record:
        return None
    undone = review.undo(record, working, gitinfo.to_worktree(repo, path))
    decisions = {d["index"]: d for d in record["conflicts_detail"] if d.get("text") is not None}
    return Reopened(undone.data, decisions, tuple(undone.refused))


PLACED_OTHERWISE = (
    "the merge driver's resolutions not asked about: git's conflicts there are placed otherwise than "
    "mergebert finds them"
)


def _reopened(
    repo: pygit2.Repository, path: str, working: bytes, known: Sequence[marked.Region], size: int
) -> Reopened:
    """`reopen`, where every conflict it puts back is one of `known` (so that it is asked about, and kept
    when skipped); otherwise `working` as it is."""
    reopened = reopen(repo, path, working)
    if reopened is None:
        return Reopened(working, {}, ())
    if marked.apply(reopened.data, known, size).unmatched > marked.apply(working, known, size).unmatched:
        return Reopened(working, {}, (*reopened.remarks, PLACED_OTHERWISE))
    return reopened


def without_markers(
    repo: pygit2.Repository | None, path: str, working: bytes, blobs: Sequence[bytes], size: int
) -> str:
    """Why `working` holds no conflict block: a block half-edited (`frontend.unpaired`, `blobs` being the
    versions merged), the merge driver's own result, left for the user to confirm (the decision log holds
    it, unedited since), or an edit."""
    if frontend.unpaired(working, blobs, size):
        return frontend.UNPAIRED
    reopened = reopen(repo, path, working) if repo is not None and repo.workdir else None
    if reopened is not None and reopened.decisions and not reopened.remarks:
        return "the merge driver resolved it; check it (mergebert review), then git add it"
    return "no conflict markers in it (resolved by hand?)"


def _with_eol(text: str, eol: str) -> str:
    return text + eol if text and not text.endswith("\n") else text


def _diff(ours: str, text: str) -> list[str]:
    """`text` against ours, line by line, without headers; hunks apart are separated by `...`."""
    diff = difflib.unified_diff(shown_lines(ours), shown_lines(text), n=DIFF_CONTEXT, lineterm="")
    shown = ["..." if line.startswith("@@") else line for line in list(diff)[2:]]
    return shown[1:] if shown[:1] == ["..."] else shown


class Asker:
    """Asks about the conflicts of one file after another, until the answers run out or say `q`."""

    def __init__(self, terminal: Terminal, *, ask_all: bool = False, cwd: str | None = None) -> None:
        self.terminal = terminal
        self.ask_all = ask_all  # also the conflicts mergebert resolves by itself
        self.cwd = cwd
        self.quit = False

    def resolve(
        self,
        repo: pygit2.Repository | None,
        path: str,
        working: bytes,
        blobs: Sequence[bytes],
        options: MergeOptions,
        resolutions: Sequence[Resolution],
    ) -> Session:
        """Ask about each conflict `working` still marks that mergebert left (with ask_all: every one, and
        those the merge driver resolved); apply the answers with mergebert's own resolutions of the rest."""
        known = marked.worktree_regions(repo, path, blobs, options, resolutions)
        reopened = Reopened(working, {}, ())
        if self.ask_all and repo is not None:
            reopened = _reopened(repo, path, working, known, options.marker_size)
        opened = reopened.data
        found = marked.apply(opened, known, options.marker_size).found
        was = marked.apply(working, known, options.marker_size).found
        driver = {
            index: decision
            for index, decision in reopened.decisions.items()
            if index < len(found) and found[index] and not was[index]
        }
        (base, ours, theirs), _ = decode_sides(*blobs)
        conflicts = conflicts_of(merge_lines(base, ours, theirs))
        eol = dominant_eol(ours)
        asked = [
            index
            for index, (resolution, still) in enumerate(zip(resolutions, found, strict=True))
            if still and (resolution.text is None or self.ask_all)
        ]
        decided = list(resolutions)
        notes = {}
        for number, index in enumerate(asked, 1):
            conflict = conflicts[index]
            question = Question(
                path,
                number,
                len(asked),
                conflict,
                resolutions[index],
                render([conflict], options, eol=eol),
                options,
                driver.get(index),
            )
            choice = None if self.quit else self.ask(question, eol)
            if choice is None:
                self.quit = True
                choice = Choice(None, "left (quit)")
            if choice.text is None and index in driver:  # skipped: as the driver resolved it
                choice = Choice(driver[index]["text"], "the driver's resolution kept")
            decided[index] = replace(resolutions[index], text=choice.text)
            notes[index] = choice.note
        applied = marked.resolve_working_file(repo, path, opened, blobs, options, decided)
        return Session(applied, notes, reopened.remarks)

    def ask(self, question: Question, eol: str) -> Choice | None:
        """The user's answer to one question; None when they quit or the answers run out."""
        self.show(question)
        suggestions = question.resolution.suggestions
        keys = [str(n) for n in range(1, len(suggestions) + 1)] + list("otbesq?")
        prompt = f"({question.number}/{question.total}) Resolve this conflict [{','.join(keys)}]? "
        conflict = question.conflict
        while True:
            key = self.terminal.answer(prompt)
            if key is None or key == "q":
                return None
            if key.isdigit() and 1 <= int(key) <= len(suggestions):
                suggestion = suggestions[int(key) - 1]
                return Choice(suggestion.text, f"suggestion {key} ({suggestion.describe()})")
            if key == "o":
                return Choice(conflict.ours, "ours")
            if key == "t":
                return Choice(conflict.theirs, "theirs")
            if key == "b":
                return Choice(_with_eol(conflict.ours, eol) + conflict.theirs, "both")
            if key == "s":
                return Choice(None, "skipped")
            if key == "e":
                edited = self.edit(question)
                if edited is not None:
                    return Choice(edited, "edited")
                continue
            self.terminal.say(help_text(len(suggestions)), "red" if key not in ("?", "") else None)

    def show(self, question: Question) -> None:
        """The conflict's three sides with their labels, then the suggestions as diffs against ours."""
        say = self.terminal.say
        resolution, conflict = question.resolution, question.conflict
        if question.driver is not None:
            pattern, confidence = question.driver["pattern"], question.driver["confidence"]
            state = f"the merge driver resolved it ({pattern}, confidence {confidence:.2f})"
        elif resolution.text is None:
            state = f"left: {resolution.reason}"
        elif (candidate := resolution.candidate) is not None:
            state = f"mergebert resolved it ({candidate.describe()}, confidence {candidate.confidence:.2f})"
        else:
            state = "mergebert resolved it"
        say()
        say(f"{question.path}: conflict {question.number} of {question.total} ({state})", "bold")
        ours_label, base_label, theirs_label = question.options.labels
        for marker, text in (
            (f"<<<<<<< ours: {ours_label}", conflict.ours),
            (f"||||||| base: {base_label}", conflict.base),
            ("=======", conflict.theirs),
        ):
            say(marker, "cyan")
            say(text, end="" if text.endswith("\n") or not text else "\n")
        say(f">>>>>>> theirs: {theirs_label}", "cyan")
        for number, suggestion in enumerate(resolution.suggestions, 1):
            say(f"[{number}] {suggestion.describe()}, confidence {suggestion.confidence:.2f}", "bold")
            diff = _diff(conflict.ours, suggestion.text)
            if not diff:
                say("    (the same as ours)")
            for line in diff:
                say(f"    {line}", {"-": "red", "+": "green"}.get(line[:1]))
        if not resolution.suggestions:
            say("(no suggestion passes the parse check)")

    def edit(self, question: Question) -> str | None:
        """The conflict as the user leaves it in their editor (`git var GIT_EDITOR`); None when the editor
        fails or a conflict-marker line (of the conflict's marker size) is left in it that no side holds
        (a heading underlined with seven `=` is a side's line, not a marker)."""
        editor = _editor(self.cwd)
        with tempfile.TemporaryDirectory(prefix="mergebert-edit-") as folder:
            target = Path(folder) / Path(question.path).name
            target.write_bytes(question.marked.encode("utf-8"))
            status = _run_editor(_editor_command(editor, str(target)), self.cwd)
            text = target.read_bytes().decode("utf-8", "replace")
        if status != 0:
            self.terminal.say(f"the editor ({editor}) failed with exit status {status}", "red")
            return None
        conflict, size = question.conflict, question.options.marker_size
        sides = (conflict.ours, conflict.base, conflict.theirs)
        held = {line for side in sides for line in shown_lines(side)}
        left = [line for line in text.splitlines() if markers.kind(line, size) and line not in held]
        if left:
            self.terminal.say(
                f"the edited conflict still holds conflict markers ({left[0]}); answer s to leave it", "red"
            )
            return None
        return text


SHELL_CHARACTERS = set("|&;<>()$`\\\"' \t\n*?[#~=%")  # git runs an editor command holding one with sh


def _editor_command(editor: str, target: str) -> list[str]:
    """The editor's command line for `target`, as git's `prepare_shell_cmd` makes it: the editor itself, or
    `sh -c` where it holds shell syntax or arguments."""
    if SHELL_CHARACTERS.intersection(editor):
        return ["sh", "-c", f'{editor} "$@"', editor, target]
    return [editor, target]


def _default_signals() -> None:
    """In the editor's process, before it starts: ^C, a kill and a closed terminal do what they do by
    default (or what it makes them), not what `atomic.uninterrupted` makes them in mergebert's."""
    for number in atomic.UNINTERRUPTING:
        signal.signal(number, signal.SIG_DFL)


def _run_editor(command: Sequence[str], cwd: str | None) -> int:
    """Run the editor as git's `launch_editor` does: ^C is the editor's while it runs (mergebert ignores
    SIGINT until it ends, so vim's own ^C ends nothing), but an editor that ^C ends ends the command too
    (KeyboardInterrupt). Its exit status (127 where it cannot be started)."""
    with atomic.uninterrupted():
        try:
            status = subprocess.Popen(command, cwd=cwd, preexec_fn=_default_signals).wait()
        except OSError:
            status = 127
    if status in (-signal.SIGINT, 128 + signal.SIGINT):  # killed by it, or its shell reporting so
        raise KeyboardInterrupt
    return status


def _editor(cwd: str | None) -> str:
    """The editor git would start: GIT_EDITOR, core.editor, VISUAL, EDITOR, then git's default."""
    try:
        found = gitcmd.git("var", "GIT_EDITOR", cwd=cwd).stdout.decode().strip()
    except gitcmd.GitError:
        found = ""
    return found or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
