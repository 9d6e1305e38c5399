"""A model that is broken never decides a merge: a model.onnx that does not take the runtime's inputs or
give its ten probabilities (NaN, say, after diverged training), a config.json field the runtime cannot
use, an acceptor fitted for another model.onnx or unreadable, are refused on load with one line naming the
file (front-ends then use the token merge, `eval` stops), the model run once for all its checks (a model
that fails later, on a file: test_model_fails_mid_run). Models are real ONNX files, made here with the
onnx package."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo
from test_merge_file import sides
from test_stats_eval import SCENARIOS

from mergebert.data.records import write_records
from mergebert.neural.acceptor import Acceptor, model_digest
from mergebert.neural.onnx_classifier import ModelError, load_classifier
from mergebert.neural.policy import shipped_model_dir

# onnx is in the [train] extra only, not the runtime's dependencies; the README's test command and .ci/run
# install [train], so CI runs these tests (and test_model_fails_mid_run, which imports this module)
onnx = pytest.importorskip(
    "onnx", reason="needs the onnx package, from the [train] extra: pip install -e '.[train]'"
)
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SHIPPED = Path(shipped_model_dir())
VOCAB = 8000  # the shipped vocabulary, which the copies keep
PROBED_IDS = 4 * 96 - 1  # the load-time probe: ids 0 .. 4 × features.max_len - 2, and the vocabulary's last


def model_folder(folder: Path, *, acceptor: bool = False) -> Path:
    """A copy of the shipped model in `folder`, with its acceptor named in config.json or not."""
    shutil.copytree(SHIPPED, folder)
    if not acceptor:
        edit_config(folder, lambda config: config.pop("acceptor"))
    return folder


def edit_config(folder: Path, change: Callable[[dict[str, Any]], object]) -> None:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    change(config)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


def odd_onnx(
    path: Path,
    scores: np.ndarray,
    *,
    by_id: np.ndarray | None = None,
    output: str = "probs",
    is_token: int = TensorProto.FLOAT,
) -> None:
    """A model.onnx giving every unit `scores` plus, for each id of the unit, `by_id[id]` (zeros by
    default: any id of the vocabulary is taken, and NaN at an id makes every unit holding it NaN)."""
    per_id = np.zeros(VOCAB, np.float32) if by_id is None else by_id.astype(np.float32)
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", 4, "length"]),
        helper.make_tensor_value_info("type_ids", TensorProto.INT64, ["batch", 4, "length"]),
        helper.make_tensor_value_info("is_token", is_token, ["batch"]),
    ]
    out = helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", len(scores)])
    initializers = [
        numpy_helper.from_array(per_id.reshape(VOCAB, 1), "per_id"),
        numpy_helper.from_array(np.asarray(scores, np.float32).reshape(1, -1), "constant"),
        numpy_helper.from_array(np.array([1, 2], np.int64), "axes"),
    ]
    nodes = [
        helper.make_node("Gather", ["per_id", "input_ids"], ["gathered"]),  # (batch, 4, length, 1)
        helper.make_node("ReduceSum", ["gathered", "axes"], ["unit"], keepdims=0),  # (batch, 1)
        helper.make_node("Add", ["unit", "constant"], [output]),
    ]
    graph = helper.make_graph(nodes, "odd", inputs, [out], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


UNIFORM = np.full(10, 0.1)


def merge_file(repo: GitRepo, model: Path, *options: str):
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    return repo.mergebert("merge-file", "-p", "--model", str(model), *options, *paths), paths


# -------------------------------------------------------------------------------- model.onnx (D3, D4)
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: odd_onnx(p, np.full(10, np.nan)), r"gives scores that are not numbers \(NaN\)"),
        (
            lambda p: odd_onnx(p, np.full(5, 0.2)),
            r"gives scores of shape \[2, 5\] for 2 units, not \[2, 10\]",
        ),
        (lambda p: odd_onnx(p, np.full(10, 3.0)), "gives scores that are not probabilities"),
        (lambda p: odd_onnx(p, np.full(10, 0.2)), "gives scores that are not probabilities"),  # sum 2
        (lambda p: odd_onnx(p, UNIFORM, output="scores"), r"gives \['scores'\], not 'probs'"),
        (
            lambda p: odd_onnx(p, UNIFORM, is_token=TensorProto.INT64),
            "takes .*, not the inputs mergebert feeds",
        ),
    ],
    ids=["nan", "five-classes", "above-one", "sum-two", "output-name", "input-type"],
)
def test_a_model_onnx_that_is_not_a_mergebert_model_is_refused_on_load(
    tmp_path: Path, make: Callable[[Path], None], message: str
) -> None:
    model = model_folder(tmp_path / "model")
    make(model / "model.onnx")
    with pytest.raises(ModelError, match=f"^{model / 'model.onnx'} {message}"):
        load_classifier(model)


@pytest.mark.parametrize("scores", [np.full(10, np.nan), np.full(5, 0.2)], ids=["nan", "five-classes"])
def test_front_ends_use_the_token_merge_with_one_line(
    repo: GitRepo, tmp_path: Path, scores: np.ndarray
) -> None:
    model = model_folder(tmp_path / "model", acceptor=True)
    odd_onnx(model / "model.onnx", scores)
    repo.env["MERGEBERT_THRESHOLD"] = "0"  # anything the model gave would pass
    result, paths = merge_file(repo, model)
    assert result.returncode == 0 and result.stdout == TOKEN_MERGED  # the token merge, not git's
    unavailable, report = result.stderr.splitlines()
    assert unavailable.startswith(f"mergebert: model unavailable (ModelError: {model / 'model.onnx'} gives")
    assert report == f"mergebert: {paths[0]}: resolved 1 of 1 conflict"


def test_eval_stops_on_a_model_that_gives_nan(repo: GitRepo, tmp_path: Path) -> None:
    model = model_folder(tmp_path / "model")
    odd_onnx(model / "model.onnx", np.full(10, np.nan))
    scenarios = tmp_path / "few.scenarios.jsonl.gz"
    write_records(scenarios, SCENARIOS)
    result = repo.mergebert("eval", str(scenarios), "--model", str(model), "-j", "1")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: cannot use the model in {model}: ")
    assert "not numbers (NaN)" in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_model_runs_once_on_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The vocabulary's last id and the probe's units of features.max_len are scored in one ONNX Runtime
    run (counted on onnxruntime's own InferenceSession.run, which still runs)."""
    import onnxruntime

    runs: list[object] = []
    run = onnxruntime.InferenceSession.run

    def counted(self: onnxruntime.InferenceSession, *args: Any, **kwargs: Any) -> Any:
        runs.append(args)
        return run(self, *args, **kwargs)

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", counted)
    load_classifier(model_folder(tmp_path / "model", acceptor=True))
    assert len(runs) == 1


