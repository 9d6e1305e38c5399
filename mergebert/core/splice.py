"""Stage 4: put a candidate into the file, keeping every line git merged, and check that it parses no worse
than with the sides."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import tree_sitter

from mergebert.core.languages import Language, parser_for
from mergebert.core.lexer import comment_words
from mergebert.core.linemerge import Chunk, CleanText, LineConflict, ours_text
from mergebert.core.textio import MARK, split_lines
from mergebert.core.tokendiff import matching_blocks

WHOLE_FILE_LIMIT = 256 * 1024  # larger files are checked on a window of lines around the conflict
WHOLE_FILE_WORK = 4 * 1024 * 1024  # and so are files whose size times their conflicts is larger
WINDOW_LINES = 200


def clean_segments(chunks: Sequence[Chunk]) -> list[str]:
    """The clean text before, between and after the conflicts: one more segment than conflicts."""
    segments = [""]
    for chunk in chunks:
        if isinstance(chunk, CleanText):
            segments[-1] += chunk.text
        else:
            segments.append("")
    return segments


def merged_lines(conflict: LineConflict) -> list[str]:
    """The lines git's merge style shows clean in a conflict, as `keeps` wants them: the lines ours and
    theirs share at its start, runs of shared lines holding code inside it, and those at its end."""
    ours, theirs = split_lines(conflict.ours), split_lines(conflict.theirs)
    blocks = [block for block in matching_blocks(ours, theirs) if block[2]]
    segments = [""]
    for at_ours, at_theirs, length in blocks:
        run = "".join(ours[at_ours : at_ours + length])
        if at_ours == at_theirs == 0:
            segments[0] = run
        elif at_ours + length == len(ours) and at_theirs + length == len(theirs):
            segments.append(run)
            return segments
        elif any(char.isalnum() for char in run):
            segments.append(run)
    segments.append("")
    return segments


def _at_line_start(text: str, at: int) -> bool:
    return at == 0 or text[at - 1] == "\n"


def keeps(segments: Sequence[str], text: str) -> bool:
    """Whether `text` holds `segments` byte for byte, in order and at line starts, the first at its start
    and the last at its end: what a resolution must do with the lines git merged."""
    if len(segments) == 1:
        return text == segments[0]
    first, last = segments[0], segments[-1]
    end = len(text) - len(last)
    if end < len(first) or not text.startswith(first) or not text.endswith(last):
        return False
    if last and not _at_line_start(text, end):
        return False
    at = len(first)
    for segment in segments[1:-1]:
        found = text.find(segment, at, end)
        while found >= 0 and not _at_line_start(text, found):
            found = text.find(segment, found + 1, end)
        if found < 0:
            return False
        at = found + len(segment)
    return True


def region_text(text: str, at_end: bool, eol: str) -> str:
    """A resolution as it goes into the file: ended with a line ending unless it is the file's end."""
    return text + eol if text and not text.endswith("\n") and not at_end else text


def splice_texts(chunks: Sequence[Chunk], texts: Sequence[str | None], eol: str) -> list[Chunk]:
    """Chunks with each line conflict whose text is given (one per conflict, None: left) replaced by it."""
    remaining = iter(texts)
    spliced: list[Chunk] = []
    for position, chunk in enumerate(chunks):
        if isinstance(chunk, LineConflict):
            text = next(remaining)
            if text is not None:
                chunk = CleanText(region_text(text, position + 1 == len(chunks), eol))
        spliced.append(chunk)
    return spliced


def parse(text: str, lang: Language) -> tree_sitter.Tree:
    """tree-sitter's parse of `text`: every parse the check makes."""
    return parser_for(lang).parse(text.encode("utf-8"))


def _errors(tree: tree_sitter.Tree) -> int:
    """Number of ERROR and MISSING nodes in `tree`."""
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


def _last_lines(texts: Sequence[str], count: int) -> str:
    """The last `count` lines (`split_lines`) of the joined `texts`, read from the end only as far as the
    line ending before them."""
    taken: list[str] = []
    needed = count + 1
    for text in reversed(texts):
        end = len(text)
        while needed and (found := text.rfind("\n", 0, end)) >= 0:
            needed, end = needed - 1, found
        if not needed:
            taken.append(text[end:])
            break
        taken.append(text)
    return "".join(split_lines("".join(reversed(taken)))[-count:])


def _first_lines(texts: Sequence[str], count: int) -> str:
    """The first `count` lines (`split_lines`) of the joined `texts`, read only as far as their end."""
    taken: list[str] = []
    needed = count
    for text in texts:
        start = 0
        while needed and (found := text.find("\n", start)) >= 0:
            needed, start = needed - 1, found + 1
        if not needed:
            taken.append(text[:start])
            break
        taken.append(text)
    return "".join(split_lines("".join(taken))[:count])


