"""What the git front-ends need to know about the repository: conflict labels, style and marker size.

Git tells a merge driver only the file names, the marker size and the path (`%O %A %B %L %P`); the labels
git's own line merge would print are recovered here from the environment and the repository state, so a
conflict mergebert leaves looks exactly like the one git would have left.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import os
import re
import shlex
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pygit2
from pygit2.enums import ConfigLevel

from mergebert.core import markers, tempdirs
from mergebert.core.atomic import atomic_write
from mergebert.core.options import (
    DEFAULT_LABELS,
    ConflictStyle,
    Engine,
    Favour,
    Labels,
    MergeOptions,
    Whitespace,
)
from mergebert.git import attributes, decisionlog, gitcmd, processes


def open_repo(start: str | os.PathLike[str] = ".") -> pygit2.Repository | None:
    """The repository git works on: the one $GIT_DIR names (its work tree $GIT_WORK_TREE, where set), else
    the one containing `start`, its work tree the one git takes (the folder of its `.git`, a file or link
    too, or core.worktree); None outside any repository. One that is not the user's is opened where git
    trusts it (see `_opened`)."""
    git_dir = os.environ.get("GIT_DIR")
    if git_dir:
        repo = _opened(git_dir, start)
        work_tree = _work_tree()
        if work_tree:
            repo.workdir = work_tree
        return _reading_as_git(repo)
    found = pygit2.discover_repository(str(start))
    return _reading_as_git(_opened(found, start, at=str(start))) if found else None


def _work_tree() -> str | None:
    """The work tree git uses with $GIT_DIR set: $GIT_WORK_TREE, core.worktree, else the folder git runs
    in, this process's (libgit2 would take the git folder's parent); None without one."""
    try:
        top = gitcmd.git("rev-parse", "--show-toplevel").stdout
    except (gitcmd.GitError, OSError):
        return None
    return os.fsdecode(top.rstrip(b"\n")) or None


# the settings libgit2 reads itself, for attributes and the line-ending filters, and git's value where
# nothing sets them: libgit2 reads neither GIT_CONFIG_GLOBAL's file nor `git -c`, and reads ~/.gitconfig
# where git does not
LIBGIT2_READS = {"core.autocrlf": "false", "core.eol": "native"}


def _reading_as_git(repo: pygit2.Repository) -> pygit2.Repository:
    """`repo`, its attributes and filters read with the settings git reads (`git_config`): those settings
    are added to libgit2's view of its config as the highest level (core.attributesFile as the file git
    reads, `attributes.global_attributes_file`, empty for none, as libgit2 reads it too). Unchanged where
    git cannot list them."""
    listing = git_config(repo)
    if listing is None:
        return repo
    values = {name: listing.get(name, default) for name, default in LIBGIT2_READS.items()}
    configured = listing.get("core.attributesfile")
    values["core.attributesfile"] = attributes.global_attributes_file(configured) or ""
    lines = "".join(f"\t{name.partition('.')[2]} = {_quoted(value)}\n" for name, value in values.items())
    read_also(repo, "[core]\n" + lines, ConfigLevel.APP)
    return repo


def read_also(repo: pygit2.Repository, text: str, level: ConfigLevel) -> None:
    """Make libgit2 read the config `text` for `repo` at `level` (replacing what it read there): for its
    own lookups of attributes and filters, never written (`_config_file`)."""
    # pygit2 refuses add_file on a repository's config in Python alone; libgit2 supports it
    pygit2.config.Config.add_file(repo.config, _config_file(text), level, True)


def _quoted(value: str) -> str:
    """A value as a git config file writes it, in double quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@functools.cache
def _config_folder() -> str:
    return tempdirs.make("mergebert-config-")


def _config_file(text: str) -> str:
    """A file holding `text`, in this process's folder, one per distinct text, that libgit2 cannot write:
    its lock file, a folder, is always there, so a config write through a repository fails instead of
    landing here (its highest level), lost for git and read by every repository this file is added to."""
    path = os.path.join(_config_folder(), hashlib.sha256(text.encode()).hexdigest()[:16] + ".gitconfig")
    if not os.path.exists(path):
        os.makedirs(path + ".lock", exist_ok=True)
        atomic_write(path, text.encode("utf-8"))
    return path


class RepositoryRefused(pygit2.GitError):
    """A repository git refuses to work in: another user's that safe.directory does not name."""


def open_repo_gently(start: str | os.PathLike[str] = ".") -> pygit2.Repository | None:
    """`open_repo`, or None where git refuses the repository too: for commands that also work outside
    one (merge-file, mergetool, check FILES), as git's own merge-file does."""
    try:
        return open_repo(start)
    except RepositoryRefused:
        return None


def _opened(git_dir: str, start: str | os.PathLike[str], *, at: str | None = None) -> pygit2.Repository:
    """The repository in `git_dir` where git, asked from `start`, works on it; opened from the folder `at`
    where given (one inside its work tree), so that libgit2 takes the work tree from a `.git` file or
    link as git does (opened from the git folder, it would take that folder's parent). libgit2 reads
    safe.directory from fewer places than git (not `git -c`, not the file GIT_CONFIG_GLOBAL names, but
    ~/.gitconfig even then), and git trusts a $GIT_DIR given; so git is asked about every repository that
    libgit2 refuses or that is not the user's (git runs the merge driver only in a repository it trusts).
    RepositoryRefused where git refuses it."""
    try:
        repo = pygit2.Repository(at or git_dir)
    except pygit2.GitError as error:
        _check_with_git(git_dir, start, str(error))
        return _opened_unchecked(at or git_dir)
    if not _owned(repo):
        _check_with_git(git_dir, start, f"git does not work on the repository in {git_dir} from here")
    return repo


def _owned(repo: pygit2.Repository) -> bool:
    """Whether the user owns the repository's git directory and work tree, as git requires unless
    safe.directory names it."""
    folders = [repo.path] + ([repo.workdir] if repo.workdir else [])
    try:
        return all(os.stat(folder).st_uid == os.geteuid() for folder in folders)
    except OSError:
        return False


def _check_with_git(git_dir: str, start: str | os.PathLike[str], fallback: str) -> None:
    """RepositoryRefused, with what git says (else `fallback`), where git asked from `start` refuses the
    repository in `git_dir`."""
    refusal = _git_refusal(git_dir, start)
    if refusal is not None:
        raise RepositoryRefused(refusal or fallback)


def _opened_unchecked(where: str) -> pygit2.Repository:
    """The repository at `where` (see `_opened`), opened without libgit2's owner validation."""
    checking = pygit2.settings.owner_validation
    pygit2.settings.owner_validation = False
    try:
        return pygit2.Repository(where)
    finally:
        pygit2.settings.owner_validation = checking


