"""What a candidate's text shows against the conflict's three sides and the lines around it.

The encoder scores patterns; it does not see the text a pattern decodes to. These features do: how much
of each side's change a candidate keeps (by lines and by words), what it brings that no side has, whether
it repeats a line of its own or of the merged lines next to it, whether its brackets balance as a side's
do, and how it compares with the conflict's other candidates. The acceptor reads them beside the
encoder's scores (``mergebert/neural/acceptor.py``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from mergebert.core.patterns import squash

_WORD = re.compile(r"\w+|[^\w\s]")
_IMPORT = re.compile(
    r"^\s*(import|using|require|from|export\s.*\sfrom|const\s+\w+\s*=\s*require|package|#include)\b"
)
# lines that say nothing on their own: repeating one of them is no sign of a bad merge
_TRIVIAL = {"}", "{", ")", "(", "];", "});", ");", "*/", "/**", "*", "//", "};", "]", "})", "end", "else",
            "else{", "}else{", "})}"}  # fmt: skip
_NEAR_LINES = 6  # lines of the prefix (its last) and suffix (its first) a candidate may repeat

TEXT_FEATURE_NAMES: tuple[str, ...] = (
    "ours_added_lines_kept",
    "theirs_added_lines_kept",
    "ours_deleted_lines_kept",
    "theirs_deleted_lines_kept",
    "novel_lines",
    "duplicated_lines",
    "repeats_prefix",
    "repeats_suffix",
    "ours_whitespace_only",
    "theirs_whitespace_only",
    "log_ours_added_lines",
    "log_theirs_added_lines",
    "log_ours_deleted_lines",
    "log_theirs_deleted_lines",
    "ours_added_lines_shared",
    "theirs_added_lines_shared",
    "lines_vs_longer_side",
    "ours_added_words_kept",
    "theirs_added_words_kept",
    "ours_deleted_words_gone",
    "theirs_deleted_words_gone",
    "novel_words",
    "words_outside_sides",
    "braces_unlike_sides",
    "parentheses_unlike_sides",
    "first_line_repeats_prefix",
    "last_line_repeats_suffix",
    "log_ours_added_words",
    "log_theirs_added_words",
    "coverage",
    "coverage_gap",
    "import_lines",
    "candidate_sorted",
    "sides_sorted",
    "novel_words_gap",
)


def _lines(text: str) -> list[str]:
    """The non-blank lines of `text`, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _meaningful_keys(text: str) -> list[str]:
    """The whitespace-free lines of `text` that say something on their own."""
    keys = [squash(line) for line in _lines(text)]
    return [key for key in keys if key not in _TRIVIAL and len(key) > 2]


def _share(part: set[str], whole: set[str]) -> float:
    """The share of `whole` that `part` holds; 1 for an empty `whole`."""
    return len(part & whole) / len(whole) if whole else 1.0


def _kept(part: Counter[str], text: Counter[str]) -> float:
    """The share of the words in `part` (a multiset) that `text` still holds; 1 for an empty `part`."""
    total = sum(part.values())
    return sum((part & text).values()) / total if total else 1.0


def _sorted_share(lines: Sequence[str]) -> float:
    """The share of neighbouring line pairs in order (1 for fewer than two lines)."""
    if len(lines) < 2:
        return 1.0
    return sum(a <= b for a, b in zip(lines, lines[1:], strict=False)) / (len(lines) - 1)


def _balance(text: str) -> tuple[int, int]:
    return text.count("{") - text.count("}"), text.count("(") - text.count(")")