class FileView:
    """The file around one conflict, with every other conflict shown as ours, for parse checks: the whole
    file, or past WHOLE_FILE_LIMIT / WHOLE_FILE_WORK the WINDOW_LINES lines on each side of the conflict,
    gathered without joining the rest of the file (a file's conflicts each make a view)."""

    def __init__(self, chunks: Sequence[Chunk], index: int) -> None:
        positions = [at for at, chunk in enumerate(chunks) if isinstance(chunk, LineConflict)]
        at = positions[index]  # IndexError: no such conflict
        conflict = chunks[at]
        assert isinstance(conflict, LineConflict)
        self.conflict: LineConflict | None = conflict
        texts = [ours_text(chunk) for chunk in chunks]
        size = sum(map(len, texts)) - len(texts[at])
        if size > WHOLE_FILE_LIMIT or size * len(positions) > WHOLE_FILE_WORK:
            self.before = _last_lines(texts[:at], WINDOW_LINES)
            self.after = _first_lines(texts[at + 1 :], WINDOW_LINES)
        else:
            self.before, self.after = "".join(texts[:at]), "".join(texts[at + 1 :])

    def with_text(self, text: str) -> str:
        if text and self.after and not text.endswith("\n"):
            text += "\n"
        return self.before + text + self.after


class OursParse:
    """The parse of the file with a conflict as ours, and its error count, remembered: a file's checks share
    them, since for a file checked whole it is the same text, every conflict as ours, for all of its
    conflicts."""

    def __init__(self) -> None:
        self._last: tuple[str, Language, tree_sitter.Tree, int] | None = None

    def parsed(self, view: FileView, lang: Language) -> tuple[tree_sitter.Tree, int]:
        assert view.conflict is not None
        text = view.with_text(view.conflict.ours)
        if self._last is None or self._last[:2] != (text, lang):
            tree = parse(text, lang)
            self._last = (text, lang, tree, _errors(tree))
        return self._last[2:]


def moves_the_mark(text: str, conflict: LineConflict, *, at_start: bool) -> bool:
    """Whether `text` writes a byte-order mark where neither side has one: more lines starting with one
    after the file's start than either side holds (a pattern that joins the sides repeats theirs), or, at
    the file's start, none where both sides begin with one (a pattern that takes the base's tokens away took
    it) or one where neither does. A U+FEFF inside a line (a string's) is no mark."""
    if MARK not in text and MARK not in conflict.ours and MARK not in conflict.theirs:
        return False
    sides = (conflict.ours, conflict.theirs)

    def later(side: str) -> int:
        return side.count("\n" + MARK) + (not at_start and side.startswith(MARK))

    if later(text) > max(map(later, sides)):
        return True
    leads = [side.startswith(MARK) for side in sides]
    return at_start and (all(leads) or not any(leads)) and text.startswith(MARK) != leads[0]


class SpliceCheck:
    """Accepts a candidate when it keeps the lines git merged, puts no code inside a comment (its comments'
    words are the sides' comments' words) and the file parses with no more errors than with the worse of
    the sides."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        index: int,
        lang: Language | None,
        eol: str = "\n",
        ours_parse: OursParse | None = None,
    ) -> None:
        self.lang = lang
        self.eol = eol
        self.ours_parse = ours_parse or OursParse()  # one per file: its checks share the parse
        self.view = FileView(chunks, index)
        assert self.view.conflict is not None
        self.merged = merged_lines(self.view.conflict)
        self._refusals: dict[str, str | None] = {}

    @functools.cached_property
    def _theirs(self) -> tree_sitter.Tree:
        assert self.lang is not None and self.view.conflict is not None
        return parse(self.view.with_text(self.view.conflict.theirs), self.lang)

    @functools.cached_property
    def allowed(self) -> int:
        assert self.lang is not None
        return max(self.ours_parse.parsed(self.view, self.lang)[1], _errors(self._theirs))

    @functools.cached_property
    def sides_comment_words(self) -> set[str]:
        """The words of the comments reaching into the conflict, in the file with each side in place."""
        assert self.lang is not None and self.view.conflict is not None
        conflict = self.view.conflict
        ours = self.ours_parse.parsed(self.view, self.lang)[0]
        base = parse(self.view.with_text(conflict.base), self.lang)
        trees = ((ours, conflict.ours), (base, conflict.base), (self._theirs, conflict.theirs))
        return set().union(*(self._comment_words(tree, side) for tree, side in trees))

    def _comment_words(self, tree: tree_sitter.Tree, text: str) -> set[str]:
        """The words of the comments reaching into the conflict in `tree`, the parse of the file with `text`
        in the conflict's place: read in the file, a `//` inside a doc comment or JSX text is no comment."""
        source = self.view.with_text(text).encode("utf-8")
        start, after = len(self.view.before.encode("utf-8")), len(self.view.after.encode("utf-8"))
        return comment_words(tree, source, start, len(source) - after)

    def refusal(self, text: str) -> str | None:
        """Why `text` cannot replace the conflict, or None when it can."""
        if text not in self._refusals:
            self._refusals[text] = self._judge(text)
        return self._refusals[text]

    def _judge(self, text: str) -> str | None:
        if not keeps(self.merged, region_text(text, not self.view.after, self.eol)):
            return "would alter merged lines"
        if moves_the_mark(text, self.view.conflict, at_start=not self.view.before):
            return "would move the byte-order mark"
        if not self.view.with_text(text).strip():  # one side emptied the file: a deletion, for a person
            return "would empty the file"
        if self.lang is None:
            return None
        tree = parse(self.view.with_text(text), self.lang)
        words = self._comment_words(tree, text)
        if words and not words <= self.sides_comment_words:  # black's check, for comments
            return "would put code inside a comment"
        if _errors(tree) > self.allowed:
            return "no candidate parses"
        return None
