"""`atomic_write`: a file is replaced whole, keeps its mode, and no temporary file is left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mergebert.core import textio
from mergebert.core.atomic import atomic_write


def test_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "App.java"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    atomic_write(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["App.java"]


def test_creates_a_missing_file(tmp_path: Path) -> None:
    atomic_write(str(tmp_path / "new.txt"), b"x")
    assert (tmp_path / "new.txt").read_bytes() == b"x"
    assert textio.atomic_write is atomic_write


def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path: Path) -> None:
    """As open() would create it (a model directory's files stay readable to others), not 0600."""
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "acceptor.json", b"{}")
    finally:
        os.umask(old)
    assert (tmp_path / "acceptor.json").stat().st_mode & 0o777 == 0o644


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    (target / "child").write_text("x")
    with pytest.raises(OSError):
        atomic_write(target, b"data")  # os.replace cannot put a file over a non-empty folder
    assert sorted(os.listdir(tmp_path)) == ["dir-in-the-way"]
