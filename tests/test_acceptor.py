"""The classifier's second stage: the file's facts, the acceptor's features and model, the resolver's rule
replayed in training, and the shipped model resolving by default what the token merge settles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gitrepo import GitRepo

from mergebert.core.filefacts import FileFacts
from mergebert.core.linemerge import conflicts_of, merge_lines
from mergebert.neural.acceptor import FEATURE_NAMES, Acceptor
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


def _member(n_features: int, sign: float = 1.0) -> dict:
    return {
        "mean": [0.0] * n_features,
        "scale": [1.0] * n_features,
        "w1": np.eye(n_features, 2).tolist(),
        "b1": [0.0, 0.0],
        "w2": [sign, -sign],
        "b2": 0.0,
    }


def _params(n_features: int, *signs: float) -> dict:
    return {"features": list(FEATURE_NAMES), "members": [_member(n_features, s) for s in signs or (1.0,)]}


def test_acceptor_is_a_small_mlp() -> None:
    acceptor = Acceptor(_params(len(FEATURE_NAMES)))
    rows = np.zeros((3, len(FEATURE_NAMES)), dtype=np.float32)
    rows[0, 0], rows[1, 1], rows[2, 0] = 2.0, 2.0, -5.0
    probs = acceptor.probabilities(rows)
    assert probs[0] == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert probs[1] == pytest.approx(1 / (1 + np.exp(2.0)))
    assert probs[2] == pytest.approx(0.5), "ReLU drops the negative unit"


def test_acceptor_averages_its_members() -> None:
    rows = np.zeros((1, len(FEATURE_NAMES)), dtype=np.float32)
    rows[0, 0] = 2.0
    one, mirrored = Acceptor(_params(len(FEATURE_NAMES), 1.0)), Acceptor(_params(len(FEATURE_NAMES), -1.0))
    both = Acceptor(_params(len(FEATURE_NAMES), 1.0, -1.0))
    expected = (one.probabilities(rows) + mirrored.probabilities(rows)) / 2
    assert both.probabilities(rows) == pytest.approx(expected)
    assert both.probabilities(rows)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no fitted members"):
        Acceptor({"features": list(FEATURE_NAMES), "members": []})


def test_acceptor_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    params = _params(len(FEATURE_NAMES))
    params["features"] = params["features"][:-1]
    with pytest.raises(ValueError, match="other features"):
        Acceptor(params)
    model = tmp_path / "model"
    model.mkdir()
    for name in ("config.json", "model.onnx", "vocab.json", "merges.txt"):
        (model / name).write_bytes((SHIPPED / name).read_bytes())
    (model / "acceptor.json").write_text(json.dumps(params))
    config = json.loads((model / "config.json").read_text())
    config["acceptor"] = "acceptor.json"
    (model / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="acceptor"):
        OnnxClassifier(str(model))


def test_replay_follows_the_resolvers_rule() -> None:
    torch = pytest.importorskip("torch", reason="training.acceptor needs the [train] extra")
    del torch
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


@pytest.mark.skipif(not (SHIPPED / "acceptor.json").exists(), reason="the shipped model has no acceptor")
def test_shipped_model_ranks_with_its_acceptor() -> None:
    classifier = OnnxClassifier(str(SHIPPED))
    assert classifier.acceptor is not None
    assert 0.0 < classifier.threshold < 1.0


GREETER = 'class Greeter {{\n  String greet(String name) {{\n    return {};\n  }}\n}}\n'


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
    pytest.importorskip("torch", reason="training.acceptor needs the [train] extra")
    import gzip

    from training.acceptor import ExtraRows, region_files, repositories_of

    def region(repo: str, merge: str, path: str, index: int) -> dict:
        return {"repo": repo, "merge": merge, "path": path, "index": index, "ours": f"{index}"}

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

    extra = ExtraRows(np.arange(6.0).reshape(3, 2), np.array([True, False, True]), np.array(["a", "b", "a"]))
    kept = extra.without({"a"})
    assert kept.groups.tolist() == ["b"] and kept.features.tolist() == [[2.0, 3.0]]