def _git_refusal(git_dir: str, start: str | os.PathLike[str]) -> str | None:
    """None where git, run in `start`, works on the repository in `git_dir` (safe.directory as git reads
    it); else what git says about it, in one line (empty where it says nothing)."""
    try:
        found = gitcmd.git("rev-parse", "--absolute-git-dir", cwd=start).stdout.decode().strip()
        return None if os.path.samefile(found, git_dir) else ""
    except gitcmd.GitError as error:
        return error.said.removeprefix("fatal: ")
    except (OSError, UnicodeDecodeError):
        return ""


def to_worktree(repo: pygit2.Repository | None, path: str) -> Callable[[bytes], bytes]:
    """What git does to `path`'s content when it writes it to the working tree (line endings and other
    filters); no change outside a repository."""
    mode = pygit2.enums.FilterMode.TO_WORKTREE
    filters = repo.load_filter_list(os.fsencode(path), mode) if repo is not None else None
    return filters.apply_to_buffer if filters is not None else bytes


SETTINGS = ("mergebert.model", "mergebert.threshold")


def _canonical(key: str) -> str:
    """A config key as git compares it: section and name in lower case, a subsection as written."""
    section, _, rest = key.partition(".")
    subsection, _, name = rest.rpartition(".")
    return ".".join(part for part in (section.lower(), subsection, name.lower()) if part)


_LISTINGS: weakref.WeakKeyDictionary[pygit2.Repository, dict[str, str] | None] = weakref.WeakKeyDictionary()


def git_config(repo: pygit2.Repository | None) -> dict[str, str] | None:
    """Every setting as git reads it for `repo` (outside one, here): its config files with their includes
    (`includeIf hasconfig:` too), GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM and `git -c`,
    which libgit2 does not all read; canonical key → the last value given (git's "true" for a key
    without one). One `git config --list` per repository object, and one outside any; None where git
    cannot list it."""
    if repo is None:
        return _listed_outside()
    if repo not in _LISTINGS:
        _LISTINGS[repo] = _listed(repo)
    return _LISTINGS[repo]


@functools.cache
def _listed_outside() -> dict[str, str] | None:
    """`_listed(None)`, once per process: outside a repository mergebert runs only as a command that ends
    with its files (merge-file, mergetool, check), never as the daemon, which serves a work tree."""
    return _listed(None)


def _listed(repo: pygit2.Repository | None) -> dict[str, str] | None:
    """`git config --list` for `repo` (outside one, here), read; None where git cannot list it."""
    where = [f"--git-dir={repo.path}"] if repo is not None else []
    try:
        listing = gitcmd.git(*where, "config", "--list", "-z", env=gitcmd.config_env()).stdout
    except gitcmd.GitError:
        return None
    found = {}
    for entry in listing.decode("utf-8", "replace").split("\0"):
        key, newline, value = entry.partition("\n")
        if key:
            found[key] = value if newline else "true"
    return found


def settings(repo: pygit2.Repository | None) -> dict[str, str]:
    """mergebert's own git config (`mergebert.model`, `mergebert.threshold`) as set, for the model policy;
    the model's path as git reads one, from the work tree's top (`policy.config_model`)."""
    found = {name: value for name in SETTINGS if (value := config_value(repo, name)) is not None}
    if "mergebert.model" in found:
        from mergebert.neural import policy  # git/ imports neural lazily

        top = repo.workdir if repo is not None else None
        found["mergebert.model"] = policy.config_model(found["mergebert.model"], top)
    return found


def merge_options(
    repo: pygit2.Repository | None,
    path: str | None,
    *,
    size: int | None = None,
    labels: Labels | None = None,
    style: ConflictStyle | None = None,
    favour: Favour | None = None,
    whitespace: tuple[Whitespace, ...] = (),
    engine: Engine = "merge-file",
) -> MergeOptions:
    """How git would merge and write a conflict in `path`: what the caller was told (the driver's %L,
    merge-file's `-L`, `--marker-size`, `--diff3`) wins over the attributes, the config and the operation
    in progress; `favour` is the side git was told every conflict goes to (see `merge_favour`)."""
    return MergeOptions(
        marker_size=size or marker_size(repo, path),
        labels=labels or labelled(repo, conflict_sides(repo, path=path), path or "", None).labels,
        style=style or conflict_style(repo),
        favour=favour,
        whitespace=whitespace,
        engine=engine,
    )


def git_int(value: str | None) -> int | None:
    """A number setting as git reads it, with a k, m or g suffix (1024 each); None where unset or not one."""
    found = re.fullmatch(r"\s*([-+]?\d+)\s*([kmg]?)\s*", value or "", re.IGNORECASE)
    if not found:
        return None
    return int(found.group(1)) * 1024 ** " kmg".index(found.group(2).lower() or " ")


def git_bool(value: str) -> bool:
    """A boolean setting as git reads it: true, yes, on or a non-zero number; false, no, off, 0 or empty
    (git refuses any other value; here it is false)."""
    word = value.strip().lower()
    if word in ("true", "yes", "on"):
        return True
    try:
        return int(word, 10) != 0
    except ValueError:
        return False


def config_value(repo: pygit2.Repository | None, key: str) -> str | None:
    """`key` as the git command running mergebert reads it (`git_config`); where git cannot list the
    config, as libgit2 reads the repository's (outside one, the user's); None where nothing sets it."""
    listing = git_config(repo)
    if listing is not None:
        return listing.get(_canonical(key))
    try:
        config = repo.config if repo is not None else pygit2.Config.get_global_config()
        return config[key]
    except (KeyError, ValueError, OSError, pygit2.GitError):
        return None


def conflict_style(repo: pygit2.Repository | None) -> ConflictStyle:
    """`merge.conflictStyle`: "merge" (git's default), "diff3" or "zdiff3"."""
    value = (config_value(repo, "merge.conflictStyle") or "merge").lower()
    return "diff3" if value == "diff3" else "zdiff3" if value == "zdiff3" else "merge"


def marker_size(repo: pygit2.Repository | None, path: str | None, default: int = 7) -> int:
    """The `conflict-marker-size` attribute of `path` (git's %L), else `default`."""
    if repo is None or not path:
        return default
    value = repo.get_attr(os.fsencode(path), "conflict-marker-size")
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return default


def _short(repo: pygit2.Repository, oid: pygit2.Oid) -> str:
    """A commit id as git abbreviates it (core.abbrev; by default longer than 7 digits in a large
    repository, where libgit2's `short_id` stays at 7); libgit2's where git cannot run."""
    try:
        return gitcmd.git("--git-dir", repo.path, "rev-parse", "--short", str(oid)).stdout.decode().strip()
    except (gitcmd.GitError, UnicodeDecodeError):
        return repo[oid].short_id


class Sides(NamedTuple):
    """The labels git writes in an operation and, where known, the commits they name (ours, base,
    theirs), whose trees tell whether a side renamed the file."""

    labels: Labels
    commits: tuple[str, str, str] | None = None


