"""Stage 1 over real data: for every scenario of the shared validation set, `linemerge.merge_lines`
finds the same conflict regions, with the same three sides, as `git merge-file -p --diff3`."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest

from mergebert.core.linemerge import LineConflict, merge_lines

SCENARIOS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "valid.scenarios.jsonl.gz"
SIZE = 31  # a marker size no real file contains, so git's output parses unambiguously
LABELS = {
    "<" * SIZE + " ours": "ours",
    "|" * SIZE + " base": "base",
    "=" * SIZE: "theirs",
    ">" * SIZE + " theirs": None,
}


def git_regions(folder: Path, base: str, ours: str, theirs: str) -> list[tuple[str, str, str]]:
    """git's conflict regions: (ours, base, theirs) as written between its markers."""
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        (folder / name).write_bytes(text.encode("utf-8"))
    args = ["git", "merge-file", "-p", "--diff3", f"--marker-size={SIZE}", "-L", "ours", "-L", "base"]
    out = subprocess.run(
        [*args, "-L", "theirs", "ours", "base", "theirs"], cwd=folder, capture_output=True, check=False
    )
    assert 0 <= out.returncode < 128, out.stderr
    regions, side, parts = [], None, {}
    for line in out.stdout.decode("utf-8").splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if bare in LABELS and (side is not None or bare.startswith("<")):
            side = LABELS[bare]
            if side is None:
                regions.append((parts["ours"], parts["base"], parts["theirs"]))
            else:
                parts[side] = ""
        elif side is not None:
            parts[side] += line
    return regions


def same_side(ours: str, git: str) -> bool:
    """Equal, allowing the line ending git adds after a side's unterminated last line."""
    return git == ours or (not ours.endswith("\n") and git in (ours + "\n", ours + "\r\n"))


def test_regions_equal_git_merge_file_diff3(tmp_path: Path) -> None:
    if not SCENARIOS.exists():
        pytest.skip(f"{SCENARIOS} is absent (the shared data set is not checked out next to the repository)")
    checked = 0
    with gzip.open(SCENARIOS, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            base, ours, theirs = record["base"], record["ours"], record["theirs"]
            ours_regions = [c for c in merge_lines(base, ours, theirs) if isinstance(c, LineConflict)]
            git = git_regions(tmp_path, base, ours, theirs)
            where = f"scenario {record['id']} ({record['repo']} {record['path']})"
            assert len(ours_regions) == len(git), where
            for index, (conflict, (g_ours, g_base, g_theirs)) in enumerate(
                zip(ours_regions, git, strict=True)
            ):
                assert same_side(conflict.ours, g_ours), f"{where}, conflict {index}: ours"
                assert same_side(conflict.base, g_base), f"{where}, conflict {index}: base"
                assert same_side(conflict.theirs, g_theirs), f"{where}, conflict {index}: theirs"
            checked += 1
    assert checked > 0
