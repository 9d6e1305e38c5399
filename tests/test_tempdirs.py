"""The scratch folders a process killed before it could remove them (a daemon ended by SIGKILL) are
removed later, and only those: this user's, of a process of this machine that has ended."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mergebert.core import tempdirs

HOST = socket.gethostname()


def ended() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder `tempdirs` uses, for this test."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_only_the_folders_of_ended_processes_of_this_machine_are_removed(scratch: Path) -> None:
    made = Path(tempdirs.make("mergebert-ort-"))  # this running process's
    pid = ended()
    gone = scratch / f"mergebert-odb-{pid}@{HOST}.abcd1234"
    elsewhere = scratch / f"mergebert-odb-{pid}@another-{HOST}.abcd1234"
    unlike = scratch / f"mergebert-{pid}@{HOST}.abcd1234"
    target = scratch / "target"
    for folder in (gone, elsewhere, unlike, target):
        folder.mkdir()
    (gone / "objects").mkdir()
    link = scratch / f"mergebert-ort-{pid}@{HOST}.link1234"
    link.symlink_to(target)
    tempdirs.remove_abandoned()
    assert not gone.exists()
    assert made.is_dir() and elsewhere.is_dir() and unlike.is_dir()
    assert link.is_symlink() and target.is_dir()
    tempdirs.remove_all()
    assert not made.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="a folder of another user's takes root (chown)")
def test_another_users_folder_stays(scratch: Path) -> None:
    theirs = scratch / f"mergebert-odb-{ended()}@{HOST}.abcd1234"
    theirs.mkdir()
    os.chown(theirs, 12345, 12345)
    tempdirs.remove_abandoned()
    assert theirs.is_dir()
