"""Split record files by repository into an encoder share and an acceptor share.

    python -m training.split OUT_DIR FILE...

Each FILE's records are written to OUT_DIR/encoder/NAME or OUT_DIR/acceptor/NAME by their repository
alone, so the two shares never hold the same repository and a regions file and a scenarios file of the
same repositories split alike. The encoder trains on its share; the acceptor, which must be fitted on
repositories the encoder never saw, is fitted on the other (``mergebert fit-acceptor ...
--exclude-repos-of OUT_DIR/encoder/NAME``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections import Counter

from mergebert.data.records import Record, read_records, write_records

SHARES = ("encoder", "acceptor")


def share_of(repo: str) -> str:
    """The share a repository belongs to: the acceptor's when the SHA-1 of its name is even."""
    return "acceptor" if int(hashlib.sha1(repo.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "encoder"


def split_file(path: str, out_dir: str) -> Counter[str]:
    """Write ``path``'s records into ``out_dir``/SHARE/ under the same name; returns records per share."""
    shares: dict[str, list[Record]] = {share: [] for share in SHARES}
    for record in read_records([path]):
        shares[share_of(record.get("repo", ""))].append(record)
    counts: Counter[str] = Counter()
    for share, records in shares.items():
        os.makedirs(os.path.join(out_dir, share), exist_ok=True)
        counts[share] = write_records(os.path.join(out_dir, share, os.path.basename(path)), records)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    for path in args.files:
        counts = split_file(path, args.out_dir)
        print(f"{path}: " + ", ".join(f"{counts[share]} records to {share}/" for share in SHARES))


if __name__ == "__main__":
    main()
