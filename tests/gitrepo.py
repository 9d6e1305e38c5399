"""Real git repositories in temporary folders, driven by the real `git` and the installed `mergebert`.

Every repository gets an isolated environment: HOME and XDG_CONFIG_HOME in the test's folder, no
system config, fixed author, no editor, and the virtual environment's `bin` first on PATH so that git
finds the installed `mergebert` for the merge driver, mergetool and hook.
"""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MERGEBERT = str(BIN / "mergebert")


def mergebert_setting(name: str) -> bool:
    """Whether the environment variable `name` changes what mergebert does (a setting, a test fault,
    NO_COLOR): no test inherits one from the environment the tests run in."""
    return name.startswith("MERGEBERT_") or name == "NO_COLOR"


def isolated_env(home: Path) -> dict[str, str]:
    """os.environ without any git state or mergebert setting of the caller, with `home` as HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and not mergebert_setting(k)}
    (home / ".config").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        GIT_EDITOR="true",
        GIT_MERGE_AUTOEDIT="no",
        # the front-end tests pin git's contract on the deterministic token merge; the shipped model's
        # own behaviour is tested in test_classifier.py
        MERGEBERT_MODEL="none",
        # the driver's time limit (10 s) is tested by the tests that set it; on a loaded machine a cold
        # driver can pass 10 s, and the others would then see git's merge instead of the behaviour they test
        MERGEBERT_DRIVER_TIMEOUT="300",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        LC_ALL="C",
    )
    return env


def daemon_pids(folder: Path) -> list[int]:
    """The resolver daemons running with sockets in `folder` (by their pid files)."""
    pids = []
    for pid_file in folder.glob("*.pid"):
        try:
            pids.append(int(pid_file.read_text()))
        except (OSError, ValueError):
            continue
    return pids


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def threads(pid: int) -> int:
    """How many threads process `pid` runs (0 once it has ended): a daemon or a driver that has started a
    thread to resolve runs one more than while it waits for work."""
    try:
        return len(os.listdir(f"/proc/{pid}/task")) if alive(pid) else 0
    except OSError:
        return 0


def wait_until(condition, seconds: float = 30) -> bool:  # type: ignore[no-untyped-def]
    """Poll `condition` until it holds or `seconds` pass (a bound on waiting, not a measurement)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_daemons(folder: Path) -> None:
    """End the daemons of `folder`: SIGTERM, then SIGKILL if one has not ended after a while."""
    for pid in daemon_pids(folder):
        try:
            os.kill(pid, signal.SIGTERM)
            if not wait_until(lambda pid=pid: not alive(pid), 10):
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue


