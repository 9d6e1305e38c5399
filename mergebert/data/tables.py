"""Plain-text and Markdown tables for the reports of `stats` and `eval`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from mergebert.core.languages import NAMES

T = TypeVar("T")


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]], markdown: bool = False) -> str:
    """Columns padded to their widest cell (first column left-aligned, the rest right-aligned)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        lines.insert(1, "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|")
        return "\n".join(lines) + "\n"
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def by_language(items: Iterable[T], language: Callable[[T], str]) -> dict[str, list[T]]:
    """Items grouped by language: the data set's languages first, in their order, then others sorted."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(language(item), []).append(item)
    order = [name for name in NAMES if name in groups] + sorted(set(groups) - set(NAMES))
    return {name: groups[name] for name in order}
