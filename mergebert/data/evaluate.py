"""`mergebert eval`: the real resolver, in-process, against the developers' resolutions of scenario files.

The token-merge and resolver rows score what the product writes: its entry point (`resolve_bytes`) on the
three files' bytes, the record's texts in UTF-8. Scoring trusts only git's line merge: the output file must
hold git's clean chunks in order, else every conflict of the file is wrong; each conflict is then judged
by the answer the system wrote (none: left), whitespace ignored: correct, wrong (a silent bad merge) or
left. Where the product's own line merge differs from the record's, each answer is read between the clean
chunks instead, each chunk at its first place after the one before. Line-exact accuracy also wants the
answer's lines broken where the expected one's are (blank lines and other whitespace still aside), so that
joined lines show; top-3 accuracy (the paper's Acc@3) counts a conflict whose resolution is among the
resolver's suggestions: the first three distinct candidate texts that the splice accepts, whatever the
threshold; top-1 accuracy, one whose resolution is the first of them.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mergebert.core import markers
from mergebert.core.candidates import ConflictInput, label_units
from mergebert.core.classifier import Classifier, TokenMergeClassifier
from mergebert.core.languages import Language, language_for_path
from mergebert.core.lexer import code_key
from mergebert.core.linemerge import Chunk, CleanText, LineConflict, conflict_contexts, merge_lines
from mergebert.core.messages import some_of, warn
from mergebert.core.patterns import squash
from mergebert.core.resolver import BytesMergeResult, resolve_bytes
from mergebert.core.splice import clean_segments
from mergebert.core.textio import atomic_write
from mergebert.data.intervals import bootstrap
from mergebert.data.mining.align import align
from mergebert.data.pools import pool_map
from mergebert.data.records import Record, is_region, read_records, record_language
from mergebert.data.tables import by_language, percent, render_table
from mergebert.neural import policy

SYSTEMS = ("take-ours", "take-theirs", "token-merge-only", "resolver", "pattern-oracle")
LINE_EXACT_SYSTEMS = SYSTEMS[:-1]  # the oracle writes no output to compare line by line
CORRECT, WRONG, LEFT = "correct", "wrong", "left"


def line_key(text: str) -> tuple[str, ...]:
    """The non-blank lines of `text` with their whitespace removed: the line-exact way to compare."""
    return tuple(key for key in (squash(line) for line in text.split("\n")) if key)


def same_answer(answer: str, expected: str, lang: Language | None) -> bool:
    """Whether `answer` is `expected` but for the code's whitespace: whitespace inside a string, template or
    regex literal (as `lang`'s grammar finds them) counts, for it is the literal's value."""
    if squash(answer) != squash(expected):
        return False
    return lang is None or code_key(answer, lang) == code_key(expected, lang)


def _judge(answer: str, expected: str, lang: Language | None = None) -> str:
    if markers.pattern(kinds="<>").search(answer):
        return LEFT
    return CORRECT if same_answer(answer, expected, lang) else WRONG


def _judge_lines(answer: str, expected: str, lang: Language | None = None) -> str:
    """As `_judge`, but an answer must also break its lines where the expected one does."""
    outcome = _judge(answer, expected, lang)
    return WRONG if outcome == CORRECT and line_key(answer) != line_key(expected) else outcome


Judge = Callable[[str, str], str]


def score_output(
    segments: Sequence[str],
    expected: Sequence[str],
    output: str,
    judge: Judge = _judge,
    answers: Sequence[str | None] | None = None,
) -> list[str]:
    """Per conflict: correct, wrong or left, in an output that holds git's clean chunks in order.

    An output that does not hold them in order, at line starts, the first at its start and the last at its
    end, makes every conflict wrong. With `answers` (the system's own answer to each conflict, None where it
    left it) each conflict is judged by its answer: where a clean chunk could sit in more than one place,
    the output alone cannot say which answer was written. Without, each clean chunk is read at its first
    place after the one before, and the answer between two of them judged; one inside a conflict block (git's
    merge style joins neighbouring conflicts) makes its neighbours left. `judge` compares one answer with
    the expected one (whitespace aside by default).
    """
    n = len(expected)
    if answers is not None and all(answer is None for answer in answers):
        return [LEFT] * n  # nothing resolved: the output is git's own conflict, whatever its line merge
    places = _placements(segments, output)
    if n == 0 or places is None:
        return [WRONG] * n
    if answers is not None:
        return [LEFT if a is None else judge(a, e) for a, e in zip(answers, expected, strict=True)]
    clean_markers = any(markers.pattern(kinds="<>").search(segment) for segment in segments)
    inside = _inside_blocks(output) if not clean_markers else lambda _: False  # git's text holds such lines
    return [
        LEFT
        if inside(places[i]) or inside(places[i + 1])
        else judge(output[places[i] + len(segments[i]) : places[i + 1]], expected[i])
        for i in range(n)
    ]


def _placements(segments: Sequence[str], output: str) -> list[int] | None:
    """Where each clean chunk starts in `output`: the first at 0, the last at the end, each other at the
    first line start after the end of the one before; None where they are not all there."""
    first, last = segments[0], segments[-1]
    if len(output) < len(first) + len(last) or not output.startswith(first) or not output.endswith(last):
        return None
    places, at = [0], len(first)
    for segment in segments[1:-1]:
        start = output.find(segment, at)
        while start > 0 and output[start - 1] != "\n":
            start = output.find(segment, start + 1)
        if start < 0:
            return None
        places.append(start)
        at = start + len(segment)
    end = len(output) - len(last)
    return places + [end] if at <= end else None


def splice_sides(chunks: Sequence[Chunk], side: str) -> str:
    """The merged file with every conflict replaced by one side ("ours" or "theirs")."""
    return "".join(chunk.text if isinstance(chunk, CleanText) else getattr(chunk, side) for chunk in chunks)


@dataclass(frozen=True)
class ScenarioScore:
    lang: str
    outcomes: dict[str, list[str]]  # system → per-conflict outcome
    reproduced: dict[str, bool]  # system → whole file reproduced, whitespace ignored
    confidences: list[float | None]  # the resolver's confidence in each answered conflict
    line_exact: dict[str, list[str]]  # system → per-conflict outcome with line breaks kept (no oracle)
    top3: list[bool]  # per conflict: the resolution is among the resolver's suggestions
    top1: list[bool]  # per conflict: the resolution is the resolver's first suggestion


_CLASSIFIER: Classifier | None = None


def _inside_blocks(output: str) -> Callable[[int], bool]:
    """Whether a position of `output` lies inside a conflict block (after its `<<<<<<<` line, before the
    end of its `>>>>>>>` line): git's merge style joins neighbouring conflicts with the clean lines
    between them, so a clean chunk found there belongs to a conflict left."""
    lines = output.split("\n")  # git's lines: "\n" alone ends one
    offsets = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    spans = [(offsets[start], offsets[end]) for start, end in markers.blocks(lines, markers.DEFAULT_SIZE)]
    starts = [start for start, _ in spans]

    def inside(position: int) -> bool:
        at = bisect.bisect_left(starts, position) - 1  # the last block opened before `position`
        return at >= 0 and position < spans[at][1]

    return inside


def model_to_evaluate(model_dir: str | None, threshold: float | None) -> policy.ModelChoice:
    """The model and threshold the resolver row uses, by the model policy in its strict mode."""
    return policy.choose(model_dir, threshold, strict=True)


def load_classifier(model_dir: str | None, threshold: float | None = None) -> Classifier:
    """The model in `model_dir` (None: the token merge only) at `threshold` (None: its own), loaded as the
    product loads it but strictly: PolicyError when unusable."""
    return policy.load(policy.ModelChoice(model_dir, threshold), strict=True)


def _init_worker(model_dir: str | None, threshold: float | None) -> None:
    global _CLASSIFIER
    _CLASSIFIER = load_classifier(model_dir, threshold)


def score_scenario(record: Record, classifier: Classifier | None) -> ScenarioScore | None:
    """Every system's outcome on one scenario; None when its conflicts cannot all be aligned.

    The token-merge and resolver rows are the product's: its entry point on the bytes of the three files
    (the record's texts in UTF-8), each conflict judged by the answer it wrote (`product_answers`); the
    resolver row's `classifier` (None: the token merge only) carries its threshold, as in the product."""
    base, ours, theirs, resolved = record["base"], record["ours"], record["theirs"], record["resolved"]
    chunks = merge_lines(base, ours, theirs)
    alignment = align(chunks, resolved)
    expected = alignment.resolutions
    if not expected or not alignment.complete:
        return None
    expected_texts = [text or "" for text in expected]
    segments = clean_segments(chunks)
    conflicts = [chunk for chunk in chunks if isinstance(chunk, LineConflict)]
    ranker = classifier or TokenMergeClassifier()
    token_merge = _resolve(record, TokenMergeClassifier())
    result = _resolve(record, ranker, suggest=True)
    outputs = {
        "take-ours": splice_sides(chunks, "ours"),
        "take-theirs": splice_sides(chunks, "theirs"),
        "token-merge-only": _text(token_merge.data),
        "resolver": _text(result.data),
    }
    answers = {
        "take-ours": [conflict.ours for conflict in conflicts],
        "take-theirs": [conflict.theirs for conflict in conflicts],
        "token-merge-only": product_answers(token_merge, segments),
        "resolver": product_answers(result, segments),
    }
    lang = record_language(record)
    judge, judge_lines = functools.partial(_judge, lang=lang), functools.partial(_judge_lines, lang=lang)
    outcomes = {
        system: score_output(segments, expected_texts, text, judge, answers[system])
        for system, text in outputs.items()
    }
    line_exact = {
        system: score_output(segments, expected_texts, text, judge_lines, answers[system])
        for system, text in outputs.items()
    }
    resolutions = result.resolutions if answers["resolver"] is not None else ()
    suggested = {resolution.index: [s.text for s in resolution.suggestions] for resolution in resolutions}
    top3 = [
        any(same_answer(s, text, lang) for s in suggested.get(i, [])) for i, text in enumerate(expected_texts)
    ]
    top1 = [
        same_answer(next(iter(suggested.get(i, [])), "\0"), text, lang)
        for i, text in enumerate(expected_texts)
    ]
    reproduced = {system: same_answer(text, resolved, lang) for system, text in outputs.items()}
    contexts = conflict_contexts(chunks)
    outcomes["pattern-oracle"] = [
        CORRECT
        if label_units(ConflictInput(c.ours, c.base, c.theirs, p, s, lang), text) is not None
        else LEFT
        for c, (p, s), text in zip(conflicts, contexts, expected_texts, strict=True)
    ]
    reproduced["pattern-oracle"] = all(outcome == CORRECT for outcome in outcomes["pattern-oracle"])
    confidences: list[float | None] = [None] * len(conflicts)
    for resolution in resolutions:
        if resolution.text is not None and resolution.candidate is not None:
            confidences[resolution.index] = resolution.candidate.confidence
    return ScenarioScore(record["lang"], outcomes, reproduced, confidences, line_exact, top3, top1)


def _resolve(record: Record, classifier: Classifier, *, suggest: bool = False) -> BytesMergeResult:
    """The product's merge of a record's three versions: `resolve_bytes` on the files' UTF-8 bytes, with
    the grammar as `record_language` picks it (the path's, else the record's `lang`)."""
    path = record.get("path", "")
    lang = record_language(record)
    result = resolve_bytes(
        record["base"].encode("utf-8"),
        record["ours"].encode("utf-8"),
        record["theirs"].encode("utf-8"),
        path=path,
        language=lang.name if lang is not None and language_for_path(path) is None else None,
        classifier=classifier,
        suggest=suggest,
    )
    if result.fallback is not None:  # scored as the product leaves it, every conflict left; never silently
        warn(f"{path}: {result.fallback}; scored as git's merge, every conflict left")
    return result


def _text(data: bytes) -> str:
    """A merged file's bytes as the records hold a file's text (a byte-order mark as U+FEFF)."""
    return data.decode("utf-8", "surrogateescape")


def product_answers(result: BytesMergeResult, segments: Sequence[str]) -> list[str | None] | None:
    """The product's answer to each conflict of the record's line merge (`segments`: its clean chunks),
    None where it left one; every one None where it fell back to git's merge. None where its own line merge
    (of the text it decoded) has other clean chunks: the output alone is then read."""
    if result.fallback is not None:
        return [None] * (len(segments) - 1)
    own = clean_segments(result.chunks)
    if len(own) != len(segments) or own[1:] != segments[1:] or not segments[0].endswith(own[0]):
        return None  # the product's line merge differs; the bytes it set aside are in the first chunk
    return [resolution.text for resolution in result.resolutions]


def _score_job(record: Record) -> ScenarioScore | None:
    return score_scenario(record, _CLASSIFIER)


def score_all(
    records: Iterable[Record], *, model_dir: str | None, threshold: float | None, jobs: int
) -> Iterator[ScenarioScore | None]:
    """score_scenario over scenario records (region records are ignored), over `jobs` processes."""
    work = (record for record in records if not is_region(record))
    # spawn, not fork: ONNX Runtime does not survive being forked after it was loaded
    yield from pool_map(
        _score_job,
        work,
        jobs=jobs,
        chunksize=4,
        initializer=_init_worker,
        initargs=(model_dir, threshold),
        start_method="spawn",
    )


def summarise(scores: Sequence[ScenarioScore]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per language and overall, per system: counts and rates."""
    summary = {lang: _summary(group) for lang, group in by_language(scores, lambda score: score.lang).items()}
    summary["all"] = _summary(scores)
    return summary


def _summary(scores: Sequence[ScenarioScore]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        counts = Counter(outcome for score in scores for outcome in score.outcomes[system])
        total = sum(counts.values())
        answered = counts[CORRECT] + counts[WRONG]
        exact = (
            sum(outcome == CORRECT for score in scores for outcome in score.line_exact[system])
            if system in LINE_EXACT_SYSTEMS
            else None
        )
        top3 = sum(sum(score.top3) for score in scores) if system == "resolver" else None
        top1 = sum(sum(score.top1) for score in scores) if system == "resolver" else None
        low, high = _accuracy_interval(scores, system)
        table[system] = {
            "conflicts": total,
            "correct": counts[CORRECT],
            "line_exact_correct": exact,
            "line_exact_accuracy": exact / total if total and exact is not None else None,
            "top1_correct": top1,
            "top1_accuracy": top1 / total if total and top1 is not None else None,
            "top3_correct": top3,
            "top3_accuracy": top3 / total if total and top3 is not None else None,
            "wrong": counts[WRONG],
            "left": counts[LEFT],
            "files": len(scores),
            "files_reproduced": sum(score.reproduced[system] for score in scores),
            "accuracy": counts[CORRECT] / total if total else None,
            "accuracy_low": low,
            "accuracy_high": high,
            "precision": counts[CORRECT] / answered if answered else None,
            "left_rate": counts[LEFT] / total if total else None,
            "wrong_rate": counts[WRONG] / total if total else None,
        }
    return table


def _accuracy_interval(scores: Sequence[ScenarioScore], system: str) -> tuple[float | None, float | None]:
    """The 95% bootstrap interval over files of `system`'s accuracy; None for no conflicts."""
    right = np.array([score.outcomes[system].count(CORRECT) for score in scores], dtype=float)
    total = np.array([len(score.outcomes[system]) for score in scores], dtype=float)
    return bootstrap(right, total) if total.sum() else (None, None)


def _interval(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{100 * low:.1f}–{100 * high:.1f}"


def report(summary: dict[str, dict[str, dict[str, Any]]], markdown: bool = False) -> str:
    headers = [
        "language",
        "system",
        "conflicts",
        "accuracy",
        "95% interval",
        "line-exact",
        "top-1",
        "top-3",
        "precision",
        "left",
        "wrong",
        "files reproduced",
    ]
    rows = [
        [
            lang,
            system,
            s["conflicts"],
            percent(s["correct"], s["conflicts"]),
            _interval(s["accuracy_low"], s["accuracy_high"]),
            "-" if s["line_exact_correct"] is None else percent(s["line_exact_correct"], s["conflicts"]),
            "-" if s["top1_correct"] is None else percent(s["top1_correct"], s["conflicts"]),
            "-" if s["top3_correct"] is None else percent(s["top3_correct"], s["conflicts"]),
            percent(s["correct"], s["correct"] + s["wrong"]),
            percent(s["left"], s["conflicts"]),
            percent(s["wrong"], s["conflicts"]),
            f"{s['files_reproduced']}/{s['files']} ({percent(s['files_reproduced'], s['files'])})",
        ]
        for lang, systems in summary.items()
        for system, s in systems.items()
    ]
    return render_table(headers, rows, markdown)


def threshold_sweep(scores: Sequence[ScenarioScore]) -> list[dict[str, float]]:
    """The resolver's accuracy and precision as the confidence threshold rises past each answer's confidence.

    A conflict answered with confidence c is left at thresholds above c; the resolver tries candidates
    best first, so raising the threshold never changes an answer, it only withdraws it. The curve
    starts at the threshold of the run (evaluate with --threshold 0 for all of it).
    """
    answered: list[tuple[float, bool]] = []
    total = 0
    for score in scores:
        for outcome, confidence in zip(score.outcomes["resolver"], score.confidences, strict=True):
            total += 1
            if outcome != LEFT and confidence is not None:
                answered.append((confidence, outcome == CORRECT))
    answered.sort(reverse=True)
    points: list[dict[str, float]] = []
    correct = 0
    for i, (confidence, ok) in enumerate(answered, 1):
        correct += ok
        if i == len(answered) or answered[i][0] != confidence:
            points.append(
                {
                    "threshold": confidence,
                    "accuracy": correct / total,
                    "precision": correct / i,
                    "answered": i,
                }
            )
    return points


ENCODER_REPOSITORIES = ("metrics.json", "train_repository_names")  # written by `mergebert train`
ACCEPTOR_REPOSITORIES = ("acceptor_metrics.json", "repositories")  # written by `mergebert fit-acceptor`


def listed_repositories(model_dir: str | None, *lists: tuple[str, str]) -> set[str]:
    """The repositories a model directory lists as learned from, in each (file, key) of ``lists``
    (default: the encoder's and the acceptor's), by the names the records give them."""
    names: set[str] = set()
    for file, key in (lists or (ENCODER_REPOSITORIES, ACCEPTOR_REPOSITORIES)) if model_dir else ():
        try:
            with open(os.path.join(model_dir, file), encoding="utf-8") as f:
                value = json.load(f).get(key)
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, list):
            names.update(str(name) for name in value)
    return names


def default_threshold(model_dir: str | None) -> float | None:
    """The threshold a model directory's config.json ships with (None without a model or one)."""
    if not model_dir:
        return None
    try:
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            value = json.load(f).get("threshold")
    except (OSError, ValueError):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def pyplot() -> Any:
    """matplotlib's pyplot (non-interactive); RuntimeError without the optional extra `plot`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'mergebert[plot]'") from None
    return plt


def plot(
    points: Sequence[dict[str, float]],
    out: str,
    token_merge: dict[str, Any] | None = None,
    default_threshold: float | None = None,
) -> None:
    """`curve_figure` saved as the image `out`."""
    figure = curve_figure(points, token_merge, default_threshold)
    figure.savefig(out, dpi=120)
    pyplot().close(figure)


def curve_figure(
    points: Sequence[dict[str, float]],
    token_merge: dict[str, Any] | None = None,
    default_threshold: float | None = None,
) -> Any:
    """Precision against accuracy as the threshold moves, beside the token merge alone and with the
    model's default threshold marked; the legend beside the plot, where it hides no point."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 4.2))
    axes.plot(
        [p["accuracy"] for p in points],
        [p["precision"] for p in points],
        marker=".",
        markersize=2,
        label="mergebert, by threshold",
    )
    for point in points[:: max(1, len(points) // 8)]:
        axes.annotate(f"{point['threshold']:.2f}", (point["accuracy"], point["precision"]), fontsize=7)
    if default_threshold is not None:
        at = [p for p in points if p["threshold"] >= default_threshold]
        if at:
            axes.plot(
                at[-1]["accuracy"],
                at[-1]["precision"],
                "o",
                color="C1",
                label=f"default threshold {default_threshold:.2f}",
            )
    if token_merge and token_merge.get("precision") is not None:
        axes.plot(
            token_merge["accuracy"],
            token_merge["precision"],
            "s",
            color="C2",
            label="token merge only (no model)",
        )
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    axes.set_xlabel("accuracy (correct / all conflicts)")
    axes.set_ylabel("precision (correct / answered)")
    axes.set_title("mergebert resolver: confidence threshold sweep")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    return figure


def run(
    paths: Sequence[str], *, model_dir: str | None, threshold: float | None, limit: int | None, jobs: int
) -> tuple[dict[str, Any], list[ScenarioScore], int]:
    """Scores over the scenario records of `paths`: (summary, per-scenario scores, scenarios skipped)."""
    scores: list[ScenarioScore] = []
    skipped = 0
    seen = listed_repositories(model_dir)
    repositories: Counter[str] = Counter()

    def counted(records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            repositories[record.get("repo", "")] += not is_region(record)
            yield record

    records = counted(read_records(paths, limit))
    for score in score_all(records, model_dir=model_dir, threshold=threshold, jobs=jobs):
        if score is None:
            skipped += 1
        else:
            scores.append(score)
    if overlap := sorted(name for name in repositories if name in seen and repositories[name]):
        files = sum(repositories[name] for name in overlap)
        warn(
            f"{files} of the files come from {len(overlap)} repositories the model was trained or fitted "
            f"on ({some_of(overlap)}): their figures are in-sample"
        )
    if not scores and not skipped:
        raise RuntimeError(
            f"no scenario records in {', '.join(paths)}: eval needs whole files (*.scenarios.jsonl.gz; "
            "region records hold one conflict without its file)"
        )
    return summarise(scores), scores, skipped


def threshold_used(model: str | None, threshold: float | None) -> float | None:
    """The threshold the resolver row ran with: the one asked for, else the model's own (None: no model)."""
    return threshold if threshold is not None else default_threshold(model)


def console_report(model: str | None, threshold: float | None, summary: dict[str, Any], skipped: int) -> str:
    """What `mergebert eval` prints: the resolver used and its threshold, the table, the scenarios skipped."""
    used = f", threshold {threshold:.2f}" if model and threshold is not None else ""
    text = f"resolver: {f'model {model}{used}' if model else 'no model: clean token merges only'}\n\n"
    text += report(summary)
    if skipped:
        text += f"\n{skipped} scenario(s) skipped: their conflicts do not all align with the resolved file"
    return text


def write_outputs(
    paths: Sequence[str],
    model: str | None,
    threshold: float | None,
    summary: dict[str, Any],
    scores: Sequence[ScenarioScore],
    skipped: int,
    *,
    json_out: str | None = None,
    markdown_out: str | None = None,
    plot_out: str | None = None,
    default_threshold: float | None = None,
) -> None:
    """The files `mergebert eval` writes on request: numbers as JSON, the table as Markdown, the plot
    (with `default_threshold`, the model's own, marked on the curve)."""
    sweep = threshold_sweep(scores)
    if json_out:
        payload = {"model": model, "threshold": threshold, "skipped": skipped, "summary": summary}
        atomic_write(json_out, json.dumps({**payload, "threshold_sweep": sweep}, indent=2).encode("utf-8"))
    if markdown_out:
        atomic_write(
            markdown_out,
            (f"# mergebert eval: {', '.join(paths)}\n\n" + report(summary, markdown=True)).encode("utf-8"),
        )
    if plot_out:
        plot(sweep, plot_out, summary["all"].get("token-merge-only"), default_threshold)
