"""The daemon's boundary between users: a driver talks only to a daemon of its own user, through the folder
it checked (never a link, never by path: a folder swapped by another user reaches no other socket), and a
daemon only to drivers of its own; its lock and pid files are never reached through links, nor written in
a folder that is not the user's own; a folder whose parent lets another user rename it, a runtime folder
that is not the user's, and a machine without /proc are not used."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
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

from mergebert.git import daemon

NOBODY = 65534


def as_nobody() -> list[str]:
    """A command prefix that runs as user `nobody` (the other user these tests need)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("acting as another user needs root and setpriv")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


# Run as nobody, given the fd of a bound socket: listens, and answers a request with forged bytes.
IMPOSTOR = """
import json, socket, struct, sys
frame = struct.Struct(">Q")
def exactly(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data
server = socket.socket(fileno=int(sys.argv[1]))
server.listen(8)
server.settimeout(120)
conn, _ = server.accept()
try:
    frames = [exactly(conn, frame.unpack(exactly(conn, 8))[0]) for _ in range(4)]
except EOFError:
    print("nothing received", flush=True)
    raise SystemExit(0)
head = json.dumps({"signature": json.loads(frames[0])["signature"], "conflicts": 1, "left": 0,
                   "lines": [], "record": None}).encode()
forged = b"// FORGED BY ANOTHER USER\\n"
conn.sendall(frame.pack(len(head)) + head + frame.pack(len(forged)) + forged)
print("request received", flush=True)
"""


def test_a_socket_served_by_another_user_gets_nothing(repo: GitRepo) -> None:
    """Another user's process listening at the socket's path (a folder swapped in by someone who can
    rename in its parent) is refused before anything is sent: the file is resolved in the process."""
    prefix = as_nobody()
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound.bind(str(socket_of(repo)))
    os.chmod(socket_of(repo), 0o666)
    impostor = subprocess.Popen(
        [*prefix, "/usr/bin/python3", "-c", IMPOSTOR, str(bound.fileno())],
        pass_fds=(bound.fileno(),),
        stdout=subprocess.PIPE,
        text=True,
    )
    bound.close()
    try:
        merge = merge_token_conflict(repo)
        assert merge.returncode == 0, merge.stderr
        assert repo.read(NAME) == TOKEN_MERGED.encode()
        assert f"served by another user (uid {NOBODY})" in merge.stderr
        assert impostor.communicate(timeout=60)[0] == "nothing received\n"
    finally:
        impostor.kill()
        impostor.wait()


# Run as nobody: connects to the socket given, sends a request and says whether anything came back.
CLIENT = """
import socket, struct, sys
frame = struct.Struct(">Q")
conn = socket.socket(socket.AF_UNIX)
conn.settimeout(30)
conn.connect(sys.argv[1])
header = sys.argv[2].encode()
try:
    conn.sendall(b"".join(frame.pack(len(f)) + f for f in (header, b"a\\n", b"b\\n", b"c\\n")))
    print("answered" if conn.recv(1 << 16) else "refused")
except (ConnectionResetError, BrokenPipeError):
    print("refused")
"""


