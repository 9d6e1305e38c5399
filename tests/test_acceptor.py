"""The classifier's second stage: the file's facts, the acceptor's features and model, the resolver's rule
replayed in training, and the shipped model resolving by default what the token merge settles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result
from gitrepo import GitRepo

from mergebert.core.candidates import ConflictInput
from mergebert.core.filefacts import FileFacts
from mergebert.core.languages import language_for_path
from mergebert.core.linemerge import conflicts_of, merge_lines
from mergebert.neural.acceptor import (
    CANDIDATES_SCORED,
    FEATURE_NAMES,
    RANKER,
    Acceptor,
    ranker_features,
    with_ranker,
)
from mergebert.neural.boosted_trees import pack
from mergebert.neural.onnx_classifier import ModelError, OnnxClassifier
from mergebert.neural.policy import shipped_model_dir

SHIPPED = Path(shipped_model_dir())


def _lines(*names: str) -> str:
    return "".join(f"int {name} = 0;\n" for name in names)


def test_file_facts_count_each_sides_changes_outside_the_conflicts() -> None:
    base = _lines("a", "b", "c", "d", "e", "f", "g", "h", "i")
    ours = _lines("a", "B1", "c", "D1", "e", "f", "g", "h", "X1")
    theirs = _lines("a", "b", "c", "d", "e", "f", "g", "h", "X2")
    chunks = merge_lines(base, ours, theirs)
    facts = FileFacts(base, ours, theirs, chunks)
    assert len(conflicts_of(chunks)) == 1
    assert (facts.ours_changed, facts.theirs_changed) == (4, 0), "two lines replaced by ours, none by theirs"
    assert facts.direction > 0.7
    mirrored = FileFacts(base, theirs, ours, merge_lines(base, theirs, ours))
    assert mirrored.direction == pytest.approx(-facts.direction)


def _stump(feature: int, threshold: float, low: float, high: float, missing_left: bool = False) -> dict:
    """One split: rows with ``feature`` ≤ ``threshold`` (or missing, where ``missing_left``) get ``low``."""
    return {
        "feature": [feature, 0, 0],
        "threshold": [threshold, 0.0, 0.0],
        "missing_left": [missing_left, False, False],
        "left": [1, 0, 0],
        "right": [2, 0, 0],
        "leaf": [False, True, True],
        "value": [0.0, low, high],
    }


def _params(*trees: dict, baseline: float = 0.0) -> dict:
    return {"features": list(FEATURE_NAMES), **pack(baseline, trees)}


def _with_ranker(params: dict, *trees: dict) -> dict:
    """``params`` with a ranker of ``trees`` (over RANKER_FEATURE_NAMES)."""
    return with_ranker(params, pack(0.0, trees))


def test_acceptor_sums_its_trees_leaves_over_the_log_odds() -> None:
    deep = {  # feature 1 > 0.5, then feature 2 ≤ -1: a leaf two levels down
        "feature": [1, 0, 2, 0, 0],
        "threshold": [0.5, 0.0, -1.0, 0.0, 0.0],
        "missing_left": [False, False, True, False, False],
        "left": [1, 0, 3, 0, 0],
        "right": [2, 0, 4, 0, 0],
        "leaf": [False, True, False, True, True],
        "value": [0.0, 0.0, 0.0, 2.0, -2.0],
    }
    acceptor = Acceptor(_params(_stump(0, 1.0, -1.0, 1.0, missing_left=True), deep, baseline=0.5))
    rows = np.zeros((4, len(FEATURE_NAMES)), dtype=np.float32)
    rows[0, 0] = 1.0  # ≤ threshold: left
    rows[1, :3] = (1.5, 0.7, -3.0)  # first right; second right, then left
    rows[2, :3] = (np.nan, 0.7, np.nan)  # missing: left in both trees where they say so
    rows[3, :3] = (2.0, 0.7, 0.0)  # right, right, right
    expected = [0.5 - 1.0 + 0.0, 0.5 + 1.0 + 2.0, 0.5 - 1.0 + 2.0, 0.5 + 1.0 - 2.0]
    assert acceptor.probabilities(rows) == pytest.approx([1 / (1 + np.exp(-z)) for z in expected])


def test_acceptor_is_saved_and_read_back(tmp_path: Path) -> None:
    params = _params(_stump(0, 1.0, -1.0, 1.0), _stump(3, -0.5, 0.25, -0.75, missing_left=True), baseline=0.1)
    params = _with_ranker(params, _stump(len(FEATURE_NAMES) + 2, -0.3, -1.0, 1.0))
    path = str(tmp_path / "acceptor.npz")
    Acceptor.save(params, path)
    rows = np.random.default_rng(0).normal(size=(20, len(FEATURE_NAMES))).astype(np.float32)
    rows[:5, 3] = np.nan
    conflict = np.arange(20) // 4
    read = Acceptor.from_file(path)
    assert read.ranker is not None
    for got, expected in zip(
        read.scores(rows, conflict), Acceptor(params).scores(rows, conflict), strict=True
    ):
        assert got == pytest.approx(expected, nan_ok=True)


def test_ranker_features_compare_each_candidate_with_its_conflicts_best_and_worst() -> None:
    features = np.array([[1.0, 5.0], [3.0, 2.0], [2.0, 2.0], [7.0, -1.0]], dtype=np.float32)
    conflict = np.array([0, 0, 0, 1])
    rows = ranker_features(features, conflict)
    assert rows.shape == (4, 6) and rows.dtype == np.float32
    assert rows[:, :2].tolist() == features.tolist()
    assert rows[:, 2:4].tolist() == [[-2.0, 0.0], [0.0, -3.0], [-1.0, -3.0], [0.0, 0.0]]  # minus the best
    assert rows[:, 4:].tolist() == [[0.0, 3.0], [2.0, 0.0], [1.0, 0.0], [0.0, 0.0]]  # minus the worst


def test_the_ranker_orders_the_candidates_and_the_calibrator_gives_their_confidence() -> None:
    """Through the shipped encoder and decoder on a real conflict: an acceptor whose ranker prefers the
    decoder's last scored candidate, and whose calibrator prefers its first, tries the last one first and
    gives every candidate the calibrator's probability."""
    classifier = OnnxClassifier(str(SHIPPED), with_acceptor=False)
    lang = language_for_path("Greeter.java")
    conflict = ConflictInput.from_texts(
        "    return a + b;\n",
        "    return a;\n",
        "    return a - c;\n",
        "class A {\n  int f() {\n",
        "  }\n}\n",
        lang,
    )
    (decoded,) = classifier.decode_all([conflict])
    assert len(decoded.candidates) >= 3
    last = min(len(decoded.candidates), CANDIDATES_SCORED) - 1
    rank_0, rank_last = FEATURE_NAMES.index("rank_0"), FEATURE_NAMES.index(f"rank_{last}")
    calibrator = _params(_stump(rank_0, 0.5, -2.0, 2.0))
    acceptor = Acceptor(calibrator)
    (by_confidence,) = acceptor.rerank([conflict], [decoded])
    assert by_confidence[0].text == decoded.candidates[0].text
    acceptor = Acceptor(_with_ranker(calibrator, _stump(rank_last, 0.5, 0.0, 5.0)))
    (ranked,) = acceptor.rerank([conflict], [decoded])
    assert ranked[0].text == decoded.candidates[last].text
    assert ranked[0].confidence == pytest.approx(1 / (1 + np.exp(2.0)))
    assert [c.confidence for c in ranked[1:]].count(pytest.approx(1 / (1 + np.exp(-2.0)))) == 1


