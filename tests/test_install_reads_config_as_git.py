"""`mergebert install` / `uninstall` read git's config as git reads it: every config file (the system one
too, unless GIT_CONFIG_NOSYSTEM; included ones), the last value winning, for the attributes file a global
install writes and for a `mergebert.confirm` setting the user already has."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import GitRepo


def snapshot(*paths: Path) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.exists() else None for p in paths}


def with_system_config(repo: GitRepo, text: str) -> Path:
    """Give git a system config file holding `text` (GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM unset)."""
    system = Path(repo.env["HOME"]).parent / "system-gitconfig"
    system.write_text(text)
    repo.env = {name: value for name, value in repo.env.items() if name != "GIT_CONFIG_NOSYSTEM"}
    repo.env["GIT_CONFIG_SYSTEM"] = str(system)
    return system


def merge_of(repo: GitRepo, path: str) -> str:
    """The `merge` attribute git gives `path`, as check-attr says it."""
    return repo.git("check-attr", "merge", "--", path).stdout.strip().rsplit(": ", 1)[1]


def test_global_install_writes_the_attributes_file_the_system_config_names(
    repo: GitRepo, tmp_path: Path
) -> None:
    named = tmp_path / "system-attributes"
    named.write_text("*.psd binary\n")
    with_system_config(repo, f"[core]\n\tattributesFile = {named}\n")
    default = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    result = repo.mergebert("install", "--global", check=True)
    assert f"attributes: {named} is the file core.attributesFile names in system config" in result.stdout
    assert merge_of(repo, "x.java") == "mergebert"
    assert not default.exists(), "git does not read the default file where core.attributesFile is set"
    repo.mergebert("uninstall", "--global", check=True)
    assert named.read_text() == "*.psd binary\n"


def test_the_attributes_file_the_global_config_names_outranks_the_systems(
    repo: GitRepo, tmp_path: Path
) -> None:
    system_named, global_named = tmp_path / "system-attributes", tmp_path / "global-attributes"
    with_system_config(repo, f"[core]\n\tattributesFile = {system_named}\n")
    repo.git("config", "--global", "core.attributesFile", str(global_named))
    repo.mergebert("install", "--global", check=True)
    assert merge_of(repo, "x.cs") == "mergebert"
    assert "*.cs merge=mergebert" in global_named.read_text()
    assert not system_named.exists()
    repo.mergebert("uninstall", "--global", check=True)
    assert not global_named.exists()


def test_global_install_reads_no_system_config_under_git_config_nosystem(
    repo: GitRepo, tmp_path: Path
) -> None:
    system_named = tmp_path / "system-attributes"
    with_system_config(repo, f"[core]\n\tattributesFile = {system_named}\n")
    repo.env["GIT_CONFIG_NOSYSTEM"] = "1"
    repo.mergebert("install", "--global", check=True)
    assert "*.ts merge=mergebert" in (Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes").read_text()
    assert not system_named.exists()


def test_global_install_refuses_an_attributes_file_it_cannot_write_and_writes_nothing(
    repo: GitRepo, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("a file\n")
    named = not_a_folder / "attributes"
    with_system_config(repo, f"[core]\n\tattributesFile = {named}\n")
    gitconfig = Path(repo.env["HOME"]) / ".gitconfig"
    default = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    result = repo.mergebert("install", "--global")
    assert result.returncode == 1
    assert f"Error: cannot write {named}, the attributes file git reads (core.attributesFile in system " in (
        result.stderr
    )
    assert snapshot(gitconfig, default) == {gitconfig: None, default: None}


@pytest.mark.parametrize("where", ["global", "system"])
def test_global_install_refuses_where_core_attributes_file_is_empty_and_writes_nothing(
    repo: GitRepo, where: str
) -> None:
    """An empty core.attributesFile: git reads no global attributes file (not the default one either), so
    there is none for `install --global` to write; uninstall --global has none to change."""
    if where == "system":
        with_system_config(repo, "[core]\n\tattributesFile =\n")
    else:
        repo.git("config", "--global", "core.attributesFile", "")
    gitconfig = Path(repo.env["HOME"]) / ".gitconfig"
    default = Path(repo.env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    before = snapshot(gitconfig, default)
    result = repo.mergebert("install", "--global")
    assert result.returncode == 1
    refused = f"Error: core.attributesFile is empty in {where} config, so git reads no global attributes file"
    assert result.stderr.startswith(refused)
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(gitconfig, default) == before
    assert "attributes" not in repo.mergebert("uninstall", "--global", check=True).stdout
    assert snapshot(default) == {default: before[default]}


@pytest.mark.parametrize(
    ("where", "scope"),
    [("included", "--global"), ("system", "--global"), ("global", "--local")],
    ids=["an included file, global install", "system config, global install", "global config, local install"],
)
def test_install_keeps_a_confirm_setting_git_reads_from_another_config_file(
    repo: GitRepo, tmp_path: Path, where: str, scope: str
) -> None:
    """The user's `mergebert.confirm false` stays the value git reads; --confirm still overrides it, and
    uninstall then takes out only what install wrote."""
    setting = "[mergebert]\n\tconfirm = false\n"
    (Path(repo.env["HOME"]) / ".gitconfig").write_text("[user]\n\tname = Someone\n")
    if where == "included":
        (tmp_path / "mine.gitconfig").write_text(setting)
        repo.git("config", "--global", "include.path", str(tmp_path / "mine.gitconfig"))
    elif where == "system":
        with_system_config(repo, setting)
    else:
        repo.git("config", "--global", "mergebert.confirm", "false")
    written = Path(repo.env["HOME"]) / ".gitconfig" if scope == "--global" else repo.path / ".git" / "config"
    before = snapshot(written)
    flags = [scope] if scope == "--global" else []
    result = repo.mergebert("install", *flags, check=True)
    assert f"git config {scope} mergebert.confirm: kept 'false'" in result.stdout
    assert repo.git("config", "--type=bool", "mergebert.confirm").stdout.strip() == "false"
    repo.mergebert("uninstall", *flags, check=True)
    assert snapshot(written) == before
    repo.mergebert("install", *flags, "--confirm", check=True)
    assert repo.git("config", "--type=bool", "mergebert.confirm").stdout.strip() == "true"
    repo.mergebert("uninstall", *flags, check=True)
    assert snapshot(written) == before
