"""The daemon when its world changes under it: a model replaced with its times kept, its scratch folders
removed, its socket deleted, its pid file taken over, the daemon stopped or silent, a folder it cannot
use; every file still ends resolved or with git's merge, without waiting on what cannot answer."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from gitrepo import (
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    alive,
    daemon_pids,
    stop_daemons,
    wait_until,
)
from test_daemon import NAME, folder, merge_token_conflict, second_merge, socket_of

import mergebert

SHIPPED_MODEL = Path(mergebert.__file__).parent / "neural" / "model"


@pytest.mark.parametrize("dangling", [False, True], ids=["plain", "with-a-dangling-link"])
def test_a_model_replaced_with_its_times_kept_is_loaded_again(
    repo: GitRepo, tmp_path: Path, dangling: bool
) -> None:
    """`cp -p`, `rsync -a`, `touch -r`: the model file's content changes, its modification time does not;
    a link in the model folder that names nothing does not hide the change."""
    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    if dangling:
        (model / "previous.onnx").symlink_to(tmp_path / "removed.onnx")
    repo.env["MERGEBERT_MODEL"] = str(model)
    merge = merge_token_conflict(repo)
    assert "model unavailable" not in merge.stderr, merge.stderr
    (pid,) = daemon_pids(folder(repo))
    onnx = model / "model.onnx"
    times = os.stat(onnx)
    onnx.write_bytes(b"not a model\n")
    os.utime(onnx, ns=(times.st_atime_ns, times.st_mtime_ns))
    merge = second_merge(repo)
    assert "model unavailable" in merge.stderr, merge.stderr
    assert daemon_pids(folder(repo)) == [pid], "the same daemon answered"


def test_scratch_folders_removed_under_a_live_daemon(repo: GitRepo, tmp_path: Path) -> None:
    """A temporary-folder cleaner removed the daemon's scratch repositories: the next file is resolved
    (by a daemon with folders of its own) instead of failing for the daemon's whole life."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    repo.env["TMPDIR"] = str(scratch)
    assert merge_token_conflict(repo).returncode == 0
    removed = list(scratch.glob("mergebert-*"))
    assert removed
    for path in removed:
        shutil.rmtree(path)
    merge = second_merge(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read("src/Other.java") == TOKEN_MERGED.encode()
    assert "internal error" not in merge.stderr


def test_a_silent_daemon_costs_the_file_its_time_and_no_more(repo: GitRepo) -> None:
    """Something of this user's accepts the request and never answers (a daemon stuck): the file gets
    git's merge when its time is up, and says so."""
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(socket_of(repo)))
    silent.listen(8)
    repo.env["MERGEBERT_DRIVER_TIMEOUT"] = "2"
    try:
        merge = merge_token_conflict(repo)
    finally:
        silent.close()
    assert merge.returncode != 0
    assert b"<<<<<<<" in repo.read(NAME)
    assert f"{NAME}: resolved 0 of 1 conflict (1 left: not resolved within 2 s" in merge.stderr


def test_a_stopped_daemon_is_not_asked(repo: GitRepo) -> None:
    """A daemon stopped (SIGSTOP, ^Z of its session, a debugger) would let the file wait its whole limit:
    the file is resolved in the driver's process at once."""
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    os.kill(pid, signal.SIGSTOP)
    repo.env["MERGEBERT_DRIVER_TIMEOUT"] = "20"
    try:
        merge = second_merge(repo, timeout=120)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert merge.returncode == 0, merge.stderr
    assert repo.read("src/Other.java") == TOKEN_MERGED.encode()


def test_a_daemon_whose_socket_was_deleted_ends(repo: GitRepo) -> None:
    """No driver can reach it any more, and it holds the lock a new daemon needs."""
    repo.env["MERGEBERT_DAEMON_IDLE"] = "120"
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    socket_of(repo).unlink()
    assert wait_until(lambda: not alive(pid), 20)
    merge = second_merge(repo)
    assert merge.returncode == 0 and repo.read("src/Other.java") == TOKEN_MERGED.encode()
    assert daemon_pids(folder(repo)) not in ([], [pid])


def test_the_driver_stops_waiting_when_the_daemon_it_started_cannot_listen(repo: GitRepo) -> None:
    """Another process holds the daemon's lock and no socket appears: the daemon started exits at once,
    and the driver resolves in its process instead of waiting for a socket until its time is up."""
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    repo.env["MERGEBERT_DRIVER_TIMEOUT"] = "4"  # less than the 5 s a driver waits for a daemon to listen
    with open(socket_of(repo).with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merge = merge_token_conflict(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_an_ending_daemon_leaves_a_pid_file_not_its_own(repo: GitRepo) -> None:
    """Its folder was cleaned and another daemon wrote the pid file since: that one stays."""
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    pid_file = socket_of(repo).with_suffix(".pid")
    other = pid_file.with_suffix(".other")
    other.write_text("999999999\n")
    other.replace(pid_file)
    try:
        os.kill(pid, signal.SIGTERM)
        assert wait_until(lambda: not alive(pid))
        assert pid_file.read_text() == "999999999\n"
    finally:
        pid_file.unlink(missing_ok=True)


def test_a_daemon_folder_past_a_unix_sockets_path_length_is_used(repo: GitRepo, tmp_path: Path) -> None:
    """A socket's path is at most 107 bytes, but the driver connects through the folder's descriptor
    (/proc/self/fd/N/NAME) and the daemon binds by name in its folder: a long folder path is no matter."""
    long = tmp_path / ("d" * 100)
    long.mkdir(mode=0o700)
    repo.env["MERGEBERT_DAEMON_DIR"] = str(long)
    assert len(os.fsencode(socket_of(repo))) > 107
    try:
        merge = merge_token_conflict(repo)
        assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode(), merge.stderr
        assert "resolver daemon not used" not in merge.stderr
        (pid,) = daemon_pids(long)
        merge = second_merge(repo)
        assert merge.returncode == 0 and repo.read("src/Other.java") == TOKEN_MERGED.encode(), merge.stderr
        assert daemon_pids(long) == [pid], "the same daemon answered"
    finally:
        stop_daemons(long)


def test_a_daemon_that_cannot_start_says_why_once(repo: GitRepo) -> None:
    """The daemon finds it cannot start (here its lock file's name is taken by a folder) and exits 2: the
    driver says why, once per git command, and each file is resolved in its own process."""
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    lock = socket_of(repo).with_suffix(".lock")
    lock.mkdir()
    names = ("src/App.java", "src/Other.java")
    repo.commit(dict.fromkeys(names, TOKEN_BASE), "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(dict.fromkeys(names, TOKEN_THEIRS), "theirs")
    repo.git("checkout", "-q", "main")
    repo.commit(dict.fromkeys(names, TOKEN_OURS), "ours")
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert all(repo.read(name) == TOKEN_MERGED.encode() for name in names)
    assert merge.stderr.count("resolver daemon not used") == 1
    assert f"resolver daemon not used: its daemon cannot make {lock.name} in {folder(repo)}" in merge.stderr
    assert daemon_pids(folder(repo)) == []


def test_a_read_only_daemon_folder_is_said_and_no_daemon_started(repo: GitRepo) -> None:
    """A folder on a read-only mount (root writes anywhere else: a private mount namespace makes one)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a read-only mount needs root and unshare")
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    script = 'mount --bind -o ro "$0" "$0" && exec git merge --no-edit feature'
    merge = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(folder(repo))],
        cwd=repo.path,
        env=repo.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert "resolver daemon not used: its folder" in merge.stderr and "read-only" in merge.stderr
