"""`mergebert install` / `uninstall` respect what the user had: their own merge attributes in the file install
writes, a hook they edited, a confirm setting they chose, a hooks folder the repository tracks; and install
refuses before writing anything where it cannot finish."""

from __future__ import annotations

import codecs
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from gitrepo import MERGEBERT, GitRepo

from mergebert.git import install


def snapshot(*paths: Path) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.exists() else None for p in paths}


def merge_of(repo: GitRepo, path: str) -> str:
    """The `merge` attribute git gives `path`, as check-attr says it."""
    return repo.git("check-attr", "merge", "--", path).stdout.strip().rsplit(": ", 1)[1]


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8], ids=["plain", "utf-8 bom"])
def test_the_users_own_merge_lines_in_info_attributes_keep_winning(repo: GitRepo, bom: bytes) -> None:
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    users = bom + b"Greeter.java -merge\n*.ts merge=union\n"
    attributes.write_bytes(users)
    repo.mergebert("install", check=True)
    assert merge_of(repo, "Greeter.java") == "unset"
    assert merge_of(repo, "x.ts") == "union"
    assert merge_of(repo, "Other.java") == "mergebert"
    repo.mergebert("install", check=True)
    assert merge_of(repo, "Greeter.java") == "unset"
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == users


def test_the_users_own_merge_lines_in_the_global_attributes_keep_winning(repo: GitRepo) -> None:
    attributes = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    attributes.parent.mkdir(parents=True, exist_ok=True)
    attributes.write_bytes(b"*.cs -merge")
    repo.mergebert("install", "--global", check=True)
    assert merge_of(repo, "x.cs") == "unset"
    assert merge_of(repo, "x.java") == "mergebert"
    repo.mergebert("uninstall", "--global", check=True)
    assert attributes.read_bytes() == b"*.cs -merge"


def test_uninstall_leaves_a_hook_the_user_edited_and_says_so(repo: GitRepo) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    repo.mergebert("install", check=True)
    with hook.open("a") as f:
        f.write("\n# my own check, added later\n./scripts/lint.sh || exit 1\n")
    edited = hook.read_bytes()
    repo.mergebert("install", check=True)
    assert hook.read_bytes() == edited
    result = repo.mergebert("uninstall", check=True)
    assert hook.read_bytes() == edited
    left = f"pre-commit hook: {Path('.git/hooks/pre-commit')} differs from the hook install writes"
    assert left in result.stdout


def test_uninstall_leaves_an_edited_hook_and_the_hook_it_chains(repo: GitRepo) -> None:
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho earlier\n")
    earlier = (hooks / "pre-commit").read_bytes()
    repo.mergebert("install", check=True)
    with (hooks / "pre-commit").open("a") as f:
        f.write("# mine\n")
    edited = (hooks / "pre-commit").read_bytes()
    result = repo.mergebert("uninstall", check=True)
    assert snapshot(hooks / "pre-commit", hooks / install.CHAINED) == {
        hooks / "pre-commit": edited,
        hooks / install.CHAINED: earlier,
    }
    assert f"left as it is, as is {Path('.git/hooks') / install.CHAINED}, which it runs" in result.stdout


def test_uninstall_removes_the_hook_another_installation_wrote(repo: GitRepo, tmp_path: Path) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    repo.mergebert("install", check=True)
    hook.write_text(hook.read_text().replace(MERGEBERT, str(tmp_path / "other-venv" / "bin" / "mergebert")))
    repo.mergebert("uninstall", check=True)
    assert not hook.exists()


SIGPIPE_TRAP = "# a stderr nobody reads any more fails a line of the fallback's, never the check (no SIGPIPE ends the hook)\ntrap : PIPE\n"  # noqa: E501


