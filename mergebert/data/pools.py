"""Worker pools that ^C stops cleanly: the command says one line and ends, with no worker's traceback and
no hang.

A KeyboardInterrupt raised in the middle of `multiprocessing.Pool`'s own code can leave one of its locks
held (a `with` is not atomic against signals), and the pool's `terminate` then waits for ever on it. So,
while a pool runs, SIGINT only marks the request; the results loop reads the mark between results and
raises KeyboardInterrupt there, after which the pool is ended. The workers ignore SIGINT (a ^C typed in a
terminal reaches every process of its group): stopping them is the parent's job.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import islice
from multiprocessing import resource_tracker
from typing import Any, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")

POLL_SECONDS = 0.1  # how long the results loop waits for a result before it looks for a ^C again


def pool_map(
    func: Callable[[Job], Result],
    work: Iterable[Job],
    *,
    jobs: int,
    chunksize: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    start_method: str | None = None,
    ordered: bool = True,
) -> Iterator[Result]:
    """`func` over `work` by `jobs` worker processes (by this one where `jobs` ≤ 1), in `work`'s order
    unless `ordered` is False. `initializer(*initargs)` runs here first, so what cannot start fails once,
    here, and then in each worker. A ^C raises KeyboardInterrupt from this iterator, between two results,
    after the workers are ended."""
    if initializer is not None:
        initializer(*initargs)
    if jobs <= 1:
        yield from map(func, work)
        return
    context = multiprocessing.get_context(start_method)
    if context.get_start_method() != "fork":
        # started now, not by the pool: starting it lets ^C through to the thread that starts it
        resource_tracker.ensure_running()
    with _sigint_marked() as interrupted:
        with _sigint_blocked():  # the workers and the pool's threads start with ^C held back
            pool = context.Pool(jobs, _start_worker, (initializer, initargs))
        with pool:
            # chunks of work as single jobs: a chunked imap returns a plain generator, without next(timeout)
            chunks = (pool.imap if ordered else pool.imap_unordered)(
                partial(_map_chunk, func), _chunks(work, chunksize)
            )
            while not interrupted():
                try:
                    results = chunks.next(timeout=POLL_SECONDS)
                except multiprocessing.TimeoutError:
                    continue
                except StopIteration:
                    break
                yield from results
        if interrupted():  # before the last result, or while the pool ended
            raise KeyboardInterrupt


def _chunks(work: Iterable[Job], size: int) -> Iterator[list[Job]]:
    """`work` in lists of `size` (the last one shorter)."""
    items = iter(work)
    while chunk := list(islice(items, size)):
        yield chunk


def _map_chunk(func: Callable[[Job], Result], chunk: list[Job]) -> list[Result]:
    return [func(job) for job in chunk]


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """A worker ignores ^C, which it started with held back (so one typed while it started is dropped)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if initializer is not None:
        initializer(*initargs)


@contextmanager
def _sigint_marked() -> Iterator[Callable[[], bool]]:
    """Inside, SIGINT only marks a request, which the function yielded reads. Outside the main thread
    (where no signal handler can be set) nothing changes and it reads False."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    pressed = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: pressed.set())
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back from this thread inside (a held one arrives when it ends), and from the processes
    and threads started inside, which keep the mask they started with (a spawned worker through Python's
    start too, until `_start_worker`). Another thread of this process, one a library started, may take a
    ^C meanwhile: the mark is set all the same."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
