"""`git rerere`: whether git holds a resolution the user recorded for a file's conflicts.

git replays such a resolution after the merge, from the conflicts it finds in the file. rerere names a
file's conflicts by an id: the SHA-1 over each conflict's two sides (the base of a diff3 conflict left
out), the smaller side first, each followed by a NUL, in file order; the resolution lives in
`rr-cache/<id>/postimage` (or `postimage.N`) of the repository's common git folder. This module computes
that id as git's rerere.c does, so the merge driver can leave such a file to git; and, for `review --undo`,
records a conflict put back as git does when a merge stops (`record_preimage`), so that the resolution the
user commits is recorded and replayed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pygit2

from mergebert.core import gitfolders
from mergebert.core.atomic import atomic_write
from mergebert.git import gitinfo


def _is_marker(line: bytes, char: bytes, size: int) -> bool:
    """rerere's `is_cmarker`: `size` marker characters, then a space for `<` and `>`, any whitespace for
    `|` and `=` (their label is optional)."""
    if not line.startswith(char * size):
        return False
    after = line[size : size + 1]
    return after == b" " if char in (b"<", b">") else after.isspace()


def _conflict(lines: Iterator[bytes], size: int, digest: hashlib._Hash | None) -> bytes | None:
    """The conflict whose `<` marker was just read, normalised as rerere writes it (None: malformed);
    its sides go into `digest`. A conflict nested in a side is part of that side."""
    side, one, two = "one", [], []
    for line in lines:
        if _is_marker(line, b"<", size):
            nested = _conflict(lines, size, None)
            if nested is None:
                return None
            (one if side == "one" else two).append(nested)
        elif _is_marker(line, b"|", size):
            if side != "one":
                return None
            side = "base"
        elif _is_marker(line, b"=", size):
            if side == "two":
                return None
            side = "two"
        elif _is_marker(line, b">", size):
            if side != "two":
                return None
            first, second = sorted((b"".join(one), b"".join(two)))
            if digest is not None:
                digest.update(first + b"\0")
                digest.update(second + b"\0")
            return b"".join((b"<" * size, b"\n", first, b"=" * size, b"\n", second, b">" * size, b"\n"))
        elif side == "one":
            one.append(line)
        elif side == "two":
            two.append(line)
    return None


def _scan(merged: bytes, marker_size: int) -> tuple[str, bytes] | None:
    """rerere's id of the conflicts in `merged` (git's merge output) and the preimage it records (the file
    with each conflict normalised), or None without well-formed conflicts."""
    digest = hashlib.sha1(usedforsecurity=False)
    pieces = merged.split(b"\n")  # lines as git reads them: only "\n" ends one
    lines = iter([piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else []))
    found, out = False, []
    for line in lines:
        if _is_marker(line, b"<", marker_size):
            normalised = _conflict(lines, marker_size, digest)
            if normalised is None:
                return None
            out.append(normalised)
            found = True
        else:
            out.append(line)
    return (digest.hexdigest(), b"".join(out)) if found else None


def conflict_id(merged: bytes, marker_size: int) -> str | None:
    """rerere's id of the conflicts in `merged` (git's merge output), or None without well-formed ones."""
    scanned = _scan(merged, marker_size)
    return scanned[0] if scanned is not None else None


def enabled_in(repo: pygit2.Repository) -> bool:
    """`rerere.enabled`, which defaults to whether an rr-cache folder exists."""
    value = gitinfo.config_value(repo, "rerere.enabled")
    if value is None:
        return (common_dir(repo) / "rr-cache").is_dir()
    return gitinfo.git_bool(value)


def common_dir(repo: pygit2.Repository) -> Path:
    """The git folder shared by all work trees (a linked work tree's own folder names it)."""
    return Path(gitfolders.common_dir(repo.path))


def has_resolution(repo: pygit2.Repository, merged: bytes, marker_size: int) -> bool:
    """Whether git's rerere (see `enabled_in`) holds a resolution of the conflicts in `merged`, the file
    as written to the work tree (line endings and other filters applied), which rerere reads."""
    found = conflict_id(merged, marker_size)
    if found is None:
        return False
    folder = common_dir(repo) / "rr-cache" / found
    return folder.is_dir() and any(entry.name.startswith("postimage") for entry in folder.iterdir())


MERGE_RR = "MERGE_RR"  # in the work tree's git folder: `<id>[.<variant>]\t<path>\0` per conflicted path


def _merge_rr(repo: pygit2.Repository) -> list[tuple[str, bytes]]:
    """MERGE_RR's entries: (id with its variant, path); none without the file."""
    try:
        data = (Path(repo.path) / MERGE_RR).read_bytes()
    except OSError:
        return []
    entries = []
    for entry in data.split(b"\0"):
        conflict, tab, path = entry.partition(b"\t")
        if tab:
            entries.append((conflict.decode("ascii", "replace"), path))
    return entries


def _variants(folder: Path, name: str) -> set[int]:
    """The variants of `name` (preimage or postimage) recorded in a conflict's rr-cache folder."""
    found = set()
    for entry in folder.iterdir() if folder.is_dir() else ():
        if entry.name == name:
            found.add(0)
        elif entry.name.startswith(name + ".") and entry.name[len(name) + 1 :].isdigit():
            found.add(int(entry.name[len(name) + 1 :]))
    return found


def record_preimage(repo: pygit2.Repository, path: str, merged: bytes, marker_size: int) -> str | None:
    """Record the conflicts git's merge left in unmerged `path` (`merged`, the file as the work tree has
    it) as `git rerere` does when a merge stops: their preimage in a new variant of `rr-cache/<id>/` and
    the path in MERGE_RR (under git's lock on it), so the resolution `git commit` finds there is recorded,
    then replayed by the next merge with these conflicts. Nothing where rerere is off, where the file holds
    no conflict, or where a resolution of them (or the path with them) is recorded already; what went
    wrong, if anything."""
    if not enabled_in(repo):
        return None
    scanned = _scan(merged, marker_size)
    if scanned is None:
        return None
    conflict, preimage = scanned
    lock = Path(repo.path) / (MERGE_RR + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        return f"{path}: cannot record the conflict for git rerere: {lock}: {error.strerror}"
    replaced = False
    try:
        encoded = path.encode("utf-8", "surrogateescape")
        entries = _merge_rr(repo)
        folder = common_dir(repo) / "rr-cache" / conflict
        pre, post = _variants(folder, "preimage"), _variants(folder, "postimage")
        if pre & post or (conflict, encoded) in [(e.split(".")[0], p) for e, p in entries]:
            return None  # git replays it, or has it recorded
        variant = next(n for n in range(len(pre | post) + 1) if n not in pre | post)
        suffix = f".{variant}" if variant else ""
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"preimage{suffix}", preimage)
        kept = sorted([(p, e) for e, p in entries if p != encoded] + [(encoded, conflict + suffix)])
        with os.fdopen(os.dup(fd), "wb") as out:  # sorted by path, as git writes it
            out.write(b"".join(e.encode("ascii") + b"\t" + p + b"\0" for p, e in kept))
        os.replace(lock, Path(repo.path) / MERGE_RR)
        replaced = True
    except OSError as error:
        return f"{path}: cannot record the conflict for git rerere: {error.strerror or error}"
    finally:
        os.close(fd)
        if not replaced:
            lock.unlink(missing_ok=True)
    return None
