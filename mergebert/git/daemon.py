"""A per-repository resolver that stays loaded across the driver calls of one git operation.

The merge driver asks the daemon first (`ask`); when there is none it starts one and asks it. The daemon
is reachable only by the user: a Unix socket in a private 0700 folder in a parent where no other user can
rename it, which driver and daemon each open once and check (`open_folder`); the driver reaches the
socket only through that descriptor (/proc/self/fd/N/NAME, `check_proc`), the daemon binds it and makes its
lock and pid files only in that folder, never through links, and each end checks the other's user
(SO_PEERCRED) before anything is sent. It serves one request at a time and ends after
`$MERGEBERT_DAEMON_IDLE` seconds (default 15) without one, or once its socket file is gone. A daemon that
cannot start says why on stderr and exits 2; the driver that started it raises that as Unusable. A
request carries the three versions, the driver's arguments, the settings of the caller's environment
and the file's deadline, which starting the daemon, waiting behind other requests and the resolve all
keep; the reply carries the merged bytes, the conflict counts, the lines to print and the record of
decisions (for the driver's decision log), nothing more. A daemon whose resolve is stuck past its
deadline ends (a thread cannot be stopped), dropping the requests queued behind it. Whenever the daemon
is absent, stale (other mergebert code, a work tree deleted and made again at its path, or its scratch
folders removed under it), stopped (SIGSTOP) or dead, `ask` returns None and the driver resolves in its
own process with the time left.
$MERGEBERT_DAEMON=0 turns it off.

The environment a request carries: the daemon applies only the variables named by PASSED_PREFIXES, the
ones the resolve reads (see there), whatever else a request holds. Those include the config `git -c`
gave (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT/KEY_n/VALUE_n), which can name commands for git to run (a
merge driver, an attributes file): the daemon runs them as its user, which is the only user the peer
check lets send a request, and who could run them without the daemon. The peer check is the boundary;
the filter only keeps a request from changing what the daemon keeps from its start (PATH, HOME).

This module imports only the standard library at the top: the driver's warm path must stay light.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import sys
import time

from mergebert.core import faults, timebounds

TYPE_CHECKING = False  # typing, dataclasses and pathlib are not imported: the warm path stays light
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping
    from typing import Any

    from mergebert.git.driver import Arguments

ENABLE_VARIABLE = "MERGEBERT_DAEMON"
DIR_VARIABLE = "MERGEBERT_DAEMON_DIR"
IDLE_VARIABLE = "MERGEBERT_DAEMON_IDLE"
DEFAULT_IDLE = 15.0
START_WAIT = 5.0  # at most, seconds of the file's time a driver waits for a daemon it started to listen
CHECK_EVERY = 1.0  # seconds between a waiting daemon's checks that its socket file is still its own
# The caller's settings that a request carries: the model policy, the test faults, git's merge heads,
# the config that `git -c` gave the command (GIT_CONFIG_PARAMETERS and the like), and the repository,
# index and object store git was pointed at (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE and the like).
PASSED_PREFIXES = (
    *("MERGEBERT_", "GITHEAD_", "GIT_CONFIG_", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"),
    *("GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE"),
)
# The caller's variables that the daemon keeps from its start: where git and libgit2 find the user's
# config (~/.gitconfig, $XDG_CONFIG_HOME/git/) and which git runs. A caller with other values gets a
# daemon of its own.
CALLER_VARIABLES = ("HOME", "XDG_CONFIG_HOME", "PATH")
_LENGTH = struct.Struct(">Q")


class Reply:
    """What the daemon decided for one file; `logged`: as `driver.Decided`'s; `timed_out`: it did not
    finish within the time limit."""

    def __init__(
        self,
        data: bytes = b"",
        conflicts: int = 0,
        left: int = 0,
        lines: tuple[str, ...] = (),
        record: dict[str, Any] | None = None,
        *,
        logged: bool = True,
        timed_out: bool = False,
    ) -> None:
        self.data, self.conflicts, self.left = data, conflicts, left
        self.lines, self.record, self.logged, self.timed_out = lines, record, logged, timed_out


TIMED_OUT = Reply(timed_out=True)


def enabled() -> bool:
    """On, and where each end can check the other's user (SO_PEERCRED: Linux)."""
    return os.environ.get(ENABLE_VARIABLE, "1") != "0" and hasattr(socket, "SO_PEERCRED")