def _commit_name(repo: pygit2.Repository, commit: pygit2.Commit, *, pretty: bool = False) -> str:
    """A commit as git names it in the labels of a replay, `abc1234 (subject)` with the message's first
    line, or with `pretty` of a re-merge, whose subject is git's `%s`: the first paragraph's lines joined."""
    lines = commit.message.lstrip("\n").split("\n")
    if pretty:
        paragraph = [line.rstrip() for line in itertools.takewhile(lambda line: line.strip(), lines)]
        subject = " ".join(paragraph)
    else:
        subject = lines[0]
    return f"{_short(repo, commit.id)} ({subject})"


def _pick_sides(repo: pygit2.Repository, oid: pygit2.Oid) -> Sides:
    """Labels git uses when it replays one commit (rebase, cherry-pick): `abc1234 (subject)`."""
    commit = repo[oid]
    name = _commit_name(repo, commit)
    parent = str(commit.parent_ids[0]) if commit.parent_ids else None
    commits = ("HEAD", parent, str(oid)) if parent else None
    return Sides(("HEAD", f"parent of {name}", name), commits)


def _revert_sides(repo: pygit2.Repository, oid: pygit2.Oid) -> Sides:
    """Labels git uses when it reverts one commit: its parent is theirs, the commit the base."""
    (ours, parent, name), commits = _pick_sides(repo, oid)
    return Sides((ours, name, parent), (commits[0], commits[2], commits[1]) if commits else None)


CRISS_CROSS_BASE = "merged common ancestors"  # git's base label where several merge bases were merged


# the merged commit and its merge bases with HEAD, where the shell entry (driver.sh) found them
BASES_VARIABLE = "MERGEBERT_MERGE_BASES"


def merge_bases(repo: pygit2.Repository, ours: str, theirs: str) -> tuple[str, ...]:
    """The merge bases of the revisions `ours` and `theirs` (`git merge-base --all`, a walk of the history
    that git's merge made once already): those driver.sh passed for them, else found once per pair of
    commits in this process (a daemon's serves a whole operation)."""
    given = os.environ.get(BASES_VARIABLE, "").split()
    if ours == "HEAD" and given[:1] == [theirs]:
        return tuple(given[1:])
    return _merge_bases(repo.path, str(repo.revparse_single(ours).id), str(repo.revparse_single(theirs).id))


@functools.lru_cache(maxsize=64)
def _merge_bases(git_dir: str, ours: str, theirs: str) -> tuple[str, ...]:
    listing = gitcmd.git("--git-dir", git_dir, "merge-base", "--all", ours, theirs, accept=(0, 1)).stdout
    return tuple(listing.decode().split())


def _merge_sides(
    repo: pygit2.Repository, theirs: str, name: str, ours: str = "HEAD", *, base: bool = True
) -> Sides:
    """Labels git uses in a merge of the revision `theirs` (named `name`) into `ours`: ours, the merge
    base's abbreviated id (or, with several, the label of their merge), the name. Without `base` (its
    label is not written) the base is not looked for: its label is the default one, and the commits name
    it "" (`side_paths` finds it where a rename needs it)."""
    if not base:
        return Sides((ours, DEFAULT_LABELS[1], name), (ours, "", theirs))
    try:
        bases = merge_bases(repo, ours, theirs)
        label = _short(repo, pygit2.Oid(hex=bases[0])) if len(bases) == 1 else CRISS_CROSS_BASE
        label = label if bases else "empty tree"
    except (gitcmd.GitError, pygit2.GitError, KeyError, ValueError):
        return Sides((ours, "base", name))
    return Sides((ours, label, name), (ours, bases[0], theirs) if bases else None)


def _replayed_merge_sides(repo: pygit2.Repository, label: str, base: bool = True) -> Sides:
    """Labels of a merge `git rebase -r` replays (`merge [-C|-c <commit>] <label> [# subject]`): theirs is
    the label's rewritten ref (`refs/rewritten/<label>`), or the label itself (`base`: see `_merge_sides`)."""
    ref = f"refs/rewritten/{label}"
    name = ref if ref in repo.references else label
    return _merge_sides(repo, name, name, base=base)


RENAME_LIMIT = 7000  # the files git 2.39's merge considers for inexact renames where no config sets it


@dataclass(frozen=True)
class Renames:
    """How the calling git's merge finds renames, which the labels' `:path` follow: `strategy` the
    recursive one's (`recursive`, `subtree`, also `am`'s) or ort's; `detect`: whether it looks for them
    (ort in git 2.39 always does); `score`: the similarity `-X find-renames=<n>` asks for, as `git diff
    -M<n>` reads it (None: git's 50%); `limit`: merge.renameLimit, else diff.renameLimit; `subtree`: the
    merge shifts a tree into a folder (`-s subtree`, `-X subtree[=<path>]`), which is no rename."""

    strategy: str = "ort"
    detect: bool = True
    score: str | None = None
    limit: int = RENAME_LIMIT
    subtree: bool = False

    @property
    def recursive(self) -> bool:
        """Whether the merge runs the recursive strategy's code (`-s subtree` does too)."""
        return self.strategy in ("recursive", "subtree")


def rename_rules(repo: pygit2.Repository | None, calling: list[str] | None) -> Renames:
    """The `Renames` of the calling git's merge: its strategy (`am` merges with the recursive one), then
    diff.renames, merge.renames and the rename limits as git's merge reads them, then its `-X` options
    (`strategy_options`) in order."""
    strategy = "recursive" if subcommand(calling) == "am" else merge_strategy(repo, calling) or "ort"
    limits = [config_value(repo, key) for key in ("merge.renameLimit", "diff.renameLimit")]
    limit = next((number for number in map(git_int, limits) if number is not None), None)
    detect = True
    for key in ("diff.renames", "merge.renames"):
        value = config_value(repo, key)
        if value is not None:
            detect = value.strip().lower() in ("copy", "copies") or git_bool(value)
    score, subtree = None, strategy == "subtree"
    for option in strategy_options(repo, calling):
        name, equals, value = option.partition("=")
        if option == "no-renames":
            detect = False
        elif name in ("find-renames", "rename-threshold") and (equals or name == "find-renames"):
            detect, score = True, value or None
        subtree |= name == "subtree"
    limit = RENAME_LIMIT if limit is None or limit <= 0 else limit  # git's merge takes 0 for its default
    rules = Renames(strategy, detect, score, limit, subtree)
    return rules if rules.recursive else dataclasses.replace(rules, detect=True)


