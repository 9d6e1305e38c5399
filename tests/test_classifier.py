"""The neural classifier: BPE, features, a tiny model trained in seconds, ONNX export and runtime, and the
shipped default model.

Training tests need the [train] extra (torch, transformers, tokenizers, onnx) and skip without it.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from gitrepo import GitRepo, java

from mergebert.core.candidates import ConflictInput, units
from mergebert.core.languages import language_by_name
from mergebert.core.lexer import Token
from mergebert.neural.bpe import BPE
from mergebert.neural.features import (
    DELETE,
    EQUAL,
    INSERT,
    N_SEQ,
    PAD_TYPE,
    REPLACE,
    FeatureConfig,
    Featurizer,
    align,
)

JAVA = language_by_name("java")
SHIPPED = Path(__file__).resolve().parent.parent / "mergebert" / "neural" / "model"


# --------------------------------------------------------------------------------------------- BPE
def _tiny_bpe() -> BPE:
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4, "<region>": 5, "<token>": 6}
    from mergebert.neural.bpe import bytes_to_unicode

    for ch in bytes_to_unicode().values():
        vocab.setdefault(ch, len(vocab))
    merges = [("f", "o"), ("fo", "o"), ("Ġ", "foo"), ("b", "a"), ("ba", "r")]
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return BPE(vocab, merges)


def test_bpe_applies_merges_and_marks_leading_space() -> None:
    bpe = _tiny_bpe()
    assert [bpe.decode([i]) for i in bpe.encode_word("foo", False)] == ["foo"]
    assert [bpe.decode([i]) for i in bpe.encode_word("foo", True)] == [" foo"]
    assert [bpe.decode([i]) for i in bpe.encode_word("foobar", False)] == ["foo", "bar"]
    assert bpe.decode(bpe.encode_word("é→x", False)) == "é→x"  # every byte has an id
    assert bpe.encode_word("foo", True) is bpe.encode_word("foo", True)  # cached


def test_bpe_round_trips_files(tmp_path: Path) -> None:
    bpe = _tiny_bpe()
    (tmp_path / "vocab.json").write_text(json.dumps(bpe.vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\nf o\nfo o\nĠ foo\nb a\nba r\n")
    again = BPE.from_dir(tmp_path)
    assert again.encode_word("foobar", True) == bpe.encode_word("foobar", True)


# --------------------------------------------------------------------------------------------- features
def _tokens(*texts: str) -> tuple[Token, ...]:
    return tuple(Token(t, " ") for t in texts)


def test_align_marks_edits() -> None:
    side, base = align(_tokens("a", "b", "x", "c"), _tokens("a", "c", "d"))
    assert side == [EQUAL, INSERT, INSERT, EQUAL]
    assert base == [EQUAL, EQUAL, DELETE]
    side, base = align(_tokens("a", "x"), _tokens("a", "y"))
    assert side == [EQUAL, REPLACE] and base == [EQUAL, REPLACE]


def test_featurizer_shapes_and_layout() -> None:
    bpe = _tiny_bpe()
    fz = Featurizer(bpe, FeatureConfig(max_len=40, max_context=10, min_context=4))
    conflict = ConflictInput.from_texts(
        "int x = foo(1, 2);\n", "int x = foo(1);\n", "int y = foo(1);\n", "class A {\n" * 20, "}\n" * 20, JAVA
    )
    us = units(conflict)
    for unit in us:
        ids, types = fz.unit(unit)
        assert ids.shape[0] == N_SEQ and ids.shape == types.shape and ids.shape[1] <= 40
        assert (ids[:, 0] == fz.kind_ids[unit.kind]).all()
        assert ((ids == fz.pad_id) == (types == PAD_TYPE)).all()
    batch = fz.batch(us)
    assert batch["input_ids"].shape[:2] == (len(us), N_SEQ)
    assert batch["is_token"].tolist() == [0.0] + [1.0] * (len(us) - 1)


def test_featurizer_keeps_long_bodies_within_budget() -> None:
    fz = Featurizer(_tiny_bpe(), FeatureConfig(max_len=32, max_context=16, min_context=6))
    long = "".join(f"call{i}(x);\n" for i in range(200))
    conflict = ConflictInput.from_texts(long, "", long.replace("x", "y"), "a;\n" * 30, "b;\n" * 30, JAVA)
    ids, _ = fz.unit(units(conflict)[0])
    assert ids.shape[1] == 32
    for row in ids:  # at least min_context context sub-words survive next to the long body
        eos = np.nonzero(row == fz.eos_id)[0]
        assert len(eos) == 3 and (eos[0] - 1) + (eos[2] - eos[1] - 1) >= 6


# --------------------------------------------------------------------------------------------- one path
TSX_RECORD = {
    "id": "tsx",
    "repo": "owner/app",
    "path": "src/App.tsx",
    "lang": "typescript",  # the data set labels .tsx files typescript; their grammar is TSX
    "ours": "  return <div className={a}>{label}</div>;\n",
    "base": "  return <div>{label}</div>;\n",
    "theirs": "  return <span>{label}</span>;\n",
    "resolution": "  return <div className={a}>{label}</div>;\n",
    "prefix": "export function App({ label }: Props) {\n",
    "suffix": "}\n",
}


def test_a_record_becomes_the_conflict_the_runtime_builds() -> None:
    from mergebert.core.languages import TSX, TYPESCRIPT, language_for_path
    from mergebert.data.records import conflict_input

    conflict = conflict_input(TSX_RECORD)
    assert conflict.lang == TSX == language_for_path(TSX_RECORD["path"])
    assert conflict_input({**TSX_RECORD, "path": "src/app.ts"}).lang == TYPESCRIPT
    assert conflict_input({**TSX_RECORD, "path": ""}).lang == TYPESCRIPT, "`lang` is the fallback"
    sides = (TSX_RECORD[k] for k in ("ours", "base", "theirs"))
    as_typescript = ConflictInput.from_texts(*sides, lang=TYPESCRIPT)
    assert conflict.tokens[0].tokens != as_typescript.tokens[0].tokens, "the grammars lex JSX differently"


def test_training_features_are_the_runtime_features(tmp_path: Path) -> None:
    """The training cache holds exactly what the runtime featurises for the same conflict (.tsx too)."""
    from mergebert.core.languages import language_for_path
    from training.dataset import build_cache

    bpe = _tiny_bpe()
    (tmp_path / "vocab.json").write_text(json.dumps(bpe.vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\nf o\nfo o\nĠ foo\nb a\nba r\n")
    cfg = FeatureConfig(max_len=48, max_context=16, min_context=8)
    arrays = build_cache(
        [TSX_RECORD], str(tmp_path), cfg, str(tmp_path / "c.npz"), keep_unlabelled=True, workers=1, log=str
    )
    runtime = ConflictInput.from_texts(
        *(TSX_RECORD[k] for k in ("ours", "base", "theirs", "prefix", "suffix")),
        language_for_path(TSX_RECORD["path"]),
    )
    fz = Featurizer(bpe, cfg)
    expected = [fz.unit(unit) for unit in units(runtime)]
    assert len(arrays["input_ids"]) == len(expected) > 1
    for row, (ids, types) in enumerate(expected):
        width = ids.shape[1]
        assert arrays["lengths"][row] == width
        assert (arrays["input_ids"][row, :, :width] == ids).all()
        assert (arrays["type_ids"][row, :, :width] == types).all()


# --------------------------------------------------------------------------------------------- tiny model
def _need_train_extra() -> None:
    """Skip the calling test or fixture (only it) without the [train] extra."""
    for name in ("torch", "transformers", "tokenizers"):
        pytest.importorskip(name, reason=f"training tests need the [train] extra ({name})")


TAKE_OURS_BASE = java("int port = 8080;")
TAKE_OURS_OURS = java("int port = 9090;")
TAKE_OURS_THEIRS = java("int port = 7070;")


def _records(n: int = 48) -> list[dict]:
    """Conflicts where developers always took ours, in a few repositories."""
    rng = random.Random(0)
    names = ["port", "size", "limit", "count", "timeout", "retries"]
    out = []
    for i in range(n):
        name = names[i % len(names)]
        base, ours, theirs = rng.sample(range(1000, 9999), 3)
        out.append(
            {
                "id": str(i),
                "repo": f"owner/repo{i % 4}",
                "path": "App.java",
                "lang": "java",
                "ours": f"        int {name} = {ours};\n",
                "base": f"        int {name} = {base};\n",
                "theirs": f"        int {name} = {theirs};\n",
                "resolution": f"        int {name} = {ours};\n",
                "prefix": "public class App {\n    public static void main(String[] args) {\n",
                "suffix": "    }\n}\n",
                "bulk_merge": False,
            }
        )
    return out


# sequences, batches and threads of the tiny training runs; no time budget, so a run is reproducible
TINY_RUN = dict(max_len=48, max_context=16, min_context=8, batch_size=16, max_minutes=0, threads=1)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_train_extra()
    from training.config import TrainConfig
    from training.train import train

    root = tmp_path_factory.mktemp("tiny")
    data = root / "train.regions.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    out = root / "model"
    cfg = TrainConfig(
        **TINY_RUN, hidden=32, layers=1, heads=2, vocab_size=400, lr=3e-3, warmup_steps=5, epochs=12,
        eval_every=1000, seed=1,
    )  # fmt: skip
    metrics = train([str(data)], str(out), cfg, workers=1)
    assert metrics["train_units"] > 0
    from training.export import export

    lines = list(export(str(out), quantize=False))
    assert any("max |Δp|" in line for line in lines)
    return out


def test_tiny_model_learns_and_exports(tiny_model: Path) -> None:
    cfg = json.loads((tiny_model / "config.json").read_text())
    assert (tiny_model / "model.onnx").exists()
    assert cfg["class_names"][0] == "A" and cfg["class_names"][9] == "TOKEN"
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert metrics["unit_level"]["accuracy"] >= 0.9
    calibration = metrics["calibration"]  # a model this sure of itself gets a threshold that is reached
    exported = json.loads((tiny_model / "export.json").read_text())["calibration"]  # again, through ONNX
    assert 0.0 < cfg["threshold"] == exported["threshold"] < 1.0
    assert exported["threshold"] == pytest.approx(calibration["threshold"], abs=1e-4)
    assert calibration["precision"] >= calibration["target"] == 0.9 and calibration["coverage"] > 0.5


def test_export_checks_on_the_repositories_training_held_out(tiny_model: Path) -> None:
    """Trained without --valid, the export still measures (and may quantise) on the held-out repositories."""
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert 0 < len(metrics["valid_repos"]) < len({r["repo"] for r in _records()})
    report = json.loads((tiny_model / "export.json").read_text())
    assert report["valid_unit_accuracy_fp32"] >= 0.9


def _results(*pairs: tuple[float, bool]) -> list[dict]:
    return [{"confidence": c, "correct": ok} for c, ok in pairs]


def _taken(calibration: dict, results: list[dict]) -> tuple[float | None, float]:
    """Precision and coverage of the conflicts the resolver takes at the calibrated threshold (its rule:
    confidence >= threshold)."""
    taken = [r["correct"] for r in results if r["confidence"] >= calibration["threshold"]]
    return (sum(taken) / len(taken) if taken else None), len(taken) / len(results)


def test_calibration_picks_the_lowest_threshold_that_keeps_the_precision() -> None:
    _need_train_extra()
    from training.metrics import calibrate

    found = calibrate(_results((0.9, True), (0.8, True), (0.7, False), (0.6, True), (0.5, False)), 0.75)
    assert (found["threshold"], found["precision"], found["coverage"]) == (0.6, 0.75, 0.8)
    assert found["reached"]
    summed = calibrate(_results((1.0000001, True), (0.5, False)), 0.9)  # a confidence summed past 1
    assert (summed["threshold"], summed["coverage"]) == (1.0, 0.5), "a threshold stays within [0, 1]"


@pytest.mark.parametrize(
    "pairs, threshold",
    [
        (((0.9, True), (0.8, True), (0.8, False), (0.8, False)), 0.9),  # a tie is taken whole or not at all
        (((1.0000001, True), (1.0, False), (0.5, False)), 1.0),  # the runtime compares 1.0000001 as 1
        (((1.0, True), (1.0, False), (0.4, True)), 1.0),
        (((1.0, False), (1.0, False), (0.5, True)), 1.0),  # none reaches 90%, and 1 still takes two
        (((0.9, False), (0.5, True)), 1.0),  # none reaches 90%, and 1 takes none
        (((0.9, True), (math.nan, True)), 0.9),  # NaN passes no threshold
    ],
)
def test_calibration_reports_what_the_resolver_takes_at_its_threshold(pairs: tuple, threshold: float) -> None:
    _need_train_extra()
    from training.metrics import NEVER, calibrate

    results = _results(*pairs)
    calibration = calibrate(results, 0.9)
    precision, coverage = _taken(calibration, results)
    assert (calibration["precision"], calibration["coverage"]) == (precision, coverage)
    reached = precision is not None and precision >= 0.9
    assert calibration["threshold"] == threshold and (reached or threshold == NEVER == 1.0)
    assert calibration["reached"] == reached, "a precision below the target is said"


def test_torch_and_onnx_agree(tiny_model: Path) -> None:
    import torch

    from mergebert.neural.onnx_classifier import load_classifier
    from training.export import load_torch

    classifier = load_classifier(tiny_model)
    model = load_torch(str(tiny_model))
    conflicts = [
        ConflictInput.from_texts(r["ours"], r["base"], r["theirs"], r["prefix"], r["suffix"], JAVA)
        for r in _records(6)
    ] + [ConflictInput.from_texts("f(a, b);\n", "f(a);\n", "f(a, c);\n", "x;\n" * 40, "", JAVA)]
    all_units = [u for c in conflicts for u in units(c)]
    ort_probs = classifier.unit_probabilities(all_units)
    batch = classifier.featurizer.batch(all_units)  # one padded batch: different widths than ORT's run
    with torch.no_grad():
        logits = model(*(torch.from_numpy(batch[k]) for k in ("input_ids", "type_ids", "is_token")))
        torch_probs = torch.softmax(logits, -1).numpy()
    assert np.abs(ort_probs - torch_probs).max() < 1e-4
    assert np.allclose(ort_probs.sum(1), 1.0, atol=1e-5)
    token_rows = [i for i, u in enumerate(all_units) if u.kind == "token"]
    assert token_rows and (ort_probs[token_rows, 9] < 1e-3).all()  # TOKEN masked for token units


def test_tiny_model_ranks_take_ours(tiny_model: Path) -> None:
    from mergebert.neural.onnx_classifier import load_classifier

    classifier = load_classifier(tiny_model, threshold=0.3)
    assert classifier.threshold == 0.3
    conflict = ConflictInput.from_texts(
        "        int port = 4242;\n",
        "        int port = 1111;\n",
        "        int port = 3333;\n",
        "public class App {\n    public static void main(String[] args) {\n",
        "    }\n}\n",
        JAVA,
    )
    (ranked,) = classifier.rank([conflict])
    assert ranked[0].text == "        int port = 4242;\n"
    assert ranked[0].patterns == ("A",)


def test_training_and_runtime_decode_alike(tiny_model: Path, tmp_path: Path) -> None:
    """Training's record-level metrics decode the units' probabilities as `OnnxClassifier.rank` does."""
    from mergebert.data.records import conflict_input
    from mergebert.neural.onnx_classifier import load_classifier
    from training.dataset import build_cache
    from training.export import load_torch
    from training.fit import predict
    from training.metrics import record_level

    records = _records(6) + [
        {**_records(1)[0], "ours": "f(x, 1, p);\n", "base": "f(a, 0, p);\n", "theirs": "f(y, 2, p);\n"}
    ]
    classifier = load_classifier(tiny_model, threshold=0.0)
    arrays = build_cache(
        records, str(tiny_model), classifier.featurizer.config, str(tmp_path / "v.npz"), keep_unlabelled=True,
        workers=1, log=str,
    )  # fmt: skip
    probs = predict(load_torch(str(tiny_model)), arrays, np.arange(len(arrays["labels"])))
    decoded = record_level(records, arrays, probs, classifier.beam)
    ranked = classifier.rank([conflict_input(r) for r in records])
    assert len(units(conflict_input(records[-1]))) > 2, "a conflict with several token units"
    for result, candidates in zip(decoded, ranked, strict=True):
        assert result["patterns"] == list(candidates[0].patterns)
        assert result["confidence"] == pytest.approx(candidates[0].confidence, abs=1e-4)


def test_driver_resolves_with_tiny_model_through_git_merge(tiny_model: Path, repo: GitRepo) -> None:
    repo.env["MERGEBERT_MODEL"] = str(tiny_model)
    repo.env["MERGEBERT_THRESHOLD"] = "0.3"
    repo.diverge("src/App.java", TAKE_OURS_BASE, TAKE_OURS_OURS, TAKE_OURS_THEIRS)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert repo.read("src/App.java") == TAKE_OURS_OURS.encode()


def test_missing_or_corrupt_model_falls_back(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mergebert.core.classifier import TokenMergeClassifier
    from mergebert.neural import policy
    from mergebert.neural.onnx_classifier import ModelError, load_classifier

    with pytest.raises(ModelError):
        load_classifier(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError):
        load_classifier(broken)
    fallback = policy.load(policy.choose(str(broken)))
    assert isinstance(fallback, TokenMergeClassifier)
    assert "model unavailable" in capsys.readouterr().err
    with pytest.raises(policy.PolicyError, match="cannot use the model"):
        policy.load(policy.choose(str(broken)), strict=True)
    assert isinstance(policy.load(policy.choose("none")), TokenMergeClassifier)
    assert capsys.readouterr().err == ""


def test_init_from_local_roberta_checkpoint(tmp_path: Path, tiny_model: Path) -> None:
    """--init-from takes a RoBERTa-family directory with its own tokenizer files."""
    from transformers import RobertaConfig, RobertaModel

    from training.config import TrainConfig
    from training.train import train

    ckpt = tmp_path / "roberta"
    vocab = json.loads((tiny_model / "vocab.json").read_text())
    vocab = {k: v for k, v in vocab.items() if k not in ("<region>", "<token>")}
    vocab = {k: i for i, k in enumerate(sorted(vocab, key=vocab.get))}
    rc = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        type_vocab_size=1,
        pad_token_id=1,
    )
    RobertaModel(rc).save_pretrained(ckpt)
    (ckpt / "vocab.json").write_text(json.dumps(vocab))
    shutil.copy(tiny_model / "merges.txt", ckpt / "merges.txt")
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records(24)))
    cfg = TrainConfig(**TINY_RUN, epochs=1, init_from=str(ckpt))
    metrics = train([str(data)], str(tmp_path / "out"), cfg, workers=1)
    assert metrics["parameters"] > 0
    out_vocab = json.loads((tmp_path / "out" / "vocab.json").read_text())
    assert "<region>" in out_vocab and "<token>" in out_vocab


# --------------------------------------------------------------------------------------------- shipped model
shipped = pytest.mark.skipif(
    not (SHIPPED / "model.onnx").exists(), reason="no model shipped in mergebert/neural/model"
)


@shipped
def test_shipped_model_loads_and_is_small() -> None:
    from mergebert.neural.onnx_classifier import load_classifier
    from mergebert.neural.policy import shipped_model_dir

    assert Path(shipped_model_dir()) == SHIPPED
    size = sum(p.stat().st_size for p in SHIPPED.iterdir() if p.is_file())
    assert size <= 25 * 1024 * 1024
    classifier = load_classifier()
    assert 0.0 < classifier.threshold <= 1.0
    assert (SHIPPED / "MODEL_CARD.md").exists()


@shipped
def test_shipped_model_ranks_known_conflict_first() -> None:
    from mergebert.neural.onnx_classifier import load_classifier

    classifier = load_classifier()
    # ours adds an import, theirs adds another: the developer keeps both
    conflict = ConflictInput.from_texts(
        "import java.util.List;\nimport java.util.Map;\n",
        "import java.util.List;\n",
        "import java.util.List;\nimport java.util.Set;\n",
        "package demo;\n\n",
        "\npublic class App {\n}\n",
        JAVA,
    )
    (ranked,) = classifier.rank([conflict])
    assert "Map;" in ranked[0].text and "Set;" in ranked[0].text  # ranked first (confidence below threshold)
    assert 0.0 < ranked[0].confidence <= 1.0


def test_model_card_says_where_the_checkpoint_was_chosen() -> None:
    from training.model_card import _data_lines

    metrics = {"data": ["/d/train.regions.jsonl.gz"], "valid_repos": ["a/b", "c/d"], "train_repositories": 9}
    held_out = "\n".join(_data_lines(metrics, {"valid_fraction": 0.1, "valid_conflicts": 1500}))
    assert "the 2 repositories of `train.regions.jsonl.gz` held out of training (10%)" in held_out
    assert "(9 repositories)" in held_out and "No validation file played a part." in held_out
    given = "\n".join(_data_lines({**metrics, "valid_data": ["/d/valid.regions.jsonl.gz"]}, {}))
    assert "`valid.regions.jsonl.gz` (other repositories" in given
    assert "No validation file played a part." not in given  # --valid chose the checkpoint
    one = {**metrics, "valid_repos": ["a/b"], "train_repository_names": ["a/b"], "train_repositories": 1}
    alone = "\n".join(_data_lines(one, {"valid_fraction": 0.1}))
    assert "every tenth record of the one repository of `train.regions.jsonl.gz`" in alone


def test_model_card_says_when_no_threshold_reaches_the_target_precision() -> None:
    from training.model_card import _calibration_section

    calib = {"target": 0.9, "coverage": 0.5, "precision": 0.6}
    met = "\n".join(_calibration_section({"threshold": 0.4}, {**calib, "reached": True}))
    missed = "\n".join(_calibration_section({"threshold": 1.0}, {**calib, "reached": False}))
    assert "the lowest confidence at which the validation conflicts accepted have precision ≥ 90" in met
    assert "as no threshold reaches a precision of 90" in missed and "have precision ≥" not in missed