@pytest.mark.parametrize(
    "earlier",
    [
        lambda hook: hook.replace(SIGPIPE_TRAP, ""),
        lambda hook: hook.replace(SIGPIPE_TRAP, "").replace("(<{7,}|>{7,})", "(<<<<<<<|>>>>>>>)"),
    ],
    ids=["without its SIGPIPE trap", "its plain-shell grep reading seven marker characters"],
)
def test_uninstall_removes_the_hook_an_earlier_version_wrote_and_restores_the_users(
    repo: GitRepo, earlier: Callable[[str], str]
) -> None:
    """The hook as the releases before the last changes to it wrote it: still mergebert's, so the user's
    own hook comes back."""
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    users = "#!/bin/sh\necho mine\n"
    (hooks / "pre-commit").write_text(users)
    repo.mergebert("install", check=True)
    hook = hooks / "pre-commit"
    assert SIGPIPE_TRAP in hook.read_text()
    hook.write_text(earlier(hook.read_text()))
    result = repo.mergebert("uninstall", check=True)
    assert "restored the one it chained" in result.stdout
    assert hook.read_text() == users and not (hooks / install.CHAINED).exists()


def test_a_change_to_the_shipped_hook_keeps_the_hooks_earlier_releases_wrote_known() -> None:
    own = install.OWN_COMMAND.sub("", install.hook_script(), count=1)
    assert hashlib.sha256(own.encode()).hexdigest() == (
        "3082cbf527e47b25aa708a5fec715db4b2aa426a1cb1692669ea3d4ee6099e4c"
    ), "the shipped hook changed: add this digest to install.EARLIER_HOOKS, then the new one here"


def test_install_names_where_the_merges_it_keeps_were_declared(repo: GitRepo) -> None:
    """Files whose attributes declare another merge keep it, from `.gitattributes` or the global file."""
    repo.commit({"App.cs": "class App {}\n", "dist/app.js": "x();\n", ".gitattributes": "dist/*.js -merge\n"})
    global_attributes = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    global_attributes.parent.mkdir(parents=True, exist_ok=True)
    global_attributes.write_text("*.cs -merge\n")
    result = repo.mergebert("install", check=True)
    assert "2 files keep the merge their attributes declare" in result.stdout


def test_uninstall_keeps_a_confirm_setting_the_user_had(repo: GitRepo) -> None:
    config = repo.path / ".git" / "config"
    repo.git("config", "mergebert.confirm", "false")
    before = config.read_bytes()
    assert "kept 'false'" in repo.mergebert("install", check=True).stdout
    repo.mergebert("install", check=True)
    repo.mergebert("uninstall", check=True)
    assert config.read_bytes() == before


def test_install_and_uninstall_cycles_remove_only_the_confirm_setting_install_wrote(repo: GitRepo) -> None:
    config = repo.path / ".git" / "config"
    before = config.read_bytes()
    for flags in (["--no-confirm"], [], ["--confirm"]):
        repo.mergebert("install", *flags, check=True)
    repo.mergebert("uninstall", check=True)
    assert config.read_bytes() == before
    repo.mergebert("install", check=True)
    repo.git("config", "mergebert.confirm", "false")  # the user's own choice now
    repo.mergebert("uninstall", check=True)
    assert repo.git("config", "--get", "mergebert.confirm").stdout.strip() == "false"
    repo.mergebert("install", check=True)
    repo.mergebert("uninstall", check=True)
    assert repo.git("config", "--get", "mergebert.confirm").stdout.strip() == "false"


def install_as_a_release_before_the_confirm_record(repo: GitRepo, confirm: str) -> None:
    """The config and attributes block an install before mergebert.confirmByInstall wrote (as 63fd237's
    did): mergebert.confirm with no record of it, and a block whose BEGIN line records none of its lines."""
    repo.mergebert("install", check=True)
    repo.git("config", "--unset", install.CONFIRM_RECORD)
    repo.git("config", "mergebert.confirm", confirm)
    block = install.attributes_block(done=install.MADE_FILE)
    (repo.path / ".git" / "info" / "attributes").write_text(block)


