"""The installed `mergebert` command: every one of its 14 commands run as a user runs it.

Model builders' commands run as one chain on a history built here: `mine` it, `stats` and `eval` the
records, `train` a tiny model on them for a few steps, `export` it again and `fit-acceptor` its second stage.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    java,
)
from minerepo import HistoryBuilder

from mergebert.neural.acceptor import FEATURE_NAMES, Acceptor

GIT_USER_COMMANDS = (
    "install",
    "uninstall",
    "resolve",
    "review",
    "mergetool",
    "driver",
    "merge-file",
    "check",
    "demo",
)
BUILDER_COMMANDS = ("mine", "stats", "eval", "train", "export", "fit-acceptor")


def _listed(help_text: str, section: str) -> dict[str, str]:
    listed = {}
    for line in help_text.split(f"{section}:", 1)[1].split("\n\n", 1)[0].splitlines():
        words = line.split(maxsplit=1)
        if len(words) == 2:
            listed[words[0]] = words[1]
    return listed


def test_help_lists_every_command_with_a_description(repo: GitRepo) -> None:
    result = repo.mergebert("--help", check=True)
    for section, commands in (
        ("Commands for git users", GIT_USER_COMMANDS),
        ("Commands for model builders", BUILDER_COMMANDS),
    ):
        listed = _listed(result.stdout, section)
        assert set(listed) == set(commands), section
        for command in commands:
            assert not listed[command].endswith("..."), f"{command}: description cut short"


def test_listing_and_training_help_do_not_import_torch() -> None:
    code = (
        "import sys\nfrom mergebert.cli import main\n"
        "for args in (['--help'], ['train', '--help'], ['export', '--help']):\n"
        "    main(args, standalone_mode=False)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "False False"
    assert "--warm-start" in done.stdout and "--max-minutes" in done.stdout


@pytest.mark.parametrize(
    ("module", "package", "command"),
    [
        ("torch", "torch", ["train", "{data}", "-o", "{tmp}/m"]),
        ("torch", "torch", ["export", "{tmp}"]),
        ("sklearn", "scikit-learn", ["fit-acceptor", "{tmp}", "{data}"]),
    ],
)
def test_training_without_the_train_extra_says_what_to_install(
    module: str, package: str, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from mergebert.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a)
    )
    data = tmp_path / "r.scenarios.jsonl"
    data.write_text("")
    result = CliRunner().invoke(main, [arg.format(data=data, tmp=tmp_path) for arg in command])
    assert result.exit_code == 1
    assert f"the [train] extra ({package} missing): pip install 'mergebert[train]'" in result.output


# --------------------------------------------------------------------------------------------- git users
def test_install_check_and_uninstall(repo: GitRepo) -> None:
    installed = repo.mergebert("install", check=True)
    attributes = (repo.path / ".git" / "info" / "attributes").read_text()
    assert "*.tsx merge=mergebert" in attributes and "*.cs merge=mergebert" in attributes
    assert repo.git("config", "merge.mergebert.driver").stdout.strip()
    assert installed.stdout.strip()
    repo.write("App.java", "class A {\n<<<<<<< HEAD\n}\n")
    repo.git("add", "App.java")
    check = repo.mergebert("check")
    assert check.returncode == 1 and "App.java:2" in check.stdout + check.stderr
    repo.mergebert("uninstall", check=True)
    attributes_file = repo.path / ".git" / "info" / "attributes"
    assert not attributes_file.exists() or "mergebert" not in attributes_file.read_text()
    assert repo.git("config", "merge.mergebert.driver", check=False).returncode == 1


def test_driver_through_git_merge(repo: GitRepo) -> None:
    repo.diverge("App.java", TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver(command="mergebert driver %O %A %B %L %P")
    repo.git("merge", "--no-edit", "feature")
    assert repo.read("App.java") == TOKEN_MERGED.encode()


def test_resolve_after_a_conflicted_merge(repo: GitRepo) -> None:
    repo.diverge("App.java", TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 1
    repo.mergebert("resolve", "--add", check=True)
    assert repo.read("App.java") == TOKEN_MERGED.encode()
    assert repo.conflicted() == []


def test_mergetool_and_merge_file_on_files(repo: GitRepo) -> None:
    for name, text in (("base.java", TOKEN_BASE), ("local.java", TOKEN_OURS), ("remote.java", TOKEN_THEIRS)):
        repo.write(name, text)
    conflicted = repo.git("merge-file", "-p", "local.java", "base.java", "remote.java", check=False).stdout
    repo.write("merged.java", conflicted)  # what git leaves in MERGED
    repo.mergebert("mergetool", "base.java", "local.java", "remote.java", "merged.java", check=True)
    assert repo.read("merged.java") == TOKEN_MERGED.encode()
    repo.mergebert("merge-file", "local.java", "base.java", "remote.java", check=True)
    assert repo.read("local.java") == TOKEN_MERGED.encode()
    for name, text in (("base.java", CLASH_BASE), ("local.java", CLASH_OURS), ("remote.java", CLASH_THEIRS)):
        repo.write(name, text)
    left = repo.mergebert("merge-file", "-p", "local.java", "base.java", "remote.java")
    assert left.returncode == 1 and "<<<<<<< local.java" in left.stdout


def test_demo_resolves_its_conflict(repo: GitRepo) -> None:
    result = repo.mergebert("demo", check=True)
    assert "<<<<<<< HEAD" in result.stdout
    assert 'new Server("0.0.0.0", 8080, true);' in result.stdout
    assert "left unmerged for you to confirm" in result.stdout
    assert "  conflict 1 (line 13): resolved by token merge" in result.stdout  # mergebert review
    assert "mergebert kept both edits; you confirmed and git committed the merge." in result.stdout


# --------------------------------------------------------------------------------------------- model builders
def _history(path: Path) -> None:
    """Eight merges, each with one conflict the developer resolved by taking ours, in two files."""
    builder = HistoryBuilder(str(path), "git@github.com:acme/ports.git")
    merges = []
    for i in range(8):
        name = f"Port{i % 2}.java"
        merges.append(
            builder.merge(
                {name: java(f"int port = {1000 + i};")},
                {name: java(f"int port = {2000 + i};")},
                {name: java(f"int port = {3000 + i};")},
                {name: java(f"int port = {2000 + i};")},
            )
        )
    for i, merge in enumerate(merges):
        builder.ref(f"refs/heads/b{i}", merge)


def _lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _scenario_sides(scenarios: Path, folder: Path) -> list[str]:
    """The first scenario's ours, base and theirs as files, in merge-file's order."""
    record = _lines(scenarios)[0]
    paths = []
    for side in ("ours", "base", "theirs"):
        path = folder / f"{side}.java"
        path.write_text(record[side])
        paths.append(str(path))
    return paths


def test_mine_stats_eval_train_export_chain(repo: GitRepo, tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="train and export need the [train] extra")
    _history(tmp_path / "ports.git")
    data = tmp_path / "data"
    mined = repo.mergebert("mine", str(tmp_path / "ports.git"), "-o", str(data), "-q", "-j", "1", check=True)
    assert "acme/ports: 8/8 merges, 8 conflicts, 8 regions" in mined.stdout
    regions = data / "acme__ports.regions.jsonl.gz"
    scenarios = data / "acme__ports.scenarios.jsonl.gz"
    assert [r["line_label"] for r in _lines(regions)] == ["ours"] * 8

    markdown = tmp_path / "stats.md"
    stats = repo.mergebert("stats", str(regions), "--markdown", str(markdown), "-j", "1", check=True)
    assert "java" in stats.stdout
    assert markdown.read_text().startswith("# mergebert stats:")

    numbers = tmp_path / "eval.json"
    evaluated = repo.mergebert("eval", str(scenarios), "--json", str(numbers), check=True)  # model: none
    assert "no model: clean token merges only" in evaluated.stdout
    summary = json.loads(numbers.read_text())["summary"]
    assert summary["all"]["take-ours"]["correct"] == 8

    model = tmp_path / "model"
    tiny = ["--hidden", "16", "--layers", "1", "--heads", "2", "--max-len", "40", "--max-context", "12"]
    tiny += ["--min-context", "6", "--vocab-size", "300", "--batch-size", "8", "--epochs", "2"]
    tiny += ["--max-minutes", "0", "--eval-every", "1000", "--threads", "1", "-j", "1", "--seed", "3"]
    trained = repo.mergebert(
        "train", str(regions), "--valid", str(regions), "-o", str(model), *tiny, "--no-export"
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["config"]["hidden"] == 16 and metrics["config"]["seed"] == 3
    assert metrics["train_units"] == 16 and metrics["steps"] == 4, "2 epochs of 16 units in batches of 8"
    assert metrics["config"]["lr"] == 5e-4, "an option not given keeps TrainConfig's default"
    assert not (model / "model.onnx").exists()

    exported = repo.mergebert("export", str(model), "--no-quantize")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "max |Δp|" in exported.stdout and (model / "model.onnx").exists()
    config = json.loads((model / "config.json").read_text())
    assert config["format"] == "mergebert-model/1" and config["quantized"] is False

    completed = repo.mergebert("fit-acceptor", str(model), str(scenarios), "--margin", "0", "-j", "1")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "default threshold" in completed.stdout
    config = json.loads((model / "config.json").read_text())
    assert config["acceptor"] == "acceptor.npz" and 0.0 <= config["threshold"] <= 1.0
    report = json.loads((model / "acceptor_metrics.json").read_text())
    assert report["conflicts"] == 8 and report["repositories"] == ["acme/ports"]
    ranked = repo.mergebert("merge-file", "-p", "--model", str(model), *_scenario_sides(scenarios, tmp_path))
    assert ranked.returncode in (0, 1), ranked.stderr

    with np.load(model / "acceptor.npz") as fitted:
        stale = {name: fitted[name] for name in fitted.files}
    stale["features"] = stale["features"][:-1]  # as an older version fitted it
    Acceptor.save(stale, str(model / "acceptor.npz"))
    half = tmp_path / "half.scenarios.jsonl.gz"  # the other four files come as region records alone
    with gzip.open(half, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(record) + "\n" for record in _lines(scenarios)[:4])
    cache = tmp_path / "rows.npz"
    refit = ["fit-acceptor", str(model), str(half), "--regions", str(regions), "--rows-cache", str(cache)]
    refitted = repo.mergebert(*refit, "--margin", "0", "-j", "1")
    assert refitted.returncode == 0, "refitting never needs the acceptor it replaces\n" + refitted.stderr
    with np.load(model / "acceptor.npz") as refitted_params:
        assert tuple(refitted_params["features"]) == FEATURE_NAMES
    report = json.loads((model / "acceptor_metrics.json").read_text())
    assert (report["conflicts"], report["region_files"], report["region_conflicts"]) == (4, 4, 4)
    assert (tmp_path / "rows.regions.npz").exists(), "the region rows are kept beside the scenario rows"
