"""What the git front-ends need to know about the repository: conflict labels, style and marker size.

Git tells a merge driver only the file names, the marker size and the path (`%O %A %B %L %P`); the labels
git's own line merge would print are recovered here from the environment and the repository state, so a
conflict mergebert leaves looks exactly like the one git would have left.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pygit2

from mergebert.core.options import DEFAULT_LABELS, ConflictStyle, Labels, MergeOptions


def open_repo(start: str | os.PathLike[str] = ".") -> pygit2.Repository | None:
    """The repository containing `start`, or None outside any repository."""
    found = pygit2.discover_repository(str(start))
    return pygit2.Repository(found) if found else None


SETTINGS = ("mergebert.model", "mergebert.threshold")


def settings(repo: pygit2.Repository | None) -> dict[str, str]:
    """mergebert's own git config (`mergebert.model`, `mergebert.threshold`) as set, for the model policy:
    the repository's config, or the user's outside a repository."""
    try:
        config = repo.config if repo is not None else pygit2.Config.get_global_config()
    except (OSError, pygit2.GitError):  # no user config at all
        return {}
    found = {}
    for name in SETTINGS:
        try:
            found[name] = config[name]
        except (KeyError, ValueError, pygit2.GitError):
            continue
    return found


def merge_options(
    repo: pygit2.Repository | None,
    path: str | None,
    *,
    size: int | None = None,
    labels: Labels | None = None,
    style: ConflictStyle | None = None,
) -> MergeOptions:
    """How git would write a conflict in `path`: what the caller was told (the driver's %L, merge-file's
    `-L`, `--marker-size`, `--diff3`) wins over the attributes, the config and the operation in progress."""
    return MergeOptions(
        marker_size=size or marker_size(repo, path),
        labels=labels or conflict_labels(repo),
        style=style or conflict_style(repo),
    )


def conflict_style(repo: pygit2.Repository | None) -> ConflictStyle:
    """`merge.conflictStyle`: "merge" (git's default), "diff3" or "zdiff3"."""
    if repo is None:
        return "merge"
    try:
        value = repo.config["merge.conflictStyle"]
    except KeyError:
        return "merge"
    value = value.lower()
    return "diff3" if value == "diff3" else "zdiff3" if value == "zdiff3" else "merge"


def marker_size(repo: pygit2.Repository | None, path: str | None, default: int = 7) -> int:
    """The `conflict-marker-size` attribute of `path` (git's %L), else `default`."""
    if repo is None or not path:
        return default
    value = repo.get_attr(path, "conflict-marker-size")
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return default


def _short(repo: pygit2.Repository, oid: pygit2.Oid) -> str:
    return repo[oid].short_id


def _pick_labels(repo: pygit2.Repository, oid: pygit2.Oid) -> Labels:
    """Labels git uses when it replays one commit (rebase, cherry-pick): `abc1234 (subject)`."""
    commit = repo[oid]
    subject = commit.message.split("\n", 1)[0]
    name = f"{commit.short_id} ({subject})"
    return ("HEAD", f"parent of {name}", name)


def _merge_labels(repo: pygit2.Repository, oid: pygit2.Oid, name: str) -> Labels:
    """Labels git uses in a merge: HEAD, the merge base's abbreviated id, the merged branch's name."""
    try:
        bases = repo.merge_base_many([repo.head.target, oid])
        base = _short(repo, bases) if bases else "empty tree"
    except (pygit2.GitError, KeyError, ValueError):
        base = "base"
    return ("HEAD", base, name)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _commit_id(repo: pygit2.Repository, revision: str) -> pygit2.Oid:
    return repo.revparse_single(revision).peel(pygit2.Commit).id


VALUE_OPTIONS = ("-m", "--mainline", "-s", "--strategy", "-X", "--strategy-option")


def _cherry_pick_argument(caller: int | None = None) -> str | None:
    """The commit a single `git cherry-pick X` applies, from the calling git's command line.

    A one-commit cherry-pick leaves no state file while the driver runs; on Linux the parent git
    process's arguments name the commit. None elsewhere or when it is not one plain revision.
    """
    pid = os.getppid() if caller is None else caller
    for _ in range(4):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if os.path.basename(args[0]) == "git" and "cherry-pick" in args:
            revisions, rest = [], args[args.index("cherry-pick") + 1 :]
            while rest:
                arg = rest.pop(0)
                if arg in VALUE_OPTIONS and rest:
                    rest.pop(0)
                elif arg and not arg.startswith("-"):
                    revisions.append(arg)
            return revisions[0] if len(revisions) == 1 else None
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return None


def _merged_name(repo: pygit2.Repository, oid: pygit2.Oid) -> str:
    """The name `git merge` printed for the merged commit, from MERGE_MSG ("Merge branch 'x'")."""
    message = _read(Path(repo.path) / "MERGE_MSG") or ""
    match = re.match(r"Merge (?:remote-tracking )?(?:branch|tag|commit) '([^']+)'", message)
    return match.group(1) if match else _short(repo, oid)


def conflict_labels(
    repo: pygit2.Repository | None, *, environ: dict[str, str] | None = None, caller: int | None = None
) -> Labels:
    """The (ours, base, theirs) labels git's line merge would write in the current operation.

    Inside a merge driver git has not written MERGE_HEAD / CHERRY_PICK_HEAD yet, so the merged commit
    comes from `GITHEAD_<id>` (set by `git merge`) or from the rebase todo list; afterwards (`mergebert
    resolve`) the state files name it.
    """
    if repo is None:
        return DEFAULT_LABELS
    env = os.environ if environ is None else environ
    gitdir = Path(repo.path)
    try:
        heads = [(key[len("GITHEAD_") :], value) for key, value in env.items() if key.startswith("GITHEAD_")]
        if len(heads) == 1:
            return _merge_labels(repo, pygit2.Oid(hex=heads[0][0]), heads[0][1])
        merge_head = _read(gitdir / "MERGE_HEAD")
        if merge_head:
            oid = pygit2.Oid(hex=merge_head.split()[0])
            return _merge_labels(repo, oid, _merged_name(repo, oid))
        # rebase: the last command done is the one being applied; cherry-pick of several commits:
        # the first one still to do.
        for todo, line in (("rebase-merge/done", -1), ("sequencer/todo", 0)):
            lines = (_read(gitdir / todo) or "").strip().splitlines()
            if lines and len(lines[line].split()) >= 2:
                return _pick_labels(repo, _commit_id(repo, lines[line].split()[1]))
        for state in ("CHERRY_PICK_HEAD", "REBASE_HEAD"):
            text = _read(gitdir / state)
            if text:
                return _pick_labels(repo, pygit2.Oid(hex=text.split()[0]))
        picked = _cherry_pick_argument(caller)
        if picked:
            return _pick_labels(repo, _commit_id(repo, picked))
    except (pygit2.GitError, KeyError, ValueError, IndexError):
        pass
    return DEFAULT_LABELS
