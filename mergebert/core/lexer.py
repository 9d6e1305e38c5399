"""Stage 2a: split code into tokens with tree-sitter, keeping the whitespace before each token."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import tree_sitter

from mergebert.core.languages import Language, parser_for

# Leaves of these node types are kept whole by tree-sitter's view and split on whitespace by ours.
_ATOMIC_NODE = re.compile(r"comment|string|template|regex|jsx_text|char_literal|character_literal")
# Atomic leaves whose inner whitespace is part of the program's values (not comments or JSX text).
_LITERAL_NODE = re.compile(r"string|template|regex|char_literal|character_literal")
_SIMPLE_TOKEN = re.compile(r"[A-Za-z_$0-9][\w$]*|\S")
_NON_SPACE = re.compile(r"\S+")


# Words after which a line break is part of the program: in JavaScript it ends the statement (a restricted
# production: `return` then a new line returns nothing).
_RESTRICTED = frozenset({"return", "throw", "break", "continue", "yield"})


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    lead: str = ""  # the whitespace right before the token
    in_literal: bool = False  # the lead lies inside a string, template or regex literal: it is a value
    ends_comment: bool = False  # the last word of a line comment (`//`): a line break must follow it

    def key(self) -> str:
        """What the token diff compares: the text, and the lead where whitespace is a value."""
        return self.lead + self.text if self.in_literal else self.text

    @property
    def holds_its_line_end(self) -> bool:
        """Whether a line break its side writes after it is part of the program: the end of a line comment,
        or of a JavaScript statement after `return` and its kin."""
        return self.ends_comment or self.text in _RESTRICTED


@dataclass(frozen=True)
class TokenSeq:
    tokens: tuple[Token, ...]
    trail: str = ""  # whitespace after the last token

    def render(self) -> str:
        return "".join(token.lead + token.text for token in self.tokens) + self.trail

    def texts(self) -> tuple[str, ...]:
        return tuple(token.text for token in self.tokens)

    def keys(self) -> tuple[str, ...]:
        return tuple(token.key() for token in self.tokens)


def render_tokens(tokens: tuple[Token, ...] | list[Token], trail: str = "") -> str:
    return "".join(token.lead + token.text for token in tokens) + trail


def _leaf_spans(source: bytes, lang: Language) -> list[tuple[int, int, str]]:
    """(start, end, kind) byte spans of the syntax tree's leaves, in order; kind "literal": a string,
    template or regex literal, whose inner whitespace is a value; "comment"; "" for the others."""
    spans: list[tuple[int, int, str]] = []
    cursor = parser_for(lang).parse(source).walk()
    while True:
        node = cursor.node
        atomic = bool(_ATOMIC_NODE.search(node.type))
        if (atomic or node.child_count == 0) and node.end_byte > node.start_byte:
            spans.append((node.start_byte, node.end_byte, _kind(node.type) if atomic else ""))
        elif not atomic and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return spans


def _kind(node_type: str) -> str:
    if _LITERAL_NODE.search(node_type):
        return "literal"
    return "comment" if "comment" in node_type else ""


def comment_words(tree: tree_sitter.Tree, source: bytes, start: int = 0, end: int | None = None) -> set[str]:
    """The whitespace-separated words of the comments of `tree` (the parse of `source`) that reach into
    bytes `start` to `end`; only the nodes that do are walked."""
    end = len(source) if end is None else end
    words: set[str] = set()
    cursor = tree.walk()
    while True:
        node = cursor.node
        inside = node.start_byte < end and node.end_byte > start
        if inside and _kind(node.type) == "comment":
            words.update(source[node.start_byte : node.end_byte].decode("utf-8", "replace").split())
        elif inside and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return words


class _Builder:
    """Collects tokens, attaching pending whitespace to the next token."""

    def __init__(self) -> None:
        self.tokens: list[Token] = []
        self.pending = ""

    def add_text(self, text: str, pattern: re.Pattern[str], literal: bool = False) -> None:
        """Tokens of `text`; with `literal`, the whitespace between them is a literal's, a value."""
        position = 0
        for match in pattern.finditer(text):
            lead = self.pending + text[position : match.start()]
            self.tokens.append(Token(match.group(0), lead, literal and position > 0))
            self.pending = ""
            position = match.end()
        self.pending += text[position:]

    def end_line_comment(self) -> None:
        """Mark the last token added as the end of a line comment."""
        self.tokens[-1] = replace(self.tokens[-1], ends_comment=True)

    def result(self) -> TokenSeq:
        return TokenSeq(tuple(self.tokens), self.pending)


def code_key(text: str, lang: Language | None) -> str:
    """`text` without the code's whitespace, the whitespace inside string, template and regex literals kept
    (it is their value): two texts with one key are one program."""
    return "".join(token.key() for token in tokenize(text, lang).tokens)


def tokenize(text: str, lang: Language | None) -> TokenSeq:
    """Tokens of `text`; their leads, texts and the trail rebuild `text` exactly.

    With a language, tokens are tree-sitter's leaves (comments and strings split on whitespace);
    text the tree does not cover and files without a language get a simple lexical tokenizer.
    """
    builder = _Builder()
    if lang is None:
        builder.add_text(text, _SIMPLE_TOKEN)
        return builder.result()
    source = text.encode("utf-8")
    position = 0
    for start, end, kind in _leaf_spans(source, lang):
        if start < position:
            continue  # a zero-width or overlapping leaf (tree-sitter's MISSING nodes)
        builder.add_text(source[position:start].decode("utf-8"), _SIMPLE_TOKEN)
        leaf = source[start:end].decode("utf-8")
        builder.add_text(leaf, _NON_SPACE, kind == "literal")  # one token unless it holds whitespace
        if kind == "comment" and leaf.startswith("//") and builder.tokens:
            builder.end_line_comment()
        position = end
    builder.add_text(source[position:].decode("utf-8"), _SIMPLE_TOKEN)
    return builder.result()
