"""A model that passes the load-time probe, then gives scores that are not probabilities (NaN) for a file's
conflicts, or raises (ONNX Runtime refuses to run it on them): that file is decided as with a model
refused on load (the token merge only), one line names the model and what it gave, once per process (the
daemon serves many files), and each conflict left says why. The models are real ONNX files
(test_model_refused_on_load.odd_onnx)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
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
)
from onnx import TensorProto, helper, numpy_helper
from test_merge_file import sides
from test_model_refused_on_load import (
    PROBED_IDS,
    UNIFORM,
    VOCAB,
    model_folder,
    odd_onnx,
    unstamped_acceptor_params,
)

from mergebert.neural.acceptor import Acceptor
from mergebert.neural.onnx_classifier import load_classifier

FILES = {
    "src/App.java": (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS),  # the token merge settles it
    "src/Clash.java": (CLASH_BASE, CLASH_OURS, CLASH_THEIRS),  # a token conflict: git's conflict stays
}
LEFT_WHY = "the model gave NaN, token merge only: token conflict left"


def nan_model(folder: Path, *, acceptor: bool = False) -> Path:
    """A model that loads (the probe's ids score uniformly) and gives NaN for any unit holding another id
    (every unit of the conflicts here)."""
    model = model_folder(folder, acceptor=acceptor)
    by_id = np.zeros(VOCAB)
    by_id[PROBED_IDS : VOCAB - 1] = np.nan
    odd_onnx(model / "model.onnx", UNIFORM, by_id=by_id)
    if acceptor:  # the shipped one, as if fitted for this model
        Acceptor.save(unstamped_acceptor_params(), str(model / "acceptor.npz"))
    load_classifier(model)  # it loads: the probe does not see it
    return model


def failed_line(model: Path) -> str:
    return (
        f"mergebert: model failed (ScoresError: {model / 'model.onnx'} gave scores that are not numbers "
        "(NaN) for a file's conflicts); resolving each file it fails on with the token merge only"
    )


def raising_model(folder: Path) -> Path:
    """A model that loads (it scores the probe's units, as wide as the features allow, uniformly) and that
    ONNX Runtime cannot run on narrower units (a Reshape to that width fails): those of the conflicts
    here."""
    model = model_folder(folder)
    probe_width = json.loads((model / "config.json").read_text())["features"]["max_len"]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", 4, "length"]),
        helper.make_tensor_value_info("type_ids", TensorProto.INT64, ["batch", 4, "length"]),
        helper.make_tensor_value_info("is_token", TensorProto.FLOAT, ["batch"]),
    ]
    initializers = [
        numpy_helper.from_array(np.array([-1, 4, probe_width], np.int64), "probe_shape"),
        numpy_helper.from_array(np.zeros((1, 10), np.float32), "zero"),
        numpy_helper.from_array(UNIFORM.astype(np.float32).reshape(1, 10), "uniform"),
    ]
    nodes = [
        helper.make_node("Reshape", ["input_ids", "probe_shape"], ["probe_wide"]),  # fails for other widths
        helper.make_node("Cast", ["probe_wide"], ["as_float"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["as_float"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),  # (1, 10) of zeros
        helper.make_node("Unsqueeze", ["is_token", "one"], ["per_unit"]),  # (batch, 1)
        helper.make_node("Mul", ["per_unit", "zero"], ["zeros"]),  # (batch, 10)
        helper.make_node("Add", ["zeros", "uniform"], ["scores"]),
        helper.make_node("Add", ["scores", "nothing"], ["probs"]),
    ]
    initializers.append(numpy_helper.from_array(np.array([1], np.int64), "one"))
    out = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 10])
    graph = helper.make_graph(nodes, "raising", inputs, [out], initializer=initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, str(model / "model.onnx"))
    load_classifier(model)  # it loads: the probe does not see it
    return model


def broken_model(folder: Path) -> Path:
    """A model refused on load: the same fallback, said by the load-time line."""
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    return folder


@pytest.mark.parametrize("acceptor", [False, True], ids=["decoder", "acceptor"])
def test_merge_file_takes_the_token_merge_and_names_the_model(
    repo: GitRepo, tmp_path: Path, acceptor: bool
) -> None:
    model = nan_model(tmp_path / "model", acceptor=acceptor)
    repo.env["MERGEBERT_THRESHOLD"] = "0"  # anything the model gave would pass
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", "-p", "--model", str(model), *paths)
    assert (result.returncode, result.stdout) == (0, TOKEN_MERGED)  # what a model refused on load gives
    assert result.stderr.splitlines() == [
        failed_line(model),
        f"mergebert: {paths[0]}: resolved 1 of 1 conflict",
    ]


def test_a_conflict_the_token_merge_leaves_is_gits_and_says_the_model_failed(
    repo: GitRepo, tmp_path: Path
) -> None:
    model = nan_model(tmp_path / "model")
    paths = sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    result = repo.mergebert("merge-file", "-p", "--model", str(model), *paths)
    git = repo.git("merge-file", "-p", *paths, check=False)
    assert (result.returncode, result.stdout) == (git.returncode, git.stdout) == (1, git.stdout)
    assert result.stderr.splitlines() == [
        failed_line(model),
        f"mergebert: {paths[0]}: resolved 0 of 1 conflict (1 left: {LEFT_WHY})",
    ]


def test_a_model_onnx_runtime_cannot_run_on_a_file_gives_the_token_merge_and_is_named(
    repo: GitRepo, tmp_path: Path
) -> None:
    model = raising_model(tmp_path / "model")
    repo.env["MERGEBERT_THRESHOLD"] = "0"
    token = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", "-p", "--model", str(model), *token)
    assert (result.returncode, result.stdout) == (0, TOKEN_MERGED)
    (failed, resolved) = result.stderr.splitlines()
    assert failed.startswith(f"mergebert: model failed (ScoresError: {model / 'model.onnx'} gave an error (")
    assert failed.endswith("); resolving each file it fails on with the token merge only")
    assert resolved == f"mergebert: {token[0]}: resolved 1 of 1 conflict"
    clash = sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    left = repo.mergebert("merge-file", "-p", "--model", str(model), *clash)
    git = repo.git("merge-file", "-p", *clash, check=False)
    assert (left.returncode, left.stdout) == (git.returncode, git.stdout) == (1, git.stdout)
    assert left.stderr.splitlines()[1] == (
        f"mergebert: {clash[0]}: resolved 0 of 1 conflict (1 left: the model gave an error, token merge "
        "only: token conflict left)"
    )


def merge(repo: GitRepo, model: Path) -> tuple[int, dict[str, bytes], list[str]]:
    """`git merge feature` with `model`: its exit status, the files it left and the lines printed; aborted
    after."""
    repo.env["MERGEBERT_MODEL"] = str(model)
    merged = repo.git("merge", "--no-edit", "feature", check=False)
    files = {name: repo.read(name) for name in FILES}
    assert repo.conflicted() == ["src/Clash.java"]
    repo.git("merge", "--abort")
    return merged.returncode, files, (merged.stdout + merged.stderr).splitlines()


@pytest.mark.parametrize("daemon", [True, False], ids=["daemon", "no-daemon"])
def test_git_merge_decides_each_file_as_with_a_model_refused_on_load(
    repo: GitRepo, tmp_path: Path, daemon: bool
) -> None:
    """The token file resolved, the clash git's own conflict, as with a model refused on load; one line
    per process, as that model's line: one from the daemon, one per driver without it."""
    if not daemon:
        repo.env["MERGEBERT_DAEMON"] = "0"
    repo.stop_on(FILES)
    gits = repo.read("src/Clash.java")
    repo.git("merge", "--abort")
    repo.use_driver()
    model = nan_model(tmp_path / "model")
    status, files, printed = merge(repo, model)
    assert status == 1
    assert files == {"src/App.java": TOKEN_MERGED.encode(), "src/Clash.java": gits}
    assert printed.count(failed_line(model)) == (1 if daemon else 2), printed
    (left,) = [line for line in printed if "src/Clash.java: resolved" in line]
    assert f"(1 left: {LEFT_WHY}; mergebert review)" in left
    at_load = merge(repo, broken_model(tmp_path / "broken"))
    assert at_load[:2] == (status, files)
    assert sum("model unavailable" in line for line in at_load[2]) == (1 if daemon else 2)


def test_resolve_says_it_once_for_many_files(repo: GitRepo, tmp_path: Path) -> None:
    model = nan_model(tmp_path / "model")
    more = {**FILES, "src/Other.java": (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)}
    repo.stop_on(more)
    result = repo.mergebert("resolve", "--model", str(model))
    assert result.stderr.splitlines().count(failed_line(model)) == 1, result.stderr
    assert repo.read("src/App.java") == repo.read("src/Other.java") == TOKEN_MERGED.encode()
    assert repo.conflicted() == sorted(more)  # resolve without --add stages nothing
