"""The splice's parse check on large files with many conflicts: `mergebert merge-file` against git's.

    python benchmarks/parse_check_many_conflicts.py [--shapes 1900x106,1900x38,...] [--runs N]

Each shape SERVERSxEVERY is a Java class whose one method starts SERVERS servers (three lines each); in
every EVERY-th call ours changes the host and theirs the flag, one line conflict each that the token merge
settles (the shape of the speed QA's `gen_servers.py`). The parse check parses the whole file only while
its size times its conflicts stays within `splice.WHOLE_FILE_WORK` (1900x106 just does, 1900x100 does not),
and the window around each conflict past it, so its time grows with size x conflicts only up to that
bound. Each shape runs the installed `mergebert merge-file -p` (default model) and `git merge-file -p` on
the same three files; `conflicts` is the line merge's count, `left` mergebert's exit status.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from timing import merge_file_next_to_git

from mergebert.core.linemerge import conflicts_of, merge_lines


def servers(count: int, every: int, side: str) -> str:
    """The class as `side` has it: ours changes the host, theirs the flag, of every `every`th server."""
    lines = []
    for i in range(count):
        edited = i % every == 0
        host = "prod.example.com" if edited and side == "ours" else "localhost"
        flag = "true" if edited and side == "theirs" else "false"
        lines.append(f'        Server s{i} = new Server("{host}", {8000 + i}, {flag});\n')
        lines.append(f"        s{i}.start();\n")
        lines.append(f'        log.info("started {i}");\n')
    return "public class S {\n    void run() {\n" + "".join(lines) + "    }\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="1900x106,1900x100,1900x38,1000x2,250x1,50000x100")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    header = f"{'bytes':>7} {'conflicts':>9} {'git ms':>8} {'mergebert ms':>13} {'left':>5}"
    print(f"{header}  median of {args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            count, every = (int(part) for part in shape.split("x"))
            texts = {side: servers(count, every, side) for side in ("ours", "base", "theirs")}
            files = []
            for side, text in texts.items():
                path = Path(tmp) / f"{side}.java"
                path.write_text(text)
                files.append(str(path))
            conflicts = len(conflicts_of(merge_lines(texts["base"], texts["ours"], texts["theirs"])))
            git, ours, left = merge_file_next_to_git(files, args.runs)
            size = Path(files[0]).stat().st_size
            print(f"{size:>7} {conflicts:>9} {git * 1000:>8.1f} {ours * 1000:>13.1f} {left:>5}")


if __name__ == "__main__":
    main()
