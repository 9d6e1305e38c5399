"""Stage 4: put a candidate into the file and check that the file parses no worse than with the sides."""

from __future__ import annotations

from collections.abc import Sequence

from mergebert.core.languages import Language, parser_for
from mergebert.core.linemerge import Chunk, CleanText, LineConflict
from mergebert.core.textio import split_lines

WHOLE_FILE_LIMIT = 256 * 1024  # larger files are checked on a window of lines around the conflict
WINDOW_LINES = 200


def error_count(text: str, lang: Language) -> int:
    """Number of ERROR and MISSING nodes in tree-sitter's parse of `text`."""
    tree = parser_for(lang).parse(text.encode("utf-8"))
    if not tree.root_node.has_error:
        return 0
    count = 0
    cursor = tree.walk()
    while True:
        node = cursor.node
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error and not node.is_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return count


class FileView:
    """The file around one conflict, with every other conflict shown as ours, for parse checks."""

    def __init__(self, chunks: Sequence[Chunk], index: int) -> None:
        before: list[str] = []
        after: list[str] = []
        seen = -1
        self.conflict: LineConflict | None = None
        for chunk in chunks:
            if isinstance(chunk, LineConflict):
                seen += 1
                if seen == index:
                    self.conflict = chunk
                    continue
            text = chunk.text if isinstance(chunk, CleanText) else chunk.ours
            (before if self.conflict is None else after).append(text)
        if self.conflict is None:
            raise IndexError(index)
        self.before, self.after = "".join(before), "".join(after)
        if len(self.before) + len(self.after) > WHOLE_FILE_LIMIT:
            self.before = "".join(split_lines(self.before)[-WINDOW_LINES:])
            self.after = "".join(split_lines(self.after)[:WINDOW_LINES])

    def with_text(self, text: str) -> str:
        if text and self.after and not text.endswith("\n"):
            text += "\n"
        return self.before + text + self.after


class ParseCheck:
    """Accepts a candidate when the file parses with no more errors than with the worse of the sides."""

    def __init__(self, chunks: Sequence[Chunk], index: int, lang: Language | None) -> None:
        self.lang = lang
        self.view = FileView(chunks, index)
        self._allowed: int | None = None

    @property
    def allowed(self) -> int:
        if self._allowed is None:
            assert self.lang is not None and self.view.conflict is not None
            self._allowed = max(
                error_count(self.view.with_text(self.view.conflict.ours), self.lang),
                error_count(self.view.with_text(self.view.conflict.theirs), self.lang),
            )
        return self._allowed

    def accepts(self, text: str) -> bool:
        if self.lang is None:
            return True
        return error_count(self.view.with_text(text), self.lang) <= self.allowed
