"""The per-repository resolver daemon through real git operations, and its failure modes: a stale socket,
a killed daemon, another version's daemon, two repositories at once, faults, the idle end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    alive,
    daemon_pids,
    java,
    wait_until,
)
from test_tempdirs import end, owner

from mergebert.git import daemon

NAME = "src/App.java"


def folder(repo: GitRepo) -> Path:
    return Path(repo.env["MERGEBERT_DAEMON_DIR"])


def socket_of(repo: GitRepo) -> Path:
    """Where the driver looks for the repository's daemon (git runs drivers at the work tree's top, its
    own folder first on PATH)."""
    exec_path = repo.git("--exec-path").stdout.strip()
    driver_env = {**repo.env, "PATH": f"{exec_path}{os.pathsep}{repo.env['PATH']}"}
    return folder(repo) / daemon.socket_name(os.path.realpath(repo.path), driver_env)


def merge_token_conflict(repo: GitRepo) -> subprocess.CompletedProcess[str]:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    return repo.git("merge", "--no-edit", "feature", check=False)


def second_merge(
    repo: GitRepo, name: str = "src/Other.java", timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Another token conflict in the same repository, after the first merge was committed; the merge
    fails the test after `timeout` seconds."""
    repo.git("checkout", "-q", "-b", f"base-{name.replace('/', '-')}")
    repo.commit({name: TOKEN_BASE}, "base 2")
    repo.git("checkout", "-q", "-b", "feature2")
    repo.commit({name: TOKEN_THEIRS}, "theirs 2")
    repo.git("checkout", "-q", "-")
    repo.commit({name: TOKEN_OURS}, "ours 2")
    return repo.git("merge", "--no-edit", "feature2", check=False, timeout=timeout)


def test_daemon_serves_the_next_file_and_ends_after_idle(repo: GitRepo, tmp_path: Path) -> None:
    repo.env["MERGEBERT_DAEMON_IDLE"] = "20"  # long enough for the second merge on a busy machine
    scratch = tmp_path / "tmp"  # where the daemon's temporary folders go: none must stay
    scratch.mkdir()
    repo.env["TMPDIR"] = str(scratch)
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert "resolved 1 of 1 conflict" in merge.stderr
    (pid,) = daemon_pids(folder(repo))
    assert socket_of(repo).exists()
    assert (folder(repo).stat().st_mode & 0o777) == 0o700
    merge = second_merge(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read("src/Other.java") == TOKEN_MERGED.encode()
    assert daemon_pids(folder(repo)) == [pid], "the same daemon answered"
    assert wait_until(lambda: not alive(pid), 60), "the daemon must end once idle"
    assert not socket_of(repo).exists() and daemon_pids(folder(repo)) == []
    assert list(scratch.iterdir()) == []


def test_stale_socket_is_replaced(repo: GitRepo) -> None:
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_of(repo)))
    stale.close()  # the file stays; nobody listens
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert len(daemon_pids(folder(repo))) == 1


