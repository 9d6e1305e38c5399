"""`mergebert mergetool` stopped by ^C before it asks anything: one line, nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from gitrepo import MERGEBERT, GitRepo, wait_until


def test_ctrl_c_while_reading_the_versions_says_nothing_is_written(repo: GitRepo, tmp_path: Path) -> None:
    for name in ("LOCAL", "REMOTE", "MERGED"):
        (tmp_path / name).write_text("class A {}\n")
    base = tmp_path / "BASE"
    os.mkfifo(base)  # held open here, never written: mergetool waits to read it until the ^C
    writer = os.open(base, os.O_RDWR)
    paths = [str(tmp_path / name) for name in ("BASE", "LOCAL", "REMOTE", "MERGED")]
    tool = subprocess.Popen(
        [MERGEBERT, "mergetool", *paths], cwd=repo.path, env=repo.env, stderr=subprocess.PIPE, text=True
    )
    try:
        fds = f"/proc/{tool.pid}/fd"
        assert wait_until(lambda: any(os.path.realpath(f"{fds}/{fd}") == str(base) for fd in os.listdir(fds)))
        tool.send_signal(signal.SIGINT)
        _, stderr = tool.communicate(timeout=30)
    finally:
        tool.kill()
        os.close(writer)
    assert stderr == "mergebert: interrupted: nothing written\n"
    assert tool.returncode == 128 + signal.SIGINT
    assert (tmp_path / "MERGED").read_text() == "class A {}\n"