def side_paths(
    repo: pygit2.Repository,
    commits: tuple[str, str, str],
    path: str,
    *,
    alike: bool = True,
    renames: Renames = Renames(),
) -> tuple[str, str, str]:
    """The file's path in the ours, base and theirs commits (or trees; a base named "": their merge base):
    `path` where it is there, else where a rename (as `renames` has git's merge find them) put it (both
    sides' renames of one file to `path`: the base's path; an add/add has none but `path`). `alike`: look
    for the base of a file both sides hold (renamed alike), which takes their merge base where it is not
    given."""
    ours, base, theirs = commits
    present = [path in repo.revparse_single(commit).peel(pygit2.Tree) for commit in (ours, theirs)]
    if (all(present) and not alike) or not renames.detect:
        return (path, path, path)
    base = base or next(iter(merge_bases(repo, ours, theirs)), "")
    if not base:
        return (path, path, path)
    present.insert(1, path in repo.revparse_single(base).peel(pygit2.Tree))
    if all(present):  # no side renamed it
        return (path, path, path)
    found = f"--find-renames={renames.score}" if renames.score else "--find-renames"
    renamed: dict[tuple[int, str], str] = {}  # (side, new path) -> old path
    for side, commit in ((0, ours), (2, theirs)):
        listing = gitcmd.git(
            "diff", "--name-status", found, f"-l{renames.limit}", "-z", "--diff-filter=R", base, commit
        ).stdout
        words = listing.decode("utf-8", "replace").split("\0")
        for at in range(0, len(words) - 2, 3):
            renamed[(side, words[at + 2])] = words[at + 1]
    base_path = path if present[1] else next((old for (_, new), old in renamed.items() if new == path), path)

    def on(side: int) -> str:
        if present[side]:
            return path
        return next((new for (at, new), old in renamed.items() if at == side and old == base_path), base_path)

    return (on(0), base_path, on(2))


def renamed_paths(
    repo: pygit2.Repository | None, sides: Sides, path: str, renames: Renames = Renames()
) -> tuple[str, str, str] | None:
    """The file's path in `sides`' commits (ours, base, theirs; `side_paths`), as the calling git's merge
    finds renames (`renames`); None where the commits are not known, or for a subtree merge, whose shift
    into a folder is no rename."""
    if repo is None or sides.commits is None or not path or renames.subtree:
        return None
    try:
        return side_paths(repo, sides.commits, path, alike=renames.recursive, renames=renames)
    except (gitcmd.GitError, pygit2.GitError, KeyError, ValueError):
        return None


def with_paths(sides: Sides, paths: tuple[str, str, str] | None, *, recursive: bool = False) -> Labels:
    """`sides`' labels, each followed by `:` and the file's path on that side (`renamed_paths`) where a
    side renamed it, as git labels such a conflict; where both sides renamed it alike, ort writes none,
    the `recursive` strategy ours' path and the old one for base and theirs."""
    if paths is None:
        return sides.labels
    ours_path, base_path, theirs_path = paths
    if ours_path == theirs_path != base_path:  # both sides renamed it alike
        if not recursive:
            return sides.labels
        theirs_path = base_path
    if ours_path == base_path == theirs_path:
        return sides.labels
    ours, base, theirs = sides.labels
    return (f"{ours}:{ours_path}", f"{base}:{base_path}", f"{theirs}:{theirs_path}")


class Labelled(NamedTuple):
    """A file's labels (`with_paths`), its path on each side (`renamed_paths`) and whether the calling git
    merges with the recursive strategy's code (`Renames.recursive`)."""

    labels: Labels
    paths: tuple[str, str, str] | None
    recursive: bool


def labelled(repo: pygit2.Repository | None, sides: Sides, path: str, calling: list[str] | None) -> Labelled:
    """`sides`' labels for the file `path`, with its path on each side as the calling git's merge finds
    renames (`rename_rules`)."""
    renames = rename_rules(repo, calling)
    paths = renamed_paths(repo, sides, path, renames)
    return Labelled(with_paths(sides, paths, recursive=renames.recursive), paths, renames.recursive)


def work_tree_names(paths: tuple[str, str, str] | None, path: str) -> list[str]:
    """The work-tree files git writes its merge of `path` (the driver's %P) to, as its messages name them,
    given the file's path on each side (`renamed_paths`): where a side renamed the file, that side's path
    (the recursive strategy and `am` pass the old one as %P); where both sides renamed it apart
    (rename/rename), both sides' paths; else `path`."""
    if paths is None:
        return [path]
    ours, base, theirs = paths
    return [name for name in dict.fromkeys((ours, theirs)) if name != base] or [path]


def _applied_trees(repo: pygit2.Repository) -> tuple[str, str, str] | None:
    """What `git am -3` (also `rebase --apply`) merges its patch through, whose trees tell a rename: HEAD,
    the base it constructs from the patch's index lines (`_fake_ancestor`) and the patch applied to that
    base (am's `patch-merge-index`); None where they cannot be made."""
    folder = Path(repo.path) / "rebase-apply"
    if not (folder / "patch-merge-index").is_file():  # libgit2 would read a missing index as empty
        return None
    try:
        patch = folder / "patch"
        seen = hashlib.sha256(patch.read_bytes()).hexdigest()
        head = "" if repo.head_is_unborn else str(repo.head.target)
        where = repo.workdir or repo.path
        fake = _fake_ancestor(where, str(patch), _read(folder / "apply-opt") or "", seen, head)
        base = pygit2.Index(fake).write_tree(repo)
        theirs = pygit2.Index(str(folder / "patch-merge-index")).write_tree(repo)
    except (gitcmd.GitError, pygit2.GitError, OSError, ValueError):
        return None
    return ("HEAD", str(base), str(theirs))


@functools.cache
def _fake_ancestors_folder() -> str:
    return tempdirs.make("mergebert-am-")


@functools.lru_cache(maxsize=4)
def _fake_ancestor(where: str, patch: str, options: str, seen: str, head: str) -> str:
    """The index of the base `git am -3` builds from its patch (`git apply --build-fake-ancestor`, run in
    `where` with the `options` am saved for git apply), as a file of this process's: built once per patch
    (`seen`: its content's hash) and HEAD (whose index it reads for a mode change), so that a daemon
    serving a whole `git am` runs git apply once per patch, not once per file."""
    name = hashlib.sha256("\0".join((where, patch, options, seen, head)).encode()).hexdigest()[:16]
    fake = os.path.join(_fake_ancestors_folder(), f"{name}.index")
    gitcmd.git("apply", *shlex.split(options), f"--build-fake-ancestor={fake}", patch, cwd=where)
    return fake


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _commit_id(repo: pygit2.Repository, revision: str) -> pygit2.Oid:
    return repo.revparse_single(revision).peel(pygit2.Commit).id