class Unusable(Exception):
    """The daemon's folder cannot be used: the message says why and what to do."""


ELSEWHERE = f"or set ${DIR_VARIABLE} to a folder of yours that only you can enter"


def chosen_folder() -> str:
    """$MERGEBERT_DAEMON_DIR (an absolute path), else $XDG_RUNTIME_DIR/mergebert where the XDG spec lets
    that be used, else /tmp/mergebert-<uid>."""
    folder = os.environ.get(DIR_VARIABLE) or ""
    if folder and not os.path.isabs(folder):
        raise Unusable(f"${DIR_VARIABLE} ({folder}) is not an absolute path: set it to a folder of yours")
    runtime = os.environ.get("XDG_RUNTIME_DIR") or ""
    if not folder and runtime_usable(runtime):
        folder = os.path.join(runtime, "mergebert")
    return folder or f"/tmp/mergebert-{os.getuid()}"


def runtime_usable(runtime: str) -> bool:
    """Whether $XDG_RUNTIME_DIR is what the XDG spec says it must be, an absolute path to a folder of this
    user's that only they can enter: a relative one is ignored, and another user's (which `su` keeps in
    the environment) is theirs to swap folders in."""
    if not os.path.isabs(runtime):
        return False
    try:
        return _not_private(os.stat(runtime), runtime) is None
    except OSError:
        return False


def open_folder(folder: str, *, make: bool = False) -> int:
    """`folder` (made 0700 first where `make` and it is missing) opened, once it is known to be a folder of
    this user's that only they can enter and that can be written, in a parent where no other user can
    rename it: the parent is opened and checked first, and the folder made and opened through that, so no
    link is followed after the check. Unusable otherwise."""
    parent, name = os.path.split(os.path.normpath(folder))
    parent_fd = _open_parent(parent, folder)
    try:
        if make:
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            except FileExistsError:
                pass
            except OSError as error:
                raise Unusable(f"cannot make its folder {folder} ({error.strerror}); {ELSEWHERE}") from None
        return _open_private(name, folder, parent_fd)
    finally:
        os.close(parent_fd)


def _open_parent(parent: str, folder: str) -> int:
    """`parent`, the folder's, opened: Unusable where another user could rename the folder in it (tmux's
    rule: the parent is this user's or root's, and writable by others only with the sticky bit, as /tmp)."""
    import stat

    try:
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise Unusable(f"cannot open {parent}, its folder's parent ({error.strerror}); {ELSEWHERE}") from None
    info = os.fstat(fd)
    if info.st_uid not in (0, os.getuid()) or (info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX):
        os.close(fd)
        whose = f"uid {info.st_uid}, mode {info.st_mode & 0o7777:04o}"
        raise Unusable(
            f"its folder {folder} is in {parent} ({whose}), where another user can rename it; {ELSEWHERE}"
        )
    return fd