def test_acceptor_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no fitted trees"):
        _params()
    broken = _stump(0, 1.0, -1.0, 1.0)
    broken["value"] = broken["value"][:2]
    with pytest.raises(ValueError, match="unequal length"):
        _params(broken)
    outside = _stump(0, 1.0, -1.0, 1.0)
    outside["right"] = [3, 0, 0]
    with pytest.raises(ValueError, match="outside"):
        Acceptor(_params(outside))
    with pytest.raises(ValueError, match="ranker was fitted on other features"):
        Acceptor(
            {
                **_with_ranker(_params(_stump(0, 1.0, -1.0, 1.0)), _stump(0, 1.0, -1.0, 1.0)),
                RANKER + "features": FEATURE_NAMES,
            }
        )
    older = tmp_path / "acceptor.json"  # the form of the MLPs before the trees
    older.write_text(json.dumps({"features": list(FEATURE_NAMES), "members": []}))
    with pytest.raises(ValueError, match="fit-acceptor"):
        Acceptor.from_file(str(older))


def _true_probability(features: np.ndarray) -> np.ndarray:
    """The probability of being right that ``_synthetic`` draws its labels from."""
    return 1 / (1 + np.exp(-(2 * features[:, 1] - features[:, 2] * features[:, 3])))


def _synthetic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    features = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    return features, rng.random(n) < _true_probability(features)