STASH_LABELS: Labels = ("Updated upstream", "Stash base", "Stashed changes")  # git stash apply, pop
APPLIED_BASE = "constructed merge base"  # the base label of git am -3 and rebase --apply
# the old `git merge-tree <base> <branch1> <branch2>` (`--trivial-merge`): git writes no base label
TRIVIAL_MERGE_LABELS: Labels = (".our", "", ".their")
# git's own options (before the subcommand) whose value may be the next argument
GLOBAL_VALUE_OPTIONS = (
    "-c",
    "-C",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
    "--super-prefix",
)
PICK_OPTIONS = ("-m", "--mainline", "--strategy", "-X", "--strategy-option", "--cleanup")  # -s: --signoff
# per command whose merge runs the driver: its options (git 2.39) whose value may be the next argument
VALUE_OPTIONS: dict[str, tuple[str, ...]] = {
    "merge": ("-m", "--message", "-F", "--file", "-s", "--strategy", "-X", "--strategy-option", "--cleanup")
    + ("--into-name",),
    "pull": ("-s", "--strategy", "-X", "--strategy-option", "--cleanup", "--depth", "--deepen")
    + ("--shallow-since", "--shallow-exclude", "--negotiation-tip", "--upload-pack", "-o", "--server-option"),
    "cherry-pick": PICK_OPTIONS,
    "revert": PICK_OPTIONS,
    "rebase": ("--onto", "-s", "--strategy", "-X", "--strategy-option", "-x", "--exec", "--whitespace", "-C")
    + ("--empty",),
    "checkout": ("-b", "-B", "--orphan", "--conflict", "--pathspec-from-file"),
    "switch": ("-c", "-C", "--create", "--force-create", "--orphan", "--conflict"),
    "stash": ("-m", "--message", "--pathspec-from-file"),
    "am": ("--patch-format", "-C", "-p", "--exclude", "--include", "--directory", "--resolvemsg")
    + ("--whitespace", "--quoted-cr"),
}


def calling_git(caller: int | None = None, process: processes.Process | None = None) -> list[str] | None:
    """The arguments after `git` of the nearest git process above `caller` (the driver's parent when
    None): the command that runs the merge driver, or None (`processes.nearest_git`)."""
    found = processes.nearest_git(caller, process)
    return found[1][1:] if found else None


def subcommand(calling: list[str] | None) -> str | None:
    """The calling git's command (`calling_git`): merge, rebase, cherry-pick...; None where unknown."""
    return _subcommand(calling or [])[0]


def _subcommand(args: list[str]) -> tuple[str | None, list[str]]:
    """A git command line's subcommand (after git's own options) and the arguments that follow it."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in GLOBAL_VALUE_OPTIONS and rest:
            rest.pop(0)
    return (rest[0], rest[1:]) if rest else (None, [])


def _single_revision(command: str, args: list[str]) -> str | None:
    """The one plain revision among a command's arguments (values of its VALUE_OPTIONS skipped), or None."""
    revisions, rest = [], list(args)
    while rest:
        arg = rest.pop(0)
        if arg in VALUE_OPTIONS.get(command, ()) and rest:
            rest.pop(0)
        elif arg and not arg.startswith("-"):
            revisions.append(arg)
    return revisions[0] if len(revisions) == 1 else None


def _command_sides(repo: pygit2.Repository, command: str, rest: list[str]) -> Sides | None:
    """The labels of a merge of the calling git's own (`decisionlog.OWN_MERGES`), never a step of a rebase
    stopped meanwhile: a cherry-pick or revert (of several commits: the first its sequencer/ has still to
    do), a checkout (switch) -m. (Stash apply and pop: `conflict_sides` answers them first.)"""
    if command in ("cherry-pick", "revert"):
        step, commit, _ = decisionlog.todo_line(os.path.join(repo.path, "sequencer", "todo"), last=False)
        if not commit:
            step, commit = command, _single_revision(command, rest) or ""
        if not commit:
            return None
        return (_revert_sides if step == "revert" else _pick_sides)(repo, _commit_id(repo, commit))
    if command in ("checkout", "switch"):
        merging, words = _checkout_words(command, rest)
        if not merging or len(words) != 1:
            return None
        old = _short(repo, repo.head.target) if repo.head_is_detached else repo.head.shorthand
        return Sides((_branch_name(words[0]), old, "local"))
    return None


def _branch_name(revision: str) -> str:
    """The name git gives the branch a checkout goes to: `-` and `@{-N}` as the branch they stand for."""
    revision = "@{-1}" if revision == "-" else revision
    if not revision.startswith("@{-"):
        return revision
    try:
        found = gitcmd.git("rev-parse", "--symbolic-full-name", revision).stdout.decode().strip()
    except (gitcmd.GitError, UnicodeDecodeError):
        return revision
    return found.removeprefix("refs/heads/") if found.startswith("refs/heads/") else revision


def _checkout_words(command: str, args: list[str]) -> tuple[bool, list[str]]:
    """Whether a checkout (or switch) merges local changes (`-m`, `--merge`, `--conflict`, also in a
    bundle such as `-qm`), and its words that are not options or their values."""
    merging, words, rest = False, [], list(args)
    while rest:
        arg = rest.pop(0)
        if arg in VALUE_OPTIONS[command] and rest:
            merging |= arg == "--conflict"
            rest.pop(0)
        elif arg.startswith("--"):
            merging |= arg == "--merge" or arg.startswith("--conflict=")
        elif arg.startswith("-") and len(arg) > 1:
            merging |= "m" in arg[1:]
            if arg[-1] in "bBcC" and rest:  # a bundle ending in an option that takes a value
                rest.pop(0)
        else:
            words.append(arg)
    return merging, words


MYERS_COMMANDS = ("am", "checkout", "switch")  # their merges diff with Myers in git before 2.50


def merge_strategy(repo: pygit2.Repository | None, calling: list[str] | None) -> str | None:
    """The strategy (`-s`) the calling git merges with, where it was told one: on its command line, as
    a rebase or a cherry-pick sequence saved it for `--continue`, or `pull.twohead` for merge and pull."""
    command, rest = _subcommand(calling or [])
    given = _option_values(command, rest, "--strategy")
    if given or repo is None:
        return given[-1] if given else None
    gitdir = Path(repo.path)
    if command == "rebase":
        return (_read(gitdir / "rebase-merge" / "strategy") or "").strip() or None
    if command in ("cherry-pick", "revert"):
        saved = re.search(r"^\s*strategy\s*=\s*(\S+)\s*$", _read(gitdir / "sequencer" / "opts") or "", re.M)
        return saved.group(1) if saved else None
    return config_value(repo, "pull.twohead") if command in ("merge", "pull") else None


def line_engine(repo: pygit2.Repository | None, calling: list[str] | None) -> Engine:
    """Which line merge the calling git makes: the ort strategy's, unless it is `am` or `checkout -m`, or
    merges with the recursive strategy (`merge_strategy`), which diff with Myers (before git 2.50). Where
    the command is unknown, ort: `git merge` and `rebase` run drivers most."""
    command = subcommand(calling)
    recursive = merge_strategy(repo, calling) == "recursive"
    return "myers" if command in MYERS_COMMANDS or recursive else "ort"


RERERE_COMMANDS = ("merge", "pull", "rebase", "cherry-pick", "revert", "am")


def runs_rerere(calling: list[str] | None) -> bool:
    """Whether the calling git replays recorded resolutions (`git rerere`) after its merge; where the
    command is unknown, as if it did."""
    command = subcommand(calling)
    return calling is None or command in RERERE_COMMANDS


# commands that run a merge driver only to re-merge a merge commit they show (`--remerge-diff`, also as
# `--diff-merges=remerge` or `-m` with log.diffMerges=remerge)
REMERGING = ("show", "log", "whatchanged", "diff-tree")
REMERGE_SEARCH = 10000  # commits searched for the merge a remerge diff shows