def _open_private(name: str, folder: str, parent_fd: int) -> int:
    """The folder `name` of `parent_fd` opened (not through a link) and checked; `folder`: its path, for
    the message."""
    import errno

    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Unusable(f"{folder}, its folder, is not a folder: remove it, {ELSEWHERE}") from None
        raise Unusable(f"cannot open its folder {folder} ({error.strerror}); {ELSEWHERE}") from None
    try:
        problem = _not_private(os.fstat(fd), folder)
        if problem:
            raise Unusable(problem)
        if os.fstatvfs(fd).f_flag & os.ST_RDONLY:
            raise Unusable(f"its folder {folder} is on a read-only file system; {ELSEWHERE}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _not_private(info: os.stat_result, folder: str) -> str | None:
    """Why the folder `folder` (`info`: its status) is no private folder of this user's: not a folder,
    another user's, or open to other users; None where it is one."""
    import stat

    if not stat.S_ISDIR(info.st_mode):
        return f"{folder}, its folder, is not a folder: remove it, {ELSEWHERE}"
    if info.st_uid != os.getuid():
        return f"its folder {folder} belongs to another user (uid {info.st_uid}); {ELSEWHERE}"
    if info.st_mode & 0o077:
        mode = info.st_mode & 0o777
        return (
            f"its folder {folder} is open to other users (mode {mode:04o}): chmod 700 {folder}, {ELSEWHERE}"
        )
    return None


def check_proc(fd: int) -> None:
    """Unusable where /proc/self/fd/N does not name the folder open at `fd` (/proc is not mounted): the
    driver reaches the socket only through that path, which names the folder checked whatever is renamed
    meanwhile, never by the folder's own path."""
    try:
        same = os.path.samestat(os.stat(f"/proc/self/fd/{fd}"), os.fstat(fd))
    except OSError:
        same = False
    if not same:
        raise Unusable(
            "/proc is not mounted, and its socket is reached only through /proc/self/fd: mount /proc"
        )


def peer(conn: socket.socket) -> tuple[int, int]:
    """The pid and uid of the process at the other end of `conn` (the kernel's word: SO_PEERCRED)."""
    pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return pid, uid


def stopped(pid: int) -> bool:
    """Whether process `pid` is stopped (SIGSTOP, a debugger), by /proc where there is one."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] in (b"T", b"t")
    except (OSError, IndexError):
        return False


def code_signature() -> str:
    """mergebert's version and the state of its runtime code: a daemon with other code is stale."""
    from mergebert import __version__

    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    digest = hashlib.sha256(f"{__version__} {root}".encode())
    for folder in ("core", "git", "neural"):
        for entry in sorted(os.scandir(os.path.join(root, folder)), key=lambda e: e.name):
            if entry.name.endswith((".py", ".sh")):
                info = entry.stat()
                digest.update(f"{entry.name} {info.st_mtime_ns} {info.st_size}".encode())
    return digest.hexdigest()[:16]


def work_tree() -> str:
    """The work tree served, as the file system knows it: a tree deleted and made again at the same path
    (where the socket is the same) is another one."""
    info = os.stat(".")
    return f"{info.st_dev}:{info.st_ino}"


def socket_name(top: str, environ: Mapping[str, str]) -> str:
    """The socket's name for the work tree at `top` and a caller with `environ`: one daemon per repository
    (the work tree's top, where git runs drivers) and per value of the caller's CALLER_VARIABLES."""
    caller = "".join(f"\0{name}={environ.get(name)}" for name in CALLER_VARIABLES)
    return hashlib.sha256((top + caller).encode()).hexdigest()[:16] + ".sock"


def _send(conn: socket.socket, *frames: bytes) -> None:
    conn.sendall(b"".join(_LENGTH.pack(len(frame)) + frame for frame in frames))


def _answer(conn: socket.socket, *frames: bytes) -> None:
    """`_send` to a driver that may have gone (^C, its time limit): the daemon serves the next one."""
    import contextlib

    with contextlib.suppress(OSError):
        _send(conn, *frames)


def _receive_exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed mid-message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(conn: socket.socket, count: int) -> list[bytes]:
    frames = []
    for _ in range(count):
        (size,) = _LENGTH.unpack(_receive_exactly(conn, _LENGTH.size))
        frames.append(_receive_exactly(conn, size))
    return frames


# ----------------------------------------------------------------------------------------------- client


def _start(path: str) -> subprocess.Popen[bytes]:
    """Start a daemon for `path` in its own session, detached from git's terminal; its stderr is a pipe,
    read only where it ended with status 2 (it cannot start: it says why there)."""
    import subprocess

    from mergebert.git import pystart

    return subprocess.Popen(
        [*pystart.command_line("mergebert.git.daemon"), path],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
    )


def _serving(folder: int, name: str) -> bool:
    """Whether `name` in the folder open at `folder` is a socket of this user's, not a link (connect would
    follow one)."""
    import stat

    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()


def _connect(
    folder: int, name: str, wait: float, started: subprocess.Popen[bytes] | None = None
) -> socket.socket | None:
    """A connection to the daemon whose socket is `name` in the folder open at `folder` (reached through
    that descriptor: `check_proc`), waiting up to `wait` seconds for one to listen, and no longer once the
    daemon `started` has ended (it failed, or another daemon holds the lock and no socket came).
    BlockingIOError: a daemon listens there but its backlog is full (it accepts nothing: stopped, stuck)."""
    deadline = time.monotonic() + wait
    while True:
        ended = started is not None and started.poll() is not None
        if _serving(folder, name):
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.setblocking(False)  # a Unix socket's connect then fails at once where it would block
            try:
                conn.connect(f"/proc/self/fd/{folder}/{name}")
                return conn
            except BlockingIOError:
                conn.close()
                raise
            except OSError:
                conn.close()
        if ended or time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def _started(folder: int, name: str, path: str, wait: float) -> socket.socket | None:
    """A daemon started for `path` (`name` in the folder open at `folder`) and a connection to it within
    `wait` seconds; Unusable, with the daemon's reason, where it ended because it cannot start."""
    daemon = _start(path)
    assert daemon.stderr is not None
    with daemon.stderr:
        conn = _connect(folder, name, wait, daemon)
        if conn is None and daemon.poll() == 2:
            raise Unusable(_reason(daemon.stderr.fileno()))
    return conn


def _reason(pipe: int) -> str:
    """The last line that a daemon which has ended wrote to its stderr `pipe` (its reason)."""
    os.set_blocking(pipe, False)  # all it wrote is there: never wait for more
    try:
        said = os.read(pipe, 1 << 16).decode(errors="replace").strip().splitlines()
    except OSError:
        said = []
    return said[-1] if said else "its daemon could not start (exit status 2)"


def _checked(conn: socket.socket, path: str) -> None:
    """Unusable where the daemon at the other end of `conn` is another user's process or a stopped one."""
    pid, uid = peer(conn)
    if uid != os.getuid():
        raise Unusable(f"its socket {path} is served by another user (uid {uid}), nothing sent; {ELSEWHERE}")
    if stopped(pid):
        raise Unusable(f"its daemon (pid {pid}) is stopped: `kill -CONT {pid}` or `kill {pid}`")


def _header(args: Arguments, signature: str, deadline: float) -> bytes:
    """A request's first frame: what the daemon needs besides the three versions."""
    return json.dumps(
        {
            "signature": signature,
            "tree": work_tree(),
            "arguments": {
                "path": args.path,
                "marker_size": args.marker_size,
                "labels": args.labels,
                "model": args.model,
                "threshold": args.threshold,
                "problem": args.problem,
            },
            "environment": {k: v for k, v in os.environ.items() if k.startswith(PASSED_PREFIXES)},
            "caller": os.getppid(),
            "deadline": deadline,  # CLOCK_MONOTONIC is the machine's, not the process's: the daemon's too
        }
    ).encode()


def ask(args: Arguments, base: bytes, ours: bytes, theirs: bytes, deadline: float) -> Reply | None:
    """The daemon's result for this file by `deadline` (`time.monotonic()`'s), starting a daemon when there
    is none; TIMED_OUT past it; None: resolve here (Unusable: the daemon cannot be used, said once per
    operation). The socket is reached only through the folder's descriptor, opened and checked once."""
    chosen = chosen_folder()
    folder = open_folder(chosen, make=True)
    try:
        check_proc(folder)
        name = socket_name(os.path.realpath(os.getcwd()), os.environ)
        return _ask(folder, name, os.path.join(chosen, name), args, (base, ours, theirs), deadline)
    finally:
        os.close(folder)


def _ask(
    folder: int, name: str, path: str, args: Arguments, versions: tuple[bytes, bytes, bytes], deadline: float
) -> Reply | None:
    """`ask`, with the daemon's socket `name` in the folder open at `folder` (at `path`)."""
    signature = code_signature()
    header = _header(args, signature, deadline)
    for _attempt in range(2):
        try:
            conn = _connect(folder, name, 0)
            if conn is None:
                conn = _started(folder, name, path, min(START_WAIT, deadline - time.monotonic()))
        except BlockingIOError:  # a daemon that does not accept: waiting for it has no end
            return None
        if conn is None:
            return None
        with conn:
            _checked(conn, path)  # before anything is sent
            left = deadline - time.monotonic()
            if left <= 0:
                return TIMED_OUT
            try:
                conn.settimeout(left)  # the request waits there behind others': sending it may block too
                _send(conn, header, *versions)
                head, data = _receive(conn, 2)
                reply = json.loads(head)
            except TimeoutError:
                return TIMED_OUT
            except (OSError, ValueError):  # dead or broken daemon
                return None
        if reply.get("stale"):  # it ran other code (or lost its scratch folders) and has ended: start another
            continue
        if reply.get("signature") != signature or "error" in reply:
            return None
        if reply.get("timed_out"):
            return TIMED_OUT
        record = reply.get("record")
        if record is not None and not isinstance(record, dict):
            return None
        try:
            return Reply(
                data=data,
                conflicts=int(reply["conflicts"]),
                left=int(reply["left"]),
                lines=tuple(str(line) for line in reply["lines"]),
                record=record,
                logged=reply.get("logged") is not False,
            )
        except (KeyError, TypeError, ValueError):
            return None
    return None


# ----------------------------------------------------------------------------------------------- server


def model_state(folder: str) -> tuple[Any, ...]:
    """The state of a model folder's files as the file system knows it: a file replaced in place with its
    size and modification time kept (`cp -p`, `rsync -a`, `touch -r`) has another change time, and one
    renamed into place another inode. Empty where it is not a folder."""
    try:
        info = os.stat(folder)
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return ()
    files = sorted((name, *_file_state(os.path.join(folder, name))) for name in names)
    return (info.st_dev, info.st_ino, *files)


def _file_state(path: str) -> tuple[int, ...]:
    """What `model_state` keeps of one entry: of the file a link names, else of the link itself (one that
    names nothing), else nothing (removed meanwhile)."""
    for follow in (True, False):
        try:
            info = os.stat(path, follow_symlinks=follow)
        except OSError:
            continue
        return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    return ()


class Server:
    """The daemon: answers requests on `path` until it has been idle for `idle` seconds; Unusable where its
    folder is not this user's own (see `open_folder`)."""

    def __init__(self, path: str, idle: float) -> None:
        folder, self.name = os.path.split(path)
        self.folder = open_folder(folder)  # every file of the daemon's is made and removed through this
        self.idle = idle
        self.signature = code_signature()
        self.tree = work_tree()
        self.classifiers: dict[Any, Any] = {}
        self.listener: socket.socket | None = None
        self.inode: int | None = None
        self.lock: int | None = None

    def sibling(self, suffix: str) -> str:
        """The name of the lock or pid file next to the socket."""
        return self.name.removesuffix(".sock") + suffix

    def classifier_for(self, model: str | None, threshold: float | None, repo: Any) -> Any:
        """The classifier the model policy chooses, loaded once per choice (and model files' state)."""
        from mergebert.git import gitinfo
        from mergebert.neural import policy

        choice = policy.choose(model, threshold, config=gitinfo.settings(repo))
        key = (choice, model_state(choice.model) if choice.model else ())
        if key not in self.classifiers:
            self.classifiers[key] = policy.LazyClassifier(choice)
        return self.classifiers[key]

    def listen(self) -> bool:
        """Bind the socket (replacing a stale one); False when another daemon holds the lock and listens
        (or has not bound its socket within a second of this one's start)."""
        import fcntl

        flags = os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC
        lock = os.open(self.sibling(".lock"), flags, 0o600, dir_fd=self.folder)
        given_up = time.monotonic() + 1.0
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if not isinstance(error, BlockingIOError) or self.bound() or time.monotonic() > given_up:
                    os.close(lock)
                    return False
                time.sleep(0.02)
        # the lock is held until close(): no other daemon can own the socket file meanwhile
        self.lock = lock
        if self.bound():
            os.unlink(self.name, dir_fd=self.folder)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        here = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        old = os.umask(0o177)
        try:
            os.fchdir(self.folder)  # bind by name in the folder checked (one thread runs yet)
            listener.bind(self.name)
        finally:
            os.fchdir(here)
            os.close(here)
            os.umask(old)
        listener.listen(8)
        self.listener = listener
        self.inode = os.stat(self.name, dir_fd=self.folder, follow_symlinks=False).st_ino
        self.write_pid()
        return True

    def bound(self) -> bool:
        """Whether a file has the socket's name in the folder."""
        try:
            os.stat(self.name, dir_fd=self.folder, follow_symlinks=False)
        except OSError:
            return False
        return True

    def reachable(self) -> bool:
        """Whether the socket file is still this daemon's (not deleted with its folder, nor replaced)."""
        try:
            return os.stat(self.name, dir_fd=self.folder, follow_symlinks=False).st_ino == self.inode
        except OSError:
            return False

    def write_pid(self) -> None:
        """Put this daemon's pid in the pid file, replacing (not following) what is there; a daemon that
        cannot (a full file system) serves without one."""
        import contextlib

        temporary, text = self.sibling(f".pid.{os.getpid()}"), f"{os.getpid()}\n".encode()
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(temporary, flags, 0o644, dir_fd=self.folder)
            try:
                os.write(fd, text)
            finally:
                os.close(fd)
            os.replace(temporary, self.sibling(".pid"), src_dir_fd=self.folder, dst_dir_fd=self.folder)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=self.folder)

    def owns_pid_file(self) -> bool:
        """Whether the pid file names this daemon (another may have written it since its folder was
        emptied)."""
        try:
            fd = os.open(self.sibling(".pid"), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.folder)
        except OSError:
            return False
        with os.fdopen(fd, "rb") as f:
            return f.read(32) == f"{os.getpid()}\n".encode()

    def close(self) -> None:
        """Remove the socket and the pid file where they are this daemon's, then let another start."""
        import contextlib

        if self.lock is None:
            return
        with contextlib.suppress(OSError):
            if self.owns_pid_file():
                os.unlink(self.sibling(".pid"), dir_fd=self.folder)
        with contextlib.suppress(OSError):
            if self.reachable():
                os.unlink(self.name, dir_fd=self.folder)
        if self.listener is not None:
            self.listener.close()
        os.close(self.lock)
        self.lock = None

    def serve(self) -> None:
        """Answer this user's requests until idle, or until the socket file is no longer this daemon's."""
        assert self.listener is not None
        self.listener.settimeout(min(self.idle, CHECK_EVERY))
        since = time.monotonic()
        while True:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                if time.monotonic() - since >= self.idle or not self.reachable():
                    return
                continue
            with conn:
                if peer(conn)[1] != os.getuid():  # another user's: nothing read, nothing answered
                    continue
                if not self.handle(conn):
                    return
            since = time.monotonic()

    def handle(self, conn: socket.socket) -> bool:
        """Answer one request; False when the daemon must end (stale, stuck)."""
        from mergebert.core import tempdirs

        conn.settimeout(30)
        try:
            head, base, ours, theirs = _receive(conn, 4)
            request = json.loads(head)
        except (OSError, ValueError):
            return True
        current = request.get("signature") == self.signature and request.get("tree") == self.tree
        if not current or not tempdirs.intact():  # a fresh daemon has current code and scratch folders
            self.close()
            _answer(conn, json.dumps({"stale": True}).encode(), b"")
            return False
        given = request["environment"]
        environment = {k: v for k, v in given.items() if k.startswith(PASSED_PREFIXES) and isinstance(v, str)}
        if faults.injected("daemon-crash", environment):
            os._exit(3)  # a daemon that dies mid-request, for the tests
        for key in [k for k in os.environ if k.startswith(PASSED_PREFIXES)]:
            del os.environ[key]
        os.environ.update(environment)
        timed_out = [json.dumps({"signature": self.signature, "timed_out": True}).encode(), b""]
        left = float(request["deadline"]) - time.monotonic()
        result = self.resolve(request, base, ours, theirs, left) if left > 0 else timed_out
        if result is None:  # its thread may never end: a fresh daemon serves the next file
            self.close()
            _answer(conn, *timed_out)
            return False
        _answer(conn, *result)
        return True

    def resolve(
        self, request: dict[str, Any], base: bytes, ours: bytes, theirs: bytes, limit: float
    ) -> list[bytes] | None:
        """The reply's two frames, or None when the resolve did not finish within `limit` seconds."""
        import contextlib
        import io

        from mergebert.git import driver

        given = request["arguments"]
        args = driver.Arguments(
            base="",
            current="",
            other="",
            marker_size=given["marker_size"],
            path=given["path"],
            labels=tuple(given["labels"]) if given["labels"] else None,
            model=given["model"],
            threshold=given["threshold"],
            problem=given["problem"],
        )
        printed = io.StringIO()
        with contextlib.redirect_stderr(printed):
            result = timebounds.within(
                limit,
                lambda: driver.resolve(
                    args, base, ours, theirs, caller=request["caller"], classifier_for=self.classifier_for
                ),
            )
        if result is None:
            return None
        if isinstance(result, BaseException):
            return [json.dumps({"signature": self.signature, "error": repr(result)}).encode(), b""]
        outcome = result.outcome
        lines = [line.removeprefix("mergebert: ") for line in printed.getvalue().splitlines()]
        count = outcome.count  # as the file shows them: the driver exits with the conflicts it holds
        reply = {
            "signature": self.signature,
            "conflicts": count.conflicts,
            "left": count.left,
            "lines": lines + driver.printed(args, result),
            "record": result.record,
            "logged": result.logged,
        }
        return [json.dumps(reply).encode(), outcome.data]


