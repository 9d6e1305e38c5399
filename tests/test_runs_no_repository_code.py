"""mergebert's Python runs its own modules, never ones from the repository it merges: git runs the driver,
the mergetool and the hook at the top of the work tree, and a Python started there with that folder on
sys.path would import a `json.py`, a `typing.py` or a `mergebert/` package committed by anyone."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo

from mergebert.git import install, pystart

NAME = "src/App.java"
# modules mergebert imports (json, typing) and its own package, as a repository may hold them at its top
SHADOWS = ("json.py", "typing.py", "mergebert/__init__.py", "mergebert/git/__init__.py")
SHADOWS += ("mergebert/git/driver.py", "mergebert/git/daemon.py", "mergebert/__main__.py")
# what starting a module imports: frozen in some Python releases (3.11's runpy), found on sys.path in others
SHADOWS += ("runpy.py", "importlib/__init__.py", "collections.py", "types.py")


def plant(repo: GitRepo, ran: Path) -> None:
    """Commit modules that, imported, record it in `ran` and fail."""
    code = f"open({str(ran)!r}, 'a').write(__name__ + '\\n')\nraise ImportError('not mergebert')\n"
    repo.commit({name: code for name in SHADOWS}, "modules of the repository's own")


@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "no daemon"])
def test_the_driver_imports_nothing_from_the_work_tree(repo: GitRepo, tmp_path: Path, daemon: str) -> None:
    ran = tmp_path / "ran"
    plant(repo, ran)
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.env["MERGEBERT_DAEMON"] = daemon
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert not ran.exists(), ran.read_text()
    assert (merge.returncode, repo.read(NAME)) == (0, TOKEN_MERGED.encode()), merge.stderr


def test_mergebert_started_through_its_python_imports_nothing_from_the_work_tree(
    repo: GitRepo, tmp_path: Path
) -> None:
    """Where no `mergebert` script stands beside the Python (installed without one), git runs mergebert
    through that Python (`install.mergebert_command`): as `git mergetool` and the hook do, at the top of
    the work tree."""
    ran = tmp_path / "ran"
    plant(repo, ran)
    version = repo.run("sh", "-c", f"{pystart.shell_command('mergebert')} --version", check=False)
    assert not ran.exists(), ran.read_text()
    assert version.returncode == 0 and version.stdout.startswith("mergebert"), version.stderr


def test_the_shell_entry_point_starts_python_as_pystart_does() -> None:
    """driver.sh cannot import pystart: it holds the same code, which must not drift from it."""
    script = install.driver_script().read_text()
    assert f"\"$python\" -c '{pystart.CODE}' mergebert.git.driver " in script


def test_starting_a_module_imports_nothing_from_the_folder_it_runs_in(repo: GitRepo, tmp_path: Path) -> None:
    """With the standard library's modules unfrozen, as some Python releases ship them, what pystart.CODE
    imports before it takes the folder off sys.path is imported from the folder, where there is one."""
    ran = tmp_path / "ran"
    plant(repo, ran)
    python, *started = pystart.command_line("mergebert")
    version = repo.run(python, "-X", "frozen_modules=off", *started, "--version", check=False)
    assert not ran.exists(), ran.read_text()
    assert version.returncode == 0 and version.stdout.startswith("mergebert"), version.stderr
