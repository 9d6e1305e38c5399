"""`mergebert install --help` names the patterns it routes to the driver as install writes them."""

from __future__ import annotations

from gitrepo import GitRepo

from mergebert.core.languages import EXTENSIONS


def test_install_help_lists_the_extensions_in_their_order(repo: GitRepo) -> None:
    shown = " ".join(repo.mergebert("install", "--help", check=True).stdout.split())
    assert " ".join(f"*{extension}" for extension in EXTENSIONS) in shown
