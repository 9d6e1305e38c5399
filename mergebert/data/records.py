"""The data set's records (`../shared/data/README.md`): regions and scenarios in gzip JSON Lines."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from mergebert.core.candidates import ConflictInput
from mergebert.core.languages import BY_NAME, Language, language_for_path
from mergebert.core.patterns import squash

Record = dict[str, Any]

REGION_FIELDS = (
    "id", "repo", "merge", "ours_commit", "theirs_commit", "base_commit", "path", "lang", "index",
    "n_conflicts", "ours", "base", "theirs", "resolution", "prefix", "suffix", "line_label", "merge_date",
    "file_clean_context", "pr_ref_only", "bulk_merge",
)  # fmt: skip
SCENARIO_FIELDS = (
    "id", "path", "lang", "n_conflicts", "merge_date", "pr_ref_only", "bulk_merge", "repo", "merge",
    "ours_commit", "theirs_commit", "base_commit", "base", "ours", "theirs", "resolved",
)  # fmt: skip
LINE_LABELS = ("ours", "theirs", "base", "ours+theirs", "theirs+ours", "empty", "other")


def region_id(ours: str, base: str, theirs: str, resolution: str) -> str:
    """sha1 of the sides and the resolution, as the shared data computes it."""
    return hashlib.sha1(json.dumps([ours, base, theirs, resolution]).encode()).hexdigest()


def scenario_id(base: str, ours: str, theirs: str, resolved: str) -> str:
    """sha1 of a scenario's four file texts (scenarios are de-duplicated by content)."""
    return hashlib.sha1(json.dumps([base, ours, theirs, resolved]).encode()).hexdigest()


def line_label(ours: str, base: str, theirs: str, resolution: str) -> str:
    """The coarse label of a resolution, comparing with all whitespace removed; first match wins."""
    o, b, t, r = squash(ours), squash(base), squash(theirs), squash(resolution)
    whole = (("ours", o), ("theirs", t), ("base", b), ("ours+theirs", o + t), ("theirs+ours", t + o))
    for label, text in whole:
        if r == text:
            return label
    return "empty" if r == "" else "other"


def is_region(record: Record) -> bool:
    return "resolution" in record


def record_language(record: Record) -> Language | None:
    """The grammar for a record as the runtime picks it: by path (so .tsx gets TSX), else by `lang`."""
    return language_for_path(record.get("path", "")) or BY_NAME.get((record.get("lang") or "").lower())


def conflict_input(record: Record) -> ConflictInput:
    """The classifier's view of a region record: the one way training, stats and eval build it."""
    return ConflictInput(
        record["ours"],
        record["base"],
        record["theirs"],
        record.get("prefix", ""),
        record.get("suffix", ""),
        record_language(record),
    )


def ordered(record: Record, fields: tuple[str, ...]) -> Record:
    """The record with exactly `fields`, in the data set's order; KeyError when one is missing."""
    return {field: record[field] for field in fields}


class RecordsError(ValueError):
    """A file that does not hold what the reader expects (not gzip, not JSON lines, not records)."""


Paths = Iterable[str | os.PathLike[str]] | str | os.PathLike[str]


def _not_a_record(value: dict) -> str | None:
    if all(key in value for key in ("base", "ours", "theirs")) and (
        "resolution" in value or "resolved" in value
    ):
        return None
    return (
        "not a conflict record (give the *.regions.jsonl.gz or *.scenarios.jsonl.gz files mergebert mine "
        "writes)"
    )


def _objects(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict]]:
    """(line number, JSON object) of each non-blank line; RecordsError where the file cannot be read."""
    opener = gzip.open if str(path).endswith(".gz") else open
    number = 0
    try:
        with opener(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):  # noqa: B007 (the error names the line)
                if line.strip():
                    value = json.loads(line)
                    if not isinstance(value, dict):
                        raise ValueError("not a JSON object")
                    yield number, value
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as error:
        where = f"{path}, line {number}" if number else str(path)
        raise RecordsError(f"{where}: cannot be read as JSON lines ({error})") from None


def read_lines(
    paths: Paths, limit: int | None = None, problem: Callable[[dict], str | None] | None = None
) -> Iterator[Record]:
    """The JSON objects of .jsonl.gz (or plain .jsonl) files, one a line, in order; at most `limit` in
    all. RecordsError names the file and line that cannot be read, or that `problem` finds wrong."""
    count = 0
    for path in [paths] if isinstance(paths, str | os.PathLike) else paths:
        for number, value in _objects(path):
            if limit is not None and count >= limit:
                return
            if problem and (found := problem(value)):
                raise RecordsError(f"{path}, line {number}: {found}")
            count += 1
            yield value


def read_records(paths: Paths, limit: int | None = None) -> Iterator[Record]:
    """Conflict records (region or scenario) from .jsonl.gz (or plain .jsonl) files, in order; at most
    `limit` in all; RecordsError names a file that holds something else (mine's .done.jsonl, say)."""
    return read_lines(paths, limit, _not_a_record)


def read_intact(path: str | os.PathLike[str]) -> tuple[list[Record], bool]:
    """Records of a gzip file that may end in a torn write: (records read, whether the file was intact)."""
    records: list[Record] = []
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                records.append(json.loads(line))
    except (EOFError, OSError, json.JSONDecodeError):
        return records, False
    return records, True


def append_records(path: str | os.PathLike[str], records: Iterable[Record]) -> None:
    """Append records as one complete gzip member (concatenated members read back as one file)."""
    data = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if data:
        with gzip.open(path, "ab") as out:
            out.write(data.encode("utf-8"))


def write_records(path: str | os.PathLike[str], records: Iterable[Record]) -> int:
    """Write records to a fresh gzip file (atomically replaced); returns how many were written."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    count = 0
    try:
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        os.replace(tmp, target)
    except BaseException:  # ^C or an error while the records came: no half-written file left beside
        tmp.unlink(missing_ok=True)
        raise
    return count
