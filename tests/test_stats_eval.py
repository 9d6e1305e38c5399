"""`mergebert stats` and `mergebert eval` on small records made here, and on a sample of the shared data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from proposing import Proposes

from mergebert.cli import main
from mergebert.core.candidates import CLASS_NAMES, TOKEN_CLASS
from mergebert.data import evaluate, stats
from mergebert.data.records import read_records, scenario_id, write_records
from mergebert.neural.policy import shipped_model_dir

SHIPPED_MODEL = Path(shipped_model_dir())

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
HEAD, TAIL = "const x = 0;\n", "export { a };\n"


def scenario(path: str, base: str, ours: str, theirs: str, resolved: str) -> dict:
    texts = [HEAD + text + TAIL for text in (base, ours, theirs, resolved)]
    return {
        "id": scenario_id(*texts),
        "path": path,
        "lang": "javascript",
        "n_conflicts": 1,
        "base": texts[0],
        "ours": texts[1],
        "theirs": texts[2],
        "resolved": texts[3],
    }


SCENARIOS = [
    # the token merge settles it: ours renames the call, theirs changes an argument
    scenario(
        "token.js", "let a = g(1, 2);\n", "let a = h(1, 2);\n", "let a = g(1, 3);\n", "let a = h(1, 3);\n"
    ),
    # the developer took theirs
    scenario("theirs.js", "let a = 1;\n", "let a = 2;\n", "let a = 3;\n", "let a = 3;\n"),
    # no pattern gives the developer's answer
    scenario("other.js", "let a = 1;\n", "let a = 2;\n", "let a = 3;\n", "let a = 4;\n"),
]


@pytest.fixture
def scenarios_file(tmp_path: Path) -> Path:
    path = tmp_path / "fixture.scenarios.jsonl.gz"
    write_records(path, SCENARIOS)
    return path


SEGMENTS = ["head\n", "mid\n", "tail\n"]


@pytest.mark.parametrize(
    ("output", "outcomes"),
    [
        ("head\nA\nmid\nB\ntail\n", ["correct", "correct"]),
        ("head\n  A  \nmid\nX\ntail\n", ["correct", "wrong"]),
        ("head\n<<<<<<< ours\nA\n=======\nC\n>>>>>>> theirs\nmid\nB\ntail\n", ["left", "correct"]),
        ("head\nA\nB\nmid\ntail\n", ["wrong", "wrong"]),  # B moved above the clean chunk
        ("head2\nA\nmid\nB\ntail\n", ["wrong", "wrong"]),  # a clean line rewritten
        ("head\nA\nmid\nB\n", ["wrong", "wrong"]),  # a clean line dropped
    ],
)
def test_score_output_reads_answers_between_git_clean_chunks(output: str, outcomes: list[str]) -> None:
    assert evaluate.score_output(SEGMENTS, ["A\n", "B\n"], output) == outcomes


def test_score_output_judges_the_answers_written_where_a_clean_chunk_repeats() -> None:
    """ "}" could end either answer: the output alone is read at its first place, never at the place that
    scores best; the answers the system wrote settle it."""
    output, segments, expected = "{\na\n}\n}\nb\n}\n", ["{\n", "}\n", "}\n"], ["a\n}\n", "b\n"]
    assert evaluate.score_output(segments, expected, output) == ["wrong", "wrong"]
    assert evaluate.score_output(segments, expected, output, answers=expected) == ["correct", "correct"]


def test_line_exact_scoring_sees_joined_lines() -> None:
    joined = "head\nA;B;\nmid\nC\n\ntail\n"
    expected = ["A;\nB;\n", "C\n"]
    assert evaluate.score_output(SEGMENTS, expected, joined) == ["correct", "correct"]
    assert evaluate.score_output(SEGMENTS, expected, joined, evaluate._judge_lines) == ["wrong", "correct"]
    assert evaluate.line_key("  a ( 1 );\r\n\n b;") == ("a(1);", "b;")


def unsure(*texts: str) -> Proposes:
    """A classifier proposing `texts`, each below its threshold (confidence 0.5, threshold 0.9)."""
    return Proposes.alike(*texts, confidence=0.5, threshold=0.9)


def test_top3_counts_a_resolution_among_the_suggestions() -> None:
    """Below the threshold nothing is resolved, yet the developers' answer is the second suggestion."""
    record = SCENARIOS[1]  # the developer took theirs
    score = evaluate.score_scenario(record, unsure("let a = 2;\n", "let a = 3;\n"))
    assert score.outcomes["resolver"] == ["left"] and score.top3 == [True] and score.top1 == [False]
    first = evaluate.score_scenario(record, unsure("let a = 3;\n", "let a = 2;\n"))
    assert first.top3 == [True] and first.top1 == [True]
    score = evaluate.score_scenario(record, unsure("let a = 2;\n", "let a = 5;\n"))
    assert score.top3 == [False] and score.top1 == [False]
    summary = evaluate.summarise([score, first])["all"]
    assert summary["resolver"]["top3_accuracy"] == summary["resolver"]["top1_accuracy"] == 0.5
    assert summary["take-ours"]["top3_correct"] is None and summary["take-ours"]["top1_correct"] is None
    assert "top-1  top-3" in evaluate.report(evaluate.summarise([score, first]))


