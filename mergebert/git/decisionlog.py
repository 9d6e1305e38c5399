"""The merge driver's record of what it decided: `$GIT_DIR/mergebert/decisions.jsonl`, read by `review`.

The first line names the git operation the driver ran in (`operation`); then one JSON line per file with
line conflicts: its conflicts (sides, what was chosen with pattern and confidence, or why each was left),
and, where mergebert resolved something, what the driver wrote and what git alone would have written
(zlib, base64), so `mergebert review --undo` can put git's conflicts back. A driver call in another
operation, or in another run of the same one (a rebase aborted and started again), replaces the log, but an
operation run while the logged one is stopped (a `git stash pop` at a rebase's stop, the autostash applied
at its end: `nested`) joins it, each of its records naming its own operation (`operation`). Past MAX_BYTES
the records of earlier steps (a rebase's picks already committed or skipped: `_slim_earlier`) lose their
texts first, then the new record does; past MAX_BYTES + SLIM_ROOM records are dropped, so the log never
grows without bound (a scan for earlier steps' texts is not made again while the log is as the last one
left it for the same step: `_note`). Every write is made under the log's lock (`LOCK`, flock), waited for
LOCK_WAIT seconds at most (`Locked`): an append is one `write` to the file opened O_APPEND, a replacement
or a slimmed log is written atomically. Beside it, `spent/` keeps, per operation, the seconds its driver calls
took (`account`), which the driver's bound on a whole operation reads. Only the standard library is used:
the driver's warm path writes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time

from mergebert.core.atomic import atomic_write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import Any

LOG = os.path.join("mergebert", "decisions.jsonl")
LOCK = os.path.join("mergebert", "decisions.lock")  # held by every write of the log
LOCK_WAIT = 1.0  # seconds a write waits for the lock before the record is skipped (`Locked`)
VERSION = 1
MAX_BYTES = 8 << 20  # records keep their texts while the log is smaller than this
SLIM_ROOM = 1 << 20  # then records without texts, until the log reaches MAX_BYTES + SLIM_ROOM
TEXTS = ("output", "git")  # what a slim record drops besides each conflict's texts
CONFLICT_TEXTS = ("ours", "base", "theirs", "text")


def pack(data: bytes) -> str:
    """Bytes as they are stored in a record."""
    import base64
    import zlib

    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def unpack(text: str) -> bytes:
    import base64
    import zlib

    return zlib.decompress(base64.b64decode(text))


def _lines(path: str) -> list[str] | None:
    """A state file's lines; None where git has not written it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return None


def _first_line(path: str) -> str:
    return next(iter(_lines(path) or ()), "").strip()


# a todo line's command as git abbreviates it
ABBREVIATIONS = {
    "p": "pick",
    "r": "reword",
    "e": "edit",
    "s": "squash",
    "f": "fixup",
    "x": "exec",
    "b": "break",
    "d": "drop",
    "l": "label",
    "t": "reset",
    "m": "merge",
    "u": "update-ref",
}
COMMIT_COMMANDS = ("pick", "reword", "edit", "squash", "fixup", "drop", "revert", "merge")  # name a commit


def todo_step(line: str) -> tuple[str, str, list[str]]:
    """A rebase or sequencer todo line as git reads it: its command by its full name ("" for a blank line
    or a comment), the commit it applies ("" where it names none: exec, label, a merge without `-C` or
    `-c`), and the words after them (a merge's label first). `fixup -C <commit>` and `merge -C <commit>
    <label>` name their commit after the option."""
    words = line.split()
    if not words or words[0].startswith("#"):
        return "", "", []
    command, rest = ABBREVIATIONS.get(words[0], words[0]), words[1:]
    optioned = command in ("fixup", "merge") and rest[:1] in (["-C"], ["-c"])
    if optioned:
        rest = rest[1:]
    if command not in COMMIT_COMMANDS or (command == "merge" and not optioned) or not rest:
        return command, "", rest
    return command, rest[0], rest[1:]