def test_exported_trees_give_the_probabilities_scikit_learn_gives() -> None:
    pytest.importorskip("sklearn", reason="fitting the acceptor needs the [train] extra")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from training.acceptor import TREE_SETTINGS, model_trees

    rng = np.random.default_rng(0)
    features, correct = _synthetic(rng, 3000)
    features[:300, 2] = np.nan  # missing values in training: the trees learn where they go
    settings = {**TREE_SETTINGS, "early_stopping": False, "max_iter": 50}
    model = HistGradientBoostingClassifier(**settings, random_state=0).fit(features, correct)
    baseline = float(np.ravel(model._baseline_prediction)[0])
    acceptor = Acceptor({"features": list(FEATURE_NAMES), **pack(baseline, model_trees(model))})
    rows, _ = _synthetic(rng, 500)
    rows[:100, 2] = np.nan
    rows[100:150, 1] = np.inf
    assert acceptor.probabilities(rows) == pytest.approx(model.predict_proba(rows)[:, 1], abs=1e-9)


def test_fit_learns_from_the_rows_of_other_repositories() -> None:
    pytest.importorskip("sklearn", reason="fitting the acceptor needs the [train] extra")
    from training.acceptor import BAGGED, fit, fit_trees

    rng = np.random.default_rng(1)
    features, correct = _synthetic(rng, 3000)
    groups = np.array([f"repo{i % 20}" for i in range(3000)])
    conflict = np.arange(3000) // 4
    acceptor = Acceptor(fit(features, correct, groups, conflict))
    rows, _ = _synthetic(rng, 1000)
    assert np.corrcoef(acceptor.probabilities(rows), _true_probability(rows))[0, 1] > 0.8
    ensembles = [fit_trees(features, correct, groups, seed=i) for i in range(BAGGED)]
    assert len({len(model._predictors) for model in ensembles}) > 1, "each stops on its own repositories"
    mean_log_odds = np.mean([model.decision_function(rows) for model in ensembles], axis=0)
    assert acceptor.trees.log_odds(rows) == pytest.approx(mean_log_odds, abs=1e-9)
    row_conflict = np.arange(1000) // 4
    rankers = [fit_trees(ranker_features(features, conflict), correct, groups, seed=i) for i in range(BAGGED)]
    ranked = ranker_features(rows, row_conflict)
    mean_log_odds = np.mean([model.decision_function(ranked) for model in rankers], axis=0)
    assert acceptor.scores(rows, row_conflict)[1] == pytest.approx(mean_log_odds, abs=1e-9)
    assert Acceptor(fit(features, correct, groups, conflict, ranker=False)).ranker is None


def test_acceptor_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    params = _params(_stump(0, 1.0, -1.0, 1.0))
    params["features"] = params["features"][:-1]
    with pytest.raises(ValueError, match="other features"):
        Acceptor(params)
    model = tmp_path / "model"
    model.mkdir()
    for name in ("config.json", "model.onnx", "vocab.json", "merges.txt"):
        (model / name).write_bytes((SHIPPED / name).read_bytes())
    Acceptor.save({**params, "features": FEATURE_NAMES[:-1]}, str(model / "acceptor.npz"))
    config = json.loads((model / "config.json").read_text())
    config["acceptor"] = "acceptor.npz"
    (model / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="acceptor"):
        OnnxClassifier(str(model))


