"""Region records for training, read through the runtime's own record reader."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator

from mergebert.data.records import Record, is_region
from mergebert.data.records import read_records as read_any_records


def read_records(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], limit: int | None = None
) -> Iterator[Record]:
    """Region records (scenario records are skipped) from .jsonl.gz or .jsonl files; at most `limit`."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return itertools.islice((record for record in read_any_records(paths) if is_region(record)), limit)
