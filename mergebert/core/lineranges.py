"""Relations between ranges of lines, defined once: each a (start, end) pair, the end excluded; an empty
range (start == end) is a place between two lines."""

from __future__ import annotations


def overlap(start: int, end: int, other_start: int, other_end: int) -> bool:
    """Whether two ranges share a line, or an empty one lies inside the other or at one of its ends."""
    if start == end or other_start == other_end:
        return meet(start, end, other_start, other_end)
    return other_start < end and start < other_end


def meet(start: int, end: int, other_start: int, other_end: int) -> bool:
    """Whether two ranges share a line or touch: one ends where the other starts."""
    return other_start <= end and start <= other_end


def within(start: int, end: int, outer_start: int, outer_end: int) -> bool:
    """Whether the range start..end lies wholly inside outer_start..outer_end (its ends included)."""
    return outer_start <= start and end <= outer_end