@pytest.mark.parametrize("upgrade", [True, False], ids=["install again, then uninstall", "uninstall"])
def test_uninstall_removes_the_confirm_setting_a_release_before_its_record_wrote(
    repo: GitRepo, upgrade: bool
) -> None:
    """That release's uninstall removed mergebert.confirm; after an upgrade this one's does too, and the
    install in between leaves the config as a fresh install would."""
    config = repo.path / ".git" / "config"
    before = config.read_bytes()
    install_as_a_release_before_the_confirm_record(repo, "true")
    if upgrade:
        repo.mergebert("install", check=True)
        confirm = repo.git("config", "--get-regexp", r"^mergebert\.").stdout
        assert confirm == "mergebert.confirm true\nmergebert.confirmbyinstall true\n"
    repo.mergebert("uninstall", check=True)
    assert config.read_bytes() == before


def test_a_false_confirm_under_a_release_before_its_record_stays_the_users(repo: GitRepo) -> None:
    """Such a release wrote "false" only for --no-confirm, the user's choice, and kept the user's own
    setting: a "false" may be the user's, and stays."""
    install_as_a_release_before_the_confirm_record(repo, "false")
    repo.mergebert("install", check=True)
    repo.mergebert("uninstall", check=True)
    assert repo.git("config", "--get", "mergebert.confirm").stdout.strip() == "false"


def test_uninstall_keeps_a_true_confirm_the_user_set_before_installing(repo: GitRepo) -> None:
    repo.git("config", "mergebert.confirm", "true")
    repo.mergebert("install", check=True)
    repo.mergebert("install", check=True)
    repo.mergebert("uninstall", check=True)
    assert repo.git("config", "--get", "mergebert.confirm").stdout.strip() == "true"


@pytest.mark.parametrize("tracked", ["pre-commit", "commit-msg"])
def test_a_hooks_folder_the_repository_tracks_is_left_alone(repo: GitRepo, tracked: str) -> None:
    husky = repo.path / ".husky"
    repo.commit({f".husky/{tracked}": "#!/bin/sh\nnpm test\n"}, "husky")
    repo.git("config", "core.hooksPath", ".husky")
    before = snapshot(husky / "pre-commit", husky / install.CHAINED)
    result = repo.mergebert("install", check=True)
    assert "pre-commit hook: not installed: core.hooksPath (.husky) is a folder a repository tracks" in (
        result.stdout
    )
    assert repo.git("status", "--porcelain").stdout == ""
    assert snapshot(husky / "pre-commit", husky / install.CHAINED) == before
    assert repo.git("config", "--local", "--get", "merge.mergebert.driver").stdout.strip()
    repo.mergebert("uninstall", check=True)
    assert repo.git("status", "--porcelain").stdout == ""


def test_a_hooks_folder_another_repository_tracks_is_left_alone(repo: GitRepo, tmp_path: Path) -> None:
    dotfiles = GitRepo.init(tmp_path / "dotfiles", repo.env)
    dotfiles.commit({"hooks/pre-commit": "#!/bin/sh\necho dotfiles\n"}, "hooks")
    repo.git("config", "core.hooksPath", str(dotfiles.path / "hooks"))
    result = repo.mergebert("install", check=True)
    assert "is a folder a repository tracks" in result.stdout
    assert dotfiles.git("status", "--porcelain").stdout == "", "the dotfiles repository is left as it was"


def test_uninstall_leaves_mergeberts_hook_in_a_folder_the_repository_tracks(repo: GitRepo) -> None:
    repo.git("config", "core.hooksPath", ".husky")
    repo.mergebert("install", check=True)
    repo.git("add", ".husky")
    repo.git("commit", "-q", "--no-verify", "-m", "someone committed the hook")
    result = repo.mergebert("uninstall", check=True)
    assert (repo.path / ".husky" / "pre-commit").exists()
    assert "is mergebert's, in a folder core.hooksPath names (a folder a repository tracks" in result.stdout


def test_install_in_a_bare_repository_refuses_and_writes_nothing(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    bare = GitRepo(tmp_path / "r.git", git_env)
    bare.path.mkdir()
    bare.git("init", "-q", "--bare")
    files = [p for p in bare.path.rglob("*") if p.is_file()]
    before = snapshot(*files, bare.path / "info" / "attributes", bare.path / "hooks" / "pre-commit")
    result = bare.mergebert("install")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: a bare repository has no work tree to merge in: run `mergebert install` in a clone "
        "with one, or `mergebert install --global`"
    ]
    assert snapshot(*before) == before


