"""Finding merges in a repository: refs, two-parent merge commits, all merge bases, repository names, keys."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pygit2
from pygit2.enums import RepositoryOpenFlag, SortMode

from mergebert.core import gitfolders

_PR_REF = re.compile(r"^refs/(pull|pull-requests|merge-requests)/|^refs/remotes/[^/]+/(pr|pull)/")
_IGNORED_REF = re.compile(r"^refs/(stash$|notes/)")


@dataclass(frozen=True)
class MergeRef:
    oid: str
    time: int
    pr_ref_only: bool  # reachable only from pull-request heads, not from a branch or tag


def origin_name(repo: pygit2.Repository) -> str | None:
    """owner/name from the origin remote's URL (a trailing `.git` folder or suffix dropped), or None."""
    try:
        url = repo.remotes["origin"].url or ""
    except (KeyError, ValueError):
        url = ""
    parts = [part for part in re.split(r"[/:\\]", url.strip()) if part]
    if parts and parts[-1] == ".git":
        parts.pop()
    if len(parts) < 2:
        return None
    return f"{parts[-2]}/{parts[-1].removesuffix('.git')}"


def repository_key(repo: pygit2.Repository) -> str:
    """What identifies a local repository however its path is typed (`proj`, `proj/.git`, a symlink): its
    git directory, the main one for a linked work tree, with symlinks resolved."""
    return gitfolders.common_dir(repo.path)


def _main_repository(repo: pygit2.Repository) -> pygit2.Repository:
    """The repository itself, or for a linked work tree the repository whose git directory it shares."""
    key = repository_key(repo)
    if key == os.path.realpath(repo.path):
        return repo
    return pygit2.Repository(key, RepositoryOpenFlag.NO_SEARCH)


def folder_name(repo: pygit2.Repository) -> str:
    """The name of the repository's folder (of its work tree, the main one for a linked work tree, or the
    bare folder without `.git`)."""
    main = _main_repository(repo)
    folder = os.path.normpath(main.workdir or main.path)
    if not main.workdir and os.path.basename(folder) == ".git":
        folder = os.path.dirname(folder)
    return os.path.basename(folder).removesuffix(".git")


def repo_name(repo: pygit2.Repository) -> str:
    """owner/name from the origin remote's URL when there is one, else the repository folder's name."""
    return origin_name(repo) or folder_name(repo)


def _ref_tips(repo: pygit2.Repository) -> tuple[list[pygit2.Oid], list[pygit2.Oid]]:
    """Commits at the tips of (branches and tags, pull-request refs)."""
    branches: list[pygit2.Oid] = []
    pulls: list[pygit2.Oid] = []
    for name in repo.listall_references():
        if _IGNORED_REF.match(name):
            continue
        try:
            commit = repo.references[name].peel(pygit2.Commit)
        except (pygit2.GitError, ValueError, KeyError, pygit2.InvalidSpecError):
            continue
        (pulls if _PR_REF.match(name) else branches).append(commit.id)
    return branches, pulls


def _merges_from(
    repo: pygit2.Repository, tips: list[pygit2.Oid], hide: list[pygit2.Oid], pr_only: bool
) -> list[MergeRef]:
    if not tips:
        return []
    walker = repo.walk(tips[0], SortMode.NONE)
    for tip in tips[1:]:
        walker.push(tip)
    for tip in hide:
        walker.hide(tip)
    return [MergeRef(str(c.id), c.commit_time, pr_only) for c in walker if len(c.parent_ids) == 2]


def list_merges(
    repo: pygit2.Repository, since: int | None = None, limit: int | None = None
) -> list[MergeRef]:
    """Two-parent merges reachable from any ref, oldest first (so de-duplication keeps the first time a
    conflict was resolved); `since` is a Unix time, `limit` keeps the newest merges."""
    branches, pulls = _ref_tips(repo)
    merges = _merges_from(repo, branches, [], False) + _merges_from(repo, pulls, branches, True)
    if since is not None:
        merges = [merge for merge in merges if merge.time >= since]
    merges.sort(key=lambda merge: (merge.time, merge.oid))
    return merges[-limit:] if limit is not None else merges


def _ancestors_not_of(repo: pygit2.Repository, tip: pygit2.Oid, hidden: pygit2.Oid) -> dict[str, list[str]]:
    walker = repo.walk(tip, SortMode.NONE)
    walker.hide(hidden)
    return {str(c.id): [str(p) for p in c.parent_ids] for c in walker}


def merge_bases(repo: pygit2.Repository, ours: pygit2.Oid, theirs: pygit2.Oid) -> list[str]:
    """All merge bases of two commits (several in a criss-cross merge), libgit2's best one first."""
    best = repo.merge_base(ours, theirs)
    if best is None:
        return []
    left = _ancestors_not_of(repo, ours, best)
    right = _ancestors_not_of(repo, theirs, best)
    common = left.keys() & right.keys()  # common ancestors that are not ancestors of `best`
    if not common:
        return [str(best)]
    below = {parent for oid in common for parent in left[oid] if parent in common}
    return [str(best), *sorted(common - below)]
