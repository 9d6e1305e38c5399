"""`mergebert train` as a user runs it: a model directory is replaced only by a run that completes, data
or settings that cannot train stop with a one-line message, and --cache-dir works without --valid."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

for _name in ("torch", "transformers", "tokenizers"):
    pytest.importorskip(_name, reason=f"training tests need the [train] extra ({_name})")

from test_train_distributed import TINY, records  # noqa: E402

import mergebert.neural  # noqa: E402
from mergebert.cli import main  # noqa: E402

MODEL_FILES = ("model.pt", "config.json", "vocab.json", "merges.txt", "model.onnx")


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def train(*args: str) -> Result:
    """`mergebert train` with the tiny settings, `args` last (so they override them)."""
    return CliRunner().invoke(main, ["train", *TINY, *map(str, args)])


def digests(model: Path) -> dict[str, str]:
    return {name: hashlib.sha1((model / name).read_bytes()).hexdigest() for name in MODEL_FILES}


def digests_differ(model: Path, before: dict[str, str], name: str) -> bool:
    return hashlib.sha1((model / name).read_bytes()).hexdigest() != before[name]


def one_line_error(result: Result) -> str:
    """The message of a command that stopped as click stops: exit 1 or 2, no traceback."""
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("data") / "train.regions.jsonl", records())


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    """An exported tiny model that an acceptor completed (acceptor.npz named by config.json)."""
    out = tmp_path_factory.mktemp("trained") / "model"
    result = train(data, "-o", out)
    assert result.exit_code == 0, result.output
    (out / "acceptor.npz").write_bytes(b"fitted on this model.onnx")
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "acceptor": "acceptor.npz", "threshold": 0.3}))
    return out


@pytest.fixture
def existing(model: Path, tmp_path: Path) -> Path:
    """A copy of the completed model to train over."""
    return Path(shutil.copytree(model, tmp_path / "existing"))


def unusable(folder: Path) -> Path:
    """Region records no class can label: every resolution is a line no side has."""
    rows = [{**r, "resolution": "    // resolved by hand\n"} for r in records()]
    return write(folder / "custom.regions.jsonl", rows)


def test_a_failed_run_leaves_the_existing_model_untouched(existing: Path, tmp_path: Path) -> None:
    before = digests(existing)
    result = train(unusable(tmp_path), "-o", existing, "--vocab-size", "300")
    assert "no training unit" in one_line_error(result)
    assert digests(existing) == before
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["custom.regions.jsonl", "existing"], "no staging folder left"


def test_a_completed_run_replaces_the_model_and_drops_what_belonged_to_the_old_one(
    existing: Path, data: Path
) -> None:
    before = digests(existing)
    result = train(data, "-o", existing, "--vocab-size", "300", "--no-export")
    assert result.exit_code == 0, result.output
    assert not (existing / "model.onnx").exists(), "the old model.onnx does not stay beside a new vocabulary"
    assert not (existing / "acceptor.npz").exists()
    config = json.loads((existing / "config.json").read_text())
    assert "acceptor" not in config and "export" not in config
    assert digests_differ(existing, before, "vocab.json") and digests_differ(existing, before, "model.pt")
    assert "acceptor.npz" in result.stderr and "model.onnx" in result.stderr
    assert "(run mergebert export, then mergebert fit-acceptor for the new model)" in result.stderr


@pytest.mark.parametrize("start", ["--warm-start", "--vocab"])
def test_training_continues_in_place(existing: Path, data: Path, start: str) -> None:
    before = digests(existing)
    result = train(data, "-o", existing, start, existing, "--seed", "1")
    assert result.exit_code == 0, result.output
    after = digests(existing)
    assert after["vocab.json"] == before["vocab.json"] and after["merges.txt"] == before["merges.txt"]
    assert after["model.pt"] != before["model.pt"] and after["model.onnx"] != before["model.onnx"]
    assert "acceptor" not in json.loads((existing / "config.json").read_text())


def test_warm_start_with_a_vocabulary_of_another_size_names_the_sizes_before_featurising(
    existing: Path, data: Path, tmp_path: Path
) -> None:
    other = Path(mergebert.neural.__file__).parent / "model"  # the shipped model's 8000 sub-words
    result = train(data, "-o", tmp_path / "m", "--warm-start", existing, "--vocab", other)
    message = one_line_error(result)
    assert "vocabulary" in message and "8000 sub-words" in message and "--warm-start" in message
    assert "another shape" not in message and "featurising" not in result.stdout
    assert not (tmp_path / "m").exists()


def wait_for(run: subprocess.Popen, line: str, children: int) -> None:
    """Until `run` has logged `line` and has `children` child processes (Linux's /proc)."""
    for logged in run.stdout:  # type: ignore[union-attr]
        if line in logged:
            break
    deadline = time.monotonic() + 30
    while len(Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()) < children:
        assert time.monotonic() < deadline, f"no {children} processes"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("merges", "jobs", "started"),
    [(8, 1, " model: "), (400, 2, "train: featurising")],  # in the loop; in the featurising processes
)
def test_ctrl_c_says_the_run_is_discarded_and_exits_130(
    tmp_path: Path, merges: int, jobs: int, started: str
) -> None:
    data = write(tmp_path / "train.regions.jsonl", records(merges=merges))
    out = tmp_path / "m"
    settings = [*TINY, "--epochs", "1000", "--max-minutes", "5", "--eval-every", "1000000", "-j", str(jobs)]
    command = [sys.executable, "-m", "mergebert", "train", *settings, str(data), "-o", str(out)]
    run = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        wait_for(run, started, jobs if jobs > 1 else 0)
        os.killpg(run.pid, signal.SIGINT)  # as a terminal's ^C: every process of the run
        _, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 130, stderr
    assert stderr == f"mergebert: interrupted: training discarded, no model written ({out} as it was)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.regions.jsonl"], (
        "no model, no staging folder"
    )