def test_install_with_both_hooks_present_refuses_before_writing_anything(repo: GitRepo) -> None:
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho A\n")
    (hooks / install.CHAINED).write_text("#!/bin/sh\necho B\n")
    watched = [repo.path / ".git" / "config", repo.path / ".git" / "info" / "attributes"]
    before = snapshot(*watched, hooks / "pre-commit", hooks / install.CHAINED)
    result = repo.mergebert("install")
    assert result.returncode == 1
    assert "not touching either; nothing installed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(*before) == before


def test_the_block_an_older_install_appended_is_moved_first_and_removed(repo: GitRepo) -> None:
    """Installs before the block went first appended it, with a line break after a last line without one."""
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    older = install.attributes_block(done=install.ADDED_LF).replace("*.cs merge", "Greeter.cs merge")
    attributes.write_bytes(b"*.cs -merge\n" + older.encode())
    repo.mergebert("install", check=True)
    assert merge_of(repo, "x.cs") == "unset"
    assert attributes.read_bytes().count(b"# >>> mergebert") == 1
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == b"*.cs -merge"


def add_inside_the_block(attributes: Path, *lines: bytes) -> None:
    """The user's edit: `lines` added at the end of mergebert's block, before its END line."""
    data = attributes.read_bytes()
    at = data.index(b"\n" + install.END.encode()) + 1
    attributes.write_bytes(data[:at] + b"".join(line + b"\n" for line in lines) + data[at:])


@pytest.mark.parametrize(
    ("line", "path", "merge"),
    [(b"*.kt merge=mergebert", "x.kt", "mergebert"), (b"Legacy.java -merge", "Legacy.java", "unset")],
    ids=["a pattern routed", "a file left to git"],
)
def test_reinstall_keeps_a_line_the_user_added_inside_the_block_and_uninstall_leaves_it(
    repo: GitRepo, line: bytes, path: str, merge: str
) -> None:
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    users = b"*.png binary\n"
    attributes.write_bytes(users)
    repo.mergebert("install", check=True)
    add_inside_the_block(attributes, line)
    result = repo.mergebert("install", check=True)
    assert "attributes: kept 1 line of yours that was inside mergebert's block, now after it" in result.stdout
    data = attributes.read_bytes()
    assert data.startswith(b"# >>> mergebert") and data.count(b"# >>> mergebert") == 1
    assert data.endswith(install.END.encode() + b"\n" + line + b"\n" + users)
    assert merge_of(repo, path) == merge
    assert merge_of(repo, "Other.java") == "mergebert"
    repo.mergebert("install", check=True)
    assert attributes.read_bytes() == data
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == line + b"\n" + users


def test_uninstall_leaves_the_lines_the_user_added_inside_the_block(repo: GitRepo) -> None:
    attributes = repo.path / ".git" / "info" / "attributes"
    repo.mergebert("install", check=True)
    add_inside_the_block(attributes, b"*.kt merge=mergebert", b"Legacy.java -merge")
    result = repo.mergebert("uninstall", check=True)
    assert "kept 2 lines of yours that were inside its block" in result.stdout
    assert attributes.read_bytes() == b"*.kt merge=mergebert\nLegacy.java -merge\n"


def test_reinstall_does_not_bring_back_a_line_the_user_deleted_from_the_block(repo: GitRepo) -> None:
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_bytes(b"*.png binary\n")
    repo.mergebert("install", check=True)
    attributes.write_bytes(attributes.read_bytes().replace(b"*.cs merge=mergebert\n", b""))
    for _ in range(2):
        result = repo.mergebert("install", check=True)
        left_out = "attributes: left out of mergebert's block, as you deleted or changed their lines there: "
        assert left_out + "*.cs (a line" in result.stdout
        assert merge_of(repo, "x.cs") == "unspecified"
        assert merge_of(repo, "x.java") == "mergebert"
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == b"*.png binary\n"


