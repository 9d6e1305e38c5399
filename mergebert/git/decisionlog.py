"""The merge driver's record of what it decided: `$GIT_DIR/mergebert/decisions.jsonl`, read by `review`.

The first line names the git operation the driver ran in (`operation`); then one JSON line per file with
line conflicts: its conflicts (sides, what was chosen with pattern and confidence, or why each was left),
and, where mergebert resolved something, what the driver wrote and what git alone would have written
(zlib, base64), so `mergebert review --undo` can put git's conflicts back. A driver call in another
operation replaces the log; past MAX_BYTES records lose their texts, past MAX_BYTES + SLIM_ROOM they are
dropped, so the log never grows without bound. Appends are single `write`s to a file opened O_APPEND and
a replacement is atomic. Only the standard library is used: the driver's warm path writes it.
"""

from __future__ import annotations

import json
import os
import time

from mergebert.core.atomic import atomic_write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

LOG = os.path.join("mergebert", "decisions.jsonl")
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


def _todo_commit(path: str, last: bool) -> str:
    """The commit named by the first (or last) command of a rebase or sequencer todo list."""
    lines = [line.split() for line in _lines(path) or () if line.strip() and not line.startswith("#")]
    words = lines[-1 if last else 0] if lines else []
    return words[1] if len(words) >= 2 else ""


def _merge(head: str, heads: Sequence[tuple[str, str]]) -> dict[str, str]:
    """A merge of `heads` (id, name) into `head`."""
    heads = sorted(heads)
    ids = " ".join(oid for oid, _ in heads)
    names = ", ".join(name for _, name in heads)
    return {"key": f"merge {head} {ids}", "kind": "merge", "head": head, "commit": heads[0][0], "name": names}


def _rebase(gitdir: str, head: str) -> dict[str, str] | None:
    """The rebase rebase-merge/ (or rebase-apply/) shows, and the pick it applies: the last one done."""
    for folder in ("rebase-merge", "rebase-apply"):
        orig = _first_line(os.path.join(gitdir, folder, "orig-head"))
        onto = _first_line(os.path.join(gitdir, folder, "onto"))
        if orig or onto:
            commit = _todo_commit(os.path.join(gitdir, folder, "done"), last=True)
            return {
                "key": f"rebase {orig} {onto}",
                "kind": "rebase",
                "head": head,
                "commit": commit,
                "name": onto,
            }
    return None


def _sequence(gitdir: str, head: str) -> dict[str, str] | None:
    """The cherry-pick or revert of several commits sequencer/ shows, and the first commit still to do."""
    original = _first_line(os.path.join(gitdir, "sequencer", "head"))
    if not original:
        return None
    commit = _todo_commit(os.path.join(gitdir, "sequencer", "todo"), last=False)
    return {"key": f"sequence {original}", "kind": "sequence", "head": head, "commit": commit, "name": ""}


def _head(head: str) -> dict[str, str]:
    return {"key": f"head {head}", "kind": "head", "head": head, "commit": "", "name": ""}


def operation(gitdir: str, head: str, environ: Mapping[str, str]) -> dict[str, str]:
    """What git is doing while a driver runs, from what it exposes then (checked against git 2.39).

    `git merge` sets `GITHEAD_<id>=<name>` (MERGE_HEAD is written only when it stops); a rebase keeps
    rebase-merge/ (or rebase-apply/) with orig-head and onto while HEAD moves at every pick; a cherry-pick
    or revert of several commits keeps sequencer/ with the original head; a single cherry-pick, revert or
    stash apply shows only HEAD. `key` is the same for all files of one operation; `commit`: the commit
    being merged or applied, where git says."""
    heads = [
        (key.removeprefix("GITHEAD_"), value) for key, value in environ.items() if key.startswith("GITHEAD_")
    ]
    if heads:
        return _merge(head, heads)
    return _rebase(gitdir, head) or _sequence(gitdir, head) or _head(head)


def _squash(gitdir: str, head: str, logged: Mapping[str, Any]) -> dict[str, str] | None:
    """The `git merge --squash` git has stopped in, as the driver named it in `logged`: git sets
    `GITHEAD_<id>` for it as for any merge, but writes no MERGE_HEAD, only SQUASH_MSG, which lists every
    commit it brings in (`commit <id>` lines); so a merge into `head` of commits all listed there."""
    listed = _lines(os.path.join(gitdir, "SQUASH_MSG")) or ()
    commits = {line.split()[1] for line in listed if line.startswith("commit ") and len(line.split()) == 2}
    words = str(logged.get("key", "")).split(" ")
    ids = words[2:]
    if words[:2] != ["merge", head] or not ids or not commits.issuperset(ids):
        return None
    return _merge(head, [(oid, "") for oid in ids])


def stopped(gitdir: str, head: str, logged: Mapping[str, Any]) -> list[dict[str, str]]:
    """What `operation` may have named for the driver in the operation git has stopped in now: a merge by
    its MERGE_HEAD (a squash merge, which has none, by SQUASH_MSG and the operation `logged`), a rebase, a
    sequence of picks, and last HEAD alone (a single cherry-pick or revert, `checkout -m`, a stash
    applied)."""
    merged = [
        (line.split()[0], "") for line in _lines(os.path.join(gitdir, "MERGE_HEAD")) or () if line.strip()
    ]
    found = [
        _merge(head, merged) if merged else _squash(gitdir, head, logged),
        _rebase(gitdir, head),
        _sequence(gitdir, head),
    ]
    return [op for op in found if op is not None] + [_head(head)]


def in_progress(gitdir: str, head: str, header: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether `record`, of the log that `header` opens, was made in the operation git has stopped in now,
    for the commit it is applying."""
    return any(
        op["key"] == header.get("key") and op["commit"] == record.get("commit", "")
        for op in stopped(gitdir, head, header)
    )


def locate() -> tuple[str, str] | None:
    """The git directory of the repository git runs the driver in, and HEAD's id ("" when unborn);
    None outside a repository (a driver run by hand)."""
    from mergebert.git import gitcmd

    proc = gitcmd.git("rev-parse", "--absolute-git-dir", "HEAD", accept=range(256))
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if not lines or not os.path.isdir(lines[0]):
        return None
    return lines[0], lines[1] if proc.returncode == 0 and len(lines) > 1 else ""


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


def append(record: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> str | None:
    """Add one file's record to the log of the operation in progress (replacing a log of another one);
    the log's path, or None when the log is full or there is no repository."""
    found = locate()
    if found is None:
        return None
    gitdir, head = found
    op = operation(gitdir, head, os.environ if environ is None else environ)
    path = os.path.join(gitdir, LOG)
    full = {**record, "commit": op["commit"], "time": time.time()}
    header = read_header(path)
    start = (
        b""
        if header is not None and header.get("key") == op["key"]
        else _line({**op, "version": VERSION, "time": time.time()})
    )
    size = len(start) or os.path.getsize(path)
    line = _line(full)
    if size + len(line) > MAX_BYTES:
        line = _line(slim(full))
        if size + len(line) > MAX_BYTES + SLIM_ROOM:
            return None
    if start:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, start + line)
        return path
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return path


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
