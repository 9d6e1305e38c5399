"""`mergebert stats`: what the token merge and the merge patterns make of recorded conflicts.

Every region goes through the project's own tokenizer, token diff3 and pattern labelling
(`candidates.label_units`). The same pass can store each region's classification units and their
labels (`--write-labels`), so training reads them instead of recomputing them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mergebert.core.candidates import CLASS_NAMES, ConflictInput, Unit, label_units, token_merge_text, units
from mergebert.core.lexer import Token
from mergebert.core.patterns import squash
from mergebert.core.textio import atomic_write
from mergebert.data.mining.extract import FileTexts, extract_file
from mergebert.data.pools import pool_map
from mergebert.data.records import (
    Paths,
    Record,
    conflict_input,
    is_region,
    read_lines,
    read_records,
    write_records,
)
from mergebert.data.tables import by_language, percent, render_table

UNIT_PARTS = ("a", "base", "b", "before", "after")


def regions_of(records: Iterable[Record]) -> Iterator[Record]:
    """Region records as they are; scenario records split into their aligned regions."""
    for record in records:
        if is_region(record):
            yield record
            continue
        texts = FileTexts(
            record["path"],
            record["lang"],
            record["base"],
            record["ours"],
            record["theirs"],
            record["resolved"],
        )
        regions, _ = extract_file(texts, Counter())
        for region in regions:
            yield {**region, "id": f"{record['id']}:{region['index']}"}


@dataclass(frozen=True)
class RegionFacts:
    lang: str
    token_conflicts: int  # left by the token merge
    token_settled: bool  # the token merge has no conflict and reproduces the resolution
    classes: frozenset[int]  # correct classes of the region unit (empty: no pattern expresses it)


def _tokens(tokens: Sequence[Token]) -> list[list[str]]:
    return [[token.text, token.lead] for token in tokens]


def labelled_example(record: Record, conflict: ConflictInput, labels: list[frozenset[int]] | None) -> Record:
    """A region's units (tokens as [text, lead]) with the correct classes of each unit."""
    return {
        "id": record["id"],
        "lang": record["lang"],
        "line_label": record.get("line_label"),
        "units": [
            {"kind": unit.kind, **{part: _tokens(getattr(unit, part)) for part in UNIT_PARTS}}
            for unit in units(conflict)
        ],
        "labels": None if labels is None else [sorted(classes) for classes in labels],
    }


def token_merge_settles(conflict: ConflictInput, resolution: str) -> bool:
    """Whether the token merge has no conflict and reproduces ``resolution`` (whitespace aside)."""
    return not conflict.token_conflicts and squash(token_merge_text(conflict, ())) == squash(resolution)


def analyse(record: Record, with_example: bool = False) -> tuple[RegionFacts, Record | None]:
    """Token-merge and pattern facts of one region, and optionally its labelled example."""
    conflict = conflict_input(record)
    labels = label_units(conflict, record["resolution"])
    settled = token_merge_settles(conflict, record["resolution"])
    facts = RegionFacts(
        record["lang"], len(conflict.token_conflicts), settled, labels[0] if labels else frozenset()
    )
    return facts, (labelled_example(record, conflict, labels) if with_example else None)


def read_labelled(paths: Paths) -> Iterator[tuple[Record, list[Unit], list[frozenset[int]] | None]]:
    """Examples written by `--write-labels`: (example record, units, per-unit correct classes or None)."""
    for example in read_lines(paths):
        rebuilt = [
            Unit(unit["kind"], *(tuple(Token(*pair) for pair in unit[part]) for part in UNIT_PARTS))
            for unit in example["units"]
        ]
        labels = example["labels"]
        yield example, rebuilt, None if labels is None else [frozenset(classes) for classes in labels]


def _analyse_job(job: tuple[Record, bool]) -> tuple[RegionFacts, Record | None]:
    return analyse(*job)


def analyse_all(
    records: Iterable[Record], jobs: int = 1, with_examples: bool = False
) -> Iterator[tuple[RegionFacts, Record | None]]:
    """analyse() over every region (scenarios expanded), in order, over `jobs` processes."""
    work = ((record, with_examples) for record in regions_of(records))
    yield from pool_map(_analyse_job, work, jobs=jobs, chunksize=64)


def summarise(facts: Sequence[RegionFacts]) -> dict[str, dict[str, Any]]:
    """Per language and overall: counts of conflicts, token-merge outcomes and correct classes."""
    summary = {lang: _summary(group) for lang, group in by_language(facts, lambda fact: fact.lang).items()}
    summary["all"] = _summary(list(facts))
    return summary


def _summary(facts: Sequence[RegionFacts]) -> dict[str, Any]:
    classes: Counter[str] = Counter()
    for fact in facts:
        classes.update(CLASS_NAMES[i] for i in fact.classes)
    return {
        "conflicts": len(facts),
        "token_clean": sum(f.token_conflicts == 0 for f in facts),
        "token_settled": sum(f.token_settled for f in facts),
        "token_conflicts": sum(f.token_conflicts for f in facts),
        "expressible": sum(bool(f.classes) for f in facts),
        "classes": {name: classes[name] for name in CLASS_NAMES},
    }


def report(summary: dict[str, dict[str, Any]], markdown: bool = False) -> str:
    """Two tables: token merge and pattern coverage, then the share of conflicts each class resolves."""
    overview = [
        [
            lang,
            s["conflicts"],
            percent(s["token_clean"], s["conflicts"]),
            percent(s["token_settled"], s["conflicts"]),
            f"{s['token_conflicts'] / s['conflicts']:.2f}" if s["conflicts"] else "-",
            percent(s["expressible"], s["conflicts"]),
            percent(s["conflicts"] - s["expressible"], s["conflicts"]),
        ]
        for lang, s in summary.items()
    ]
    headers = [
        "language",
        "conflicts",
        "token merge clean",
        "settled by token merge",
        "token conflicts / conflict",
        "some class correct",
        "no pattern",
    ]
    distribution = [
        [lang] + [percent(s["classes"][name], s["conflicts"]) for name in CLASS_NAMES]
        for lang, s in summary.items()
    ]
    return (
        render_table(headers, overview, markdown)
        + "\nShare of conflicts each class resolves (whitespace ignored; a conflict can have several):\n\n"
        + render_table(["language", *CLASS_NAMES], distribution, markdown)
    )


def write_markdown(out: str, paths: Sequence[str], summary: dict[str, dict[str, Any]]) -> None:
    """The tables of `report`, as Markdown under a title naming the inputs."""
    atomic_write(
        out, (f"# mergebert stats: {', '.join(paths)}\n\n" + report(summary, markdown=True)).encode("utf-8")
    )


def run(paths: Sequence[str], *, limit: int | None, jobs: int, labels_out: str | None) -> dict[str, dict]:
    """Summary over the records of `paths`; writes the labelled examples when `labels_out` is given."""
    facts: list[RegionFacts] = []

    def examples() -> Iterator[Record]:
        for fact, example in analyse_all(read_records(paths, limit), jobs, labels_out is not None):
            facts.append(fact)
            if example is not None:
                yield example

    if labels_out:
        write_records(labels_out, examples())
    else:
        for _ in examples():
            pass
    return summarise(facts)