def test_replay_follows_the_resolvers_rule() -> None:
    pytest.importorskip("sklearn", reason="training.acceptor needs the [train] extra")
    from training.acceptor import curve, replay

    # conflict 0: best candidate does not parse, the second does and is right
    # conflict 1: best candidate below the threshold: left, whatever follows
    # conflict 2: best candidate parses and is wrong
    probs = np.array([0.9, 0.8, 0.3, 0.95, 0.7])
    parses = np.array([False, True, True, True, True])
    correct = np.array([False, True, True, False, True])
    conflict = np.array([0, 0, 1, 2, 2])
    assert replay(probs, parses, correct, conflict, 0.5) == {0: True, 2: False}
    assert replay(probs, parses, correct, conflict, 0.0) == {0: True, 1: True, 2: False}
    points = curve(probs, parses, correct, conflict, 4, [0.5])
    assert points[0]["accuracy"] == 0.25 and points[0]["precision"] == 0.5 and points[0]["answered"] == 0.5
    # in the ranker's order, conflict 2's right candidate comes first; conflict 1's below-threshold one is
    # still what leaves it
    order = np.array([1.0, 0.0, 0.0, 0.0, 1.0])
    assert replay(probs, parses, correct, conflict, 0.5, order) == {0: True, 2: True}
    assert curve(probs, parses, correct, conflict, 4, [0.5], order)[0]["accuracy"] == 0.5


@pytest.mark.skipif(not (SHIPPED / "acceptor.npz").exists(), reason="the shipped model has no acceptor")
def test_shipped_model_ranks_with_its_acceptor() -> None:
    classifier = OnnxClassifier(str(SHIPPED))
    assert classifier.acceptor is not None and classifier.acceptor.ranker is not None
    assert 0.0 < classifier.threshold < 1.0


GREETER = "class Greeter {{\n  String greet(String name) {{\n    return {};\n  }}\n}}\n"


def test_readme_example_is_resolved_by_default(repo: GitRepo) -> None:
    """Two branches edit different tokens of one line: the installed driver with the shipped model and its
    default threshold settles it (no --model, no --threshold, no MERGEBERT_MODEL)."""
    del repo.env["MERGEBERT_MODEL"]
    repo.diverge(
        "Greeter.java",
        GREETER.format('"Hello, " + name'),
        GREETER.format('"Hi, " + name'),
        GREETER.format('"Hello, " + name.trim()'),
    )
    repo.mergebert("install", "--no-confirm", check=True)
    merged = repo.git("merge", "--no-edit", "feature", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert repo.read("Greeter.java").decode() == GREETER.format('"Hi, " + name.trim()')


def test_region_files_group_by_file_in_order_and_skip_what_is_whole_or_seen(tmp_path: Path) -> None:
    import gzip

    from training.acceptor import ExtraRows, region_files, repositories_of

    def region(repo: str, merge: str, path: str, index: int) -> dict:
        sides = {"ours": f"{index}", "base": "", "theirs": "", "resolution": ""}
        return {"repo": repo, "merge": merge, "path": path, "index": index, **sides}

    records = [
        region("acme/a", "m1", "A.java", 1),
        region("acme/a", "m1", "A.java", 0),
        region("acme/a", "m1", "B.java", 0),  # held whole by a scenario: skipped
        region("acme/a", "m2", "A.java", 0),  # the same path in another merge is another file
        region("acme/seen", "m3", "C.java", 0),  # a repository the encoder trained on: skipped
    ]
    regions, seen = tmp_path / "r.regions.jsonl.gz", tmp_path / "train.regions.jsonl.gz"
    for path, rows in ((regions, records), (seen, [region("acme/seen", "m0", "X.java", 0)])):
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)
    scenarios = [{"repo": "acme/a", "merge": "m1", "path": "B.java"}]
    files = region_files([str(regions)], scenarios, repositories_of([str(seen)]))
    assert [[(r["merge"], r["path"], r["index"]) for r in file] for file in files] == [
        [("m1", "A.java", 0), ("m1", "A.java", 1)],
        [("m2", "A.java", 0)],
    ]

    extra = ExtraRows(
        np.arange(6.0).reshape(3, 2),
        np.array([True, False, True]),
        np.array(["a", "b", "a"]),
        np.array([0, 1, 2]),
    )
    kept = extra.without({"a"})
    assert kept.groups.tolist() == ["b"] and kept.features.tolist() == [[2.0, 3.0]]
    assert kept.conflict.tolist() == [1]