class GitRepo:
    """A work tree with helpers for the git and mergebert commands tests run in it."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    @classmethod
    def init(cls, path: Path, env: dict[str, str]) -> GitRepo:
        """`git init -b main` with user name and email set."""
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, env)
        repo.git("init", "-q", "-b", "main")
        repo.git("config", "user.name", "Test")
        repo.git("config", "user.email", "test@example.com")
        return repo

    def run(
        self, *args: str, check: bool = True, text: bool = True, **kwargs: object
    ) -> subprocess.CompletedProcess:
        """Any command in the work tree; output captured (as text with universal newlines by default)."""
        proc = subprocess.run(
            list(args), cwd=self.path, env=self.env, capture_output=True, text=text, check=False, **kwargs
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def git(self, *args: str, check: bool = True, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """A git command."""
        return self.run("git", *args, check=check, **kwargs)

    def mergebert(
        self, *args: str, check: bool = False, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """The installed mergebert executable."""
        return self.run(MERGEBERT, *args, check=check, **kwargs)

    def write(self, name: str, content: str | bytes) -> None:
        """Write a work-tree file (bytes as they are, str as UTF-8 without newline translation)."""
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def read(self, name: str) -> bytes:
        """A work-tree file's bytes."""
        return (self.path / name).read_bytes()

    def commit(self, files: dict[str, str | bytes], message: str = "commit") -> str:
        """Write and stage `files`, commit, return the new commit id."""
        for name, content in files.items():
            self.write(name, content)
        self.git("add", "--", *files)
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    def diverge(self, name: str, base: str | bytes, ours: str | bytes, theirs: str | bytes) -> None:
        """base on main, `theirs` on branch feature, `ours` on main; leaves main checked out."""
        self.commit({name: base}, "base")
        self.git("checkout", "-q", "-b", "feature")
        self.commit({name: theirs}, "theirs")
        self.git("checkout", "-q", "main")
        self.commit({name: ours}, "ours")

    def stop_on(self, files: dict[str, tuple[str, str, str]], command: str = "merge") -> None:
        """Commit each file's (base, ours, theirs): base, then theirs on branch feature and ours on main;
        run `command` (merge, rebase or cherry-pick), which must stop with exactly these files unmerged."""
        self.commit({name: sides[0] for name, sides in files.items()}, "base")
        self.git("checkout", "-q", "-b", "feature")
        self.commit({name: sides[2] for name, sides in files.items()}, "theirs")
        self.git("checkout", "-q", "main")
        self.commit({name: sides[1] for name, sides in files.items()}, "ours")
        if command == "rebase":
            self.git("checkout", "-q", "feature")
            stopped = self.git("rebase", "main", check=False)
        elif command == "cherry-pick":
            stopped = self.git("cherry-pick", "feature", check=False)
        else:
            stopped = self.git("merge", "--no-edit", "feature", check=False)
        assert stopped.returncode != 0
        assert sorted(self.conflicted()) == sorted(files)

    def conflicted(self) -> list[str]:
        """Paths git records as unmerged."""
        out = self.git("diff", "--name-only", "--diff-filter=U").stdout
        return out.split()

    def merge_both_ways(self, name: str, *command: str) -> tuple[bytes, bytes, str]:
        """Run `command` (merge, rebase or cherry-pick; it must conflict for git alone) without the
        merge driver, abort, then with the driver; returns both versions of `name` and the driver run's
        stderr. The driver run is left in progress."""
        git_alone = self.git(*command, check=False)
        assert git_alone.returncode != 0, "the scenario must conflict for git alone"
        without = self.read(name)
        self.git(command[0], "--abort")
        if command[0] == "rebase":
            self.git("checkout", "-q", "feature")
        self.use_driver()
        with_driver = self.git(*command, check=False)
        return without, self.read(name), with_driver.stderr

    def use_driver(
        self,
        patterns: str = "*.java *.js *.ts *.cs *.txt",
        command: str | None = None,
        *,
        confirm: bool = False,
    ) -> None:
        """Configure the merge driver by hand, also for extra patterns: the command `mergebert install`
        writes (the shell entry point), or `command` (e.g. `mergebert driver %O %A %B %L %P`). Confirm
        mode is off unless asked for: these tests pin what the driver resolves, and git commits it at
        once; tests/test_review.py tests the stop."""
        from mergebert.git import install

        command = command or install.driver_command(install.git_version())
        self.git("config", "merge.mergebert.driver", command)
        self.git("config", "mergebert.confirm", str(confirm).lower())
        self.add_attributes("".join(f"{p} merge=mergebert\n" for p in patterns.split()))

    def add_attributes(self, lines: str) -> None:
        """Append to the repository's info/attributes."""
        path = self.path / self.git("rev-parse", "--git-path", "info/attributes").stdout.strip()
        path.parent.mkdir(exist_ok=True)
        path.write_text((path.read_text() if path.exists() else "") + lines)


def java(call: str, extra: str = "") -> str:
    """A small Java class whose main method makes `call`; `extra` goes after it."""
    return (
        "public class App {\n"
        "    public static void main(String[] args) {\n"
        f"        {call}\n"
        f"{extra}"
        "    }\n"
        "}\n"
    )


