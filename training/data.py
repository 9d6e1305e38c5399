"""Reading mined records (``*.regions.jsonl.gz`` or plain ``.jsonl``) for training."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator


def open_text(path: str | os.PathLike):
    path = str(path)
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_records(paths, limit: int | None = None) -> Iterator[dict]:
    """Region records from one or more JSON Lines files (gzip or plain), in file order."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    n = 0
    for path in paths:
        with open_text(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                rec = json.loads(line)
                if "resolution" not in rec or "ours" not in rec:
                    continue  # not a region record (e.g. a scenario file)
                yield rec
                n += 1
                if limit is not None and n >= limit:
                    return
