"""Supported languages: file extensions, data-set names and tree-sitter grammars."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import tree_sitter


@dataclass(frozen=True)
class Language:
    name: str  # the data set's label: java, javascript, typescript, csharp
    grammar: str  # the tree-sitter grammar: java, javascript, typescript, tsx, csharp


JAVA = Language("java", "java")
JAVASCRIPT = Language("javascript", "javascript")
TYPESCRIPT = Language("typescript", "typescript")
TSX = Language("typescript", "tsx")
CSHARP = Language("csharp", "csharp")

NAMES: tuple[str, ...] = ("java", "javascript", "typescript", "csharp")  # data-set labels, in report order
EXTENSIONS: dict[str, Language] = {
    ".java": JAVA,
    ".js": JAVASCRIPT,
    ".jsx": JAVASCRIPT,
    ".mjs": JAVASCRIPT,
    ".cjs": JAVASCRIPT,
    ".ts": TYPESCRIPT,
    ".mts": TYPESCRIPT,
    ".cts": TYPESCRIPT,
    ".tsx": TSX,
    ".cs": CSHARP,
}
BY_NAME: dict[str, Language] = {
    "java": JAVA,
    "javascript": JAVASCRIPT,
    "js": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "ts": TYPESCRIPT,
    "tsx": TSX,
    "csharp": CSHARP,
    "c#": CSHARP,
    "cs": CSHARP,
}


def language_for_path(path: str) -> Language | None:
    """The language of a file by its extension, or None when mergebert has no grammar for it."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def language_by_name(name: str) -> Language:
    """A language by name (java, javascript, typescript, tsx, csharp); KeyError for others."""
    try:
        return BY_NAME[name.lower()]
    except KeyError:
        raise KeyError(f"unknown language {name!r}; known: {', '.join(sorted(BY_NAME))}") from None


@functools.cache
def _grammar(grammar: str) -> tree_sitter.Language:
    if grammar == "java":
        import tree_sitter_java as module

        return tree_sitter.Language(module.language())
    if grammar == "javascript":
        import tree_sitter_javascript as module

        return tree_sitter.Language(module.language())
    if grammar in ("typescript", "tsx"):
        import tree_sitter_typescript as module

        entry = module.language_tsx if grammar == "tsx" else module.language_typescript
        return tree_sitter.Language(entry())
    if grammar == "csharp":
        import tree_sitter_c_sharp as module

        return tree_sitter.Language(module.language())
    raise KeyError(grammar)


@functools.cache
def parser_for(lang: Language) -> tree_sitter.Parser:
    return tree_sitter.Parser(_grammar(lang.grammar))
