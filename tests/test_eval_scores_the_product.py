"""`mergebert eval` scores what the product writes: the resolver's entry point on the files' bytes, each
conflict judged by the answer the resolver wrote, wherever its clean chunks sit in the file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from proposing import Proposes

from mergebert.core.candidates import ConflictInput
from mergebert.data import evaluate
from mergebert.data.records import scenario_id, write_records


def record(path: str, base: str, ours: str, theirs: str, resolved: str, lang: str = "java") -> dict:
    texts = {"base": base, "ours": ours, "theirs": theirs, "resolved": resolved}
    return {"id": scenario_id(*texts.values()), "path": path, "lang": lang, "n_conflicts": 1, **texts}


def blank_lines_before(count: int) -> dict:
    """Two conflicts after `count` blank lines: the clean chunk between them (a blank line) occurs at every
    one of them before its own place."""
    head = "".join(f"int x{i};\n\n" for i in range(count))
    return record(
        "A.java",
        head + "int a = 0;\n\nint b = 0;\n",
        head + "int a = 1;\n\nint b = 1;\n",
        head + "int a = 2;\n\nint b = 2;\n",
        head + "int a = 1;\n\nint b = 2;\n",
    )


def test_a_clean_chunk_found_many_times_before_its_place_still_places() -> None:
    """Where git's clean chunk also occurs hundreds of times earlier in the file, the conflicts are still
    read where they are: left stays left, and ours' answer is right in the first and wrong in the second."""
    for count in (10, 450):
        score = evaluate.score_scenario(blank_lines_before(count), None)
        assert score is not None
        assert score.outcomes["resolver"] == ["left", "left"], count
        assert score.outcomes["take-ours"] == ["correct", "wrong"], count
        assert score.outcomes["take-theirs"] == ["wrong", "correct"], count


def test_score_output_places_clean_chunks_from_the_previous_one_s_end() -> None:
    head = "x\n\n" * 450 + "a\n"
    output = head + "A\n\nB\nend\n"
    assert evaluate.score_output([head, "\n", "end\n"], ["A\n", "B\n"], output) == ["correct", "correct"]


def test_a_wrong_answer_is_not_credited_where_a_clean_chunk_could_sit_elsewhere() -> None:
    """Both answers are wrong; reading the output alone, "}" could also end the first answer, which would
    make it the developer's. Judged by what the resolver wrote, neither is credited."""
    segments, expected = ["class A {\n", "}\n", "}\n"], ["a();\n", "}\nb();\n"]
    output = "class A {\na();\n}\n}\nc();\n}\n"
    answers = ["a();\n}\n", "c();\n"]
    assert evaluate.score_output(segments, expected, output, answers=answers) == ["wrong", "wrong"]
    assert evaluate.score_output(segments, expected, output, answers=[None, "c();\n"]) == ["left", "wrong"]


def answer(conflict: ConflictInput) -> str:
    """The first conflict gets "a();" and the closing brace after it, the second "c();": both wrong."""
    return "a();\n}\n" if "o1" in conflict.ours else "c();\n"


def test_the_resolver_row_judges_the_resolver_s_own_answers() -> None:
    base, ours, theirs = (
        f"class A {{\n{one}();\n}}\n{two}();\n}}\n" for one, two in (("b1", "b2"), ("o1", "o2"), ("t1", "t2"))
    )
    scenario = record("notes.txt", base, ours, theirs, "class A {\na();\n}\n}\nb();\n}\n", lang="text")
    score = evaluate.score_scenario(scenario, Proposes.alike(answer, confidence=0.9))
    assert score is not None
    assert score.outcomes["resolver"] == ["wrong", "wrong"]
    assert score.line_exact["resolver"] == ["wrong", "wrong"]


BOM = "\ufeff"


def sees_the_mark(conflict: ConflictInput) -> str:
    """A classifier's answer that shows what it was given: ours where the file's byte-order mark reached
    it, theirs (the developer's answer) where it was set aside, as the product sets it aside."""
    return conflict.ours if BOM in conflict.prefix else conflict.theirs


def test_eval_resolves_the_file_s_bytes_as_the_product_does() -> None:
    """All three versions start with a byte-order mark and the same line: the product reads the files'
    bytes and sets the mark aside before the resolver sees the text; eval must score that same resolver."""
    head = BOM + "package p;\n"
    scenario = record(
        "A.java",
        head + "int a = 1;\n",
        head + "int a = 2;\n",
        head + "int a = 3;\n",
        head + "int a = 3;\n",
    )
    score = evaluate.score_scenario(scenario, Proposes.alike(sees_the_mark, confidence=0.9))
    assert score is not None
    assert score.outcomes["resolver"] == ["correct"]
    assert score.top1 == [True]
    assert score.reproduced["resolver"]


def test_eval_reads_conflicts_past_hundreds_of_places_a_clean_chunk_could_sit(tmp_path: Path) -> None:
    """`mergebert eval` on a generated file whose clean chunk between two conflicts (a blank line) occurs
    450 times before them: the token merge leaves both, and take-ours gets the first right."""
    scenarios = tmp_path / "tiny.scenarios.jsonl.gz"
    write_records(scenarios, [blank_lines_before(450)])
    numbers = tmp_path / "eval.json"
    evaluated = subprocess.run(
        ["mergebert", "eval", str(scenarios), "--model", "none", "-j", "1", "--json", str(numbers)],
        capture_output=True,
        text=True,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    rows = json.loads(numbers.read_text())["summary"]["all"]
    assert (rows["resolver"]["left"], rows["resolver"]["wrong"]) == (2, 0)
    assert (rows["take-ours"]["correct"], rows["take-ours"]["wrong"]) == (1, 1)


def test_where_the_product_merges_the_lines_otherwise_its_file_is_read() -> None:
    """The product sets the shared byte-order mark aside, and its line merge of the rest finds one conflict
    where the record's (the mark in its first line, as git sees it) finds two; the product answers with
    theirs, the developer's file: eval reads both conflicts' answers from that file."""
    base, ours, theirs = (BOM + "a\n" + rest for rest in ("a\na\nc\n", "b\nc\nc\nc\na\n", "b\nc\nc\nb\n"))
    scenario = record("notes.txt", base, ours, theirs, theirs, lang="text")
    score = evaluate.score_scenario(
        scenario, Proposes.alike(lambda conflict: conflict.theirs, confidence=1.0)
    )
    assert score is not None
    assert score.outcomes["resolver"] == score.outcomes["take-theirs"] == ["correct", "correct"]
    assert score.reproduced["resolver"]


def test_whitespace_inside_a_string_is_part_of_the_answer() -> None:
    """The token merge takes theirs' `"a b"` beside ours' `n = 2`; the developers kept the string's two
    spaces. The code's whitespace aside, the answer differs from theirs in the string's value: wrong,
    and so is it line by line, as a suggestion, and for the whole file."""
    score = evaluate.score_scenario(
        record(
            "S.java",
            'class S {\n  String s = "a  b"; int n = 1;\n}\n',
            'class S {\n  String s = "a  b"; int n = 2;\n}\n',
            'class S {\n  String s = "a b"; int n = 1;\n}\n',
            'class S {\n  String s = "a  b"; int n = 2;\n}\n',
        ),
        None,
    )
    assert score is not None
    assert score.outcomes["take-ours"] == ["correct"]
    assert score.outcomes["token-merge-only"] == score.outcomes["resolver"] == ["wrong"]
    assert score.line_exact["token-merge-only"] == ["wrong"]
    assert score.top1 == score.top3 == [False]
    assert not score.reproduced["token-merge-only"] and score.reproduced["take-ours"]
