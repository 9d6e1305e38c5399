"""^C during `mergebert mine -j 2`: one line that says the run can be resumed, exit status 130, no worker
tracebacks; the same command run again then finishes the DIR."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from click.testing import CliRunner
from minerepo import many_merges

from mergebert.cli import main

MERGES = 400


def merges_done(done: Path) -> int:
    """How many merges the done list marks done (0 before it exists)."""
    return max(0, len(done.read_text().splitlines()) - 1) if done.exists() else 0


def test_ctrl_c_stops_the_workers_quietly_and_the_rerun_resumes(tmp_path: Path) -> None:
    many_merges(str(tmp_path / "repo.git"), MERGES)
    out = tmp_path / "out"
    command = ["mergebert", "mine", "-q", "-j", "2", "-o", str(out), str(tmp_path / "repo.git")]
    pipe = subprocess.PIPE
    run = subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not merges_done(out / "repo.done.jsonl") and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.killpg(run.pid, signal.SIGINT)  # what ^C in a terminal sends: to the command and its workers
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGINT, stderr
    assert (stdout, stderr) == (
        "",
        "mergebert: interrupted: the merges mined so far are kept; run the same command again to resume\n",
    )
    rerun = CliRunner().invoke(main, command[1:])
    assert rerun.exit_code == 0 and "already done)" in rerun.stdout, rerun.output
    stats = json.loads((out / "repo.stats.json").read_text())
    assert (stats["merges_done"], stats["regions"]) == (MERGES, 4 * MERGES)