class ConflictText:
    """The facts of one conflict's sides and surroundings that every candidate is compared with."""

    def __init__(self, ours: str, base: str, theirs: str, prefix: str, suffix: str) -> None:
        o, b, t = _meaningful_keys(ours), _meaningful_keys(base), _meaningful_keys(theirs)
        self.ours_lines, self.theirs_lines = o, t
        self.ours_set, self.base_set, self.theirs_set = set(o), set(b), set(t)
        self.sides_set = self.ours_set | self.base_set | self.theirs_set
        self.ours_added, self.theirs_added = self.ours_set - self.base_set, self.theirs_set - self.base_set
        self.ours_deleted = self.base_set - self.ours_set
        self.theirs_deleted = self.base_set - self.theirs_set
        self.ours_counts, self.theirs_counts = Counter(o), Counter(t)
        self.near_prefix = set(_meaningful_keys("\n".join(_lines(prefix)[-_NEAR_LINES:])))
        self.near_suffix = set(_meaningful_keys("\n".join(_lines(suffix)[:_NEAR_LINES])))
        self.ours_whitespace_only = float(squash(ours) == squash(base))
        self.theirs_whitespace_only = float(squash(theirs) == squash(base))
        wo, wb, wt = (Counter(_WORD.findall(text)) for text in (ours, base, theirs))
        self.words_ours, self.words_base, self.words_theirs = wo, wb, wt
        self.words_added_ours, self.words_added_theirs = wo - wb, wt - wb
        self.words_deleted_ours, self.words_deleted_theirs = wb - wo, wb - wt
        self.words_any, self.words_sides = wo | wt | wb, wo | wt
        self.balances = (_balance(ours), _balance(theirs))
        prefix_keys, suffix_keys = _meaningful_keys(prefix), _meaningful_keys(suffix)
        self.last_prefix_line = prefix_keys[-1] if prefix_keys else None
        self.first_suffix_line = suffix_keys[0] if suffix_keys else None
        side_lines = [line for text in (ours, theirs) for line in text.split("\n") if line.strip()]
        self.import_lines = sum(bool(_IMPORT.match(line)) for line in side_lines) / max(len(side_lines), 1)
        self.sides_sorted = min(_sorted_share(_lines(ours)), _sorted_share(_lines(theirs)))

    def _line_features(self, keys: list[str]) -> list[float]:
        """Features of a candidate's meaningful lines (`keys`, whitespace-free)."""
        present, counts, n = set(keys), Counter(keys), max(len(keys), 1)
        novel = sum(1 for key in keys if key not in self.sides_set) / n
        duplicated = sum(
            1
            for key, count in counts.items()
            if count > max(self.ours_counts.get(key, 0), self.theirs_counts.get(key, 0), 1)
        )
        return [
            _share(present, self.ours_added),
            _share(present, self.theirs_added),
            len(present & self.ours_deleted) / len(self.ours_deleted) if self.ours_deleted else 0.0,
            len(present & self.theirs_deleted) / len(self.theirs_deleted) if self.theirs_deleted else 0.0,
            novel,
            duplicated / n,
            sum(1 for key in present if key in self.near_prefix and key not in self.base_set) / n,
            sum(1 for key in present if key in self.near_suffix and key not in self.base_set) / n,
            self.ours_whitespace_only,
            self.theirs_whitespace_only,
            math.log1p(len(self.ours_added)),
            math.log1p(len(self.theirs_added)),
            math.log1p(len(self.ours_deleted)),
            math.log1p(len(self.theirs_deleted)),
            _share(self.theirs_added, self.ours_added),
            _share(self.ours_added, self.theirs_added),
            len(keys) / max(len(self.ours_lines), len(self.theirs_lines), 1),
        ]

    def _word_features(self, text: str, keys: list[str]) -> list[float]:
        """Features of a candidate's words, brackets and first and last meaningful lines (`keys`)."""
        words = Counter(_WORD.findall(text))
        n = max(sum(words.values()), 1)
        braces, parentheses = _balance(text)
        beyond_ours = words - (self.words_ours & self.words_base)  # words more than ours and base share
        beyond_theirs = words - (self.words_theirs & self.words_base)
        deleted_ours_gone = 1.0 - _kept(self.words_deleted_ours, beyond_ours)
        deleted_theirs_gone = 1.0 - _kept(self.words_deleted_theirs, beyond_theirs)
        return [
            _kept(self.words_added_ours, words),
            _kept(self.words_added_theirs, words),
            deleted_ours_gone if self.words_deleted_ours else 1.0,
            deleted_theirs_gone if self.words_deleted_theirs else 1.0,
            sum((words - self.words_any).values()) / n,
            sum((words - self.words_sides).values()) / n,
            float(all(braces != side for side, _ in self.balances)),
            float(all(parentheses != side for _, side in self.balances)),
            float(bool(keys) and keys[0] == self.last_prefix_line),
            float(bool(keys) and keys[-1] == self.first_suffix_line),
            math.log1p(sum(self.words_added_ours.values())),
            math.log1p(sum(self.words_added_theirs.values())),
        ]

    def rows(self, candidates: Sequence[str]) -> list[list[float]]:
        """One row of TEXT_FEATURE_NAMES per candidate text; the last ones compare it with the others."""
        own = []
        for text in candidates:
            keys = _meaningful_keys(text)
            own.append(self._line_features(keys) + self._word_features(text, keys))
        kept_ours, kept_theirs, novel = (TEXT_FEATURE_NAMES.index(name) for name in (
            "ours_added_words_kept", "theirs_added_words_kept", "novel_words"))  # fmt: skip
        coverage = [row[kept_ours] + row[kept_theirs] for row in own]
        novelty = [row[novel] for row in own]
        return [
            row
            + [
                cover,
                max(coverage) - cover,
                self.import_lines,
                _sorted_share(_lines(text)),
                self.sides_sorted,
                new - min(novelty),
            ]
            for row, text, cover, new in zip(own, candidates, coverage, novelty, strict=True)
        ]
