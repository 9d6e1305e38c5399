"""`mergebert demo` names its throwaway repository only where `--keep` keeps it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from gitrepo import GitRepo

PATH = re.compile(r"\S*mergebert-demo-\S*")


def test_demo_without_keep_names_no_folder(repo: GitRepo) -> None:
    shown = repo.mergebert("demo", check=True)
    assert PATH.findall(shown.stdout) == []


def test_demo_with_keep_names_the_folder_it_keeps(repo: GitRepo) -> None:
    shown = repo.mergebert("demo", "--keep", check=True)
    folders = {Path(found.strip("()")) for found in PATH.findall(shown.stdout)}
    try:
        (folder,) = folders
        assert (folder / "src").is_dir()
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
