"""`mergebert check [FILES...]`: find conflict markers in what is about to be committed.

Used by the pre-commit hook (and the pre-commit framework's `mergebert-check`). Without FILES it checks
the staged version of every file the commit adds or changes (and names, in one line, the unmerged files
still holding markers, which git commits none of); with FILES, their staged version (the
working file, whole, for paths not staged), a folder standing for the files git tracks under it, and a
path that matches nothing an error, as git's pathspecs are. In a staged file only the lines the commit
adds count, as with `git diff --cached --check`: those new against HEAD (its rename source for a renamed
file) and, in a merge, against each commit merged (MERGE_HEAD's; in `git merge`'s pre-merge-commit hook,
which runs before git writes MERGE_HEAD, the GITHEAD_* variables git sets), so that marker-like lines a
file already held (a test's data) do not refuse every later commit of it, nor a merge bringing them in,
while a conflict left in a merge still does. It reports `file:line` for each marker and suggests
`mergebert resolve`, and how to commit anyway (in `git merge`'s hook: `git commit --no-verify`, as git
leaves the merge in progress). Reading goes through git itself, so a temporary index (`git commit -a`)
is honoured.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pygit2
from pygit2.enums import DiffOption

from mergebert.core import markers, messages
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


def staged_paths() -> dict[str, str]:
    """Files the commit adds, copies, modifies or renames, each with the path it comes from (its own, or a
    renamed or copied file's source)."""
    out = gitcmd.git("diff", "--cached", "--no-relative", "--name-status", "-z", "--diff-filter=ACMR").stdout
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    paths, at = {}, 0
    while at + 1 < len(fields):
        if fields[at][:1] in ("R", "C"):
            paths[fields[at + 2]] = fields[at + 1]
            at += 3
        else:
            paths[fields[at + 1]] = fields[at + 1]
            at += 2
    return paths


def _cat_files(names: Sequence[str]) -> list[bytes | None]:
    """The blob each name (an object id, or `REV:PATH`) names, through `git cat-file --batch`; None where
    there is none."""
    asked = [name for name in names if "\n" not in name]
    if not asked:
        return [None] * len(names)
    out = gitcmd.git("cat-file", "--batch", data="".join(f"{name}\n" for name in asked).encode()).stdout
    found, offset = {}, 0
    for name in asked:
        header_end = out.index(b"\n", offset)
        header = out[offset:header_end].split(b" ")
        offset = header_end + 1
        if header[-1].isdigit():  # else "<name> missing" or "<name> ambiguous"
            size = int(header[-1])
            found[name] = out[offset : offset + size] if header[1] == b"blob" else None
            offset += size + 1
    return [found.get(name) for name in names]


def staged_blobs(paths: Sequence[str], top: str) -> dict[str, bytes]:
    """The staged (stage 0) content of those of `paths` (relative to the work tree's `top`) that are
    regular files in the index."""
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
    return {
        path: data for path, data in zip(ids, _cat_files(list(ids.values())), strict=True) if data is not None
    }


GITHEAD = re.compile(r"GITHEAD_([0-9a-f]{40}|[0-9a-f]{64})")  # what `git merge` sets for each commit merged


def merged_heads() -> tuple[list[str], bool]:
    """The commits being merged, and whether they come from `git merge`'s GITHEAD_* variables: MERGE_HEAD's
    (one or, for an octopus, several), else, where git has yet to write it (its pre-merge-commit hook), the
    commits `git merge` names in its environment; none outside a merge."""
    path = gitcmd.git("rev-parse", "--git-path", "MERGE_HEAD").stdout.decode("utf-8", "surrogateescape")
    try:
        with open(path.rstrip("\n"), "rb") as f:
            return f.read().decode("ascii", "replace").split(), False
    except FileNotFoundError:
        pass
    merged = [found[1] for found in map(GITHEAD.fullmatch, os.environ) if found]
    return merged, bool(merged)


def added_lines(staged: dict[str, tuple[str, bytes]], parents: Sequence[str]) -> dict[str, set[int]]:
    """Per staged file (the path it comes from in the parents, its content), the numbers of its lines that
    a diff against each of the commit's `parents`' version shows added; all its lines where none has it."""
    before = iter(_cat_files([f"{parent}:{source}" for source, _ in staged.values() for parent in parents]))
    added = {}
    for path, (_, data) in staged.items():
        lines = set(range(1, data.count(b"\n") + 2))
        for old in filter(None, [next(before) for _ in parents]):
            patch = pygit2.Patch.create_from(old, data, flag=int(DiffOption.FORCE_TEXT), context_lines=0)
            lines &= {line.new_lineno for hunk in patch.hunks for line in hunk.lines if line.origin == "+"}
        added[path] = lines
    return added


def scan(files: Iterable[tuple[str, str | None, bytes]]) -> list[Marker]:
    """Markers in every non-binary file (its name as shown, its path in the work tree or None outside it,
    its content), with each path's conflict-marker-size."""
    repo = gitinfo.open_repo_gently(".")
    markers = []
    for shown, in_tree, data in files:
        if not is_binary(data):
            markers += find_markers(shown, data, gitinfo.marker_size(repo, in_tree))
    return markers


def _top() -> str:
    """The work tree's top; GitError, with git's reason, where git finds none (or refuses the repository)."""
    return gitcmd.git("rev-parse", "--show-toplevel").stdout.decode("utf-8", "surrogateescape").rstrip("\n")


def _in_tree(path: str, top: str) -> str | None:
    """`path`, named from the current folder, as a path in the work tree at `top`; None outside it."""
    inside = os.path.relpath(os.path.realpath(path), os.path.realpath(top))
    return None if inside == os.pardir or inside.startswith(os.pardir + os.sep) else inside


class PathError(Exception):
    """A path given that `check` cannot take (one matching no file), in one line."""


def _tracked(tree: str, top: str) -> list[str]:
    """The files the index holds at or under `tree` (a path in the work tree at `top`), at any stage."""
    listing = gitcmd.git("--literal-pathspecs", "ls-files", "-z", "--", tree, cwd=top).stdout
    return list(dict.fromkeys(filter(None, listing.decode("utf-8", "surrogateescape").split("\0"))))


def _in_head(tree: str, top: str) -> bool:
    """Whether HEAD holds `tree` (a path in the work tree at `top`): a file the commit deletes."""
    return gitcmd.git("cat-file", "-e", f"HEAD:{tree}", cwd=top, accept=range(256)).returncode == 0


def _named(files: Sequence[str], top: str) -> dict[str, str | None]:
    """Each of `files` as shown → its path in the work tree at `top` (None outside it); a folder stands for
    the files git tracks under it, each shown from it (`src/App.java` for `src`), as git's pathspecs match
    them. PathError for a folder outside the work tree, for one holding no file git tracks and for a path
    neither there nor in the index (git's `ls-files --error-unmatch`), nor in HEAD (a file the commit
    deletes: nothing to check)."""
    named: dict[str, str | None] = {}
    for path in files:
        tree, unmatched = _in_tree(path, top), f"pathspec '{path}' did not match any file(s) known to git"
        if not os.path.isdir(path):
            if not os.path.lexists(path) and (
                tree is None or not (_tracked(tree, top) or _in_head(tree, top))
            ):
                raise PathError(unmatched)
            named[path] = tree
            continue
        if tree is None:
            raise PathError(f"'{path}' is outside repository at '{top}'")
        under = _tracked(tree, top)
        if not under:
            raise PathError(unmatched)
        for inside in under:
            named[os.path.normpath(os.path.join(path, os.path.relpath(inside, tree)))] = inside
    return named


def unmerged_with_markers(top: str) -> list[str]:
    """The unmerged files (named from the work tree's `top`) whose working file holds conflict markers:
    `check` without FILES leaves them, as git commits none of them, but says so."""
    listing = gitcmd.git("ls-files", "--unmerged", "-z", cwd=top).stdout.decode("utf-8", "surrogateescape")
    paths = dict.fromkeys(entry.split("\t", 1)[1] for entry in listing.split("\0") if "\t" in entry)
    contents = []
    for path in paths:
        full = os.path.join(top, path)
        if os.path.isfile(full) and not os.path.islink(full):
            try:
                with open(full, "rb") as f:
                    contents.append((path, path, f.read()))
            except OSError:
                continue
    return list(dict.fromkeys(marker.path for marker in scan(contents)))


ANYWAY = "To commit anyway: git commit --no-verify."
# refused in `git merge`'s pre-merge-commit hook, after which git leaves the merge in progress
ANYWAY_IN_MERGE = (
    "To commit anyway: git commit --no-verify concludes the merge; git merge --no-verify skips the check."
)


def _say_unmerged(top: str) -> None:
    """One line naming the unmerged files that still hold conflict markers, if any."""
    try:
        held = unmerged_with_markers(top)
    except gitcmd.GitError:  # what git cannot list is not for `check` to refuse
        return
    if held:
        plural = "s" if len(held) > 1 else ""
        frontend.warn(
            f"check: {len(held)} unmerged file{plural} still hold{'' if plural else 's'} conflict markers "
            f"(not checked: not staged): {messages.some_of(held)}"
        )


def run(files: Sequence[str]) -> int:
    """0 when no staged file adds a conflict marker (and no named file not staged holds one); 1 (with a
    report on stderr) otherwise; 2 where git cannot tell, or a path given matches nothing (`_named`). The
    staged files are named from the work tree's top, FILES as given."""
    try:
        top = _top()
        named = _named(files, top) if files else None
        renamed = staged_paths()  # every staged file, from the path it comes from; git says why it cannot
        trees = [tree for tree in named.values() if tree] if named is not None else list(renamed)
        blobs = staged_blobs(trees, top)
        merged, in_git_merge = merged_heads()
        staged = {tree: (renamed.get(tree, tree), blobs[tree]) for tree in trees if tree in blobs}
        added = added_lines(staged, ["HEAD", *merged])
    except (gitcmd.GitError, PathError) as error:
        frontend.warn(f"check: {error}")
        return 2
    contents, counted = [], {}
    for path, tree in named.items() if named is not None else ((tree, tree) for tree in trees):
        if tree in blobs:  # staged: the lines the commit adds count (the hook's paths are from the top)
            contents.append((path, tree, blobs[tree]))
            counted[path] = added[tree]
        elif named is not None:  # named, not staged: the working file, whole
            if os.path.islink(path) or not os.path.isfile(path):  # a link is its target's name, not text
                continue
            try:
                with open(path, "rb") as f:
                    contents.append((path, tree, f.read()))
            except OSError:
                continue
    markers = [m for m in scan(contents) if m.path not in counted or m.line in counted[m.path]]
    if named is None:
        _say_unmerged(top)
    if not markers:
        return 0
    frontend.warn("conflict markers in files to be committed:")
    for marker in markers:
        messages.say(f"  {marker.path}:{marker.line}: {marker.text}")
    messages.say(
        "Resolve them first: `mergebert resolve` settles what it can, edit the rest by hand, then `git add`."
        f"\n({ANYWAY_IN_MERGE if in_git_merge else ANYWAY})"
    )
    return 1