def test_eval_scores_baselines_resolver_and_oracle(scenarios_file: Path) -> None:
    summary, scores, skipped = evaluate.run(
        [str(scenarios_file)], model_dir=None, threshold=None, limit=None, jobs=1
    )
    assert skipped == 0
    outcomes = {system: [score.outcomes[system][0] for score in scores] for system in evaluate.SYSTEMS}
    assert outcomes == {
        "take-ours": ["wrong", "wrong", "wrong"],
        "take-theirs": ["wrong", "correct", "wrong"],
        "token-merge-only": ["correct", "left", "left"],
        "resolver": ["correct", "left", "left"],
        "pattern-oracle": ["correct", "correct", "left"],
    }
    overall = summary["all"]
    assert list(summary) == ["javascript", "all"]
    assert overall["resolver"] | {
        "accuracy": None,
        "precision": None,
        "left_rate": None,
        "wrong_rate": None,
        "line_exact_accuracy": None,
        "top3_accuracy": None,
        "top1_accuracy": None,
        "accuracy_low": None,
        "accuracy_high": None,
    } == {
        "conflicts": 3,
        "correct": 1,
        "line_exact_correct": 1,
        "line_exact_accuracy": None,
        "top1_correct": 1,
        "top1_accuracy": None,
        "top3_correct": 1,
        "top3_accuracy": None,
        "wrong": 0,
        "left": 2,
        "files": 3,
        "files_reproduced": 1,
        "accuracy": None,
        "accuracy_low": None,
        "accuracy_high": None,
        "precision": None,
        "left_rate": None,
        "wrong_rate": None,
    }
    assert overall["resolver"]["accuracy_low"] < 1 / 3 < overall["resolver"]["accuracy_high"]
    assert overall["resolver"]["precision"] == 1.0 and overall["take-theirs"]["accuracy"] == pytest.approx(
        1 / 3
    )
    assert evaluate.threshold_sweep(scores) == [
        {"threshold": 1.0, "accuracy": pytest.approx(1 / 3), "precision": 1.0, "answered": 1}
    ]


def test_eval_cli_writes_json_markdown_and_plot(scenarios_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="eval --plot needs the [plot] extra")
    out = tmp_path / "eval.json"
    args = ["eval", str(scenarios_file), "-j", "1", "--json", str(out), "--markdown", str(tmp_path / "e.md")]
    result = CliRunner().invoke(main, [*args, "--plot", str(tmp_path / "curve.png")])
    assert result.exit_code == 0, result.output
    assert "pattern-oracle" in result.output and "take-theirs" in result.output
    data = json.loads(out.read_text())
    assert data["summary"]["all"]["pattern-oracle"]["correct"] == 2
    shipped = evaluate.default_threshold(data["model"])
    assert shipped is not None and data["threshold"] == shipped  # the threshold used, the model's own
    assert f"threshold {shipped:.2f}" in result.output
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "| javascript | resolver | 3 |" in (tmp_path / "e.md").read_text()


