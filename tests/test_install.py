"""`mergebert install` / `uninstall`: what they write, that git then uses it, and that uninstall
leaves every file exactly as it found it."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import MERGEBERT, TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo

from mergebert.core.languages import EXTENSIONS
from mergebert.git import install
from mergebert.git.install import PATTERNS

ROOT = Path(__file__).resolve().parent.parent


def snapshot(*paths: Path) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.exists() else None for p in paths}


def test_local_install_configures_git_and_uninstall_restores_everything(repo: GitRepo) -> None:
    config, attributes = repo.path / ".git" / "config", repo.path / ".git" / "info" / "attributes"
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    before = snapshot(config, attributes, hook)
    result = repo.mergebert("install", check=True)
    assert "attributes" in result.stdout

    def get(key: str) -> str:
        return repo.git("config", "--local", "--get", key).stdout.strip()

    assert get("merge.mergebert.driver") == install.driver_command(install.git_version())
    assert get("merge.mergebert.name")
    assert get("merge.mergebert.recursive") == "text"
    assert get("mergetool.mergebert.cmd") == f'{MERGEBERT} mergetool -- "$BASE" "$LOCAL" "$REMOTE" "$MERGED"'
    assert get("mergetool.mergebert.trustExitCode") == "true"
    interactive = f'{MERGEBERT} mergetool --interactive -- "$BASE" "$LOCAL" "$REMOTE" "$MERGED"'
    assert get("mergetool.mergebert-i.cmd") == interactive
    assert get("mergetool.mergebert-i.trustExitCode") == "true"
    assert get("mergebert.confirm") == "true"
    for pattern in PATTERNS:
        probe = "x" + pattern[1:]
        assert repo.git("check-attr", "merge", "--", probe).stdout.strip().endswith("merge: mergebert")
    shipped = (ROOT / "git_hooks" / "pre-commit").read_text()
    assert hook.read_text() == shipped.replace("{ command mergebert ", f"{{ {MERGEBERT} ")
    assert hook.stat().st_mode & 0o111
    assert repo.git("status", "--porcelain").stdout == ""  # nothing tracked was touched
    repo.mergebert("install", check=True)  # idempotent
    assert attributes.read_text().count("*.java merge=mergebert") == 1
    repo.mergebert("uninstall", check=True)
    assert snapshot(config, attributes, hook) == before


def test_uninstall_keeps_the_users_own_settings(repo: GitRepo) -> None:
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_text("*.png binary\n")
    repo.git("config", "merge.tool", "vimdiff")
    repo.git("config", "mergetool.mergebert.prompt", "false")
    config = repo.path / ".git" / "config"
    before = snapshot(config, attributes)
    repo.mergebert("install", check=True)
    repo.mergebert("uninstall", check=True)
    assert snapshot(config, attributes) == before


def test_installed_driver_resolves_a_merge(repo: GitRepo) -> None:
    repo.mergebert("install", "--no-confirm", check=True)  # the default, confirm mode: test_review.py
    repo.diverge("src/App.java", TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert repo.read("src/App.java") == TOKEN_MERGED.encode()


def test_existing_hook_is_chained_and_restored(repo: GitRepo) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho user-hook-ran > user-hook.log\n")
    hook.chmod(0o755)
    before = hook.read_bytes()
    repo.mergebert("install", check=True)
    assert hook.read_bytes() != before
    repo.commit({"a.txt": "a\n"})
    repo.write("b.txt", "b\n")
    repo.git("add", "b.txt")
    repo.git("commit", "-q", "-m", "through the hooks")
    assert repo.read("user-hook.log") == b"user-hook-ran\n"
    repo.mergebert("uninstall", check=True)
    assert hook.read_bytes() == before
    assert not (hook.parent / "pre-commit.before-mergebert").exists()


def test_install_respects_core_hooks_path(repo: GitRepo) -> None:
    repo.git("config", "core.hooksPath", "my-hooks")
    repo.mergebert("install", check=True)
    assert (repo.path / "my-hooks" / "pre-commit").exists()
    assert not (repo.path / ".git" / "hooks" / "pre-commit").exists()
    repo.mergebert("uninstall", check=True)
    assert not (repo.path / "my-hooks" / "pre-commit").exists()


def test_global_install_uses_the_global_files(repo: GitRepo) -> None:
    home = Path(repo.env["HOME"])
    attributes = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    attributes.parent.mkdir(parents=True, exist_ok=True)
    attributes.write_text("*.psd binary\n")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = Someone\n")
    before = snapshot(gitconfig, attributes)
    outside = GitRepo(home, repo.env)
    result = outside.mergebert("install", "--global", check=True)
    assert "per repository" in result.stdout
    assert "merge=mergebert" in attributes.read_text()
    assert repo.git("config", "--global", "--get", "merge.mergebert.driver").stdout.strip()
    assert repo.git("check-attr", "merge", "--", "x.ts").stdout.strip().endswith("merge: mergebert")
    assert not (repo.path / ".git" / "info" / "attributes").exists()
    outside.mergebert("uninstall", "--global", check=True)
    assert snapshot(gitconfig, attributes) == before


def test_global_install_follows_core_attributes_file(repo: GitRepo) -> None:
    home = Path(repo.env["HOME"])
    repo.git("config", "--global", "core.attributesFile", "~/my-attributes")
    repo.mergebert("install", "--global", check=True)
    assert "*.cs merge=mergebert" in (home / "my-attributes").read_text()
    repo.mergebert("uninstall", "--global", check=True)
    assert not (home / "my-attributes").exists()


def test_install_outside_a_repository_fails_clearly(tmp_path: Path, repo: GitRepo) -> None:
    outside = GitRepo(tmp_path / "home", repo.env)
    result = outside.mergebert("install")
    assert result.returncode != 0
    assert "not a git repository" in result.stderr.lower()


def test_patterns_cover_every_supported_extension() -> None:
    assert sorted(PATTERNS) == sorted(f"*{extension}" for extension in EXTENSIONS)


@pytest.mark.parametrize(
    ("version", "passes"), [((2, 39, 5), False), ((2, 43, 9), False), ((2, 44, 0), True)]
)
def test_labels_are_passed_from_git_2_44_on(version: tuple[int, ...], passes: bool) -> None:
    command = install.driver_command(version)
    assert ("%O %A %B %L %P %S %X %Y;" in command) == passes
    assert ("-L %X -L %S -L %Y %A %O %B" in command) == passes


def test_installed_commands_work_without_mergebert_on_path(repo: GitRepo) -> None:
    repo.mergebert("install", "--no-confirm", check=True)
    repo.diverge("src/App.java", TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.env["PATH"] = "/usr/bin:/bin"  # an IDE or GUI client: no virtual environment
    assert repo.run("sh", "-c", "command -v mergebert", check=False).returncode != 0
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert repo.read("src/App.java") == TOKEN_MERGED.encode()
    repo.write("x.js", "<<<<<<< HEAD\na\n=======\nb\n>>>>>>> other\n")
    repo.git("add", "x.js")
    commit = repo.git("commit", "-m", "markers", check=False)
    assert commit.returncode != 0
    assert "x.js:1: <<<<<<< HEAD" in commit.stderr


BARE = {
    "merge.mergebert.driver": "mergebert driver %O %A %B %L %P",
    "mergetool.mergebert.cmd": 'mergebert mergetool "$BASE" "$LOCAL" "$REMOTE" "$MERGED"',
}
# what releases before the `--` wrote for the mergetools
WITHOUT_DASHES = {
    "mergetool.mergebert.cmd": f'{MERGEBERT} mergetool "$BASE" "$LOCAL" "$REMOTE" "$MERGED"',
    "mergetool.mergebert-i.cmd": f'{MERGEBERT} mergetool --interactive "$BASE" "$LOCAL" "$REMOTE" "$MERGED"',
}
EARLIER = pytest.mark.parametrize("earlier", [BARE, WITHOUT_DASHES], ids=["bare name", "without --"])


@EARLIER
def test_install_replaces_entries_an_earlier_release_wrote(repo: GitRepo, earlier: dict[str, str]) -> None:
    for key, value in earlier.items():
        repo.git("config", key, value)
    repo.mergebert("install", check=True)
    written = install.settings(install.git_version())
    for key in earlier:
        assert repo.git("config", "--get-all", key).stdout.splitlines() == [written[key]]


@EARLIER
def test_uninstall_removes_entries_an_earlier_release_wrote(repo: GitRepo, earlier: dict[str, str]) -> None:
    config = repo.path / ".git" / "config"
    before = config.read_bytes()
    for key, value in earlier.items():
        repo.git("config", key, value)
    repo.git("config", "merge.mergebert.name", install.NAME)
    repo.mergebert("uninstall", check=True)
    assert config.read_bytes() == before


@pytest.mark.parametrize(
    "users",
    [
        b"*.png binary\r\n*.jpg binary\r\n",  # CRLF
        b"*.png binary",  # no final line break
        b"*.png binary\n# caf\xe9: Latin-1, not UTF-8\n",
        b"# >>> mergebert: written by `mergebert install`, removed by `mergebert uninstall`\n*.png binary\n",
        b"*.c diff=cpp\n# <<< mergebert\n",
        b"a -text\rb -diff\r",
        b"*.md -diff\r\n*.png binary\r",
        b"",
    ],
    ids=[
        "crlf",
        "no final break",
        "latin-1",
        "a begin line alone",
        "an end line alone",
        "cr",
        "crlf then cr",
        "empty",
    ],
)
def test_install_and_uninstall_keep_the_users_attributes_byte_for_byte(repo: GitRepo, users: bytes) -> None:
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_bytes(users)
    repo.mergebert("install", check=True)
    assert attributes.read_bytes().endswith(users)  # the block first: the user's own lines, read later, win
    assert repo.git("check-attr", "merge", "--", "x.java").stdout.strip().endswith("merge: mergebert")
    repo.mergebert("install", check=True)
    assert attributes.read_bytes().count(b"*.java merge=mergebert") == 1
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == users


def test_install_keeps_the_users_confirm_setting(repo: GitRepo) -> None:
    """`mergebert install` again (as after changing attributes) does not turn confirm mode back on."""
    repo.mergebert("install", "--no-confirm", check=True)
    repo.mergebert("install", check=True)
    assert repo.git("config", "--get", "mergebert.confirm").stdout.strip() == "false"
    repo.mergebert("install", "--confirm", check=True)
    assert repo.git("config", "--get", "mergebert.confirm").stdout.strip() == "true"


def test_global_install_writes_the_attributes_file_an_included_config_names(
    repo: GitRepo, tmp_path: Path
) -> None:
    included = tmp_path / "included.gitconfig"
    named = tmp_path / "my-attributes"
    included.write_text(f"[core]\n\tattributesFile = {named}\n")
    repo.git("config", "--global", "include.path", str(included))
    repo.mergebert("install", "--global", check=True)
    assert "*.java merge=mergebert" in named.read_text()
    assert repo.git("check-attr", "merge", "--", "x.java").stdout.strip().endswith("merge: mergebert")
    repo.mergebert("uninstall", "--global", check=True)
    assert not named.exists() or "mergebert" not in named.read_text()
    assert repo.git("config", "--global", "--get", "include.path").stdout.strip() == str(included)


@pytest.mark.parametrize("scope", ["--global", "-c"])
def test_a_hooks_folder_other_repositories_share_is_left_alone(
    repo: GitRepo, tmp_path: Path, scope: str
) -> None:
    """core.hooksPath set for every repository (user config, or `git -c` for one command): a hook written
    there would check the user's other repositories, and their uninstall would remove it."""
    shared = tmp_path / "shared-hooks"
    shared.mkdir()
    (shared / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    before = snapshot(shared / "pre-commit", shared / install.CHAINED)
    if scope == "--global":
        repo.git("config", "--global", "core.hooksPath", str(shared))
    else:
        repo.env = {**repo.env, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath"}
        repo.env["GIT_CONFIG_VALUE_0"] = str(shared)
    result = repo.mergebert("install", check=True)
    assert f"pre-commit hook: not installed: core.hooksPath ({shared})" in result.stdout
    assert snapshot(shared / "pre-commit", shared / install.CHAINED) == before
    assert repo.git("config", "--local", "--get", "merge.mergebert.driver").stdout.strip()
    other = GitRepo.init(tmp_path / "other", repo.env)
    other.mergebert("uninstall", check=True)
    assert snapshot(shared / "pre-commit", shared / install.CHAINED) == before


def test_uninstall_leaves_an_earlier_hook_in_a_shared_folder_and_says_so(
    repo: GitRepo, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-hooks"
    repo.git("config", "core.hooksPath", str(shared))
    repo.mergebert("install", check=True)
    repo.git("config", "--unset", "core.hooksPath")
    repo.git("config", "--global", "core.hooksPath", str(shared))
    result = repo.mergebert("uninstall", check=True)
    assert (shared / "pre-commit").exists()
    assert f"{shared / 'pre-commit'} is mergebert's, in a folder core.hooksPath" in result.stdout


def apart(tmp_path: Path, git_env: dict[str, str], work_tree: str | None) -> GitRepo:
    """A work tree whose repository is kept apart and named by GIT_DIR (a bare clone set non-bare, as
    dotfile managers do), with GIT_WORK_TREE `work_tree` where given; one commit checked out."""
    source = GitRepo.init(tmp_path / "source", git_env)
    source.commit({"App.java": "class App {}\n"})
    source.git("clone", "-q", "--bare", str(source.path), str(tmp_path / "store.git"))
    env = {**git_env, "GIT_DIR": str(tmp_path / "store.git")}
    if work_tree is not None:
        env["GIT_WORK_TREE"] = work_tree
    tree = GitRepo(tmp_path / "work", env)
    tree.path.mkdir()
    tree.git("config", "core.bare", "false")
    tree.git("checkout", "-q", "-f", "main")
    return tree


@pytest.mark.parametrize("work_tree", [None, "."], ids=["no GIT_WORK_TREE", "a relative GIT_WORK_TREE"])
def test_install_with_git_dir_set_writes_the_hook_in_its_hooks_folder(
    tmp_path: Path, git_env: dict[str, str], work_tree: str | None
) -> None:
    tree = apart(tmp_path, git_env, work_tree)
    hook = tmp_path / "store.git" / "hooks" / "pre-commit"
    result = tree.mergebert("install", check=True)
    assert "not installed" not in result.stdout
    assert hook.read_text() == install.hook_script()
    assert tree.git("check-attr", "merge", "--", "App.java").stdout.strip().endswith("merge: mergebert")
    tree.mergebert("uninstall", check=True)
    assert not hook.exists()


def test_uninstall_of_nothing_installed_creates_no_config_file(repo: GitRepo) -> None:
    home = Path(repo.env["HOME"])
    assert not (home / ".gitconfig").exists()
    result = GitRepo(home, repo.env).mergebert("uninstall", "--global", check=True)
    assert "nothing of mergebert's was installed" in result.stdout
    assert not (home / ".gitconfig").exists()
    assert not (Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "config").exists()


def test_install_says_what_a_git_before_2_44_merges_without_a_stop(repo: GitRepo) -> None:
    result = repo.mergebert("install", check=True)
    older = install.git_version() < install.LABELS_SINCE
    assert ("before git 2.44" in result.stdout) == older, result.stdout
