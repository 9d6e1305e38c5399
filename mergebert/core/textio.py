"""Bytes and text: binary and encoding checks, byte-order marks, line-ending style, atomic writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import AnyStr

from mergebert.core.atomic import atomic_write as atomic_write  # re-exported: its one home is atomic.py

UTF8_BOM = b"\xef\xbb\xbf"
MARK = "\ufeff"  # the byte-order mark as text: where a text keeps it, part of its first line as git sees it
BINARY_PROBE_BYTES = 8000  # git's own heuristic: a NUL byte in the first 8000 bytes means binary


class UnsupportedContent(Exception):
    """Content that mergebert cannot treat as text; `reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedText:
    text: str
    bom: bool
    eol: str  # the dominant line ending: "\n" or "\r\n"

    @property
    def marked(self) -> str:
        """The text with its byte-order mark kept, as U+FEFF (MARK)."""
        return (MARK if self.bom else "") + self.text


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE_BYTES]


def dominant_eol(text: str) -> str:
    """ "\r\n" when most line endings are CRLF, else "\n"."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def line_endings(text: str) -> frozenset[str]:
    """The line endings `text` uses: "\r\n", "\n" (a bare LF), both or none."""
    crlf = text.count("\r\n")
    return frozenset(("\r\n",) * bool(crlf) + ("\n",) * (text.count("\n") > crlf))


def converted_line_ending(ours: str, base: str, theirs: str) -> str | None:
    """The line ending one side converted every line to, where the other kept base's one kind; else None.

    Each side must end at least two lines: one line ended otherwise is an edit, not a conversion."""
    texts = (ours, base, theirs)
    kinds = [line_endings(text) for text in texts]
    if (
        all(len(kind) == 1 and text.count("\n") > 1 for kind, text in zip(kinds, texts, strict=True))
        and kinds[0] != kinds[2]
    ):
        (converted,) = kinds[2] if kinds[0] == kinds[1] else kinds[0]
        return converted
    return None


def with_line_endings(text: str, eol: str) -> str:
    """`text` with every line ending `eol`."""
    unified = text.replace("\r\n", "\n")
    return unified if eol == "\n" else unified.replace("\n", eol)


def decode(data: bytes) -> DecodedText:
    """Decode UTF-8 file content; raises UnsupportedContent for binary or non-UTF-8 data."""
    if is_binary(data):
        raise UnsupportedContent("binary content")
    bom = data.startswith(UTF8_BOM)
    try:
        text = data[len(UTF8_BOM) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError as err:
        raise UnsupportedContent(f"not UTF-8 (byte {err.start})") from None
    return DecodedText(text=text, bom=bom, eol=dominant_eol(text))


def line_count(text: str) -> int:
    """Lines as xdiff counts them: split at "\\n", a last line without ending still counts."""
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def split_lines(text: AnyStr) -> list[AnyStr]:
    """Lines as git sees them, each keeping its ending: split at "\n" only (unlike str.splitlines);
    text or bytes."""
    newline = "\n" if isinstance(text, str) else b"\n"
    lines = [line + newline for line in text.split(newline)]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def shown_lines(text: str) -> list[str]:
    """Lines as git splits them (`split_lines`), without their line endings: what a listing shows."""
    return [line.removesuffix("\n").removesuffix("\r") for line in split_lines(text)]


def decode_sides(base: bytes, ours: bytes, theirs: bytes) -> tuple[tuple[str, str, str], bool]:
    """The three versions as text, and whether the merge is written with a byte-order mark.

    The mark is set aside, and written back, only where it cannot move: all three have it and their
    first lines are the same, so the line merge is the one git makes with the mark in it. Otherwise it stays
    in each text that has it as U+FEFF, part of the first line as git sees it, so a change of the mark, or
    lines added before it (the mark then starts another line), merges or conflicts exactly as in git.
    """
    decoded = [decode(data) for data in (base, ours, theirs)]
    texts = [side.text for side in decoded]
    if all(side.bom for side in decoded) and _same_first_line(texts):
        return (texts[0], texts[1], texts[2]), True
    return (decoded[0].marked, decoded[1].marked, decoded[2].marked), False


def _same_first_line(texts: list[str]) -> bool:
    """Whether the texts begin with the same line, its line ending included (or are all empty)."""
    return len({text.partition("\n")[:2] for text in texts}) == 1


def encode(text: str, bom: bool) -> bytes:
    """A merge's text as the file's bytes; a label that is a file name not in UTF-8 (`merge-file`'s), read
    as surrogate escapes, goes back to its own bytes, as git writes it."""
    return (UTF8_BOM if bom else b"") + text.encode("utf-8", "surrogateescape")