def _scenario(name: str, edits: int) -> dict:
    """A whole JavaScript file with `edits` conflicts the token merge settles."""
    base = "".join(
        f"let {name}{i} = g({i}, 2);\nlet pad{i} = 0;\nlet more{i} = 1;\nlet end{i} = 2;\n"
        for i in range(edits)
    )
    ours = base.replace("= g(", "= h(")
    theirs = base.replace(", 2);", ", 3);")
    resolved = ours.replace(", 2);", ", 3);")
    return {"id": name, "repo": name, "path": f"{name}.js", "lang": "javascript", "base": base,
            "ours": ours, "theirs": theirs, "resolved": resolved}  # fmt: skip


def test_a_rows_cache_of_other_files_is_collected_again(tmp_path: Path) -> None:
    """--rows-cache reuses rows only for the model and files they came from."""
    from training.acceptor import cached_rows

    cache = str(tmp_path / "rows.npz")
    first = cached_rows(cache, [_scenario("one", 1)], str(SHIPPED), 1)
    assert len(first["repo"]) == 1
    again = cached_rows(cache, [_scenario("one", 1)], str(SHIPPED), 1)
    assert np.array_equal(again["features"], first["features"])
    assert len(cached_rows(cache, [_scenario("two", 3)], str(SHIPPED), 1)["repo"]) == 3


def _fit_acceptor(*args: str) -> Result:
    from click.testing import CliRunner

    from mergebert.cli import main

    return CliRunner().invoke(main, ["fit-acceptor", *map(str, args), "-j", "1"])


def _model_copy(tmp_path: Path, **metrics: object) -> Path:
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    (model / "metrics.json").write_text(json.dumps(metrics))
    return model


@pytest.fixture
def scenario_files(tmp_path: Path) -> tuple[Path, Path]:
    """A scenarios file of two repositories, and a regions file (for fit-acceptor, which needs sklearn)."""
    pytest.importorskip("sklearn", reason="fitting the acceptor needs the [train] extra")
    from mergebert.data.records import write_records

    scenarios, regions = tmp_path / "s.scenarios.jsonl.gz", tmp_path / "r.regions.jsonl.gz"
    write_records(scenarios, [_scenario("acme/a", 2), _scenario("acme/b", 2)])
    region = {"id": "r", "repo": "acme/c", "path": "c.js", "lang": "javascript", "base": "1\n", "ours": "2\n"}
    write_records(regions, [{**region, "theirs": "3\n", "resolution": "3\n", "prefix": "", "suffix": ""}])
    return scenarios, regions


def test_fit_acceptor_names_files_given_in_the_wrong_place(
    tmp_path: Path, scenario_files: tuple[Path, Path]
) -> None:
    scenarios, regions = scenario_files
    model = _model_copy(tmp_path)
    swapped = _fit_acceptor(model, regions, "--regions", scenarios)
    assert swapped.exit_code == 1 and f"{regions} holds region records" in swapped.output
    assert "Traceback" not in swapped.output
    wrong_kind = _fit_acceptor(model, scenarios, "--regions", scenarios)
    assert wrong_kind.exit_code == 1 and f"{scenarios} holds scenario records" in wrong_kind.output


def test_fit_acceptor_warns_of_the_encoders_repositories_and_needs_model_onnx(
    tmp_path: Path, scenario_files: tuple[Path, Path]
) -> None:
    scenarios, _ = scenario_files
    model = _model_copy(tmp_path, train_repository_names=["acme/a", "acme/z"])
    (model / "model.onnx").unlink()
    missing = _fit_acceptor(model, scenarios)
    assert missing.exit_code == 1 and "no model.onnx in" in missing.output
    shutil.copy(SHIPPED / "model.onnx", model / "model.onnx")
    result = _fit_acceptor(model, scenarios, "--margin", "1")  # stops after the warning, writing nothing
    assert "1 scenario files come from 1 repositories the encoder trained on (acme/a)" in result.stderr