def test_the_daemon_answers_no_other_user(repo: GitRepo) -> None:
    """A client of another user that reached the socket (here: the folder and socket opened to it) is
    refused, and the daemon goes on serving its user."""
    prefix = as_nobody()
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    folder(repo).chmod(0o711)
    socket_of(repo).chmod(0o666)
    tree = os.stat(repo.path)
    header = {
        "signature": daemon.code_signature(),
        "tree": f"{tree.st_dev}:{tree.st_ino}",
        "arguments": {"path": "x.java", "marker_size": 7, "labels": None, "model": None, "threshold": None}
        | {"problem": None},
        "environment": {"MERGEBERT_MODEL": "none"},
        "caller": 1,
        "deadline": time.monotonic() + 60,
    }
    client = subprocess.run(
        [*prefix, "/usr/bin/python3", "-c", CLIENT, str(socket_of(repo)), json.dumps(header)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert client.stdout == "refused\n", client.stderr
    folder(repo).chmod(0o700)
    merge = second_merge(repo)
    assert merge.returncode == 0 and repo.read("src/Other.java") == TOKEN_MERGED.encode()
    assert daemon_pids(folder(repo)) == [pid], "the daemon still serves its user"


def test_a_daemon_does_not_write_in_another_users_folder(repo: GitRepo, tmp_path: Path) -> None:
    """The daemon checks the folder it opens, once, and writes only through that: a folder of another
    user's (swapped in after the driver's check) gets no lock, pid or socket file."""
    as_nobody()
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    started = subprocess.run(
        [sys.executable, "-m", "mergebert.git.daemon", str(theirs / "x.sock")],
        cwd=repo.path,
        env={**repo.env, "MERGEBERT_DAEMON_IDLE": "1"},
        capture_output=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert list(theirs.iterdir()) == []


def test_the_pid_file_is_replaced_not_written_through_a_link(repo: GitRepo, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    pid_file = socket_of(repo).with_suffix(".pid")
    pid_file.symlink_to(victim)
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode()
    assert victim.read_text() == "precious\n"
    assert not pid_file.is_symlink()
    (pid,) = daemon_pids(folder(repo))
    assert alive(pid)


def test_the_lock_file_is_not_made_through_a_link(repo: GitRepo, tmp_path: Path) -> None:
    made = tmp_path / "made-through-the-link"
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    socket_of(repo).with_suffix(".lock").symlink_to(made)
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode()
    assert not made.exists()


def stop_daemon_of(socket_path: Path) -> None:
    """End the daemon whose pid file is next to `socket_path` (one a test made outside its own folder)."""
    try:
        pid = int(socket_path.with_suffix(".pid").read_text())
    except (OSError, ValueError):
        return
    os.kill(pid, 15)
    wait_until(lambda: not alive(pid), 10)


def runtime_merge(repo: GitRepo, runtime: str) -> str:
    """A merge with $XDG_RUNTIME_DIR set to `runtime` and no $MERGEBERT_DAEMON_DIR; its stderr. The
    daemon it leaves in the fallback folder is ended."""
    del repo.env["MERGEBERT_DAEMON_DIR"]
    repo.env["XDG_RUNTIME_DIR"] = runtime
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    try:
        merge = repo.git("merge", "--no-edit", "feature", check=False)
    finally:
        fallback = Path(f"/tmp/mergebert-{os.getuid()}")
        exec_path = repo.git("--exec-path").stdout.strip()
        driver_env = {**repo.env, "PATH": f"{exec_path}{os.pathsep}{repo.env['PATH']}"}
        stop_daemon_of(fallback / daemon.socket_name(os.path.realpath(repo.path), driver_env))
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    return merge.stderr


def test_a_runtime_folder_of_another_user_is_not_used(repo: GitRepo, tmp_path: Path) -> None:
    """$XDG_RUNTIME_DIR kept by `su` names the other user's folder: its owner could swap what is in it."""
    as_nobody()
    runtime = tmp_path / "runtime-of-nobody"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, NOBODY, NOBODY)
    stderr = runtime_merge(repo, str(runtime))
    assert list(runtime.iterdir()) == []
    assert "resolver daemon not used" not in stderr


def test_a_relative_runtime_folder_is_ignored(repo: GitRepo) -> None:
    """The XDG spec: a relative $XDG_RUNTIME_DIR is ignored (it would put the daemon's folder in the
    work tree, where a merge adding `mergebert` then fails)."""
    stderr = runtime_merge(repo, ".")
    assert not (repo.path / "mergebert").exists()
    assert "resolver daemon not used" not in stderr


def test_a_relative_daemon_folder_is_refused(repo: GitRepo) -> None:
    repo.env["MERGEBERT_DAEMON_DIR"] = "daemons"
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode()
    assert not (repo.path / "daemons").exists()
    assert "resolver daemon not used: $MERGEBERT_DAEMON_DIR (daemons) is not an absolute path" in merge.stderr


class Service:
    """Another socket of the user's (an agent, a bus, another tool's): it listens at `path` and keeps
    whatever a client sends it."""

    def __init__(self, path: Path) -> None:
        self.received: list[bytes] = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                data = b""
                try:
                    while chunk := conn.recv(1 << 16):
                        data += chunk
                except OSError:
                    pass
            self.received.append(data)

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        self.listener.close()


# Run as the other user: exchange the two folders given (renameat2 RENAME_EXCHANGE) until killed.
SWAPPER = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (path.encode() for path in sys.argv[1:3])
while True:
    libc.renameat2(-100, a, -100, b, 2)
"""


def test_a_folder_swapped_by_another_user_reaches_no_other_socket(repo: GitRepo, tmp_path: Path) -> None:
    """The review's attack: another user who owns the daemon folder's parent swaps it, again and again,
    with a folder of theirs holding the socket's name as a link to another socket of the user's. The
    folder is refused (its parent is theirs), and that socket receives nothing, merge after merge. The
    parent rule refuses first here; that the driver reaches the socket only through the folder it checked,
    never a link, is `test_a_link_with_the_sockets_name_is_not_followed`'s."""
    prefix = as_nobody()
    if not hasattr(ctypes.CDLL(None), "renameat2"):
        pytest.skip("the swap needs renameat2 (glibc 2.28 or later)")
    shared = Path(tempfile.mkdtemp(prefix="mb-shared-"))  # in /tmp: the other user can reach it
    shared.chmod(0o755)
    os.chown(shared, NOBODY, NOBODY)
    repo.env["MERGEBERT_DAEMON_DIR"] = str(shared / "daemons")
    (shared / "daemons").mkdir(mode=0o700)
    service = Service(tmp_path / "service.sock")
    decoy = shared / "decoy"
    subprocess.run([*prefix, "mkdir", str(decoy)], check=True)
    subprocess.run([*prefix, "ln", "-s", str(tmp_path / "service.sock"), str(decoy / socket_of(repo).name)])
    swapper = subprocess.Popen(
        [*prefix, "/usr/bin/python3", "-c", SWAPPER, str(shared / "daemons"), str(decoy)]
    )
    try:
        repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
        repo.git("tag", "ours")
        repo.use_driver()
        for _ in range(8):
            repo.git("reset", "-q", "--hard", "ours")
            merge = repo.git("merge", "--no-edit", "feature", check=False)
            assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode(), merge.stderr
            assert service.received == [], "the request reached another socket of the user's"
            assert "where another user can rename it" in merge.stderr
    finally:
        swapper.kill()
        swapper.wait()
        service.stop()
        for place in (shared / "daemons", decoy):
            stop_daemons(place)
        shutil.rmtree(shared)


def test_a_link_with_the_sockets_name_is_not_followed(repo: GitRepo, tmp_path: Path) -> None:
    """The driver connects only to a socket in the folder it checked, never through a link: a link there
    is replaced by a daemon's socket, and the socket it names receives nothing."""
    service = Service(tmp_path / "service.sock")
    try:
        folder(repo).mkdir(mode=0o700, exist_ok=True)
        socket_of(repo).symlink_to(tmp_path / "service.sock")
        merge = merge_token_conflict(repo)
        assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode(), merge.stderr
    finally:
        service.stop()
    assert service.received == []
    assert stat.S_ISSOCK(socket_of(repo).lstat().st_mode)
    assert len(daemon_pids(folder(repo))) == 1


@pytest.mark.parametrize("owner", [None, NOBODY], ids=["writable-by-all", "another-users"])
def test_a_parent_where_another_user_can_rename_is_refused(
    repo: GitRepo, tmp_path: Path, owner: int | None
) -> None:
    """tmux's rule: the folder's parent must be the user's or root's, and writable by others only with
    the sticky bit; otherwise another user could swap the folder. Said once, no folder made."""
    parent = tmp_path / "shared"
    parent.mkdir()
    if owner is None:
        parent.chmod(0o777)
    else:
        if os.geteuid() != 0:
            pytest.skip("giving a folder to another user needs root")
        os.chown(parent, owner, owner)
    repo.env["MERGEBERT_DAEMON_DIR"] = str(parent / "daemons")
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode(), merge.stderr
    assert merge.stderr.count("resolver daemon not used") == 1
    assert f"its folder {parent / 'daemons'} is in {parent} (uid" in merge.stderr
    assert "where another user can rename it" in merge.stderr
    assert not (parent / "daemons").exists()


def test_a_sticky_parent_and_the_users_runtime_folder_are_used(repo: GitRepo, tmp_path: Path) -> None:
    """A parent others can write in with the sticky bit (as /tmp), and the user's own $XDG_RUNTIME_DIR."""
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    repo.env["MERGEBERT_DAEMON_DIR"] = str(sticky / "daemons")
    try:
        merge = merge_token_conflict(repo)
        assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode(), merge.stderr
        assert "resolver daemon not used" not in merge.stderr
        assert len(daemon_pids(sticky / "daemons")) == 1
    finally:
        stop_daemons(sticky / "daemons")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    del repo.env["MERGEBERT_DAEMON_DIR"]
    repo.env["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        merge = second_merge(repo)
        assert merge.returncode == 0 and repo.read("src/Other.java") == TOKEN_MERGED.encode(), merge.stderr
        assert "resolver daemon not used" not in merge.stderr
        assert len(daemon_pids(runtime / "mergebert")) == 1
    finally:
        stop_daemons(runtime / "mergebert")


def test_without_proc_the_daemon_is_not_used(repo: GitRepo) -> None:
    """The socket is reached only through the checked folder's descriptor, /proc/self/fd/N: where /proc is
    not mounted the daemon is not used (never connected to by path), said once."""
    unshared = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        'umount -l /proc && exec "$@"',
        "-",
    ]
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("unmounting /proc in a mount namespace of its own needs root and unshare")
    if subprocess.run([*unshared, "true"], capture_output=True).returncode != 0:
        pytest.skip("this machine does not let a test unmount /proc in a mount namespace of its own")
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    merge = repo.run(*unshared, "git", "merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode(), merge.stderr
    assert merge.stderr.count("resolver daemon not used: /proc is not mounted") == 1
    assert daemon_pids(folder(repo)) == []
