"""A file's resolve within its time limit: the limit ($MERGEBERT_DRIVER_TIMEOUT, which the merge driver,
its daemon and `merge-file` keep), the line that says a file went past it, and the thread the work runs
on. Standard library only (threading imported when work runs): the merge driver's warm path imports it."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    Done = TypeVar("Done")  # what a piece of work run under a time limit (`within`) gives

TIMEOUT_VARIABLE = "MERGEBERT_DRIVER_TIMEOUT"
DEFAULT_TIMEOUT = 10.0


def time_limit(variable: str = TIMEOUT_VARIABLE, default: float = DEFAULT_TIMEOUT) -> float:
    """Seconds `variable` allows (a file's whole resolve: $MERGEBERT_DRIVER_TIMEOUT, default 10), `default`
    unless a positive finite number."""
    try:
        limit = float(os.environ.get(variable, ""))
    except ValueError:
        return default
    return limit if 0 < limit < float("inf") else default


def not_within(limit: float) -> str:
    """Why a file past its own limit gets git's merge: `not resolved within 10 s ($MERGEBERT_DRIVER_TIMEOUT)`
    (10 being `limit`)."""
    return f"not resolved within {limit:g} s (${TIMEOUT_VARIABLE})"


def within(limit: float, work: Callable[[], Done]) -> Done | BaseException | None:
    """`work()` (or what it raised) run on a thread; None when it has not finished after `limit` seconds."""
    import threading

    done: list[Done | BaseException] = []

    def target() -> None:
        try:
            done.append(work())
        except BaseException as error:  # reported by the caller, which falls back to git's merge
            done.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    return done[0] if done else None