def todo_line(path: str, last: bool) -> tuple[str, str, list[str]]:
    """The first (or last) step of a rebase or sequencer todo list (`todo_step`); empty without one."""
    steps = [step for step in map(todo_step, _lines(path) or ()) if step[0]]
    return steps[-1 if last else 0] if steps else ("", "", [])


def _merge(head: str, heads: Sequence[tuple[str, str]], squash: bool = False) -> dict[str, str]:
    """A merge of `heads` (id, name) into `head`; `squash`: a `git merge --squash`, keyed apart from a merge
    of the same commits."""
    heads = sorted(heads)
    ids = " ".join(oid for oid, _ in heads)
    names = ", ".join(name for _, name in heads)
    key = f"{'squash' if squash else 'merge'} {head} {ids}"
    return {"key": key, "kind": "merge", "head": head, "commit": heads[0][0], "name": names}


RUN = "mergebert-run"  # in git's state folder of an operation: which run of it the log belongs to


def _run(folder: str, start: bool) -> str:
    """The id of the run of the operation whose state `folder` holds (git removes the folder when the run
    ends or is aborted, so one run again gets another id); `start`: make one where there is none yet
    (else "")."""
    path = os.path.join(folder, RUN)
    found = _first_line(path)
    if found or not start:
        return found
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # another driver of this run made it meanwhile
        return _first_line(path)
    try:
        os.write(fd, os.urandom(8).hex().encode("ascii") + b"\n")
    finally:
        os.close(fd)
    return _first_line(path)


def _rebase(gitdir: str, head: str, start: bool) -> dict[str, str] | None:
    """The rebase rebase-merge/ shows, in this run of it (`_run`), and the step it applies: the last one
    done."""
    folder = os.path.join(gitdir, "rebase-merge")
    orig = _first_line(os.path.join(folder, "orig-head"))
    onto = _first_line(os.path.join(folder, "onto"))
    if not (orig or onto):
        return None
    commit = todo_line(os.path.join(folder, "done"), last=True)[1]
    key = f"rebase {orig} {onto} {_run(folder, start)}"
    return {"key": key, "kind": "rebase", "head": head, "commit": commit, "name": onto}


def _applying(gitdir: str, head: str, start: bool) -> dict[str, str] | None:
    """The `git am` or `git rebase --apply` rebase-apply/ shows, in this run of it, and the patch it
    applies: the commit it came from in a rebase, else its number (`next`). Git writes the folder's onto and
    orig-head only when it stops: the run alone names the operation."""
    folder = os.path.join(gitdir, "rebase-apply")
    number = _first_line(os.path.join(folder, "next"))
    if not number:
        return None
    rebasing = os.path.exists(os.path.join(folder, "rebasing"))
    commit = _first_line(os.path.join(folder, "original-commit")) if rebasing else f"patch {number}"
    kind = "rebase" if rebasing else "am"
    name = _first_line(os.path.join(folder, "onto"))
    key = f"{kind} {_run(folder, start)}"
    return {"key": key, "kind": kind, "head": head, "commit": commit, "name": name}


def _sequence(gitdir: str, head: str, start: bool) -> dict[str, str] | None:
    """The cherry-pick or revert of several commits sequencer/ shows, in this run of it, and the first
    commit still to do."""
    folder = os.path.join(gitdir, "sequencer")
    original = _first_line(os.path.join(folder, "head"))
    if not original:
        return None
    commit = todo_line(os.path.join(folder, "todo"), last=False)[1]
    key = f"sequence {original} {_run(folder, start)}"
    return {"key": key, "kind": "sequence", "head": head, "commit": commit, "name": ""}


def _head(head: str, command: str | None = None) -> dict[str, str]:
    """An operation known by HEAD alone; `command`: the git command making it, where known."""
    op = {"key": f"head {head}", "kind": "head", "head": head, "commit": "", "name": ""}
    return {**op, "command": command} if command else op


# commands whose merge is their own, never a step of the rebase or `git am` stopped meanwhile
OWN_MERGES = ("cherry-pick", "revert", "checkout", "switch", "stash")
PICKS = ("cherry-pick", "revert")  # of OWN_MERGES, those that keep sequencer/ for several commits