def test_fit_acceptor_that_cannot_reach_the_token_merge_writes_nothing(
    tmp_path: Path, scenario_files: tuple[Path, Path]
) -> None:
    scenarios, _ = scenario_files
    model = _model_copy(tmp_path)
    before = {path.name: path.read_bytes() for path in model.iterdir()}
    result = _fit_acceptor(model, scenarios, "--margin", "1")
    assert result.exit_code == 1 and "no acceptor written" in result.output, result.output
    assert "Traceback" not in result.output
    assert {path.name: path.read_bytes() for path in model.iterdir()} == before


def _constant_model(tmp_path: Path, probabilities: list[float]) -> Path:
    """A copy of the shipped model whose model.onnx gives every unit `probabilities` (no acceptor)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = tmp_path / "constant"
    shutil.copytree(SHIPPED, model)
    config = json.loads((model / "config.json").read_text())
    config.pop("acceptor", None)
    (model / "config.json").write_text(json.dumps(config))
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", 4, "length"]),
        helper.make_tensor_value_info("type_ids", TensorProto.INT64, ["batch", 4, "length"]),
        helper.make_tensor_value_info("is_token", TensorProto.FLOAT, ["batch"]),
    ]
    vocabulary = np.zeros((config["model"]["vocab_size"], 1), np.float32)
    constants = [
        numpy_helper.from_array(vocabulary, "embedding"),  # reads input_ids, as a model does
        numpy_helper.from_array(np.array([probabilities], np.float32), "probabilities"),
        numpy_helper.from_array(np.array([-1, 1], np.int64), "column"),
    ]
    nodes = [
        helper.make_node("Gather", ["embedding", "input_ids"], ["looked_up"]),
        helper.make_node("Reshape", ["is_token", "column"], ["per_unit"]),
        helper.make_node("Mul", ["per_unit", "probabilities"], ["scaled"]),
        helper.make_node("Sub", ["scaled", "scaled"], ["zero"]),
        helper.make_node("Add", ["zero", "probabilities"], ["probs"]),
    ]
    output = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", len(probabilities)])
    graph = helper.make_graph(nodes, "constant", inputs, [output], initializer=constants)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx_model.ir_version = 8
    onnx.save(onnx_model, str(model / "model.onnx"))
    return model


def _ours_contains_theirs() -> dict:
    """A Java file whose one conflict the token merge settles as ours: theirs's edit is part of ours's."""
    around = ("class A {\n  void m() {\n", "  }\n}\n")
    base, ours, theirs = (
        around[0] + line + around[1] for line in ("    f(1, 2);\n", "    g(1);\n", "    f(1);\n")
    )
    return {"id": "contained", "repo": "acme/contained", "path": "A.java", "lang": "java", "base": base,
            "ours": ours, "theirs": theirs, "resolved": ours}  # fmt: skip


def test_a_clean_token_merge_folded_into_a_region_candidate_still_counts(tmp_path: Path) -> None:
    """A model that ranks pattern A above TOKEN: the clean token merge's candidate is A's (same text)."""
    pytest.importorskip("onnx", reason="crafting a model needs the [train] extra")
    from training.acceptor import collect

    model = _constant_model(tmp_path, [0.5, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.03, 0.03, 0.04])
    rows = collect([_ours_contains_theirs(), _scenario("acme/js", 1)], str(model), workers=1)
    assert rows.token_merge_correct == [True, True]
    assert len(rows.repo) == 2


def _stops_on_the_second(record: dict) -> dict | None:
    """A worker for `collect` that fails on the record with id "second" as a bug in collecting would."""
    if record["id"] == "second":
        raise StopIteration  # what ends pool.imap's results early when it reaches the parent
    from training.acceptor import collect_file

    return collect_file(record)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_that_fails_to_collect_stops_the_fit_and_is_named(workers: int) -> None:
    from training.acceptor import collect
    from training.config import TrainingError

    files = [{**_scenario("acme/a", 1), "id": name} for name in ("first", "second", "third")] * 4
    with pytest.raises(TrainingError, match=r"failed on 4 of 12 files .*acme/a.*StopIteration"):
        collect(files, str(SHIPPED), workers=workers, worker=_stops_on_the_second)
