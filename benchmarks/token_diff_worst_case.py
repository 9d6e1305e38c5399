"""The token diff's worst cases: file size against the wall time of `mergebert merge-file` and git's.

    python benchmarks/token_diff_worst_case.py [--sizes 1000,2000,...] [--runs N]

Two generated shapes that made the old `difflib` alignment take 30-94 s at about 6 KB: a one-line
table of numbers (both sides edit different cells, so git leaves the one line in conflict) and a
one-line expression of deeply nested brackets edited at both ends. Each size runs the installed
`mergebert merge-file -p` (default model) and `git merge-file -p` on the same three files.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

from timing import merge_file_next_to_git


def table(size: int, edit: str) -> str:
    """A Java class with one line holding an int table of about `size` bytes; `edit` picks the side."""
    cells = [str((i * 7) % 10) for i in range(size // 2)]
    if edit == "ours":
        cells[len(cells) // 3] = "42"
    elif edit == "theirs":
        cells[2 * len(cells) // 3] = "43"
    return f"class T {{\n    static final int[] T = {{{','.join(cells)}}};\n}}\n"


def nested(size: int, edit: str) -> str:
    """A Java class with one line of about `size` bytes of nested calls; the sides edit either end."""
    depth = size // 4
    head = "f(" * depth
    tail = ")" * depth
    inner = {"ours": "1", "theirs": "2"}.get(edit, "0")
    outer = {"ours": "g", "theirs": "h"}.get(edit, "k")
    if edit == "ours":
        return f"class N {{\n    int x = {outer}({head}{inner}{tail});\n}}\n"
    return f"class N {{\n    int x = {outer}({head}0{tail}, {inner});\n}}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,2000,4000,6400,12800,25600,51200")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    shapes: dict[str, Callable[[int, str], str]] = {"one-line table": table, "nested brackets": nested}
    print(f"{'shape':<16} {'bytes':>7} {'git ms':>8} {'mergebert ms':>13} {'left':>5}  median of {args.runs}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, make in shapes.items():
            for size in (int(s) for s in args.sizes.split(",")):
                files = []
                for side in ("ours", "base", "theirs"):
                    path = folder / f"{side}.java"
                    path.write_text(make(size, side))
                    files.append(str(path))
                git, ours, status = merge_file_next_to_git(files, args.runs)
                real = Path(files[0]).stat().st_size
                print(f"{name:<16} {real:>7} {git * 1000:>8.1f} {ours * 1000:>13.1f} {status:>5}")


if __name__ == "__main__":
    main()