def operation(
    gitdir: str, head: str, environ: Mapping[str, str], command: str | None = None, squash: bool = False
) -> dict[str, str]:
    """What git is doing while a driver runs, from what it exposes then (checked against git 2.39), as the
    git `command` running the driver names it, where known (`squash`: a `git merge --squash`).

    `git merge` sets `GITHEAD_<id>=<name>` (MERGE_HEAD is written only when it stops); a rebase keeps
    rebase-merge/ (`git am` and `rebase --apply`: rebase-apply/) while HEAD moves at every pick; a
    cherry-pick or revert of several commits keeps sequencer/ with the original head; a single cherry-pick,
    revert or stash apply shows only HEAD (also while a rebase is stopped, and the stash apply that `git
    merge --autostash` runs, which inherits the merge's GITHEAD_<id>: OWN_MERGES). `key` is the same
    for all files of one run of an operation (`_run`); `commit`: the commit being merged or applied, where
    git says."""
    if command in OWN_MERGES:  # never a step of a rebase, `git am`, picks or a merge meanwhile
        return (_sequence(gitdir, head, True) if command in PICKS else None) or _head(head, command)
    heads = [
        (key.removeprefix("GITHEAD_"), value) for key, value in environ.items() if key.startswith("GITHEAD_")
    ]
    if heads:
        return _merge(head, heads, squash)
    stepping = _rebase(gitdir, head, True) or _applying(gitdir, head, True)
    return stepping or _sequence(gitdir, head, True) or _head(head)


def _squash(gitdir: str, head: str, logged: Mapping[str, Any]) -> dict[str, str] | None:
    """The `git merge --squash` git has stopped in, as the driver named it in `logged`: git sets
    `GITHEAD_<id>` for it as for any merge, but writes no MERGE_HEAD, only SQUASH_MSG, which lists every
    commit it brings in (`commit <id>` lines); so a merge into `head` of commits all listed there. Keyed
    `squash`, or `merge` as releases before squashes were keyed apart logged it (else a log of a merge of
    the same commits into the same HEAD, abandoned: its records are of the same versions)."""
    listed = _lines(os.path.join(gitdir, "SQUASH_MSG")) or ()
    commits = {line.split()[1] for line in listed if line.startswith("commit ") and len(line.split()) == 2}
    words = str(logged.get("key", "")).split(" ")
    ids = words[2:]
    if words[0] not in ("squash", "merge") or words[1:2] != [head] or not ids or not commits.issuperset(ids):
        return None
    return _merge(head, [(oid, "") for oid in ids], squash=words[0] == "squash")


def _last_move(gitdir: str) -> tuple[list[str], str]:
    """HEAD's last move as its reflog (`logs/HEAD`) records it: the ids it moved from and to, and git's
    message."""
    last = (_lines(os.path.join(gitdir, "logs", "HEAD")) or [""])[-1]
    moved, _, message = last.partition("\t")
    return moved.split()[:2], message


def _switched(gitdir: str, head: str, logged: Mapping[str, Any]) -> dict[str, str] | None:
    """The `checkout -m` or `switch -m` the driver named as `logged`: it merged on the HEAD it then left,
    so it is the operation still stopped where HEAD's reflog ends by that move (from the logged HEAD to
    `head`)."""
    if logged.get("kind") != "head" or logged.get("command") not in ("checkout", "switch"):
        return None
    moved, message = _last_move(gitdir)
    if moved != [logged.get("head"), head] or not message.startswith("checkout: moving from "):
        return None
    return _head(str(logged["head"]))


