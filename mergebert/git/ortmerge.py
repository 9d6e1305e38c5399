"""git's own line merge of a file as git's commands make it: the ort strategy's (`git merge`, `rebase`,
`cherry-pick`, `revert`), by `git merge-tree --write-tree` over a scratch repository; and the one of the
commands that diff with Myers (`checkout -m`, `am -3`, the recursive strategy, before git 2.50), by `git
checkout -m` of the three versions as the stages of a scratch index.

ort diffs with the histogram algorithm; `git merge-file` diffs with Myers (before git 2.44 it cannot be
told otherwise) and also joins two conflicts that lines without letters or digits separate, however
many, which none of git's merges does. So the two can place conflicts differently, and now and then one
of them merges cleanly where the other does not. A merge driver that falls back to git's merge must give
what git alone would have written: this one.

The three versions become commits of a one-file tree (`f`, which no attribute pattern of the user's
routes to a merge driver) in a bare repository made once per process; git runs with no global or system
config and no attributes besides the marker size. Its markers are longer than any line of the sides
starts with, so none can be taken for a line; their labels (placeholder branches, or the "ours", "base"
and "theirs" of `checkout -m`) and size are then made the real ones (`_marked_as`).

Told to ignore whitespace (`-X ignore-space-change` and its kin), git's merge is one neither `git
merge-file` nor git 2.39's `git merge-tree` can be asked for: it is made by a real `git merge --no-commit
-X ...` (`-s recursive` for the Myers engine) in a repository and work tree of its own, made for the call
in a folder of the scratch one, so that no two calls share a HEAD or an index.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from mergebert.core import markers, tempdirs
from mergebert.core.options import Favour, MergeOptions
from mergebert.git import gitcmd

TIMEOUT = 10.0
NAME = "f"
_SIGNATURE = pygit2.Signature("mergebert", "mergebert@localhost", 0, 0)


class Scratch:
    """A bare repository in a temporary folder, with placeholder branch names for the labels."""

    def __init__(self) -> None:
        folder = tempdirs.make("mergebert-ort-")
        self.repo = pygit2.init_repository(folder, bare=True)
        self.folder = Path(folder)
        tag = secrets.token_hex(8)
        self.ours, self.theirs = f"mergebert-ours-{tag}", f"mergebert-theirs-{tag}"
        self.repo.config["core.attributesFile"] = os.devnull
        # neither the user's repository nor their config (`git -c` included)
        self.env = {
            k: v for k, v in gitcmd.without_repository(os.environ).items() if not k.startswith("GIT_CONFIG")
        }
        self.env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)

    def git(
        self,
        *args: str,
        settings: dict[str, str],
        given: bytes | None = None,
        accept: tuple[int, ...] = (0,),
        **env: str,
    ) -> subprocess.CompletedProcess[bytes]:
        """`git -c NAME=VALUE... ARGS` in the scratch repository (`env`: more of its variables, a work
        tree's); RuntimeError where it exits with a status not in `accept`."""
        configured = [part for name, value in settings.items() for part in ("-c", f"{name}={value}")]
        done = subprocess.run(
            ["git", *configured, *args],
            input=given,
            cwd=env.get("GIT_WORK_TREE", self.folder),
            env={**self.env, "GIT_DIR": str(self.folder), **env},
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        if done.returncode not in accept:
            raise RuntimeError(
                f"git {args[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')}"
            )
        return done


@functools.cache
def _scratch() -> Scratch:
    return Scratch()


def _committed(repo: pygit2.Repository, data: bytes, parents: list[pygit2.Oid]) -> pygit2.Oid:
    """A commit of `repo` whose tree holds `data` as the file `f` alone."""
    builder = repo.TreeBuilder()
    builder.insert(NAME, repo.create_blob(data), FileMode.BLOB)
    return repo.create_commit(None, _SIGNATURE, _SIGNATURE, "v", builder.write(), parents)


def merge(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """What git writes for the file by `options.engine` (ort's merge, else the Myers one of `checkout
    -m`), in `options`' style, marker size and labels, and the number of conflicts in it; with
    `options.favour` (`-X ours|theirs`), git's conflicts each given to that side. Raises OSError,
    subprocess.SubprocessError or RuntimeError where git cannot do it (too old for `merge-tree
    --write-tree`, no room for the scratch repository). With `options.whitespace`, git's merge ignoring
    that whitespace (`_whitespace_merge`)."""
    line_merge = _merge_tree if options.engine == "ort" else _checkout_merge
    line_merge = _whitespace_merge if options.whitespace else line_merge
    if options.favour is None:
        return line_merge(base, ours, theirs, options)
    safe = replace(options, marker_size=_unheld_marker_size(base, ours, theirs), style="merge", favour=None)
    merged, left = line_merge(base, ours, theirs, safe)
    if left == 0:
        return merged, 0
    favoured, last = _favoured(merged, safe, options.favour)
    side = {"ours": ours, "theirs": theirs}.get(options.favour)
    if last and side is not None and not side.endswith(b"\n") and favoured.endswith(b"\n"):
        # the markers end each side with a line break; git's favoured merge keeps the side's own ending
        favoured = favoured[: -2 if favoured.endswith(b"\r\n") else -1]
    return favoured, 0


def _favoured(merged: bytes, options: MergeOptions, favour: Favour) -> tuple[bytes, bool]:
    """Each conflict of `merged` (merge style, markers `options` wrote) replaced by `favour`'s side of it,
    as git's line merge gives a conflict to the favoured side (union: ours, then theirs); and whether
    the file ends with a conflict."""
    out: list[bytes] = []
    last = False
    sides: dict[str, list[bytes]] = {}
    side: str | None = None
    pieces = merged.split(b"\n")
    for line in [piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else []):
        kind = markers.kind(line, options.marker_size)
        if side is None and kind == "<":
            side, sides = "ours", {"ours": [], "theirs": []}
        elif side == "ours" and kind == "=":
            side = "theirs"
        elif side == "theirs" and kind == ">":
            chosen = {"ours": ["ours"], "theirs": ["theirs"], "union": ["ours", "theirs"]}[favour]
            out.extend(kept for name in chosen for kept in sides[name])
            side, last = None, True
        elif side is None:
            out.append(line)
            last = False
        else:
            sides[side].append(line)
    return b"".join(out), last


def _merge_tree(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """`git merge-tree --write-tree` of the three versions: the file and its number of conflicts."""
    scratch = _scratch()
    size = _branched(scratch.repo, scratch, base, ours, theirs)
    settings = {"merge.conflictStyle": options.style}
    merging = ("merge-tree", "--write-tree", scratch.ours, scratch.theirs)
    done = scratch.git(*merging, settings=settings, accept=(0, 1))  # 1: conflicts
    tree = scratch.repo[done.stdout.split(b"\n", 1)[0].decode()].peel(pygit2.Tree)
    merged = scratch.repo[tree[NAME].id].read_raw() if NAME in tree else b""
    if done.returncode == 0:
        return merged, 0
    return _conflicted(merged, size, scratch.ours.encode(), scratch, options)


def _whitespace_merge(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """`git merge --no-commit -X <each of options.whitespace>` of the three versions, by the ort strategy
    (the recursive one for the Myers engine), in a repository of its own (HEAD on ours, its own index and
    work tree) in a folder of the scratch one: the file and its number of conflicts."""
    scratch = _scratch()
    with tempfile.TemporaryDirectory(dir=scratch.folder) as folder:
        own = pygit2.init_repository(folder, initial_head=scratch.ours)
        size = _branched(own, scratch, base, ours, theirs)
        settings = {
            "merge.conflictStyle": options.style,
            "core.hooksPath": os.devnull,
            "core.attributesFile": os.devnull,  # the user's global attributes would apply to NAME
            "user.name": _SIGNATURE.name,
            "user.email": _SIGNATURE.email,
        }
        tree = {"GIT_DIR": own.path, "GIT_WORK_TREE": folder}
        scratch.git("read-tree", "--reset", "-u", "HEAD", settings=settings, **tree)
        strategy = "ort" if options.engine == "ort" else "recursive"
        ignoring = [part for kind in options.whitespace for part in ("-X", kind)]
        merging = ("merge", "--no-commit", "--no-ff", "-q", "-s", strategy, *ignoring, scratch.theirs)
        done = scratch.git(*merging, settings=settings, accept=(0, 1), **tree)  # 1: conflicts
        merged = (Path(folder) / NAME).read_bytes()
        own.index.read(True)
        if done.returncode == 0:
            return merged, 0
        if own.index.conflicts is None:  # it failed before merging
            raise RuntimeError(f"git merge failed: {done.stderr.decode(errors='replace')}")
    return _conflicted(merged, size, b"HEAD", scratch, options)


def _branched(repo: pygit2.Repository, scratch: Scratch, base: bytes, ours: bytes, theirs: bytes) -> int:
    """In `repo`: a base commit, and ours and theirs on it as the scratch repository's placeholder branches;
    the file's markers given a size no line of the versions starts with (`info/attributes`), returned."""
    root = _committed(repo, base, [])
    heads = {scratch.ours: _committed(repo, ours, [root]), scratch.theirs: _committed(repo, theirs, [root])}
    for branch, oid in heads.items():
        repo.references.create(f"refs/heads/{branch}", oid, force=True)
    size = _unheld_marker_size(base, ours, theirs)
    (Path(repo.path) / "info").mkdir(exist_ok=True)
    (Path(repo.path) / "info" / "attributes").write_text(f"{NAME} conflict-marker-size={size}\n")
    return size


def _conflicted(
    merged: bytes, size: int, ours: bytes, scratch: Scratch, options: MergeOptions
) -> tuple[bytes, int]:
    """A merge git left conflicts in, on markers of `size` labelled `ours`, the base's abbreviated id and
    the placeholder theirs branch, given `options`' size and labels; and its conflicts, at least one."""
    written = (re.escape(ours), rb"[0-9a-f]{4,40}", re.escape(scratch.theirs.encode()))
    merged, count = _marked_as(merged, size, written, options)
    return merged, max(count, 1)


def _unheld_marker_size(*blobs: bytes) -> int:
    """A marker size no line of the blobs starts with a run of (a marker of it is git's, never a line)."""
    return markers.longest_run(*(data.decode("utf-8", "replace") for data in blobs)) + 8


CHECKOUT_NAME = "m"  # the file `_checkout_merge` merges: neither `f` nor any pattern of the user's


def _checkout_merge(base: bytes, ours: bytes, theirs: bytes, options: MergeOptions) -> tuple[bytes, int]:
    """`git checkout -m` of the three versions as the stages of an index of the scratch repository, in a
    folder of its own: the file and its number of conflicts. Its labels, "ours", "base" and "theirs", are
    on markers no line of the sides starts with, then given `options`' size and labels."""
    scratch = _scratch()
    size = _unheld_marker_size(base, ours, theirs)
    with tempfile.TemporaryDirectory(dir=scratch.folder) as folder:
        work = Path(folder)
        (work / "attributes").write_text(f"{CHECKOUT_NAME} conflict-marker-size={size}\n")
        stages = "".join(
            f"100644 {scratch.repo.create_blob(data)} {stage}\t{CHECKOUT_NAME}\n"
            for stage, data in ((1, base), (2, ours), (3, theirs))
        )
        settings = {"core.attributesFile": str(work / "attributes"), "merge.conflictStyle": options.style}
        index = {"GIT_INDEX_FILE": str(work / "index"), "GIT_WORK_TREE": folder}
        scratch.git("update-index", "--index-info", settings=settings, given=stages.encode(), **index)
        scratch.git("checkout", "-m", "--", CHECKOUT_NAME, settings=settings, **index)
        merged = (work / CHECKOUT_NAME).read_bytes()
    return _marked_as(merged, size, (b"ours", b"base", b"theirs"), options)


def _marked_as(
    merged: bytes, size: int, written: tuple[bytes, bytes, bytes], options: MergeOptions
) -> tuple[bytes, int]:
    """git's conflict markers in `merged`, of `size` (longer than any line of the sides starts with) and
    with the labels `written` matches (patterns: ours, base, theirs), given `options`' size and labels;
    and the number of conflicts (0 without a marker: a clean merge)."""
    ours, base, theirs = options.labels
    labels = {b"<": _bytes(ours), b"|": _bytes(base), b"=": b"", b">": _bytes(theirs)}
    count = 0

    def replace(found: re.Match[bytes]) -> bytes:
        nonlocal count
        char = found.group(0)[:1]
        count += char == b"<"
        return char * options.marker_size + (b" " + labels[char] if labels[char] else b"")

    pattern = rb"^(?:<{%d} %s|\|{%d} %s|={%d}|>{%d} %s)(?=\r?$)"
    found = pattern % (size, written[0], size, written[1], size, size, written[2])
    return re.sub(found, replace, merged, flags=re.MULTILINE), count


def _bytes(label: str) -> bytes:
    """A label as git writes it: a branch or file name that is not UTF-8 (surrogate escapes) as its bytes."""
    return label.encode("utf-8", "surrogateescape")