def test_killed_daemon_is_replaced(repo: GitRepo) -> None:
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(pid))
    merge = second_merge(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read("src/Other.java") == TOKEN_MERGED.encode()
    (new,) = daemon_pids(folder(repo))
    assert new != pid


def request(path: Path, signature: str) -> dict:
    """A request as the driver sends it, with `signature` as the caller's code; the daemon's reply header."""
    header = {
        "signature": signature,
        "arguments": {
            "path": "x.java",
            "marker_size": 7,
            "labels": None,
            "model": None,
            "threshold": None,
            "problem": None,
        },
        "environment": {"MERGEBERT_MODEL": "none"},
        "caller": os.getpid(),
        "deadline": time.monotonic() + 60,
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(str(path))
        daemon._send(
            conn, json.dumps(header).encode(), CLASH_BASE.encode(), CLASH_OURS.encode(), CLASH_THEIRS.encode()
        )
        head, _ = daemon._receive(conn, 2)
    return json.loads(head)


def test_daemon_of_another_version_ends_and_is_not_used(repo: GitRepo) -> None:
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    assert request(socket_of(repo), "another-version") == {"stale": True}
    assert wait_until(lambda: not alive(pid))
    assert not socket_of(repo).exists()
    merge = second_merge(repo)
    assert merge.returncode == 0 and repo.read("src/Other.java") == TOKEN_MERGED.encode()
    assert daemon_pids(folder(repo)) not in ([], [pid])


def test_reply_from_another_version_is_ignored(repo: GitRepo) -> None:
    """Something else listens on the socket and answers with other code's signature and wrong bytes."""
    folder(repo).mkdir(mode=0o700, exist_ok=True)
    impostor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    impostor.bind(str(socket_of(repo)))
    impostor.listen(1)
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    merge = subprocess.Popen(
        ["git", "merge", "--no-edit", "feature"],
        cwd=repo.path,
        env=repo.env,
        stderr=subprocess.PIPE,
        text=True,
    )
    impostor.settimeout(60)
    conn, _ = impostor.accept()
    with conn:
        daemon._receive(conn, 4)
        reply = {"signature": "old", "conflicts": 1, "left": 0, "lines": [], "record": None}
        daemon._send(conn, json.dumps(reply).encode(), b"LOST BOTH SIDES\n")
    impostor.close()
    assert merge.wait(timeout=120) == 0, merge.stderr.read()
    merge.stderr.close()
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_two_repositories_at_once(tmp_path: Path, git_env: dict[str, str]) -> None:
    repos = [GitRepo.init(tmp_path / name, git_env) for name in ("one", "two")]
    for repo in repos:
        repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
        repo.use_driver()
        repo.git("checkout", "-q", "feature")
    rebases = [
        subprocess.Popen(["git", "rebase", "main"], cwd=r.path, env=r.env, stderr=subprocess.PIPE, text=True)
        for r in repos
    ]
    for rebase in rebases:
        assert rebase.wait(timeout=120) == 0, rebase.stderr.read()
        rebase.stderr.close()
    for repo in repos:
        assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert len(daemon_pids(folder(repos[0]))) == 2


def test_daemon_that_dies_mid_request_falls_back_in_process(repo: GitRepo) -> None:
    repo.env["MERGEBERT_TEST_FAULT"] = "daemon-crash"
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_daemon_that_cannot_start_falls_back_in_process(repo: GitRepo) -> None:
    repo.env["MERGEBERT_TEST_FAULT"] = "daemon-start"
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert daemon_pids(folder(repo)) == [] and not socket_of(repo).exists()


@pytest.mark.parametrize("fault", ["resolve", "resolve,linemerge"])
def test_fault_in_the_daemon_gives_gits_line_merge(repo: GitRepo, fault: str) -> None:
    assert merge_token_conflict(repo).returncode == 0  # a daemon is running
    (pid,) = daemon_pids(folder(repo))
    repo.git("reset", "-q", "--hard", "HEAD~1")
    driver = repo.git("config", "merge.mergebert.driver").stdout.strip()
    repo.git("config", "--unset", "merge.mergebert.driver")
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    expected = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver(command=driver)
    repo.env["MERGEBERT_TEST_FAULT"] = fault
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.read(NAME) == expected
    assert "internal error" in merge.stderr and "kept git's line merge" in merge.stderr
    assert daemon_pids(folder(repo)) == [pid], "the daemon answered"


def test_daemon_past_the_time_limit_gives_gits_merge_and_ends(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    expected = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver()
    repo.env.update(MERGEBERT_TEST_FAULT="stall", MERGEBERT_DRIVER_TIMEOUT="1")
    merge = repo.git("merge", "--no-edit", "feature", check=False, timeout=120)
    assert merge.returncode != 0
    assert repo.read(NAME) == expected
    assert "not resolved within 1 s" in merge.stderr
    assert wait_until(lambda: not daemon_pids(folder(repo)) and not socket_of(repo).exists())


def test_folder_that_is_not_private_is_not_used(repo: GitRepo, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    repo.env["MERGEBERT_DAEMON_DIR"] = str(shared)
    merge = merge_token_conflict(repo)
    assert merge.returncode == 0 and repo.read(NAME) == TOKEN_MERGED.encode()
    assert list(shared.iterdir()) == []


FILES = [f"src/F{i}.java" for i in range(3)]


def history(repo: GitRepo) -> None:
    """main and a 4-commit branch touching the same files: clean line merges and token conflicts."""
    lines = "".join(f"        step({i});\n" for i in range(12))
    base = java('Server s = new Server("localhost", 8080, false);', lines)
    repo.commit({name: base for name in FILES}, "base")
    repo.git("checkout", "-q", "-b", "topic")
    theirs = base
    for n in range(4):
        theirs = theirs.replace(f"step({n * 3});", f"step({n * 3}, {n});")
        if n == 1:
            theirs = theirs.replace('"localhost", 8080, false', '"localhost", 8080, true')
        repo.commit({name: theirs for name in FILES}, f"topic {n}")
    repo.git("checkout", "-q", "main")
    ours = base.replace("step(11);", "step(11, 0);").replace('"localhost"', '"0.0.0.0"')
    repo.commit({FILES[0]: ours, FILES[1]: ours, FILES[2]: ours.replace("step(5);", "step(5, 5);")}, "main")


def rebased_tree(repo: GitRepo, driver: str | None) -> str:
    """`git rebase main` of topic with the given driver command; the tree it ends with (or where it stops)."""
    repo.git("checkout", "-q", "-B", "work", "topic")
    repo.use_driver(command=driver)
    rebase = repo.git("rebase", "main", check=False)
    if rebase.returncode != 0:
        repo.git("add", "-A")
        tree = repo.git("write-tree").stdout.strip()
        repo.git("rebase", "--abort")
        return tree
    return repo.git("rev-parse", "HEAD^{tree}").stdout.strip()


def test_rebase_gives_identical_trees_with_and_without_fast_path_and_daemon(repo: GitRepo) -> None:
    history(repo)
    repo.env["MERGEBERT_DAEMON"] = "0"
    in_process = rebased_tree(repo, "mergebert driver %O %A %B %L %P")
    del repo.env["MERGEBERT_DAEMON"]
    fast = rebased_tree(repo, None)
    assert daemon_pids(folder(repo)), "the daemon served the rebase"
    assert fast == in_process
    merged = repo.git("show", f"{fast}:{FILES[0]}").stdout
    assert 'new Server("0.0.0.0", 8080, true);' in merged and "step(9, 3);" in merged


def test_a_repository_made_again_at_the_same_path_gets_a_daemon_of_its_own(repo: GitRepo) -> None:
    """The daemon of a deleted work tree must not serve the one created in its place: it would read no
    repository and write default labels and style."""
    import shutil

    assert merge_token_conflict(repo).returncode == 0
    assert len(daemon_pids(folder(repo))) == 1
    shutil.rmtree(repo.path)
    again = GitRepo.init(repo.path, repo.env)
    again.git("config", "merge.conflictStyle", "diff3")
    again.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    without, with_driver, _ = again.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert b"||||||| " in with_driver


def test_a_caller_with_another_home_gets_a_daemon_of_its_own(tmp_path: Path, git_env: dict[str, str]) -> None:
    """One user, two HOMEs (two git set-ups: a CI job, an IDE, `HOME=… git merge`): each merge reads its
    own ~/.gitconfig, though the daemon the other one started is still running."""
    repo = GitRepo.init(tmp_path / "repo", git_env)
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    strict = tmp_path / "strict"
    (strict / ".config").mkdir(parents=True)
    (strict / ".gitconfig").write_text("[mergebert]\n\tthreshold = 2\n[merge]\n\tconflictStyle = diff3\n")
    home = {"HOME": str(strict), "XDG_CONFIG_HOME": str(strict / ".config")}
    left = GitRepo(repo.path, {**git_env, **home}).git("merge", "--no-edit", "feature", check=False)
    assert left.returncode != 0 and b"|||||||" in repo.read(NAME), left.stderr
    repo.git("merge", "--abort")
    merged = repo.git("merge", "--no-edit", "feature", check=False)
    assert merged.returncode == 0, merged.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert len(daemon_pids(folder(repo))) == 2


def test_a_new_daemon_removes_the_scratch_folders_of_a_killed_one(repo: GitRepo, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"  # where the daemons' temporary folders go
    scratch.mkdir()
    repo.env["TMPDIR"] = str(scratch)
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    killed = sorted(scratch.iterdir())
    assert killed, "the daemon keeps scratch repositories while it runs"
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(pid))
    assert sorted(scratch.iterdir()) == killed, "nothing removed them yet"
    older = scratch / f"mergebert-ort-{pid}@{socket.gethostname()}.abcd1234"  # an older release's
    older.mkdir()
    running, (its,) = owner(scratch, "time.sleep(600)", "mergebert-ort-")
    try:
        merge = second_merge(repo)
        assert merge.returncode == 0, merge.stderr
        assert daemon_pids(folder(repo)) not in ([], [pid])
        assert not any(path.exists() for path in killed)
        assert its.is_dir() and older.is_dir()
    finally:
        end(running)


def test_a_stopped_daemon_does_not_hold_up_the_merge(repo: GitRepo) -> None:
    """A daemon that accepts nothing (stopped, a debugger) whose backlog earlier drivers filled: the next
    driver resolves in its own process instead of waiting to connect."""
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    os.kill(pid, signal.SIGSTOP)
    queued = []
    try:
        for _ in range(100):  # connections the stopped daemon never accepts, until its backlog is full
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            queued.append(conn)
            conn.setblocking(False)
            try:
                conn.connect(str(socket_of(repo)))
            except BlockingIOError:
                break
        # far more than a cold resolve in the driver's process takes on a loaded machine; a driver that
        # waited on the stopped daemon would wait all of it, and give git's merge
        repo.env["MERGEBERT_DRIVER_TIMEOUT"] = "30"
        merge = second_merge(repo, timeout=120)
        assert merge.returncode == 0, merge.stderr
        assert repo.read("src/Other.java") == TOKEN_MERGED.encode()
    finally:
        os.kill(pid, signal.SIGCONT)
        for conn in queued:
            conn.close()


def test_a_driver_gone_before_the_reply_does_not_end_the_daemon(repo: GitRepo) -> None:
    """A driver ended (^C) while the daemon resolves: the daemon serves the next file."""
    assert merge_token_conflict(repo).returncode == 0
    (pid,) = daemon_pids(folder(repo))
    tree = os.stat(repo.path)
    header = {
        "signature": daemon.code_signature(),
        "tree": f"{tree.st_dev}:{tree.st_ino}",
        "arguments": {"path": NAME, "marker_size": 7, "labels": None, "model": None, "threshold": None}
        | {"problem": None},
        "environment": {"MERGEBERT_MODEL": "none"},
        "caller": os.getpid(),
        "deadline": time.monotonic() + 60,
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(socket_of(repo)))
        sides = (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
        daemon._send(conn, json.dumps(header).encode(), *(side.encode() for side in sides))
    merge = second_merge(repo)
    assert merge.returncode == 0, merge.stderr
    assert daemon_pids(folder(repo)) == [pid]