def test_stats_from_scenarios_and_labels_round_trip(scenarios_file: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl.gz"
    summary = stats.run([str(scenarios_file)], limit=None, jobs=1, labels_out=str(labels))
    overall = summary["all"]
    counts = [overall[key] for key in ("conflicts", "token_clean", "token_settled", "expressible")]
    assert counts == [3, 1, 1, 2]
    assert overall["token_conflicts"] == 2
    assert {name: count for name, count in overall["classes"].items() if count} == {"B": 1, "TOKEN": 2}
    examples = list(stats.read_labelled([str(labels)]))
    assert [labels for _, _, labels in examples] == [
        [frozenset({TOKEN_CLASS})],
        [
            frozenset({CLASS_NAMES.index("B"), TOKEN_CLASS}),
            frozenset({CLASS_NAMES.index("B"), CLASS_NAMES.index("B-BASE")}),
        ],
        None,
    ]
    _, units, _ = examples[0]
    assert units[0].kind == "region" and [t.text for t in units[0].a] == [
        "let",
        "a",
        "=",
        "h",
        "(",
        "1",
        ",",
        "2",
        ")",
        ";",
    ]
    assert "".join(t.lead + t.text for t in units[0].before) == "const x = 0;"


def test_stats_cli_prints_and_writes_markdown(scenarios_file: Path, tmp_path: Path) -> None:
    md = tmp_path / "stats.md"
    result = CliRunner().invoke(main, ["stats", str(scenarios_file), "-j", "1", "--markdown", str(md)])
    assert result.exit_code == 0, result.output
    assert "settled by token merge" in result.output and "A+B-BASE" in result.output
    assert "| javascript | 3 | 33.3% | 33.3% | 0.67 | 66.7% | 33.3% |" in md.read_text()


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared data set (../shared/data) is not present")
def test_shared_valid_sample() -> None:
    regions = stats.run([str(SHARED / "valid.regions.jsonl.gz")], limit=40, jobs=1, labels_out=None)
    assert regions["all"]["conflicts"] == 40
    assert 0 < regions["all"]["expressible"] <= 40
    summary, scores, _ = evaluate.run(
        [str(SHARED / "valid.scenarios.jsonl.gz")], model_dir=None, threshold=None, limit=12, jobs=1
    )
    overall = summary["all"]
    assert len(scores) >= 10
    assert overall["pattern-oracle"]["correct"] >= overall["resolver"]["correct"]
    assert overall["take-ours"]["left"] == 0 and overall["pattern-oracle"]["wrong"] == 0
    first = next(read_records([SHARED / "valid.scenarios.jsonl.gz"]))
    assert evaluate.score_scenario(first, None) is not None


def test_eval_with_an_unusable_model_fails_clearly(scenarios_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["eval", str(scenarios_file), "-j", "2", "--model", str(tmp_path)])
    assert result.exit_code == 1
    assert "cannot use the model" in result.output


def test_eval_refuses_a_threshold_from_the_environment_that_is_not_a_number(
    scenarios_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERGEBERT_THRESHOLD", "nan")
    result = CliRunner().invoke(main, ["eval", str(scenarios_file), "-j", "1"])
    assert result.exit_code == 1
    assert "$MERGEBERT_THRESHOLD='nan' is not a threshold" in result.output


def test_a_conflict_the_system_left_is_never_read_as_answered() -> None:
    """A short clean chunk ("{") also occurs inside a left conflict's sides: reading the answer up to that
    occurrence would find the expected text, and credit a conflict the resolver left."""
    output = "A\nx\n{\n<<<<<<< o\np\n=======\nq\n>>>>>>> t\n{\ny\nZ\n"
    segments, expected = ["A\n", "{\n", "Z\n"], ["x\n", "y\n"]
    assert evaluate.score_output(segments, expected, output) == ["correct", "left"]  # the placement alone
    assert evaluate.score_output(segments, expected, output, answers=[None, "y\n"]) == ["left", "correct"]


def test_eval_on_region_records_says_it_needs_scenarios(tmp_path: Path) -> None:
    regions = tmp_path / "p.regions.jsonl.gz"
    region = {"id": "r1", "repo": "r", "path": "a.js", "lang": "javascript", "base": "1\n", "ours": "2\n"}
    write_records(regions, [{**region, "theirs": "3\n", "resolution": "3\n", "prefix": "", "suffix": ""}])
    result = CliRunner().invoke(main, ["eval", str(regions), "-j", "1", "--model", "none"])
    assert result.exit_code == 1
    assert "no scenario records" in result.output


def test_eval_takes_model_none_as_every_other_command_does(scenarios_file: Path) -> None:
    result = CliRunner().invoke(main, ["eval", str(scenarios_file), "-j", "1", "--model", "none"])
    assert result.exit_code == 0, result.output
    assert "resolver: no model: clean token merges only" in result.output


@pytest.mark.parametrize("command", ["stats", "eval"])
def test_files_that_hold_no_records_get_a_one_line_error(command: str, tmp_path: Path) -> None:
    not_gzip = tmp_path / "bad.jsonl.gz"
    not_gzip.write_bytes(b"not gzip\n")
    done = tmp_path / "p0.done.jsonl"  # what a mine folder also holds
    done.write_text('{"merge": "abc", "regions": 1}\n')
    for path, says in ((not_gzip, "cannot be read as JSON lines"), (done, "line 1: not a conflict record")):
        model = ["--model", "none"] if command == "eval" else []
        result = CliRunner().invoke(main, [command, str(path), "-j", "1", *model])
        assert result.exit_code == 1 and f"Error: {path}" in result.output and says in result.output
        assert "Traceback" not in result.output


def test_an_output_in_a_missing_folder_is_refused_before_the_work(
    scenarios_file: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "labels.jsonl.gz"
    result = CliRunner().invoke(main, ["stats", str(scenarios_file), "--write-labels", str(missing)])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_labelled_examples_are_read_back_from_one_path(scenarios_file: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl.gz"
    stats.run([str(scenarios_file)], limit=None, jobs=1, labels_out=str(labels))
    assert len(list(stats.read_labelled(labels))) == len(list(stats.read_labelled([str(labels)]))) == 3


def test_eval_says_when_its_files_come_from_repositories_the_model_learned_from(
    scenarios_file: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    metrics = json.loads((model / "acceptor_metrics.json").read_text())
    (model / "acceptor_metrics.json").write_text(json.dumps({**metrics, "repositories": ["acme/web"]}))
    records = [{**record, "repo": "acme/web" if n else "acme/other"} for n, record in enumerate(SCENARIOS)]
    write_records(scenarios_file, records)
    result = CliRunner().invoke(main, ["eval", str(scenarios_file), "-j", "1", "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert (
        "2 of the files come from 1 repositories the model was trained or fitted on (acme/web)"
        in result.stderr
    )


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared data set (../shared/data) is not present")
def test_eval_s_sweep_at_its_own_threshold_is_its_table(tmp_path: Path) -> None:
    """The shipped model on 50 real files, among them a conflict the resolver leaves whose sides hold the
    clean line that follows it: the table must not credit that conflict, so the sweep (which counts only
    answers with a confidence) ends where the table's resolver row stands."""
    sample = tmp_path / "sample.scenarios.jsonl.gz"
    write_records(sample, list(read_records([SHARED / "valid.scenarios.jsonl.gz"], limit=50)))
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(main, ["eval", str(sample), "-j", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    row, last = data["summary"]["all"]["resolver"], data["threshold_sweep"][-1]
    assert last["threshold"] >= data["threshold"]
    assert (row["correct"] + row["wrong"], row["accuracy"]) == (
        last["answered"],
        pytest.approx(last["accuracy"]),
    )


def test_a_clean_chunk_inside_a_conflict_block_git_joined_credits_no_answer() -> None:
    """git's merge style joins neighbouring conflicts, clean lines between them included, into one block:
    read without the resolver's word on which it left, no answer is taken from inside that block."""
    output = "A\n<<<<<<< ours\nx\nm\ny\nn\nw\n=======\nq\n>>>>>>> theirs\nZ\n"
    segments, expected = ["A\n", "m\n", "n\n", "Z\n"], ["x\n", "y\n", "w\n"]
    assert evaluate.score_output(segments, expected, output) == ["left", "left", "left"]


@pytest.mark.parametrize(
    ("segments", "output", "outcomes"),
    [
        (  # the file quotes a conflict in its clean text: answers between those lines are answers
            ["Example:\n<<<<<<< ours\n", "mid\n", ">>>>>>> theirs\nend\n"],
            "Example:\n<<<<<<< ours\na\nmid\nb\n>>>>>>> theirs\nend\n",
            ["correct", "correct"],
        ),
        (  # one marker-like clean line, then a real block
            ["<<<<<<< HEAD\n", "mid\n", "end\n"],
            "<<<<<<< HEAD\na\nmid\n<<<<<<< ours\nb1\n=======\nb2\n>>>>>>> theirs\nend\n",
            ["correct", "left"],
        ),
    ],
)
def test_marker_like_lines_in_the_clean_text_are_no_conflict_block(
    segments: list[str], output: str, outcomes: list[str]
) -> None:
    assert evaluate.score_output(segments, ["a\n", "b\n"], output) == outcomes


def test_only_a_newline_starts_a_line_where_eval_looks_for_conflict_blocks() -> None:
    """A form feed is no line break to git: marker text after one inside an answer opens no block."""
    output = "A\np\x0c<<<<<<< q\nM\ns\x0c>>>>>>> r\nZ\n"
    expected = ["p\x0c<<<<<<< q\n", "s\x0c>>>>>>> r\n"]
    assert evaluate.score_output(["A\n", "M\n", "Z\n"], expected, output) == ["correct", "correct"]


def test_eval_gives_each_accuracy_a_95_percent_interval_over_files() -> None:
    """The resolver right in one file, wrong in the other: accuracy 50%, and files drawn again span
    everything from neither to both."""
    record = SCENARIOS[1]  # the developer took theirs
    right = evaluate.score_scenario(record, Proposes.alike("let a = 3;\n", confidence=0.5))
    wrong = evaluate.score_scenario(record, Proposes.alike("let a = 5;\n", confidence=0.5))
    resolver = evaluate.summarise([right, wrong])["all"]["resolver"]
    assert resolver["accuracy"] == 0.5
    assert (resolver["accuracy_low"], resolver["accuracy_high"]) == (0.0, 1.0)
    alone = evaluate.summarise([right, right])["all"]["resolver"]
    assert (alone["accuracy_low"], alone["accuracy_high"]) == (1.0, 1.0)
    assert "accuracy  95% interval" in evaluate.report(evaluate.summarise([right, wrong]))


def test_the_shipped_model_names_every_repository_its_encoder_trained_on() -> None:
    """eval's in-sample warning reads the names: a count alone never warned on the encoder's repositories."""
    metrics = json.loads((SHIPPED_MODEL / "metrics.json").read_text())
    names = evaluate.listed_repositories(str(SHIPPED_MODEL), evaluate.ENCODER_REPOSITORIES)
    assert len(names) == metrics["train_repositories"] == 67
    assert not names & set(metrics["valid_repos"])


def test_the_plots_legend_hides_no_point() -> None:
    """The token merge's point low on the left, where a legend inside the plot would sit."""
    pytest.importorskip("matplotlib", reason="eval --plot needs the [plot] extra")
    points = [{"threshold": t / 10, "accuracy": 0.6 - t / 20, "precision": 0.7 + t / 40} for t in range(11)]
    token_merge = {"accuracy": 0.105, "precision": 0.667}
    figure = evaluate.curve_figure(points, token_merge, default_threshold=0.7)
    (axes,) = figure.axes
    figure.canvas.draw()
    legend, plotted = axes.get_legend().get_window_extent(), axes.get_window_extent()
    assert not legend.overlaps(plotted), "the legend lies outside the plotting area"
    assert figure.bbox.contains(legend.x1 - 1, legend.y0 + 1), "and inside the image"
    evaluate.pyplot().close(figure)


@pytest.mark.parametrize(
    "base, ours, theirs, resolution, settles",
    [
        ("f(1);", "g(1);", "f(1, 2);", "g(1, 2);", True),  # clean, and the resolution (whitespace aside)
        ("f(1);", "g(1);", "f(1, 2);", "g(1);", False),  # clean, but not the resolution
        ("f(1);", "g(1);", "h(1);", "g(1);", False),  # a token conflict is left
    ],
)
def test_a_clean_token_merge_settles_a_conflict_only_with_the_resolution_s_text(
    base: str, ours: str, theirs: str, resolution: str, settles: bool
) -> None:
    """One rule for stats' `token_settled` and the acceptor's `token_merge_correct`."""
    from mergebert.data.records import conflict_input

    record = {"lang": "java", "base": base + "\n", "ours": ours + "\n", "theirs": theirs + "\n"}
    conflict = conflict_input(record)
    assert stats.token_merge_settles(conflict, resolution.replace(" ", "  ") + "\n") is settles
    facts, _ = stats.analyse({**record, "resolution": resolution + "\n"})
    assert facts.token_settled is settles