def _cannot_start(reason: str) -> int:
    """Tell the driver that started this daemon why it cannot start (one line on stderr, its pipe); 2."""
    import contextlib

    with contextlib.suppress(OSError):  # a driver that stopped waiting has closed the pipe
        print(reason.replace("\n", " "), file=sys.stderr, flush=True)
    return 2


def _quiet() -> None:
    """Point stderr, the starting driver's pipe, at /dev/null: a daemon that listens says nothing there."""
    null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    os.dup2(null, 2)
    os.close(null)


def main(argv: list[str]) -> int:
    """`python -m mergebert.git.daemon SOCKET`: serve until idle (started by the driver, not by hand)."""
    import signal

    if faults.injected("daemon-start"):
        return 1  # a daemon that cannot start, for the tests
    try:
        idle = float(os.environ.get(IDLE_VARIABLE, DEFAULT_IDLE))
    except ValueError:
        idle = DEFAULT_IDLE
    try:
        server = Server(argv[0], idle if idle > 0 else DEFAULT_IDLE)
        if not server.listen():
            return 0
    except Unusable as error:  # the driver that started it says why and resolves in its process
        return _cannot_start(str(error))
    except OSError as error:
        folder = os.path.dirname(argv[0])
        if error.filename and os.sep not in str(error.filename):  # a name in its folder (lock, pid, socket)
            named = f"{error.filename} in {folder} ({error.strerror}): remove what has that name"
            return _cannot_start(f"its daemon cannot make {named}, {ELSEWHERE}")
        return _cannot_start(f"its daemon cannot start in {folder} ({error.strerror}); {ELSEWHERE}")
    _quiet()
    from mergebert.core import tempdirs

    tempdirs.remove_abandoned()  # a daemon killed (SIGKILL) could not remove its scratch repositories
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve()
    finally:
        server.close()
    tempdirs.exit_now(0)  # a resolve thread past its time limit may still run: do not wait for it


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