def in_memory(calling: list[str] | None) -> bool:
    """Whether the calling git merges only in memory (`git merge-tree`, a remerge diff), not as an
    operation of the user's work tree."""
    return subcommand(calling) in ("merge-tree", *REMERGING)


def remerging(calling: list[str] | None) -> bool:
    """Whether the calling git re-merges a merge commit to show it (`--remerge-diff`): git's own merge is
    what it means to show."""
    return subcommand(calling) in REMERGING


@functools.lru_cache(maxsize=4)
def _remerges(git_dir: str, starts: tuple[pygit2.Oid, ...]) -> list[pygit2.Oid]:
    """The merges from `starts` back, walked once per process (a daemon's serves a whole `git log`)."""
    walker = pygit2.Repository(git_dir).walk(starts[0])
    for start in starts[1:]:
        walker.push(start)
    commits = zip(range(REMERGE_SEARCH), walker, strict=False)
    return [commit.id for _, commit in commits if len(commit.parent_ids) == 2]


def remerged_sides(
    repo: pygit2.Repository | None,
    calling: list[str] | None,
    path: str,
    ours: bytes,
    theirs: bytes,
    base: bool = True,
) -> Sides:
    """The labels of git's re-merge of a merge commit (`--remerge-diff`): each parent as `abc1234
    (subject)`, the base as in any merge (`base`: see `_merge_sides`). The merge is the one with two
    parents whose parents hold `ours` and `theirs` at `path`, among the REMERGE_SEARCH commits from those
    the command names (and HEAD) back; where none is (a renamed file) or several with other parents are
    (a fix merged into two branches), the default labels, as no label can be told for sure."""
    if repo is None:
        return Sides(DEFAULT_LABELS)
    wanted = [pygit2.hash(ours), pygit2.hash(theirs)]
    try:
        starts = [repo.head.target]
        for word in _subcommand(calling or [])[1]:
            try:
                starts.append(_commit_id(repo, word.rpartition("..")[2] or "HEAD"))
            except (pygit2.GitError, KeyError, ValueError):
                continue
        matches = {
            tuple(parents)
            for parents in (repo[merge].parent_ids for merge in _remerges(repo.path, tuple(starts)))
            if [_blob_at(repo[parent], path) for parent in parents] == wanted
        }
        if len(matches) == 1:
            ours_id, theirs_id = next(iter(matches))
            ours_name, theirs_name = (_commit_name(repo, repo[c], pretty=True) for c in (ours_id, theirs_id))
            sides = _merge_sides(repo, str(theirs_id), theirs_name, ours=str(ours_id), base=base)
            return Sides((ours_name, sides.labels[1], theirs_name))
    except (pygit2.GitError, KeyError, ValueError):
        pass
    return Sides(DEFAULT_LABELS)


def _blob_at(commit: pygit2.Commit, path: str) -> pygit2.Oid | None:
    """The id of the blob `commit` holds at `path`, or None."""
    return commit.tree[path].id if path in commit.tree else None


def remaking_conflict(
    repo: pygit2.Repository | None, calling: list[str] | None, path: str, ours: bytes, theirs: bytes
) -> bool:
    """Whether the calling git makes `path`'s conflict again, as the user asked (`git checkout -m`,
    `--conflict=STYLE`, `git restore --merge`): a checkout or restore of a path git holds unmerged, or of
    one `git add` settled whose resolve-undo record holds the very versions merged (`ours`, `theirs`),
    which git reads for those commands. (A branch switch with -m merges only where the index has no
    unmerged path, and merges other versions than any such record holds.)"""
    if repo is None or subcommand(calling) not in ("checkout", "restore"):
        return False
    if unmerged_versions(repo, path) is not None:
        return True
    recorded = {stage.number: stage.oid for stage in resolve_undo(repo, path)}
    return recorded.get(2) == str(pygit2.hash(ours)) and recorded.get(3) == str(pygit2.hash(theirs))


def unmerged_versions(repo: pygit2.Repository, path: str) -> tuple[bytes, bytes, bytes] | None:
    """The three versions (base, ours, theirs; base empty where the sides added it) the index on disk
    holds for `path` while it is unmerged; None where it is merged, or where a side deleted it."""
    try:
        stages = repo.index.conflicts[path]
        base, ours, theirs = (repo[entry.id].data if entry is not None else None for entry in stages)
    except (KeyError, TypeError, pygit2.GitError):  # TypeError: no conflicts at all (None)
        return None
    if ours is None or theirs is None:
        return None
    return base or b"", ours, theirs


@dataclass(frozen=True, order=True)
class Stage:
    """One of an unmerged path's index entries: 1 base, 2 ours, 3 theirs."""

    number: int
    mode: int
    oid: str


def resolve_undo(repo: pygit2.Repository, path: str) -> list[Stage]:
    """The stages the index's resolve-undo record keeps for `path`, the conflict `git add` settled; empty
    without one."""
    if repo.workdir is None:
        return []
    try:
        listing = gitcmd.git(
            "--literal-pathspecs", "ls-files", "--resolve-undo", "-z", "--", path, cwd=repo.workdir
        ).stdout
    except gitcmd.GitError:
        return []
    stages = []
    for entry in listing.decode("utf-8", "surrogateescape").split("\0"):
        info, tab, name = entry.partition("\t")
        words = info.split()
        if tab and name == path and len(words) == 3 and words[2].isdigit():
            stages.append(Stage(int(words[2]), int(words[0], 8), words[1]))
    return stages


def trivial_merge(calling: list[str] | None) -> bool:
    """Whether the calling git is the old `git merge-tree <base> <branch1> <branch2>` (`--trivial-merge`),
    which labels a conflict `.our` and `.their` and reads no merge.conflictStyle."""
    command, rest = _subcommand(calling or [])
    revisions = [arg for arg in rest if not arg.startswith("-")]
    return command == "merge-tree" and (
        "--trivial-merge" in rest or ("--write-tree" not in rest and len(revisions) == 3)
    )


def requested_style(calling: list[str] | None) -> ConflictStyle | None:
    """The style the calling git's `--conflict=STYLE` (or `--conflict STYLE`) asks for, "merge" for the old
    `git merge-tree` (`trivial_merge`), or None."""
    if trivial_merge(calling):
        return "merge"
    styles: dict[str, ConflictStyle] = {"merge": "merge", "diff3": "diff3", "zdiff3": "zdiff3"}
    asked = _option_values(*_subcommand(calling or []), "--conflict")
    return styles.get(asked[-1]) if asked else None


SHORT_OPTIONS = {"--strategy": "-s", "--strategy-option": "-X"}  # where the command has them (VALUE_OPTIONS)