# One line, two edits to different arguments: a token merge settles it.
TOKEN_BASE = java('Server s = new Server("localhost", 8080, false);')
TOKEN_OURS = java('Server s = new Server("0.0.0.0", 8080, false);')
TOKEN_THEIRS = java('Server s = new Server("localhost", 8080, true);')
TOKEN_MERGED = java('Server s = new Server("0.0.0.0", 8080, true);')
# Both sides change the same argument differently: nothing can settle it.
CLASH_BASE = java("int port = 8080;")
CLASH_OURS = java("int port = 9090;")
CLASH_THEIRS = java("int port = 7070;")


def without_root_privilege() -> list[str]:
    """A command prefix under which file permissions hold (root's CAP_DAC_OVERRIDE dropped where root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root may write any file, and no setpriv here to drop that privilege")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def paused_write(
    repo: GitRepo, target: str, args: list[str], action: Callable[[subprocess.Popen[str]], object]
) -> subprocess.CompletedProcess[str]:
    """`mergebert args` in `repo`, paused once its atomic write of `target` has written the temporary file,
    before it checks the file and replaces it ($MERGEBERT_TEST_FAULT's `pause-write`), while `action` runs
    (a save, a signal to the process), then let go: the action lands at that moment of the write, however
    fast the machine or its file system (an fsync on tmpfs costs nothing)."""
    path = repo.path / target
    release = repo.path.parent / "release-the-write"
    release.unlink(missing_ok=True)
    env = {
        **repo.env,
        "MERGEBERT_TEST_FAULT": "pause-write",
        "MERGEBERT_TEST_PAUSED": str(path),
        "MERGEBERT_TEST_RELEASE": str(release),
    }
    command = [MERGEBERT, *args]
    process = subprocess.Popen(
        command, cwd=repo.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        temporary = f".{path.name}.{process.pid}-*"  # atomic_write's: there until it is let go
        wait_until(lambda: any(path.parent.glob(temporary)) or process.poll() is not None, 120)
        paused = any(path.parent.glob(temporary))
        if paused:
            action(process)
    finally:
        release.touch()
        out, err = process.communicate(timeout=120)
    assert paused, f"{target} was never written:\n{out}{err}"
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def topic_beside(repo: GitRepo, name: str, sides: tuple[str, str, str]) -> None:
    """Branch `side` changes `name` one way (theirs) and main another (ours), from base; then `topic`, one
    commit beside the file on main~1, is checked out: rebasing it onto main stops on nothing of `name`,
    picking `side` meanwhile conflicts."""
    base, ours, theirs = sides
    repo.commit({name: base}, "base")
    repo.git("branch", "side")
    repo.git("checkout", "-q", "side")
    repo.commit({name: theirs}, "side")
    repo.git("checkout", "-q", "main")
    repo.commit({name: ours}, "main")
    repo.git("checkout", "-q", "-b", "topic", "main~1")
    repo.commit({"notes.txt": "c1\n"}, "c1")


@contextmanager
def write_lock_held(repo: GitRepo) -> Iterator[None]:
    """Another mergebert's hold on the lock `resolve`, `mergetool` and `review --undo` write under."""
    from mergebert.git import marked

    lock = repo.path / ".git" / marked.WRITE_LOCK
    lock.parent.mkdir(exist_ok=True)
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def signalled_while_waiting(repo: GitRepo, command: list[str], number: int) -> tuple[int, str, str]:
    """`command` started while another mergebert holds the write lock, sent signal `number` once it has
    said its first line (that it waits): its exit status, that first line and the rest of its stderr."""
    with write_lock_held(repo):
        proc = subprocess.Popen(command, cwd=repo.path, env=repo.env, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            ready, _, _ = select.select([proc.stderr], [], [], 120)  # a bound on waiting, not a measurement
            assert ready
            first = proc.stderr.readline()
            proc.send_signal(number)
            status = proc.wait(120)
            return status, first, proc.stderr.read()
        finally:
            proc.kill()
            proc.communicate()
