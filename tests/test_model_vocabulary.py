"""A model folder whose vocabulary is not its model's (vocab.json copied from another model): refused on
load with one line, so front-ends fall back to the token merge and `eval` fails clearly, with nothing
from ONNX Runtime on stderr and never a prediction from ids the model was not trained on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo
from test_merge_file import sides
from test_stats_eval import SCENARIOS

from mergebert.data.records import write_records
from mergebert.neural.onnx_classifier import ModelError, load_classifier
from mergebert.neural.policy import shipped_model_dir

SHIPPED = Path(shipped_model_dir())
SHIPPED_SIZE = 8000  # the shipped model's vocabulary (config.json, model.vocab_size)


def model_with_vocabulary(folder: Path, size: int, *, config_size: int | None = None) -> Path:
    """A copy of the shipped model in `folder` whose vocab.json has `size` entries (the shipped ones it
    keeps, then new ones); config.json's vocab_size set to `config_size` where given."""
    shutil.copytree(SHIPPED, folder)
    shipped = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    vocab = {token: i for token, i in shipped.items() if i < size}
    vocab.update({f"new{i}": i for i in range(len(shipped), size)})
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    if config_size is not None:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config["model"]["vocab_size"] = config_size
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.mark.parametrize("size", [500, 8500])
def test_a_vocabulary_config_json_does_not_give_the_model_is_refused(tmp_path: Path, size: int) -> None:
    model = model_with_vocabulary(tmp_path / "model", size)
    with pytest.raises(ModelError, match=f"has {size} entries; config.json gives the model {SHIPPED_SIZE}"):
        load_classifier(model)


def test_a_vocabulary_larger_than_the_onnx_models_embedding_is_refused_on_load(tmp_path: Path) -> None:
    model = model_with_vocabulary(tmp_path / "model", 8500, config_size=8500)  # config.json copied with it
    with pytest.raises(ModelError, match=r"model\.onnx does not take the ids of the 8500-entry vocabulary"):
        load_classifier(model)


@pytest.mark.parametrize("config_size", [None, 8500])
def test_front_ends_say_it_in_one_line_and_use_the_token_merge(
    repo: GitRepo, tmp_path: Path, config_size: int | None
) -> None:
    model = model_with_vocabulary(tmp_path / "model", 8500, config_size=config_size)
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", "-p", "--model", str(model), *paths)
    assert result.returncode == 0 and result.stdout == TOKEN_MERGED  # the token merge, not git's line merge
    unavailable, report = result.stderr.splitlines()  # nothing from ONNX Runtime itself
    assert unavailable.startswith(f"mergebert: model unavailable (ModelError: {model}")
    assert unavailable.endswith("; resolving with the token merge only")
    assert report == f"mergebert: {paths[0]}: resolved 1 of 1 conflict"


def test_eval_fails_in_one_line(repo: GitRepo, tmp_path: Path) -> None:
    model = model_with_vocabulary(tmp_path / "model", 500)
    scenarios = tmp_path / "few.scenarios.jsonl.gz"
    write_records(scenarios, SCENARIOS)
    result = repo.mergebert("eval", str(scenarios), "--model", str(model), "-j", "1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: cannot use the model in {model}: ")
    assert "has 500 entries; config.json gives the model 8000" in result.stderr
    assert len(result.stderr.splitlines()) == 1
