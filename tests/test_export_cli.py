"""`mergebert export` as a user runs it: it says on stderr what it could not do, keeps an acceptor only
beside the model.onnx it was fitted on, names only the files it leaves, and writes no NaN."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

for _name in ("torch", "transformers", "tokenizers", "onnxruntime"):
    pytest.importorskip(_name, reason=f"training tests need the [train] extra ({_name})")

from test_train_cli import one_line_error, train, unusable, write  # noqa: E402
from test_train_distributed import records  # noqa: E402

from mergebert.cli import main  # noqa: E402


def export(model: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["export", str(model), *map(str, args)])


def config(model: Path) -> dict:
    """config.json, read as strict JSON (no NaN)."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in config.json")

    return json.loads((model / "config.json").read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained model, not exported."""
    root = tmp_path_factory.mktemp("export")
    result = train(write(root / "train.regions.jsonl", records()), "-o", root / "model", "--no-export")
    assert result.exit_code == 0, result.output
    return root / "model"


@pytest.fixture
def model(trained: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "model"))


def fit_acceptor_state(model: Path) -> None:
    """What fit-acceptor leaves: acceptor files, its threshold, no target precision in config.json."""
    (model / "acceptor.npz").write_bytes(b"fitted on this model.onnx")
    (model / "acceptor_metrics.json").write_text("{}")
    cfg = config(model)
    cfg.pop("target_precision")
    (model / "config.json").write_text(json.dumps({**cfg, "acceptor": "acceptor.npz", "threshold": 0.3}))


def test_export_without_model_pt_is_a_one_line_error(tmp_path: Path) -> None:
    assert "no model.pt" in one_line_error(export(tmp_path))


def test_export_names_only_the_files_it_leaves(model: Path) -> None:
    result = export(model, "--no-quantize")
    assert result.exit_code == 0, result.output
    assert "fp32.onnx" not in result.output and "int8.onnx" not in result.output
    assert sorted(p.name for p in model.glob("*.onnx")) == ["model.onnx"]


def test_export_says_it_skips_int8_and_calibration_when_validation_data_moved(tmp_path: Path) -> None:
    data = write(tmp_path / "train.regions.jsonl", records())
    assert train(data, "-o", tmp_path / "model", "--no-export").exit_code == 0
    data.rename(tmp_path / "moved.regions.jsonl")
    result = export(tmp_path / "model")
    assert result.exit_code == 0, result.output
    assert "int8 not tried" in result.stderr and "threshold not recalibrated" in result.stderr
    assert str(data) in result.stderr and "--valid" in result.stderr
    fp32_only = export(tmp_path / "model", "--no-quantize")
    assert "threshold not recalibrated" in fp32_only.stderr and "int8 not tried" not in fp32_only.stderr


def test_export_on_unlabelled_validation_data_writes_no_nan(model: Path, tmp_path: Path) -> None:
    result = export(model, "--valid", unusable(tmp_path))
    assert result.exit_code == 0, result.output
    assert "no class reproduces" in result.stderr
    assert "nan" not in result.stdout
    config(model)


def test_export_again_of_the_same_model_keeps_the_acceptor(model: Path) -> None:
    assert export(model, "--no-quantize").exit_code == 0
    fit_acceptor_state(model)
    result = export(model, "--no-quantize")
    assert result.exit_code == 0, result.output
    assert config(model)["acceptor"] == "acceptor.npz" and config(model)["threshold"] == 0.3
    assert (model / "acceptor.npz").exists() and "unchanged" in result.stderr


def test_export_of_another_model_drops_the_acceptor_fitted_on_the_old_one(model: Path) -> None:
    """fit-acceptor ran on an int8 model.onnx; export --no-quantize writes the fp32 one."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    assert export(model, "--no-quantize").exit_code == 0
    fp32 = model / "fp32.onnx"
    (model / "model.onnx").rename(fp32)
    quantize_dynamic(str(fp32), str(model / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    fit_acceptor_state(model)
    result = export(model, "--no-quantize")
    assert result.exit_code == 0, result.output
    cfg = config(model)
    assert "acceptor" not in cfg and not (model / "acceptor.npz").exists()
    assert not (model / "acceptor_metrics.json").exists()
    assert cfg["threshold"] == cfg["export"]["calibration"]["threshold"] != 0.3
    assert cfg["target_precision"] == 0.9
    assert "fit-acceptor" in result.stderr


def held_out_conflicts(model: Path) -> tuple[int, int]:
    """(conflicts training validated on, conflicts export validated on), from metrics.json and export.json."""
    trained = json.loads((model / "metrics.json").read_text())["conflicts"]["all"]["conflicts"]
    exported = json.loads((model / "export.json").read_text())["conflicts"]["all"]["conflicts"]
    return trained, exported


def test_export_of_a_one_repository_run_validates_on_the_records_training_held_out(tmp_path: Path) -> None:
    """One repository: training holds out every tenth record; export must not calibrate on the rest."""
    data = write(tmp_path / "own.regions.jsonl", records(repos=1, merges=20))
    result = train(data, "-o", tmp_path / "model")
    assert result.exit_code == 0, result.output
    trained, exported = held_out_conflicts(tmp_path / "model")
    assert trained == exported == 4
    again = export(tmp_path / "model", "--no-quantize")
    assert again.exit_code == 0, again.output
    assert held_out_conflicts(tmp_path / "model") == (4, 4)


def test_export_limit_counts_the_held_out_records(model: Path) -> None:
    """Trained without --valid: --limit takes the first N records of the held-out repository."""
    result = export(model, "--limit", "5", "--no-quantize")
    assert result.exit_code == 0, result.output
    assert "no validation data" not in result.stderr
    assert "valid: featurising 5 records" in result.stdout
    assert held_out_conflicts(model)[1] == 5


def test_export_says_when_limit_left_no_usable_validation_record(model: Path, tmp_path: Path) -> None:
    result = export(model, "--valid", unusable(tmp_path), "--limit", "3", "--no-quantize")
    assert result.exit_code == 0, result.output
    assert "in the first 3 validation records (--limit 3)" in result.stderr


def uneven(repos: int) -> list[dict]:
    """records(), with repository i given 2 (i + 1) records: how many export validates on names them."""
    return [r for r in records(repos, repos) if int(r["merge"], 16) <= int(r["id"].split("-")[0])]


def forget(model: Path, *keys: str) -> None:
    """Drop `keys` from metrics.json, as a model trained before they were recorded has it."""
    metrics = json.loads((model / "metrics.json").read_text())
    (model / "metrics.json").write_text(json.dumps({k: v for k, v in metrics.items() if k not in keys}))


@pytest.mark.parametrize(
    ("rows", "limit"), [(uneven(8), "20"), (records(repos=1, merges=20), "")], ids=["repositories", "one"]
)
def test_export_of_an_older_model_validates_on_the_records_training_held_out(
    tmp_path: Path, rows: list[dict], limit: str
) -> None:
    """metrics.json without "limit" (nor train_repository_names): the held-out repositories it names, not a
    split of all of DATA (which holds out another repository, one the model trained on, when --limit cut)."""
    data = write(tmp_path / "d.regions.jsonl", rows)
    result = train(data, "-o", tmp_path / "model", "--no-export", *(["--limit", limit] if limit else []))
    assert result.exit_code == 0, result.output
    forget(tmp_path / "model", "limit", "train_repository_names")
    exported = export(tmp_path / "model", "--no-quantize")
    assert exported.exit_code == 0, exported.output
    trained, validated = held_out_conflicts(tmp_path / "model")
    assert validated == trained == (6 if limit else 4)


def test_export_after_data_grew_validates_on_the_records_training_held_out(tmp_path: Path) -> None:
    """A repository mined into DATA since training: a split of DATA now would hold out another one."""
    data = write(tmp_path / "d.regions.jsonl", uneven(5))
    assert train(data, "-o", tmp_path / "model", "--no-export").exit_code == 0
    write(data, uneven(5) + [r for r in uneven(6) if r["repo"] == "owner/repo5"])
    exported = export(tmp_path / "model", "--no-quantize")
    assert exported.exit_code == 0, exported.output
    assert held_out_conflicts(tmp_path / "model") == (6, 6)


def test_export_says_when_data_no_longer_holds_what_training_held_out(tmp_path: Path) -> None:
    data = write(tmp_path / "d.regions.jsonl", uneven(5))
    assert train(data, "-o", tmp_path / "model", "--no-export").exit_code == 0
    write(data, [r for r in uneven(5) if r["id"] != "2-2-Util.java"])
    exported = export(tmp_path / "model")
    assert exported.exit_code == 0, exported.output
    said = [line for line in exported.stderr.splitlines() if line.startswith("mergebert: ")]
    assert len(said) == 1 and "no validation data" in said[0], exported.stderr
    assert "5 of the 6 records" in said[0] and "owner/repo2" in said[0]
    assert "int8 not tried" in said[0] and "--valid" in said[0]


def test_export_says_when_the_held_out_records_changed_though_as_many(tmp_path: Path) -> None:
    """The same number of held-out records, one of them no longer the one training validated on."""
    rows = uneven(5)
    data = write(tmp_path / "d.regions.jsonl", rows)
    assert train(data, "-o", tmp_path / "model", "--no-export").exit_code == 0
    changed = next(r for r in rows if r["id"] == "2-2-Util.java")
    write(data, [{**r, "resolution": r["resolution"] + "\n// edited"} if r is changed else r for r in rows])
    exported = export(tmp_path / "model", "--no-quantize")
    assert exported.exit_code == 0, exported.output
    said = [line for line in exported.stderr.splitlines() if line.startswith("mergebert: ")]
    assert len(said) == 1 and "no validation data" in said[0], exported.stderr
    assert "changed since training" in said[0] and "owner/repo2" in said[0]


@pytest.mark.parametrize("quantize", ["--quantize", "--no-quantize"])
def test_export_of_weights_that_are_not_numbers_is_a_one_line_error(model: Path, quantize: str) -> None:
    import torch

    checkpoint = torch.load(model / "model.pt", weights_only=False)
    name = next(name for name in checkpoint["state_dict"] if name.endswith("weight"))
    checkpoint["state_dict"][name].fill_(float("nan"))  # what a diverged training left
    torch.save(checkpoint, model / "model.pt")
    before = (model / "config.json").read_bytes()
    message = one_line_error(export(model, quantize))
    assert "not numbers" in message and "diverged" in message, message
    assert not list(model.glob("*.onnx")) and (model / "config.json").read_bytes() == before


def test_export_prints_its_own_lines_without_library_warnings(model: Path) -> None:
    """torch's and transformers' tracing warnings and onnxruntime's quantisation advice stay out (the
    parity check is what tells a faulty trace)."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "mergebert", "export", str(model)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "wrote model.onnx" in run.stdout and "int8" in run.stdout
