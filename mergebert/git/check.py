"""`mergebert check [FILES...]`: find conflict markers in what is about to be committed.

Used by the pre-commit hook (and the pre-commit framework's `mergebert-check`). Without FILES it checks
the staged version of every file the commit adds or changes; with FILES, their staged version (the
working file for paths not staged). It reports `file:line` for each marker and suggests
`mergebert resolve`. Reading goes through git itself, so a temporary index (`git commit -a`) is honoured.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mergebert.core import markers
from mergebert.core.textio import is_binary
from mergebert.git import frontend, gitcmd, gitinfo


@dataclass(frozen=True)
class Marker:
    """One conflict marker line."""

    path: str
    line: int
    text: str


def find_markers(path: str, data: bytes, size: int = 7) -> list[Marker]:
    """Marker lines: every `<<<<<<<` and `>>>>>>>` line, and `|||||||` / `=======` inside a conflict."""
    found, inside = [], False
    for number, line in enumerate(data.split(b"\n"), 1):
        kind = markers.kind(line, size)
        if kind in ("<", ">") or (inside and kind is not None):
            found.append(Marker(path, number, line.rstrip(b"\r").decode("utf-8", "replace")))
        if kind in ("<", ">"):
            inside = kind == "<"
    return found


def staged_paths() -> list[str]:
    """Files the commit adds, copies, modifies or renames."""
    out = gitcmd.git("diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR").stdout
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def staged_blobs(paths: Sequence[str], top: str | None = None) -> dict[str, bytes]:
    """The staged (stage 0) content of those of `paths` that are regular files in the index; the paths
    are relative to the work tree's `top` where given, else to the current folder."""
    if not paths:
        return {}
    listing = gitcmd.git("--literal-pathspecs", "ls-files", "--stage", "-z", "--", *paths, cwd=top).stdout
    entries = listing.decode("utf-8", "surrogateescape").split("\0")
    ids = {}
    for entry in filter(None, entries):
        info, path = entry.split("\t", 1)
        mode, oid, stage = info.split()
        if stage == "0" and mode in ("100644", "100755"):
            ids[path] = oid
    out = gitcmd.git("cat-file", "--batch", data="".join(f"{oid}\n" for oid in ids.values()).encode()).stdout
    blobs, offset = {}, 0
    for path in ids:
        header_end = out.index(b"\n", offset)
        size = int(out[offset:header_end].split()[2])
        blobs[path] = out[header_end + 1 : header_end + 1 + size]
        offset = header_end + 1 + size + 1
    return blobs


def scan(files: Iterable[tuple[str, str | None, bytes]]) -> list[Marker]:
    """Markers in every non-binary file (its name as shown, its path in the work tree or None outside it,
    its content), with each path's conflict-marker-size."""
    repo = gitinfo.open_repo_gently(".")
    markers = []
    for shown, in_tree, data in files:
        if not is_binary(data):
            markers += find_markers(shown, data, gitinfo.marker_size(repo, in_tree))
    return markers


def _top() -> str | None:
    """The work tree's top, or None outside one."""
    proc = gitcmd.git("rev-parse", "--show-toplevel", accept=range(256))
    return proc.stdout.decode("utf-8", "surrogateescape").rstrip("\n") if proc.returncode == 0 else None


def _in_tree(path: str, top: str | None) -> str | None:
    """`path`, named from the current folder, as a path in the work tree at `top`; None outside it."""
    if top is None:
        return None
    inside = os.path.relpath(os.path.realpath(path), os.path.realpath(top))
    return None if inside == os.pardir or inside.startswith(os.pardir + os.sep) else inside


def run(files: Sequence[str]) -> int:
    """0 when no staged file holds a conflict marker; 1 (with a report on stderr) otherwise. The staged
    files are named from the work tree's top, FILES as given."""
    try:
        top = _top()
        paths = list(files) or staged_paths()
        blobs = staged_blobs(paths, None if files else top)
    except gitcmd.GitError as error:
        frontend.warn(f"check: {error}")
        return 2
    contents = []
    for path in paths:
        in_tree = _in_tree(path, top) if files else path  # the staged paths are named from the top
        if path in blobs:
            contents.append((path, in_tree, blobs[path]))
        elif files:
            try:
                with open(path, "rb") as f:
                    contents.append((path, in_tree, f.read()))
            except OSError:
                continue
    markers = scan(contents)
    if not markers:
        return 0
    frontend.warn("conflict markers in files to be committed:")
    for marker in markers:
        print(f"  {marker.path}:{marker.line}: {marker.text}", file=sys.stderr)
    print(
        "Resolve them first: `mergebert resolve` settles what it can, edit the rest by hand, then `git add`."
        "\n(To commit anyway: git commit --no-verify.)",
        file=sys.stderr,
    )
    return 1
