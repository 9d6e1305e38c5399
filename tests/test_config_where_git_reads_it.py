"""Settings git reads from places libgit2 does not: the file GIT_CONFIG_GLOBAL names, `git -c` (as
GIT_CONFIG_COUNT passes it on), an `includeIf` section, a repository's own core.attributesFile, and a
$GIT_DIR whose work tree is the current folder. mergebert must see what git sees there (rerere with
core.autocrlf set there: tests/test_rerere.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"
PLACES = ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_COUNT"]


def set_outside_files(repo: GitRepo, place: str, key: str, value: str) -> None:
    """`key` = `value` for every git the repository's commands run, set where libgit2 does not look."""
    if place == "GIT_CONFIG_GLOBAL":
        config = repo.path.parent / "elsewhere.gitconfig"
        repo.git("config", "--file", str(config), key, value)
        repo.env["GIT_CONFIG_GLOBAL"] = str(config)
    else:
        repo.env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0=key, GIT_CONFIG_VALUE_0=value)


@pytest.mark.parametrize("place", PLACES)
def test_check_reads_the_marker_size_of_an_attributes_file_git_is_pointed_to(
    repo: GitRepo, place: str
) -> None:
    attributes = repo.path.parent / "elsewhere.attributes"
    attributes.write_text("*.java conflict-marker-size=10\n")
    set_outside_files(repo, place, "core.attributesFile", str(attributes))
    repo.write("K.java", "class K {\n<<<<<<<<<< HEAD\nint a;\n==========\nint b;\n>>>>>>>>>> b\n}\n")
    repo.git("add", "K.java")
    check = repo.mergebert("check")
    assert check.returncode == 1 and "K.java:2:" in check.stderr


def merged_with_driver(repo: GitRepo) -> bytes:
    """NAME after a merge of the token conflict with the driver configured."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.git("merge", "--no-edit", "feature", check=False)
    return repo.read(NAME)


def test_a_repository_s_own_attributes_file_replaces_the_global_one_for_the_driver(
    repo: GitRepo, tmp_path: Path
) -> None:
    """The global attributes file says union; the repository's config names another (empty) file, so git
    reads no union line, and neither may the driver's look at the merges the repository declares."""
    union, empty = tmp_path / "union.attributes", tmp_path / "empty.attributes"
    union.write_text("*.java merge=union\n")
    empty.write_text("")
    repo.git("config", "--global", "core.attributesFile", str(union))
    repo.git("config", "core.attributesFile", str(empty))
    assert repo.git("check-attr", "merge", NAME).stdout.strip() == f"{NAME}: merge: unspecified"
    assert merged_with_driver(repo) == TOKEN_MERGED.encode()


def global_attributes_set_empty(repo: GitRepo, lines: str) -> None:
    """`lines` in the default global attributes file, which an empty core.attributesFile keeps git from
    reading."""
    default = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    default.parent.mkdir(parents=True, exist_ok=True)
    default.write_text(lines)
    repo.git("config", "core.attributesFile", "")


def test_an_empty_core_attributes_file_gives_the_driver_no_global_attributes(repo: GitRepo) -> None:
    """git reads no global attributes file, not the default one, and so no union merge: nor may the
    driver's look at the merges the repository declares."""
    global_attributes_set_empty(repo, "*.java merge=union\n")
    assert repo.git("check-attr", "merge", NAME).stdout.strip() == f"{NAME}: merge: unspecified"
    assert merged_with_driver(repo) == TOKEN_MERGED.encode()


def test_resolve_reads_no_global_attributes_where_core_attributes_file_is_empty(repo: GitRepo) -> None:
    """libgit2 gets no global attributes file either: no eol=crlf from the default one, which git ignores."""
    global_attributes_set_empty(repo, "*.java eol=crlf\n")
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    resolved = repo.mergebert("resolve", "--no-backup")
    assert resolved.returncode == 0, resolved.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


WRITE = """
import sys, pygit2
from mergebert.git import gitinfo
try:
    gitinfo.open_repo(sys.argv[1]).config["mergebert.threshold"] = "0.99"
    print("written")
except pygit2.GitError:
    print("refused")
print("mergebert.threshold" in gitinfo.open_repo(sys.argv[2]).config)
"""


def test_a_config_write_through_an_opened_repository_lands_nowhere_but_its_own_config(
    repo: GitRepo, tmp_path: Path
) -> None:
    """The settings handed to libgit2 are its highest level: a write there must not go to that file, lost
    for git and seen by another repository the same process opens."""
    other = GitRepo.init(tmp_path / "other", repo.env)
    run = [sys.executable, "-c", WRITE, str(repo.path), str(other.path)]
    said = subprocess.run(run, env=repo.env, capture_output=True, text=True, check=True).stdout.split()
    read = repo.git("config", "--get", "mergebert.threshold", check=False).stdout.strip()
    assert said in (["refused", "False"], ["written", "False"])
    assert read == ("0.99" if said[0] == "written" else "")


def test_a_global_attributes_file_named_under_include_if_is_read_as_git_reads_it(
    repo: GitRepo, tmp_path: Path
) -> None:
    """core.attributesFile in an `includeIf "gitdir:..."` section that names this repository: git merges
    the file as the union the attributes there declare, and so must the driver."""
    union, included = tmp_path / "union.attributes", tmp_path / "work.gitconfig"
    union.write_text("*.java merge=union\n")
    included.write_text(f"[core]\n\tattributesFile = {union}\n")
    repo.git("config", "--global", f"includeIf.gitdir:{repo.path}/.path", str(included))
    assert repo.git("check-attr", "merge", NAME).stdout.strip() == f"{NAME}: merge: union"
    union_merged = merged_with_driver(repo)
    assert union_merged.count(b"new Server(") == 2, "both sides' lines, as git's union merge writes them"


def test_resolve_with_a_git_dir_whose_work_tree_is_the_current_folder(repo: GitRepo, tmp_path: Path) -> None:
    """GIT_DIR without GIT_WORK_TREE: git works on the current folder, not on the git folder's parent."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    store, work = tmp_path / "store.git", tmp_path / "work"
    repo.git("clone", "-q", "--bare", str(repo.path), str(store))
    work.mkdir()
    elsewhere = GitRepo(work, {**repo.env, "GIT_DIR": str(store)})
    elsewhere.git("config", "core.bare", "false")
    elsewhere.git("checkout", "-q", "-f", "main")
    assert elsewhere.git("merge", "--no-edit", "feature", check=False).returncode != 0
    resolved = elsewhere.mergebert("resolve")
    assert resolved.returncode == 0, resolved.stderr
    assert elsewhere.read(NAME) == TOKEN_MERGED.encode()
