"""Conflict-marker lines, defined once: `<<<<<<< label`, `||||||| label`, `=======`, `>>>>>>> label`.

A marker is exactly `size` marker characters at the start of a line; `<`, `|` and `>` are followed by a
space (then the label) or the end of the line, `=` only by the end of the line (a `\r` may precede it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

KINDS = "<|=>"
DEFAULT_SIZE = 7


def _source(size: int, kinds: str) -> str:
    alternatives = [
        f"={{{size}}}(?=\r?$)" if kind == "=" else f"{re.escape(kind)}{{{size}}}(?= |\r?$)" for kind in kinds
    ]
    return "^(?:" + "|".join(alternatives) + ")"


@functools.cache
def pattern(size: int = DEFAULT_SIZE, kinds: str = KINDS) -> re.Pattern[str]:
    """Marker lines of `kinds` and `size` in text (multi-line: matches at each line start)."""
    return re.compile(_source(size, kinds), re.MULTILINE)


@functools.cache
def bytes_pattern(size: int = DEFAULT_SIZE, kinds: str = KINDS) -> re.Pattern[bytes]:
    """`pattern` over bytes."""
    return re.compile(_source(size, kinds).encode(), re.MULTILINE)


def kind(line: str | bytes, size: int) -> str | None:
    """Which marker `line` is (`<`, `|`, `=` or `>`), or None."""
    if isinstance(line, bytes):
        found_bytes = bytes_pattern(size).match(line)
        return found_bytes.group(0)[:1].decode() if found_bytes else None
    found = pattern(size).match(line)
    return found.group(0)[0] if found else None


def scan(
    lines: Sequence[str] | Sequence[bytes], size: int, kinds: str = KINDS
) -> tuple[list[tuple[int, int]], int]:
    """The conflicts `lines` show, reading only marker lines of `kinds` (the others are the file's own
    text): each run of marker lines in the order a block writes them (`<<<<<<<`, `|||||||`, `=======`,
    `>>>>>>>`, each at most once) is one conflict. Returns the runs from a `<<<<<<<` to a `>>>>>>>` line, as
    ranges of line numbers (the end excluded), and how many other runs there are: blocks the user
    half-edited, whose other marker lines were deleted (a lone `=======`, a `|||||||` and `=======` pair)."""
    spans: list[tuple[int, int]] = []
    runs: list[tuple[int, str]] = []  # the current run's marker lines: (line number, kind)
    unpaired = 0

    def close() -> None:
        nonlocal unpaired
        if runs and runs[0][1] == "<" and runs[-1][1] == ">":
            spans.append((runs[0][0], runs[-1][0] + 1))
        elif runs:
            unpaired += 1
        runs.clear()

    for at, line in enumerate(lines):
        found = kind(line, size)
        if found is None or found not in kinds:
            continue
        if runs and KINDS.index(found) <= KINDS.index(runs[-1][1]):
            close()
        runs.append((at, found))
    close()
    return spans, unpaired


def blocks(lines: Sequence[str] | Sequence[bytes], size: int) -> list[tuple[int, int]]:
    """The conflict blocks among `lines`: from a `<<<<<<<` line to the first `>>>>>>>` line after it, as
    ranges of line numbers (the end excluded); a `<<<<<<<` line inside a block is the block's text (where
    the file's own text may hold marker lines; `scan` reads a file whose text holds none)."""
    spans: list[tuple[int, int]] = []
    start = None
    for at, line in enumerate(lines):
        found = kind(line, size)
        if found == "<" and start is None:
            start = at
        elif found == ">" and start is not None:
            spans.append((start, at + 1))
            start = None
    return spans


def has_conflict(data: bytes, size: int) -> bool:
    """True when `data` holds a conflict's start and end marker lines."""
    return bool(bytes_pattern(size, "<").search(data) and bytes_pattern(size, ">").search(data))


_RUN = re.compile(rf"^([<|=>])\1{{{DEFAULT_SIZE - 1},}}", re.MULTILINE)


def longest_run(*texts: str) -> int:
    """The longest run of one marker character (at least the default size) starting a line, or 0."""
    return max((len(m.group(0)) for text in texts for m in _RUN.finditer(text)), default=0)