def test_reinstall_keeps_a_line_the_user_changed_in_the_block(repo: GitRepo) -> None:
    attributes = repo.path / ".git" / "info" / "attributes"
    repo.mergebert("install", check=True)
    data = attributes.read_bytes()
    attributes.write_bytes(data.replace(b"*.cs merge=mergebert\n", b"*.cs merge=union\n"))
    result = repo.mergebert("install", check=True)
    assert "kept 1 line of yours" in result.stdout and "changed their lines there: *.cs" in result.stdout
    assert merge_of(repo, "x.cs") == "union"
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == b"*.cs merge=union\n"


def test_global_reinstall_and_uninstall_keep_the_users_lines_inside_the_block(repo: GitRepo) -> None:
    attributes = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    repo.mergebert("install", "--global", check=True)
    add_inside_the_block(attributes, b"*.kt merge=mergebert")
    assert "kept 1 line of yours" in repo.mergebert("install", "--global", check=True).stdout
    assert merge_of(repo, "x.kt") == "mergebert"
    repo.mergebert("uninstall", "--global", check=True)
    assert attributes.read_bytes() == b"*.kt merge=mergebert\n"


def test_install_keeps_the_users_line_in_a_block_the_previous_release_wrote(repo: GitRepo) -> None:
    """The release before wrote its block first in the file, with no record of its lines."""
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    previous = install.attributes_block().replace(install.END, "*.kt merge=mergebert\n" + install.END)
    attributes.write_bytes(previous.encode() + b"*.png binary\n")
    assert "kept 1 line of yours" in repo.mergebert("install", check=True).stdout
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == b"*.kt merge=mergebert\n*.png binary\n"


def test_install_takes_back_a_file_s_line_the_previous_release_wrote_for_a_merge_no_longer_declared(
    repo: GitRepo,
) -> None:
    """The previous release's block (no record of its lines) held `/src/A.java merge=union` for a merge the
    repository declared then: a line of install's form is install's, not the user's, once nothing declares
    it; the user's own line in that block stays theirs."""
    repo.commit({"src/A.java": "class A {}\n"})
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    previous = install.attributes_block([("src/A.java", "union")])
    previous = previous.replace(install.END, "*.kt merge=mergebert\n" + install.END)
    attributes.write_bytes(previous.encode() + b"*.png binary\n")
    result = repo.mergebert("install", check=True)
    assert "kept 1 line of yours" in result.stdout
    assert merge_of(repo, "src/A.java") == "mergebert"
    repo.mergebert("uninstall", check=True)
    assert merge_of(repo, "src/A.java") == "unspecified"
    assert attributes.read_bytes() == b"*.kt merge=mergebert\n*.png binary\n"


def test_a_pattern_the_release_that_wrote_an_edited_block_did_not_route_is_routed(repo: GitRepo) -> None:
    """A block the user edited, written by a release that knew no `*.cs` (its BEGIN line names the
    patterns it routed): `*.cs` is routed now, not taken for a line the user deleted."""
    attributes = repo.path / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    known = [pattern for pattern in install.PATTERNS if pattern != "*.cs"]
    begin = f"{install.BEGIN} (patterns: {' '.join(known)}) (lines 000000000000)"
    body = [install.routed_line(pattern) for pattern in known] + ["*.kt merge=mergebert"]
    attributes.write_text("\n".join([begin, *body, install.END]) + "\n")
    result = repo.mergebert("install", check=True)
    assert "kept 1 line of yours" in result.stdout and "left out" not in result.stdout
    assert merge_of(repo, "x.cs") == "mergebert"


def test_uninstall_of_an_edited_block_removes_the_lines_it_wrote_for_declared_merges(repo: GitRepo) -> None:
    repo.commit({"dist/app.js": "x();\n", ".gitattributes": "dist/*.js -merge\n"})
    attributes = repo.path / ".git" / "info" / "attributes"
    repo.mergebert("install", check=True)
    assert b"/dist/app.js -merge\n" in attributes.read_bytes()
    add_inside_the_block(attributes, b"Legacy.java -merge")
    repo.mergebert("uninstall", check=True)
    assert attributes.read_bytes() == b"Legacy.java -merge\n"