def ended_merge(gitdir: str, head: str, logged: Mapping[str, Any]) -> bool:
    """Whether HEAD's last move is the commit that ended the merge `logged` names (`concluded`): from the
    HEAD it merged into to `head`, by `git merge` itself ("merge <name>: Merge made by the '<strategy>'
    strategy.", or "pull <arguments>: …" under `git pull`) or by the `git commit` (or `merge --continue`)
    concluding it once stopped ("commit (merge): …"); for a squash merge, by the `git commit` that follows
    it ("commit: …"), as git 2.39 words them. A fast-forward is never it: the logged merge ran the driver."""
    moved, message = _last_move(gitdir)
    if logged.get("kind") != "merge" or moved != [logged.get("head"), head]:
        return False
    made = message.partition(": ")[2].startswith("Merge made by the ")
    merged = made or message.startswith("commit (merge): ")
    ended = message.startswith("commit: ") if str(logged.get("key", "")).startswith("squash ") else merged
    return ended and concluded(gitdir, head, logged)


def concluded(gitdir: str, head: str, logged: Mapping[str, Any]) -> bool:
    """Whether `head` is a commit that concludes the merge `logged` names: its first parent the HEAD merged
    into, the others the commits merged (a squash merge's: none)."""
    words = str(logged.get("key", "")).split(" ")
    merged = [] if words[0] == "squash" else sorted(words[2:])
    parents = _parents(gitdir, head)
    return parents[:1] == [logged.get("head")] and sorted(parents[1:]) == merged


def _parents(gitdir: str, commit: str) -> list[str]:
    """The parents of `commit`, in order (none where git cannot read it)."""
    from mergebert.git import gitcmd

    proc = gitcmd.git("--git-dir", gitdir, "rev-parse", f"{commit}^@", accept=range(256))
    return proc.stdout.decode("ascii", "replace").split() if proc.returncode == 0 else []


def stopped(gitdir: str, head: str, logged: Mapping[str, Any]) -> list[dict[str, str]]:
    """What `operation` may have named for the driver in the operation git has stopped in now: a merge by
    its MERGE_HEAD (a squash merge, which has none, by SQUASH_MSG and the operation `logged`), a rebase, `git
    am`, a sequence of picks, and last HEAD alone (a single cherry-pick or revert, a stash applied, and
    `checkout -m`: the HEAD it left, `_switched`)."""
    merged = [
        (line.split()[0], "") for line in _lines(os.path.join(gitdir, "MERGE_HEAD")) or () if line.strip()
    ]
    found = [
        _merge(head, merged) if merged else _squash(gitdir, head, logged),
        _rebase(gitdir, head, False),
        _applying(gitdir, head, False),
        _sequence(gitdir, head, False),
        _switched(gitdir, head, logged),
    ]
    return [op for op in found if op is not None] + [_head(head)]