def _option_values(command: str | None, args: list[str], long: str) -> list[str]:
    """The values a `command` line gives an option, in order: `--long V`, `--long=V` and, where the command
    has the short form (SHORT_OPTIONS), `-X V`, `-XV`; other options' values are skipped."""
    takes = VALUE_OPTIONS.get(command or "", ())
    short = SHORT_OPTIONS.get(long) if SHORT_OPTIONS.get(long) in takes else None
    found, rest = [], list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            break
        if arg in (short, long) and rest:
            found.append(rest.pop(0))
        elif arg in takes and rest:
            rest.pop(0)
        elif arg.startswith(f"{long}="):
            found.append(arg.partition("=")[2])
        elif short and arg.startswith(short) and len(arg) > len(short) and not arg.startswith("--"):
            found.append(arg[len(short) :])
    return found


def _strategy_options(command: str | None, args: list[str]) -> list[str]:
    """The values of the -X / --strategy-option options in a `command` line, in order."""
    return _option_values(command, args, "--strategy-option")


def _saved_strategy_options(repo: pygit2.Repository, command: str | None) -> list[str]:
    """The strategy options git applies besides the command line's: those a rebase or a cherry-pick
    sequence saved when it started (read again by `--continue`), or `branch.<name>.mergeOptions`."""
    gitdir = Path(repo.path)
    if command == "rebase":
        saved = _read(gitdir / "rebase-merge" / "strategy_opts") or ""  # "--theirs --patience"
        return [word.removeprefix("--") for word in saved.split()]
    if command in ("cherry-pick", "revert"):
        opts = _read(gitdir / "sequencer" / "opts") or ""
        return re.findall(r"^\s*strategy-option\s*=\s*(\S+)\s*$", opts, re.MULTILINE)
    if command not in ("merge", "pull"):
        return []
    return _strategy_options("merge", branch_merge_options(repo))


def branch_merge_options(repo: pygit2.Repository | None) -> list[str]:
    """The words of `branch.<name>.mergeOptions` for the branch HEAD is on, which `git merge` reads before
    its command line (whose options win); none on a detached or unborn HEAD, or outside a repository."""
    if repo is None or repo.head_is_detached or repo.head_is_unborn:
        return []
    try:
        return shlex.split(config_value(repo, f"branch.{repo.head.shorthand}.mergeOptions") or "")
    except ValueError:  # quoting git would refuse too
        return []


def strategy_options(repo: pygit2.Repository | None, calling: list[str] | None) -> list[str]:
    """The strategy options (`-X`) of the git command running the driver, in the order git applies them.

    git does not pass them to a merge driver: they are read from the calling git's arguments
    (`calling_git`), the rebase's or cherry-pick sequence's saved options, and the branch's merge options.
    """
    if repo is None or calling is None:
        return []
    command, rest = _subcommand(calling)
    return _saved_strategy_options(repo, command) + _strategy_options(command, rest)


def merge_favour(given: list[str]) -> Favour | None:
    """The side `-X ours` or `-X theirs` (among the `strategy_options` given) tells git to give every
    conflict (the last one given wins, as in git), or None."""
    sides: dict[str, Favour] = {"ours": "ours", "theirs": "theirs"}
    favour = None
    for option in given:
        favour = sides.get(option, favour)
    return favour


def merge_whitespace(given: list[str]) -> tuple[Whitespace, ...]:
    """The whitespace git's line merge was told to ignore (`-X ignore-space-change` and its kin)."""
    kinds: dict[str, Whitespace] = {
        "ignore-space-change": "ignore-space-change",
        "ignore-all-space": "ignore-all-space",
        "ignore-space-at-eol": "ignore-space-at-eol",
        "ignore-cr-at-eol": "ignore-cr-at-eol",
    }
    return tuple(dict.fromkeys(kinds[option] for option in given if option in kinds))


def _merged_name(repo: pygit2.Repository, oid: pygit2.Oid, path: str | None = None) -> str:
    """The name git labels the merged commit with: the whole id of a fetched head (`git pull`, `git merge
    FETCH_HEAD`), else the name `git merge` printed in MERGE_MSG ("Merge branch 'x'"), else, where the
    message is the user's own (`-m`), the name the user gave (`_given_name`; `path`: the file asked about)."""
    subject = (_read(Path(repo.path) / "MERGE_MSG") or "").split("\n", 1)[0]
    if _fetched(repo, oid, subject):
        return str(oid)
    match = re.match(r"Merge (?:remote-tracking )?(?:branch|tag|commit) '([^']+)'", subject)
    return match.group(1) if match else _given_name(repo, oid, path)


def _fetched(repo: pygit2.Repository, oid: pygit2.Oid, subject: str) -> bool:
    """Whether git merged `oid` as a fetched head, which it labels with its whole id: FETCH_HEAD lists it for
    merging, described as the merge's `subject` names it (`branch 'x' of URL`: "Merge branch 'x' of URL")."""
    for line in (_read(Path(repo.path) / "FETCH_HEAD") or "").splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0] == str(oid) and fields[1] != "not-for-merge":
            named = f"Merge {fields[2].removesuffix(' of .')}"
            if subject == named or subject.startswith(f"{named} into "):
                return True
    return False


def _squashed_tip(repo: pygit2.Repository) -> pygit2.Oid | None:
    """The commit a `git merge --squash` git has stopped in merges: SQUASH_MSG lists the commits it brings
    in (`commit <id>` lines, newest first by date, not always the tip first), the tip the one no other
    has for parent; None without SQUASH_MSG, or with several tips (a squash of several branches)."""
    listed = [line.split() for line in (_read(Path(repo.path) / "SQUASH_MSG") or "").splitlines()]
    commits = {pygit2.Oid(hex=words[1]) for words in listed if len(words) == 2 and words[0] == "commit"}
    parents = {parent for oid in commits for parent in repo[oid].parent_ids}
    tips = commits - parents
    return tips.pop() if len(tips) == 1 else None


def _given_name(repo: pygit2.Repository, tip: pygit2.Oid, path: str | None = None) -> str:
    """The name git labels a merged commit with where no message of git's names it (a squash merge, a merge
    with `-m`), the one the user gave it: as the merge driver's log has it (from GITHEAD_<id>) where that
    log is this merge's, else as git wrote it in an unmerged file, `path` first (`_written_name`), else a
    branch (then a remote-tracking branch, a tag) at the commit, else its abbreviated id."""
    header = decisionlog.read_header(os.path.join(repo.path, decisionlog.LOG)) or {}
    head = "" if repo.head_is_unborn else str(repo.head.target)
    if header.get("kind") == "merge" and (header.get("head"), header.get("commit")) == (head, str(tip)):
        return str(header.get("name") or _short(repo, tip))
    written = _written_name(repo, tip, path)
    if written:
        return written
    at = [ref for ref in repo.references if not ref.endswith("/HEAD") and _points_at(repo, ref, tip)]
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/"):
        named = sorted(ref.removeprefix(prefix) for ref in at if ref.startswith(prefix))
        if named:
            return named[0]
    return _short(repo, tip)