def test_a_model_that_cannot_score_features_max_len_is_told_from_another_vocabulary(tmp_path: Path) -> None:
    """The one run fails: the message says which check did (test_model_vocabulary has the other)."""
    model = model_folder(tmp_path / "model")
    edit_config(model, lambda c: c["features"].update(max_len=1000))  # past the model's positions
    message = r"cannot score a unit of 1000 sub-words \(features\.max_len\): "
    with pytest.raises(ModelError, match=f"^{model / 'model.onnx'} {message}"):
        load_classifier(model)


# -------------------------------------------------------------------------------- config.json (D7, D8)
CONFIG_CASES: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "threshold-7": (lambda c: c.update(threshold=7), "threshold 7 is not a confidence"),
    "threshold-negative": (lambda c: c.update(threshold=-5), "threshold -5 is not a confidence"),
    "threshold-never": (lambda c: c.update(threshold=1.01), "threshold 1.01 is not a confidence"),
    "threshold-text": (lambda c: c.update(threshold="high"), "threshold 'high' is not a number"),
    "threshold-null": (lambda c: c.update(threshold=None), "threshold None is not a number"),
    "beam-0": (lambda c: c.update(beam=0), "beam 0 is not a beam width"),
    "beam-text": (lambda c: c.update(beam="8"), "beam '8' is not a beam width"),
    "classes": (lambda c: c.update(class_names=c["class_names"][:5]), "class_names .* are not this version"),
    "model-text": (lambda c: c.update(model="x"), "model 'x' is not the model's shape"),
    "max-len-0": (lambda c: c["features"].update(max_len=0), "features.max_len 0 is not a whole number"),
    "pad-id": (lambda c: c.update(pad_id=99999), "pad_id 99999 is not the vocabulary's <pad> id 1"),
    "acceptor-number": (lambda c: c.update(acceptor=5), "acceptor 5 is not a file name"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_a_config_field_the_runtime_cannot_use_is_refused_naming_file_and_field(
    tmp_path: Path, case: str
) -> None:
    change, message = CONFIG_CASES[case]
    model = model_folder(tmp_path / "model", acceptor=True)
    edit_config(model, change)
    with pytest.raises(ModelError, match=f"^{model / 'config.json'}: {message}"):
        load_classifier(model)


def test_a_threshold_outside_0_to_1_is_checked_only_where_it_is_used(tmp_path: Path) -> None:
    model = model_folder(tmp_path / "model", acceptor=True)
    edit_config(model, lambda c: c.update(threshold=1.01))  # calibration reached no threshold
    assert load_classifier(model, threshold=0.5).threshold == 0.5


def test_front_ends_say_a_bad_config_field_in_one_line(repo: GitRepo, tmp_path: Path) -> None:
    model = model_folder(tmp_path / "model", acceptor=True)
    edit_config(model, lambda c: c.update(beam=0))
    result, paths = merge_file(repo, model)
    assert result.returncode == 0 and result.stdout == TOKEN_MERGED
    assert result.stderr.splitlines() == [
        f"mergebert: model unavailable (ModelError: {model / 'config.json'}: beam 0 is not a beam width "
        "(a whole number, at least 1)); resolving with the token merge only",
        f"mergebert: {paths[0]}: resolved 1 of 1 conflict",
    ]


# -------------------------------------------------------------------------------- acceptor.npz (D6, D8)
def unstamped_acceptor_params() -> dict[str, np.ndarray]:
    """The shipped acceptor's trees without the digest of the model.onnx it was fitted for."""
    with np.load(SHIPPED / "acceptor.npz", allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files if name != "model_sha256"}


def another_model_onnx(model: Path) -> None:
    """Replace `model`'s model.onnx by another one, which loads and scores as it did."""
    other = onnx.load(str(model / "model.onnx"))
    other.doc_string = "retrained"
    onnx.save(other, str(model / "model.onnx"))


def test_the_shipped_acceptor_beside_another_model_onnx_is_refused(tmp_path: Path) -> None:
    model = model_folder(tmp_path / "model", acceptor=True)  # as `cp shipped/* mine/` leaves it
    another_model_onnx(model)
    with pytest.raises(ModelError, match=r"acceptor\.npz was fitted for another model\.onnx than "):
        load_classifier(model)


def test_a_saved_acceptor_records_the_model_onnx_beside_it(tmp_path: Path) -> None:
    model = model_folder(tmp_path / "model", acceptor=True)
    another_model_onnx(model)
    Acceptor.save(unstamped_acceptor_params(), str(model / "acceptor.npz"))  # as fit-acceptor saves it
    assert load_classifier(model).acceptor.fitted_for == model_digest(str(model / "model.onnx"))


def test_an_acceptor_that_records_no_model_is_used_as_before(tmp_path: Path) -> None:
    model = model_folder(tmp_path / "model", acceptor=True)
    another_model_onnx(model)
    np.savez(model / "acceptor.npz", **unstamped_acceptor_params())  # saved by an older mergebert
    assert load_classifier(model).acceptor.fitted_for is None


@pytest.mark.parametrize(
    "content",
    [(SHIPPED / "acceptor.npz").read_bytes()[:100_000], bytes(range(256)) * 12],
    ids=["truncated", "not-npz"],
)
def test_an_unreadable_acceptor_is_named_in_one_clear_line(tmp_path: Path, content: bytes) -> None:
    model = model_folder(tmp_path / "model", acceptor=True)
    (model / "acceptor.npz").write_bytes(content)
    with pytest.raises(ModelError) as refused:
        load_classifier(model)
    assert str(refused.value) == (
        f"cannot read the model's acceptor {model / 'acceptor.npz'}: not an acceptor .npz (truncated, or "
        "another kind of file)"
    )


# -------------------------------------------------------------------------------- empty settings (D13)
def test_an_empty_model_flag_is_ignored_with_one_line(repo: GitRepo) -> None:
    repo.git("config", "mergebert.model", "none")
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", "-p", "--model", "", *paths)
    assert result.returncode == 0 and result.stdout == TOKEN_MERGED
    assert result.stderr.splitlines() == [
        "mergebert: ignoring --model '' names no model directory (give a directory, or 'none')",
        f"mergebert: {paths[0]}: resolved 1 of 1 conflict",
    ]


def test_empty_model_and_threshold_settings_count_as_unset(repo: GitRepo, tmp_path: Path) -> None:
    broken = tmp_path / "broken"  # a model that says so on load, were it used
    broken.mkdir()
    repo.git("config", "mergebert.model", str(broken))
    repo.git("config", "mergebert.threshold", "")
    repo.env["MERGEBERT_MODEL"] = ""
    repo.env["MERGEBERT_THRESHOLD"] = ""
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", "-p", *paths)
    assert "model unavailable" in result.stderr  # the empty $MERGEBERT_MODEL fell through to git config
    repo.git("config", "mergebert.model", "")  # and an empty mergebert.model to the shipped model
    result = repo.mergebert("merge-file", "-p", *paths)
    assert result.stderr == f"mergebert: {paths[0]}: resolved 1 of 1 conflict\n"


def test_eval_refuses_an_empty_model_flag(repo: GitRepo, tmp_path: Path) -> None:
    scenarios = tmp_path / "few.scenarios.jsonl.gz"
    write_records(scenarios, SCENARIOS)
    result = repo.mergebert("eval", str(scenarios), "--model", "", "-j", "1")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "Error: --model '' names no model directory (give a directory, or 'none')\n"