def operation_of(header: Mapping[str, Any], record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The operation `record` was made in: its own, where it joined the log of another (`nested`), else the
    one `header` names."""
    return record.get("operation") or header


def _step(header: Mapping[str, Any], record: Mapping[str, Any]) -> tuple[str, str]:
    """The step of an operation `record` was made at: the operation's key and the commit it applied."""
    return str(operation_of(header, record).get("key")), record.get("commit", "")


def current(gitdir: str, head: str, header: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """Whether a record of the log that `header` opens was made in an operation git has stopped in now, for
    the commit it is applying (the step git is at)."""
    steps: dict[str, set[tuple[str, str]]] = {}  # per operation logged: the steps git is stopped at

    def now(record: Mapping[str, Any]) -> bool:
        key, commit = _step(header, record)
        if key not in steps:
            logged = operation_of(header, record)
            steps[key] = {(op["key"], op["commit"]) for op in stopped(gitdir, head, logged)}
        return (key, commit) in steps[key]

    return now


def running(gitdir: str, head: str, header: Mapping[str, Any]) -> bool:
    """Whether the operation `header` names is one git has stopped in now (at any of its steps)."""
    return any(op["key"] == header.get("key") for op in stopped(gitdir, head, header))


def nested(
    gitdir: str, head: str, header: Mapping[str, Any], op: Mapping[str, Any], environ: Mapping[str, str]
) -> bool:
    """Whether operation `op`, not the one `header` names, runs within it. `op` must be one known by HEAD
    alone (`kind` "head": an own merge of OWN_MERGES, a stash applied or a single cherry-pick, or one whose
    git command is unknown), run while git is stopped in the logged merge, rebase, `git am` or picks, or be
    the stash apply of the autostash that ends the logged merge (`_autostash_of`)."""
    if op.get("kind") != "head" or header.get("kind") in (None, "head"):
        return False
    return running(gitdir, head, header) or _autostash_of(gitdir, head, header, op, environ)


def _autostash_of(
    gitdir: str, head: str, header: Mapping[str, Any], op: Mapping[str, Any], environ: Mapping[str, str]
) -> bool:
    """Whether `op` is the stash apply of the autostash of the logged merge `header` as it ends: one that
    inherits the merge's `GITHEAD_<id>`s on the commit concluding it (`git merge --autostash` applying it,
    no reflog needed: `concluded`; a fast-forward to the merged commit is not it), or one run
    as git runs an autostash (`_autostash_apply`, where /proc shows it) right after the commit that ended
    the merge (`ended_merge`: that of the `git commit` concluding it)."""
    if header.get("kind") != "merge" or op.get("command") not in (None, "stash"):
        return False
    inherited = sorted(key.removeprefix("GITHEAD_") for key in environ if key.startswith("GITHEAD_"))
    if inherited and inherited == sorted(str(header.get("key", "")).split(" ")[2:]):
        return concluded(gitdir, head, header)
    return _autostash_apply() is not False and ended_merge(gitdir, head, header)


def _autostash_apply() -> bool | None:
    """Whether the git command running the driver is `git stash apply <full id>`, as git 2.39 applies an
    autostash (a stash the user pops or applies is named otherwise); None where /proc does not show it."""
    from mergebert.git import processes

    found = processes.nearest_git(process=processes.proc_entry) if processes.has_proc() else None
    if found is None:
        return None
    args = found[1][1:]
    full = len(args) == 3 and len(args[2]) in (40, 64) and all(c in "0123456789abcdef" for c in args[2])
    return args[:2] == ["stash", "apply"] and full


def locate() -> tuple[str, str] | None:
    """The git directory of the repository git runs the driver in, and HEAD's id ("" when unborn);
    None outside a repository (a driver run by hand)."""
    from mergebert.git import gitcmd

    proc = gitcmd.git("rev-parse", "--absolute-git-dir", "HEAD", accept=range(256))
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if not lines or not os.path.isdir(lines[0]):
        return None
    return lines[0], lines[1] if proc.returncode == 0 and len(lines) > 1 else ""


def files_named(files: Sequence[str], path: str) -> str:
    """The file a driver's lines name: the work-tree files git writes its merge to (a record's `files`,
    where a rename made them other than the path git handed the driver), else `path`."""
    return " and ".join(files) or path


def slim(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without its texts: what was decided is kept, undo is no longer possible."""
    kept = {key: value for key, value in record.items() if key not in TEXTS}
    kept["conflicts_detail"] = [
        {key: value for key, value in detail.items() if key not in CONFLICT_TEXTS}
        for detail in record.get("conflicts_detail", ())
    ]
    kept["slim"] = True
    return kept


def _line(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, separators=(",", ":")) + "\n").encode("ascii")


class Locked(OSError):
    """The log's lock held by another process for longer than LOCK_WAIT: the record is not written."""


@contextlib.contextmanager
def _locked(gitdir: str) -> Iterator[int | None]:
    """The log's lock (`LOCK`), held until the block ends: one writer of the log at a time; its file's
    descriptor (which also keeps `_scanned`'s note), or None where it cannot be made or taken (a read-only
    git folder, a file system without flock), the log then written without it. Locked where another
    process holds it for LOCK_WAIT seconds (one stopped in its write, say): the merge is not held up."""
    fd = None
    with contextlib.suppress(OSError):
        fd = os.open(os.path.join(gitdir, LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fd is not None and not _take(fd):
            raise Locked(
                f"another process has held its lock ({os.path.join(gitdir, LOCK)}) for {LOCK_WAIT:g} s"
            )
        yield fd
    finally:
        if fd is not None:
            os.close(fd)  # which releases the lock


def _take(fd: int) -> bool:
    """Take the lock on `fd` within LOCK_WAIT seconds; whether it was taken (True where the file system has
    no flock: the write goes ahead without it)."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        except OSError:
            return True


def _scanned(fd: int | None) -> list[Any] | None:
    """The note `_note` keeps in the lock file: the log (inode, size) and the step it was at when
    `_slim_earlier` last left nothing to drop; None without one."""
    if fd is None:
        return None
    with contextlib.suppress(OSError, ValueError):
        note = json.loads(os.pread(fd, os.fstat(fd).st_size, 0).split(b"\n", 1)[0])
        return note if isinstance(note, list) else None
    return None


def _note(fd: int | None, path: str, step: tuple[str, str]) -> None:
    """Note in the lock file that the log at `path`, as it is now, holds nothing `_slim_earlier` would drop
    for a record of `step`: its first line, written under the lock over the last one (a note torn by a crash
    is read as none)."""
    if fd is None:
        return
    with contextlib.suppress(OSError):
        info = os.stat(path)
        os.pwrite(fd, json.dumps([info.st_ino, info.st_size, *step]).encode("ascii") + b"\n", 0)


def _slim_earlier(path: str, gitdir: str, head: str, header: Mapping[str, Any], step: tuple[str, str]) -> int:
    """Drop the texts of the log's records made at earlier steps: neither at `step` (the new record's) nor
    at one git is stopped at (`current`), so `--undo` cannot make their paths unmerged again. The log is
    rewritten atomically where that changes it; its size after."""
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    stopped_at = current(gitdir, head, header)
    kept = lines[:1]
    for raw in lines[1:]:
        if b'"slim":true' in raw:  # as `_line` writes a slim record: nothing left to drop
            kept.append(raw)
            continue
        try:
            record = json.loads(raw)
        except ValueError:  # torn by a crash
            continue
        earlier = isinstance(record, dict) and _step(header, record) != step and not stopped_at(record)
        kept.append(_line(slim(record)) if earlier else raw)
    data = b"".join(kept)
    if len(data) < sum(map(len, lines)):
        atomic_write(path, data)
    return len(data)


def _room(
    path: str, found: tuple[str, str], header: Mapping[str, Any], record: Mapping[str, Any], fd: int | None
) -> tuple[int, bool]:
    """The log's size for `record` to go in, and whether the record takes it past MAX_BYTES: then after the
    texts of earlier steps are dropped (`_slim_earlier`; not again where the lock file's note says the log
    is as it was when that last left nothing to drop for the record's step)."""
    size = os.path.getsize(path)
    if size + len(_line(record)) <= MAX_BYTES:
        return size, False
    step, info = _step(header, record), os.stat(path)
    if _scanned(fd) != [info.st_ino, info.st_size, *step]:
        size = _slim_earlier(path, *found, header, step)
    return size, True


def _fitted(size: int, record: Mapping[str, Any]) -> bytes | None:
    """`record`'s line for a log of `size` bytes: without its texts past MAX_BYTES (`slim`); None past
    MAX_BYTES + SLIM_ROOM."""
    line = _line(record)
    if size + len(line) > MAX_BYTES:
        line = _line(slim(record))
    return line if size + len(line) <= MAX_BYTES + SLIM_ROOM else None


def _joined(
    gitdir: str,
    head: str,
    header: Mapping[str, Any] | None,
    op: Mapping[str, Any],
    environ: Mapping[str, str],
) -> Mapping[str, Any] | None:
    """The operation whose log a record made in `op` goes into: the logged one (`header`) where `op` is it
    or runs within it (`nested`); None where `op` starts a new log."""
    if header is None:
        return None
    return header if header.get("key") == op["key"] or nested(gitdir, head, header, op, environ) else None


def _add(path: str, line: bytes) -> None:
    """Append `line` to the log at `path` in one `write` (O_APPEND)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def append(
    record: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    found: tuple[str, str] | None = None,
) -> str | None:
    """Add one file's record to the log of the operation in progress (replacing a log of another one, or of
    another run of it, unless the record's operation runs within it: `nested`), as the record's `command`
    names it (the git command running the driver); the log's path, or None when the log is full or there
    is no repository (Locked where another process holds the log's lock too long). `found`: `locate`'s
    answer, where the caller has it already."""
    found = found or locate()
    if found is None:
        return None
    gitdir, head = found
    environ = os.environ if environ is None else environ
    op = operation(gitdir, head, environ, record.get("command"), bool(record.get("squash")))
    path = os.path.join(gitdir, LOG)
    full = {**record, "commit": op["commit"], "time": time.time()}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with _locked(gitdir) as fd:
        header = _joined(gitdir, head, read_header(path), op, environ)
        if header is None:
            start = _line({**op, "version": VERSION, "time": time.time()})
            line = _fitted(len(start), full)
            if line is not None:
                atomic_write(path, start + line)
            return path if line is not None else None
        if header.get("key") != op["key"]:
            full["operation"] = {**op, "time": time.time()}
        size, past = _room(path, found, header, full, fd)
        line = _fitted(size, full)
        if line is not None:
            _add(path, line)
        if past:  # `_slim_earlier` has left nothing to drop for this step
            _note(fd, path, _step(header, full))
    return path if line is not None else None


SPENT = os.path.join("mergebert", "spent")  # per operation: the seconds each of its driver calls took
PAUSE = 30.0  # seconds without a driver call after which an operation's account is forgotten


def _calling_git() -> str:
    """The git command running the driver: the pid and start time of the nearest `git` process above this
    one (`processes.nearest_git`), where /proc shows it; else ""."""
    from mergebert.git import processes

    found = processes.nearest_git(process=processes.proc_entry) if processes.has_proc() else None
    if found is None:
        return ""
    try:
        with open(f"/proc/{found[0]}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return ""
    return f"{found[0]} {fields[19].decode('ascii')}"  # the stat's 22nd field: the start time


def account(found: tuple[str, str] | None) -> str | None:
    """The file where the driver calls of the operation in progress, and of the git command running them
    (`_calling_git`: a merge aborted and made again, each `rebase --continue`, is one of its own), add up
    their seconds (`spent`, `spend`), in the repository `found` (`locate`'s answer); None outside one."""
    import hashlib

    if found is None:
        return None
    gitdir, head = found
    key = f"{operation(gitdir, head, os.environ)['key']} {_calling_git()}"
    return os.path.join(gitdir, SPENT, hashlib.sha256(key.encode()).hexdigest()[:16])


def spent(path: str) -> float | None:
    """The seconds the driver calls of the operation whose account is `path` took; None before the first
    (or after a pause of PAUSE seconds: the user's own work between two commands of one operation)."""
    try:
        if time.time() - os.path.getmtime(path) > PAUSE:
            return None
        with open(path, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    total = 0.0
    for line in lines:
        try:
            total += float(line)
        except ValueError:  # torn by a crash
            continue
    return total


def spend(path: str, seconds: float) -> None:
    """Add a driver call's `seconds` to the account at `path`: one append (concurrent drivers each add
    theirs), or, for the first call, a new account written atomically, after the accounts no longer used
    are removed."""
    line = f"{seconds:.3f}\n".encode("ascii")
    if spent(path) is None:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        for entry in os.scandir(folder):
            try:
                if time.time() - entry.stat().st_mtime > PAUSE:
                    os.unlink(entry.path)
            except OSError:  # another driver removed it
                continue
        atomic_write(path, line)
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_header(path: str) -> dict[str, Any] | None:
    """The operation a log belongs to; None when there is no readable log."""
    try:
        with open(path, "rb") as f:
            header = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    return header if isinstance(header, dict) and "key" in header else None


def read(gitdir: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The log's operation and its records, oldest first (a line torn by a crash is skipped)."""
    path = os.path.join(gitdir, LOG)
    header = read_header(path)
    if header is None:
        return None
    records = []
    with open(path, "rb") as f:
        f.readline()
        for raw in f:
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and "path" in record:
                records.append(record)
    return header, records