@pytest.mark.parametrize("absolute", [False, True], ids=["no GIT_WORK_TREE", "an absolute GIT_WORK_TREE"])
def test_a_hooks_folder_the_repository_tracks_is_left_alone_with_git_dir_set(
    repo: GitRepo, tmp_path: Path, absolute: bool
) -> None:
    """The repository kept apart from its work tree (GIT_DIR): its tracked .husky is still its own."""
    repo.commit({".husky/pre-commit": "#!/bin/sh\nnpm test\n"}, "husky")
    repo.git("config", "core.hooksPath", ".husky")
    (repo.path / ".git").rename(tmp_path / "store.git")
    repo.env = {**repo.env, "GIT_DIR": str(tmp_path / "store.git")}
    if absolute:
        repo.env["GIT_WORK_TREE"] = str(repo.path)
    result = repo.mergebert("install", check=True)
    assert "pre-commit hook: not installed: core.hooksPath (.husky) is a folder a repository tracks" in (
        result.stdout
    )
    assert repo.git("status", "--porcelain").stdout == ""


# the hook `pre-commit install` (the pre-commit framework, 4.7) writes, as test data
FRAMEWORK_HOOK = """#!/usr/bin/env bash
# File generated by pre-commit: https://pre-commit.com
# ID: 138fd403232d2ddd5efb44317e38bf03

# start templated
INSTALL_PYTHON=/nonexistent/bin/python3
ARGS=(hook-impl --config=.pre-commit-config.yaml --hook-type=pre-commit)
# end templated

HERE="$(cd "$(dirname "$0")" && pwd)"
ARGS+=(--hook-dir "$HERE" -- "$@")
exec "$INSTALL_PYTHON" -mpre_commit "${ARGS[@]}"
"""
LEGACY = "pre-commit.legacy"  # where `pre-commit install` moves the hook it finds, to run it first


def framework_install(hooks: Path) -> None:
    """What `pre-commit install` does to the hooks folder: a hook not its own moves to pre-commit.legacy."""
    hooks.mkdir(parents=True, exist_ok=True)
    if (hooks / "pre-commit").exists() and "File generated by pre-commit" not in (
        hooks / "pre-commit"
    ).read_text():
        (hooks / "pre-commit").rename(hooks / LEGACY)
    (hooks / "pre-commit").write_text(FRAMEWORK_HOOK)


def hook_files(hooks: Path) -> dict[str, str]:
    return {
        path.name: path.read_text() for path in sorted(hooks.iterdir()) if not path.name.endswith(".sample")
    }


def test_install_leaves_the_pre_commit_frameworks_hook_and_names_the_hook_id(repo: GitRepo) -> None:
    """Chained after mergebert's hook, the framework's would run itself again (as pre-commit.legacy) once
    `pre-commit install` runs again, refusing every commit; mergebert-check is the way with the framework."""
    hooks = repo.path / ".git" / "hooks"
    framework_install(hooks)
    before = hook_files(hooks)
    result = repo.mergebert("install", check=True)
    assert hook_files(hooks) == before
    assert "pre-commit framework's" in result.stdout and "mergebert-check" in result.stdout, result.stdout
    assert "pre-commit" not in repo.mergebert("uninstall", check=True).stdout
    assert hook_files(hooks) == before


def test_install_puts_back_the_frameworks_hook_an_earlier_install_chained(repo: GitRepo) -> None:
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / install.CHAINED).write_text(FRAMEWORK_HOOK)
    (hooks / "pre-commit").write_text(install.hook_script())  # as an install before this release left them
    result = repo.mergebert("install", check=True)
    assert hook_files(hooks) == {"pre-commit": FRAMEWORK_HOOK}
    assert "put back the pre-commit framework's hook" in result.stdout and "mergebert-check" in result.stdout


