"""^C during `mergebert eval -j 2` and `mergebert stats -j 2`, as typed in a terminal (SIGINT to the command
and its workers): one line that says nothing was written, exit status 130, no worker's traceback, and no
file left behind, half-written or whole."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from minerepo import many_merges

from mergebert.cli import main
from mergebert.neural.policy import shipped_model_dir

COPIES = 20  # the mined records named this many times: a run far longer than the wait before the ^C
SHIPPED = Path(shipped_model_dir())


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records `mergebert mine` writes for 400 merges of four conflicting files each."""
    folder = tmp_path_factory.mktemp("mined")
    many_merges(str(folder / "repo.git"), 400)
    result = CliRunner().invoke(main, ["mine", "-q", "-o", str(folder / "out"), str(folder / "repo.git")])
    assert result.exit_code == 0, result.output
    return folder / "out"


def interrupted_once_working(
    command: list[str], cwd: Path, after: float = 1.0
) -> subprocess.CompletedProcess[str]:
    """`command` run until its worker processes have run `after` seconds (0: they are starting, importing
    mergebert), then ^C to it and them."""
    run = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while len(children(run.pid)) < 2 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(after)
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    return subprocess.CompletedProcess(command, run.returncode, stdout, stderr)


def children(pid: int) -> list[str]:
    """The process ids of `pid`'s children (Linux)."""
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@pytest.mark.parametrize("after", [0.0, 1.0], ids=["workers-starting", "workers-working"])
def test_ctrl_c_stops_eval_with_one_line_and_writes_nothing(
    mined: Path, tmp_path: Path, after: float
) -> None:
    records = [str(mined / "repo.scenarios.jsonl.gz")] * COPIES
    command = ["mergebert", "eval", "-j", "2", "--json", "eval.json", *records]
    run = interrupted_once_working(command, tmp_path, after)
    assert (run.returncode, run.stdout, run.stderr) == (
        128 + signal.SIGINT,
        "",
        "mergebert: interrupted: nothing written\n",
    )
    assert os.listdir(tmp_path) == []


def test_ctrl_c_stops_stats_with_one_line_and_leaves_no_labels_file(mined: Path, tmp_path: Path) -> None:
    records = [str(mined / "repo.regions.jsonl.gz")] * COPIES
    command = ["mergebert", "stats", "-j", "2", "--write-labels", "labels.jsonl.gz", *records]
    run = interrupted_once_working(command, tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (
        128 + signal.SIGINT,
        "",
        "mergebert: interrupted: nothing written\n",
    )
    assert os.listdir(tmp_path) == []


def test_ctrl_c_stops_fit_acceptor_with_one_line_and_the_model_as_it_was(mined: Path, tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="fitting the acceptor needs the [train] extra")
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    before = {path.name: path.read_bytes() for path in model.iterdir()}
    records = [str(mined / "repo.scenarios.jsonl.gz")] * COPIES
    run = interrupted_once_working(["mergebert", "fit-acceptor", "-j", "2", str(model), *records], tmp_path)
    assert run.returncode == 128 + signal.SIGINT
    assert run.stderr == f"mergebert: interrupted: no acceptor written ({model} as it was)\n"
    assert {path.name: path.read_bytes() for path in model.iterdir()} == before