def test_no_usable_training_unit_stops_and_writes_nothing(tmp_path: Path) -> None:
    result = train(unusable(tmp_path), "-o", tmp_path / "model")
    assert "no training unit" in one_line_error(result)
    assert not (tmp_path / "model").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["custom.regions.jsonl"]


def scenario_file(folder: Path) -> Path:
    rows = [{k: v for k, v in r.items() if k != "resolution"} for r in records(2, 2)]
    return write(folder / "p0.scenarios.jsonl", rows)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--limit", "1"], "--limit"),
        (["--valid-fraction", "1"], "--valid-fraction"),
        (["--batch-size", "0"], "--batch-size"),
        (["--eval-every", "0"], "--eval-every"),
        (["--heads", "3"], "--heads"),
        (["--max-len", "4"], "--max-len"),
        (["--max-context", "-1"], "--max-context"),
        (["--min-context", "-1"], "--min-context"),
    ],
)
def test_settings_that_cannot_train_are_one_line_errors(
    data: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    result = train(data, "-o", tmp_path / "m", *args)
    assert says in one_line_error(result)
    assert not (tmp_path / "m").exists()


def test_scenario_files_as_data_are_one_line_errors(tmp_path: Path) -> None:
    result = train(scenario_file(tmp_path), "-o", tmp_path / "m")
    message = one_line_error(result)
    assert "scenario" in message and "regions" in message
    assert not (tmp_path / "m").exists()


def test_cache_dir_keeps_the_features_without_valid(data: Path, tmp_path: Path) -> None:
    cache = ("--cache-dir", tmp_path / "cache", "--no-export")
    runs = [train(data, "-o", tmp_path / f"m{i}", *cache) for i in (1, 2)]
    assert all(run.exit_code == 0 for run in runs), runs[0].output + runs[1].output
    assert "featurising" in runs[0].stdout and "features from cache" not in runs[0].stdout
    assert "train: features from cache" in runs[1].stdout and "valid: features from cache" in runs[1].stdout
    other = train(data, "-o", tmp_path / "m3", *cache, "--vocab", tmp_path / "m1", "--valid-fraction", "0.5")
    assert other.exit_code == 0, other.output
    assert "features from cache" not in other.stdout, "the same vocabulary, another split: other features"


def test_a_fractional_time_budget_is_logged_as_given(data: Path, tmp_path: Path) -> None:
    result = train(data, "-o", tmp_path / "m", "--max-minutes", "1.5", "--epochs", "0.5", "--no-export")
    assert result.exit_code == 0, result.output
    assert "time budget 1.5 min" in result.stdout


def test_valid_files_from_training_repositories_are_named_and_metrics_list_the_repositories(
    data: Path, tmp_path: Path
) -> None:
    valid = write(tmp_path / "valid.regions.jsonl", [r for r in records() if r["repo"] == "owner/repo1"])
    result = train(data, "--valid", valid, "-o", tmp_path / "m", "--no-export")
    assert result.exit_code == 0, result.output
    assert "--valid shares 1 repositories with DATA (owner/repo1)" in result.stderr
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["train_repository_names"] == [f"owner/repo{n}" for n in range(4)]


def stage_and_die(out: Path, how: str) -> subprocess.Popen:
    """A process that starts building a model for `out` (`modeldir.staged`) and then is killed (`kill`)
    or keeps running (`sleep`)."""
    action = (
        "os.kill(os.getpid(), signal.SIGKILL)"
        if how == "kill"
        else "print(work, flush=True); time.sleep(600)"
    )
    code = (
        "import os, signal, sys, time\n"
        "from training.modeldir import staged\n"
        f"with staged(sys.argv[1]) as work:\n    {action}\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)


def staging_folders(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.*.training"))


def test_a_run_killed_before_it_could_clean_up_is_cleaned_up_by_the_next(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    running = stage_and_die(out, "sleep")
    try:
        alive = Path(running.stdout.readline().strip())
        killed = stage_and_die(out, "kill")
        assert killed.wait() == -signal.SIGKILL
        (abandoned,) = set(staging_folders(out)) - {alive}
        # an older release's folder, named after its ended process: no lock file, so it stays
        older = tmp_path / f".model.{killed.pid}@{socket.gethostname()}.abcd1234.training"
        older.mkdir()
        result = train(data, "-o", out)
        assert result.exit_code == 0, result.output
        assert staging_folders(out) == sorted([alive, older]), "the killed run's folder goes, others stay"
        assert [line for line in result.stderr.splitlines() if "removed" in line] == [
            f"mergebert: removed {abandoned}, left by a training run that was killed"
        ]
    finally:
        running.kill()
        running.wait()


def test_a_diverging_run_stops_with_one_line_and_writes_nothing(data: Path, tmp_path: Path) -> None:
    result = train(data, "-o", tmp_path / "m", "--lr", "1e6", "--warmup-steps", "1")
    message = one_line_error(result)
    assert "training diverged at step" in message and "--lr" in message, message
    assert "training done" not in result.stdout, "no weights are selected"
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("eval_every", ["1", "1000"])
def test_weights_that_are_not_numbers_are_never_selected_nor_written(
    existing: Path, data: Path, tmp_path: Path, eval_every: str
) -> None:
    """A NaN the loss never sees (the <mask> embedding, never fed) is still found: before validation
    selects the weights (--eval-every 1), and at the end of a run that never validates (1000)."""
    import torch

    from mergebert.neural.bpe import MASK

    mask = json.loads((existing / "vocab.json").read_text())[MASK]
    checkpoint = torch.load(existing / "model.pt", weights_only=False)
    (embeddings,) = [v for k, v in checkpoint["state_dict"].items() if k.endswith("word_embeddings.weight")]
    embeddings[mask] = float("nan")
    torch.save(checkpoint, existing / "model.pt")
    result = train(data, "-o", tmp_path / "m", "--warm-start", existing, "--eval-every", eval_every)
    message = one_line_error(result)
    assert "training diverged at step" in message and "no longer numbers" in message, message
    assert "valid step" not in result.stdout and "training done" not in result.stdout, "no weights selected"
    assert not (tmp_path / "m").exists()


def test_a_completed_run_removes_the_old_models_card(existing: Path, data: Path) -> None:
    (existing / "MODEL_CARD.md").write_text("# the old model: vocabulary 8000\n")
    (existing / "NOTES.md").write_text("the user's own\n")
    result = train(data, "-o", existing)
    assert result.exit_code == 0, result.output
    assert not (existing / "MODEL_CARD.md").exists(), "no card describes another model"
    assert (existing / "NOTES.md").read_text() == "the user's own\n"
    (removed,) = [line for line in result.stderr.splitlines() if "removed the old model's" in line]
    assert "MODEL_CARD.md" in removed