@pytest.mark.parametrize("users", [False, True], ids=["alone", "with the user's hook"])
def test_uninstall_removes_mergeberts_hook_the_framework_runs_as_pre_commit_legacy(
    repo: GitRepo, users: bool
) -> None:
    """`mergebert install`, then `pre-commit install`: mergebert's hook is the framework's pre-commit.legacy;
    the user's hook it chained goes back there, where the framework runs it."""
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    if users:
        (hooks / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    repo.mergebert("install", check=True)
    framework_install(hooks)
    result = repo.mergebert("uninstall", check=True)
    assert f"removed mergebert's pre-commit hook {Path('.git/hooks') / LEGACY}" in result.stdout, (
        result.stdout
    )
    left = {"pre-commit": FRAMEWORK_HOOK} | ({LEGACY: "#!/bin/sh\necho mine\n"} if users else {})
    assert hook_files(hooks) == left


def test_uninstall_leaves_mergeberts_hook_the_user_edited_as_pre_commit_legacy(repo: GitRepo) -> None:
    hooks = repo.path / ".git" / "hooks"
    repo.mergebert("install", check=True)
    with (hooks / "pre-commit").open("a") as f:
        f.write("# mine\n")
    framework_install(hooks)
    before = hook_files(hooks)
    result = repo.mergebert("uninstall", check=True)
    assert f"{Path('.git/hooks') / LEGACY} differs from the hook install writes" in result.stdout
    assert hook_files(hooks) == before


def test_install_and_uninstall_undo_the_loop_a_framework_hook_chained_by_an_earlier_install_makes(
    repo: GitRepo,
) -> None:
    """`pre-commit install`, an earlier `mergebert install` (chaining the framework's hook), `pre-commit
    install` again: the framework runs mergebert's hook, which runs the framework's copy, which refuses."""
    hooks = repo.path / ".git" / "hooks"
    framework_install(hooks)
    hooks.joinpath("pre-commit").rename(hooks / install.CHAINED)
    (hooks / "pre-commit").write_text(install.hook_script())
    framework_install(hooks)
    result = repo.mergebert("install", check=True)
    assert hook_files(hooks) == {"pre-commit": FRAMEWORK_HOOK, LEGACY: install.hook_script()}, result.stdout
    assert f"removed {Path('.git/hooks') / install.CHAINED}" in result.stdout, result.stdout
    (hooks / install.CHAINED).write_text(FRAMEWORK_HOOK)
    repo.mergebert("uninstall", check=True)
    assert hook_files(hooks) == {"pre-commit": FRAMEWORK_HOOK}


# the framework's hook as another `pre-commit install` wrote it (pre-commit upgraded, or from another
# environment): only its templated lines differ
FRAMEWORK_HOOK_ELSEWHERE = FRAMEWORK_HOOK.replace(
    "INSTALL_PYTHON=/nonexistent/bin/python3",
    "INSTALL_PYTHON=/opt/homebrew/Cellar/pre-commit/3.5.0/bin/python3",
)


@pytest.mark.parametrize("command", ["install", "uninstall"])
def test_a_chained_copy_of_the_frameworks_hook_another_install_wrote_is_removed(
    repo: GitRepo, command: str
) -> None:
    """An earlier install chained the framework's hook, which a later `pre-commit install` (of another
    release or environment) wrote again with other templated lines: still the framework's hook, which would
    run itself again as pre-commit.legacy, refusing every commit."""
    hooks = repo.path / ".git" / "hooks"
    repo.mergebert("install", check=True)
    framework_install(hooks)
    (hooks / install.CHAINED).write_text(FRAMEWORK_HOOK_ELSEWHERE)
    result = repo.mergebert(command, check=True)
    assert f"removed {Path('.git/hooks') / install.CHAINED}" in result.stdout or (
        f"and {Path('.git/hooks') / install.CHAINED}, a copy of the framework's hook" in result.stdout
    ), result.stdout
    kept = {LEGACY: install.hook_script()} if command == "install" else {}
    assert hook_files(hooks) == {"pre-commit": FRAMEWORK_HOOK, **kept}


# hooks of the user's made from the framework's: its marker line kept, the rest edited
USERS_FROM_FRAMEWORK_HOOKS = {
    "an edited line": FRAMEWORK_HOOK.replace("\nexec ", "\necho my own check\nexec "),
    "no templated section": FRAMEWORK_HOOK.replace("# start templated\n", "").replace(
        "# end templated\n", ""
    ),
}


@pytest.mark.parametrize("command", ["install", "uninstall"])
def test_a_chained_copy_of_a_framework_hook_without_a_templated_section_is_removed(
    repo: GitRepo, command: str
) -> None:
    """A framework release whose hook has no templated section: a copy of it byte for byte is its hook."""
    hooks = repo.path / ".git" / "hooks"
    repo.mergebert("install", check=True)
    framework_install(hooks)
    plain = USERS_FROM_FRAMEWORK_HOOKS["no templated section"]
    for name in ("pre-commit", install.CHAINED):
        (hooks / name).write_text(plain)
    repo.mergebert(command, check=True)
    kept = {LEGACY: install.hook_script()} if command == "install" else {}
    assert hook_files(hooks) == {"pre-commit": plain, **kept}


@pytest.mark.parametrize("users", USERS_FROM_FRAMEWORK_HOOKS)
@pytest.mark.parametrize("command", ["install", "uninstall"])
def test_a_chained_hook_that_holds_the_frameworks_marker_but_is_not_its_hook_stays(
    repo: GitRepo, command: str, users: str
) -> None:
    """An earlier install chained a hook of the user's that holds the framework's marker line (copied from
    it, then edited outside its templated lines); the framework then runs mergebert's hook as
    pre-commit.legacy. Only a copy of the framework's hook is removed: this one is the user's, kept where it
    was, and not moved to pre-commit.legacy by uninstall, where, should it run the framework, the framework
    would run itself again and refuse every commit."""
    hooks = repo.path / ".git" / "hooks"
    repo.mergebert("install", check=True)
    framework_install(hooks)
    hook = USERS_FROM_FRAMEWORK_HOOKS[users]
    (hooks / install.CHAINED).write_text(hook)
    result = repo.mergebert(command, check=True)
    assert f"removed {Path('.git/hooks') / install.CHAINED}" not in result.stdout, result.stdout
    assert "holds the framework's marker line but differs from its hook: yours" in result.stdout
    kept = {LEGACY: install.hook_script()} if command == "install" else {}
    assert hook_files(hooks) == {"pre-commit": FRAMEWORK_HOOK, install.CHAINED: hook, **kept}


def test_with_the_pre_commit_framework_installed_again_commits_still_pass(
    repo: GitRepo, tmp_path: Path
) -> None:
    """The real framework: `pre-commit install`, `mergebert install`, `pre-commit install`; and `mergebert
    install`, `pre-commit install`, `mergebert uninstall`, after which mergebert's hook no longer runs."""
    if shutil.which("pre-commit", path=repo.env["PATH"]) is None:
        pytest.skip("the pre-commit framework is not on PATH")
    env = {**repo.env, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=repo.path, env=env, capture_output=True, text=True)

    config = "repos:\n- repo: local\n  hooks:\n  - id: noop\n    name: noop\n"
    config += "    entry: 'true'\n    language: system\n"
    repo.commit({".pre-commit-config.yaml": config})
    for command in ["pre-commit", "install"], [MERGEBERT, "install"], ["pre-commit", "install"]:
        assert run(*command).returncode == 0
    repo.write("A.java", "class A {}\n")
    repo.git("add", "A.java")
    commit = run("git", "commit", "-m", "clean")
    assert commit.returncode == 0, commit.stdout + commit.stderr
    for command in ["pre-commit", "uninstall"], [MERGEBERT, "install"], ["pre-commit", "install"]:
        assert run(*command).returncode == 0
    assert run(MERGEBERT, "uninstall").returncode == 0
    repo.write("data.txt", "x\n<<<<<<< HEAD\n")
    repo.git("add", "data.txt")
    commit = run("git", "commit", "-m", "data, mergebert uninstalled")
    assert commit.returncode == 0, commit.stdout + commit.stderr
