"""`atomic_write`: a file is replaced whole, keeps its mode, and no temporary file is left behind."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from gitrepo import TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

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


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    """As `git merge-file` writes: the link stays, its target gets the content."""
    (tmp_path / "real.java").write_bytes(b"old\n")
    link = tmp_path / "App.java"
    link.symlink_to("real.java")
    atomic_write(link, b"new\n")
    assert link.is_symlink() and os.readlink(link) == "real.java"
    assert (tmp_path / "real.java").read_bytes() == b"new\n"
    assert sorted(os.listdir(tmp_path)) == ["App.java", "real.java"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file, as git's own write may")
def test_a_file_this_process_may_not_write_is_left_alone(tmp_path: Path) -> None:
    """A rename needs only the folder's permission; an ordinary write needs the file's: git refuses."""
    target = tmp_path / "App.java"
    target.write_bytes(b"old\n")
    target.chmod(0o444)
    with pytest.raises(PermissionError):
        atomic_write(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert sorted(os.listdir(tmp_path)) == ["App.java"]


# `mergebert ARGS...` in which SIG<NAME> arrives while a work-tree file is written (os.fsync: its data is
# in the temporary file, not yet renamed), as `kill` or a closed terminal sends it
SIGNALLED_WHILE_WRITING = """
import os, signal, sys
from mergebert.cli import main
fsync = os.fsync
def signalled(fd):
    written = os.readlink(f"/proc/self/fd/{{fd}}")
    if written.startswith(os.getcwd() + "/") and "/.git/" not in written:
        os.kill(os.getpid(), signal.SIG{name})
    fsync(fd)
os.fsync = signalled
main(sys.argv[1:])
"""


@pytest.mark.parametrize("name", ["TERM", "HUP"])
def test_a_command_ended_by_a_signal_leaves_no_temporary_file(repo: GitRepo, name: str) -> None:
    """`merge-file` writes CURRENT with nothing held off (`resolve` holds signals off while it writes)."""
    for side, text in (("App.java", TOKEN_OURS), ("base.java", TOKEN_BASE), ("theirs.java", TOKEN_THEIRS)):
        repo.write(side, text)
    command = SIGNALLED_WHILE_WRITING.format(name=name)
    proc = repo.run(
        sys.executable, "-c", command, "merge-file", "App.java", "base.java", "theirs.java", check=False
    )
    assert proc.returncode != 0, proc.stderr
    assert repo.read("App.java") == TOKEN_OURS.encode()
    assert not list(repo.path.rglob("*.mergebert")), proc.stderr
