"""One conflicting file of one merge → region records and (when exact) a scenario record."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mergebert.core.linemerge import LineConflict, StoredBlobs, conflict_contexts, merge_lines
from mergebert.data.mining.align import align
from mergebert.data.records import Record, line_label, region_id, scenario_id

CONTEXT_LINES = 30


@dataclass(frozen=True)
class FileTexts:
    path: str
    lang: str
    base: str
    ours: str
    theirs: str
    resolved: str  # the merge commit's version
    stored: StoredBlobs | None = None  # base, ours and theirs as blobs of the mined repository


def _same_but_line_endings(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n") == b.replace("\r\n", "\n")


def extract_file(texts: FileTexts, counts: Counter[str]) -> tuple[list[Record], Record | None]:
    """Region records (merge metadata not yet filled in) and the scenario record, if the file is exact.

    `counts` collects what happened: conflicts found, and each left-out conflict by reason.
    """
    chunks = merge_lines(texts.base, texts.ours, texts.theirs, texts.stored)
    conflicts = [chunk for chunk in chunks if isinstance(chunk, LineConflict)]
    if not conflicts:
        counts["files merged cleanly"] += 1
        return [], None
    counts["files with conflicts"] += 1
    counts["conflicts"] += len(conflicts)
    alignment = align(chunks, texts.resolved)
    contexts = conflict_contexts(chunks, CONTEXT_LINES)
    regions: list[Record] = []
    exact = alignment.complete
    for index, (conflict, resolution, (prefix, suffix)) in enumerate(
        zip(conflicts, alignment.resolutions, contexts, strict=True)
    ):
        if _same_but_line_endings(conflict.ours, conflict.theirs):
            counts["skipped conflict: sides equal but for line endings"] += 1
            exact = False
            continue
        if resolution is None:
            counts["skipped conflict: resolution not aligned"] += 1
            continue
        if index in alignment.sliding:
            counts["skipped conflict: resolution boundary ambiguous (sliding alignment)"] += 1
            exact = False
            continue
        counts["conflicts aligned"] += 1
        regions.append(
            {
                "id": region_id(conflict.ours, conflict.base, conflict.theirs, resolution),
                "path": texts.path,
                "lang": texts.lang,
                "index": index,
                "n_conflicts": len(conflicts),
                "ours": conflict.ours,
                "base": conflict.base,
                "theirs": conflict.theirs,
                "resolution": resolution,
                "prefix": prefix,
                "suffix": suffix,
                "line_label": line_label(conflict.ours, conflict.base, conflict.theirs, resolution),
                "file_clean_context": alignment.clean_context,
            }
        )
    if not alignment.clean_context:
        counts["files changed outside conflicts"] += 1
    scenario = None
    if exact:
        scenario = {
            "id": scenario_id(texts.base, texts.ours, texts.theirs, texts.resolved),
            "path": texts.path,
            "lang": texts.lang,
            "n_conflicts": len(conflicts),
            "base": texts.base,
            "ours": texts.ours,
            "theirs": texts.theirs,
            "resolved": texts.resolved,
        }
    return regions, scenario
