"""The scratch folders a process killed before it could remove them (a daemon ended by SIGKILL) are
removed later, and only those: this user's folders whose owner's lock no live process holds, wherever
that process runs (another PID namespace sharing the temporary folder and the host name too)."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mergebert.core import tempdirs

HOST = socket.gethostname()


def ended() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def owner(scratch: Path, then: str, *prefixes: str) -> tuple[subprocess.Popen[str], list[Path]]:
    """A process that makes a folder in `scratch` for each of `prefixes` (`tempdirs.make`), then runs
    `then`; it and its folders."""
    code = (
        "import os, signal, sys, time\n"
        "from mergebert.core import tempdirs\n"
        "print(*(tempdirs.make(prefix) for prefix in sys.argv[1:]), flush=True)\n" + then
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, *prefixes],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, [Path(folder) for folder in process.stdout.readline().split()]  # type: ignore[union-attr]


def killed_owner(scratch: Path, *prefixes: str) -> list[Path]:
    """The folders of a process killed (SIGKILL) before it could remove them."""
    process, folders = owner(scratch, "os.kill(os.getpid(), signal.SIGKILL)", *prefixes)
    assert process.wait() == -signal.SIGKILL
    assert all(folder.is_dir() for folder in folders)
    return folders


def end(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()


@pytest.fixture
def live_owner(tmp_path: Path) -> Iterator[Path]:
    """The folder (in the `scratch` fixture's folder) of a process that runs while the test does."""
    process, (folder,) = owner(tmp_path, "time.sleep(600)", "mergebert-ort-")
    try:
        yield folder
    finally:
        end(process)


def locked_by_another_process(lock: Path) -> subprocess.Popen[str]:
    """A process that holds the lock on the file `lock` until it is ended."""
    code = (
        "import fcntl, sys, time\n"
        "held = open(sys.argv[1], 'a')\n"
        "fcntl.flock(held, fcntl.LOCK_EX)\n"
        "print(flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE, text=True)
    process.stdout.readline()  # type: ignore[union-attr]
    return process


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder `tempdirs` uses, for this test."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_the_folders_of_a_killed_process_are_removed_and_those_of_live_ones_stay(
    scratch: Path, live_owner: Path
) -> None:
    killed = killed_owner(scratch, "mergebert-odb-", "mergebert-ort-")
    (killed[0] / "objects").mkdir()
    mine = Path(tempdirs.make("mergebert-ort-"))  # this running process's
    assert sorted(tempdirs.remove_abandoned()) == sorted(map(str, killed))
    assert not any(folder.exists() for folder in killed)
    assert mine.is_dir() and live_owner.is_dir()
    tempdirs.remove(str(mine))  # not remove_all: this process's other folders (the line merge's) stay in use
    assert not mine.exists()


def test_a_folder_whose_owner_is_alive_but_has_no_pid_here_stays(scratch: Path) -> None:
    # a daemon in another PID namespace that shares /tmp and the host name (docker --net=host): its pid,
    # as an older release named its folders, is of no process here, yet it runs and holds the lock
    elsewhere = scratch / f"mergebert-odb-{ended()}@{HOST}.abcd1234"
    elsewhere.mkdir()
    holder = locked_by_another_process(elsewhere / tempdirs.LOCK)
    try:
        assert tempdirs.remove_abandoned() == []
        assert elsewhere.is_dir()
    finally:
        end(holder)
    assert tempdirs.remove_abandoned() == [str(elsewhere)], "once it has ended, it goes"


def test_folders_without_a_lock_file_and_links_stay(scratch: Path) -> None:
    older = scratch / f"mergebert-odb-{ended()}@{HOST}.abcd1234"  # an older release's, its process ended
    older.mkdir()
    elsewhere = scratch / "elsewhere"
    elsewhere.mkdir()
    (target,) = killed_owner(elsewhere, "mergebert-ort-")  # abandoned, but not in the folder cleaned
    link = scratch / "mergebert-ort-link1234"
    link.symlink_to(target)
    assert tempdirs.remove_abandoned() == []
    assert older.is_dir() and link.is_symlink() and target.is_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="a folder of another user's takes root (chown)")
def test_another_users_folder_stays(scratch: Path) -> None:
    (theirs,) = killed_owner(scratch, "mergebert-odb-")
    os.chown(theirs, 12345, 12345)
    assert tempdirs.remove_abandoned() == []
    assert theirs.is_dir()


def test_a_folder_moved_elsewhere_keeps_its_lock_until_it_is_in_place(scratch: Path) -> None:
    """A training run moves its staging folder into place: where the move fails (the place was taken
    meanwhile), the folder is still this process's, locked, and removed when it ends."""
    work = Path(tempdirs.make(".model.", ".training"))
    taken = scratch / "model"
    (taken / "other").mkdir(parents=True)
    with pytest.raises(OSError):
        tempdirs.move(str(work), str(taken))
    assert (work / tempdirs.LOCK).exists() and tempdirs.remove_abandoned(str(scratch), ".model.") == []
    tempdirs.remove(str(work))
    work = Path(tempdirs.make(".model.", ".training"))
    tempdirs.move(str(work), str(scratch / "moved"))
    assert not work.exists() and os.listdir(scratch / "moved") == []


def test_where_the_file_system_has_no_locks_a_folder_is_made_unlocked(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lustre without -o flock, NFS mounted nolock: flock fails there (ENOSYS, ENOLCK)."""

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    folder = Path(tempdirs.make("mergebert-ort-"))
    assert folder.is_dir() and os.listdir(folder) == []
    tempdirs.remove(str(folder))
    assert not folder.exists()
