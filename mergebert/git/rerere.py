"""`git rerere`: whether git holds a resolution the user recorded for a file's conflicts.

git replays such a resolution after the merge, from the conflicts it finds in the file. rerere names a
file's conflicts by an id: the SHA-1 over each conflict's two sides (the base of a diff3 conflict left
out), the smaller side first, each followed by a NUL, in file order; the resolution lives in
`rr-cache/<id>/postimage` (or `postimage.N`) of the repository's common git folder. This module computes
that id as git's rerere.c does, so the merge driver can leave such a file to git.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pygit2

from mergebert.core import gitfolders
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


def conflict_id(merged: bytes, marker_size: int) -> str | None:
    """rerere's id of the conflicts in `merged` (git's merge output), or None without well-formed ones."""
    digest = hashlib.sha1(usedforsecurity=False)
    pieces = merged.split(b"\n")  # lines as git reads them: only "\n" ends one
    lines = iter([piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else []))
    found = False
    for line in lines:
        if _is_marker(line, b"<", marker_size):
            if _conflict(lines, marker_size, digest) is None:
                return None
            found = True
    return digest.hexdigest() if found else None


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