NAMES_TRIED = 8  # at most this many names read in unmerged files are checked against the merged commit


def _written_name(repo: pygit2.Repository, tip: pygit2.Oid, path: str | None = None) -> str | None:
    """The name git labelled theirs with in the conflicts it wrote into the unmerged files (`_written_labels`,
    `path`'s first, each less the `:path` a rename adds), where git reads it as `tip`: the name as the user
    typed it (an id, say), which no state file of git's keeps; None where no such label is left."""
    tried: set[str] = set()
    for label in _written_labels(repo, path):
        colons = [at for at in range(len(label) - 1, 0, -1) if label[at] == ":"]
        for name in [label] + [label[:at] for at in colons]:
            if len(tried) == NAMES_TRIED:
                return None
            if name not in tried:
                tried.add(name)
                if _names(repo, name, tip):
                    return name
    return None


def _written_labels(repo: pygit2.Repository, first: str | None = None) -> Iterator[str]:
    """The labels of the conflict blocks' `>>>>>>>` lines in the unmerged files' working copies
    (`_block_ends`), those of `first` (the file asked about) before the others'."""
    try:
        conflicts = list(repo.index.conflicts or ()) if repo.workdir else []
        paths = [next(entry.path for entry in reversed(entries) if entry) for entries in conflicts]
    except (pygit2.GitError, ValueError):  # an index libgit2 cannot read, a path it cannot decode
        return
    if first in paths:
        paths.remove(first)
        paths.insert(0, first)
    for path in paths:
        try:
            data = Path(repo.workdir, path).read_bytes()
        except OSError:
            continue
        for label in _block_ends(data, marker_size(repo, path)):
            yield label.decode("utf-8", "replace")


def _block_ends(data: bytes, size: int) -> Iterator[bytes]:
    """The labels of the `>>>>>>>` lines (of marker size `size`) that end a whole conflict block
    (`markers.blocks`) holding a `=======` line: not a line of the file's own text that merely starts as
    one does."""
    lines = data.split(b"\n")
    for start, end in markers.blocks(lines, size):
        label = lines[end - 1][size + 1 :].rstrip(b"\r")
        if label and any(markers.kind(line, size) == "=" for line in lines[start + 1 : end - 1]):
            yield label


def _names(repo: pygit2.Repository, name: str, commit: pygit2.Oid) -> bool:
    """Whether git reads the revision `name` as `commit`."""
    revision = f"{name}^{{commit}}"
    found = gitcmd.git(
        "--git-dir", repo.path, "rev-parse", "--verify", "-q", "--end-of-options", revision, accept=range(256)
    )
    return found.returncode == 0 and found.stdout.decode("utf-8", "replace").strip() == str(commit)


def _points_at(repo: pygit2.Repository, ref: str, commit: pygit2.Oid) -> bool:
    """Whether the reference `ref` names `commit` (a tag through the commit it tags)."""
    try:
        return repo.references[ref].peel(pygit2.Commit).id == commit
    except (pygit2.GitError, KeyError, ValueError):  # a tag of a tree or blob, say
        return False


def conflict_sides(
    repo: pygit2.Repository | None,
    *,
    environ: dict[str, str] | None = None,
    calling: list[str] | None = None,
    base: bool = True,
    path: str | None = None,
) -> Sides:
    """The labels git's line merge would write in the current operation, and the commits they name.

    Inside a merge driver git has not written MERGE_HEAD / CHERRY_PICK_HEAD yet, so the merged commit
    comes from `GITHEAD_<id>` (set by `git merge`) or from the rebase todo list; afterwards (`mergebert
    resolve`) the state files name it (a squash merge: the SQUASH_MSG it leaves). `calling`: the
    arguments of the git running the driver (`calling_git`), for the operations that leave no state file.
    `base`: whether a merge's base is looked for (see `_merge_sides`): its label is written only in the
    diff3 styles. `path`: the file asked about, whose labels name a merged commit first (`_given_name`).
    """
    if repo is None:
        return Sides(DEFAULT_LABELS)
    env = os.environ if environ is None else environ
    gitdir = Path(repo.path)
    command, rest = _subcommand(calling or [])
    if command == "stash":  # a rebase's autostash too, while rebase-merge/ stays
        return Sides(STASH_LABELS)
    if trivial_merge(calling):
        return Sides(TRIVIAL_MERGE_LABELS)
    if command == "merge-tree":  # the two revisions as given name the sides
        revisions = [arg for arg in rest if not arg.startswith("-")]
        if len(revisions) == 2:
            return _merge_sides(repo, revisions[1], revisions[1], ours=revisions[0], base=base)
    try:
        if command in decisionlog.OWN_MERGES:  # its own merge, also while a rebase is stopped
            return _command_sides(repo, command, rest) or Sides(DEFAULT_LABELS)
        for state, sides_of in (("CHERRY_PICK_HEAD", _pick_sides), ("REVERT_HEAD", _revert_sides)):
            text = _read(gitdir / state)  # a pick stopped, also one run while a rebase was stopped
            if text:
                return sides_of(repo, pygit2.Oid(hex=text.split()[0]))
        # rebase: the last step done is the one being applied; cherry-pick or revert of several commits
        # (resolved afterwards): the first one still to do
        steps = [
            decisionlog.todo_line(str(gitdir / "rebase-merge" / "done"), last=True),
            decisionlog.todo_line(str(gitdir / "sequencer" / "todo"), last=False),
        ]
        if steps[0][0] == "merge" and steps[0][2]:
            # before GITHEAD_*, which names it by its id
            return _replayed_merge_sides(repo, steps[0][2][0], base)
        heads = [(key[len("GITHEAD_") :], value) for key, value in env.items() if key.startswith("GITHEAD_")]
        if len(heads) == 1:
            return _merge_sides(repo, heads[0][0], heads[0][1], base=base)
        merge_head = _read(gitdir / "MERGE_HEAD")
        if merge_head:
            oid = pygit2.Oid(hex=merge_head.split()[0])
            return _merge_sides(repo, str(oid), _merged_name(repo, oid, path), base=base)
        applied = _read(gitdir / "rebase-apply" / "final-commit")
        if applied is not None:  # git am -3, rebase --apply: theirs is the patch's subject
            return Sides(("HEAD", APPLIED_BASE, applied.split("\n", 1)[0]), _applied_trees(repo))
        for step, commit, _ in steps:
            if commit:
                return (_revert_sides if step == "revert" else _pick_sides)(repo, _commit_id(repo, commit))
        rebased = _read(gitdir / "REBASE_HEAD")
        if rebased:
            return _pick_sides(repo, pygit2.Oid(hex=rebased.split()[0]))
        squashed = _squashed_tip(repo)
        if squashed is not None:  # `git merge --squash`: a merge, without MERGE_HEAD
            return _merge_sides(repo, str(squashed), _given_name(repo, squashed, path), base=base)
    except (pygit2.GitError, KeyError, ValueError, IndexError):
        pass
    return Sides(DEFAULT_LABELS)
