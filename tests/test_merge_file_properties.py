"""Property test: generated three-way inputs from real code with awkward properties (BOMs, CRLF, lines that
look like conflict markers, no final newline, paths starting with '-', odd marker sizes, diff3 style)
through the real `mergebert merge-file`, next to `git merge-file` on the same files.

Invariants: git's clean chunks are kept byte for byte and in order; where nothing is resolved, bytes and
exit status equal git's; the exit status is the number of conflicts left; the file written in place is
the printed result (never truncated).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from gitrepo import MERGEBERT, isolated_env
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from mergebert.core import markers
from mergebert.core.linemerge import merge_lines
from mergebert.core.splice import clean_segments, keeps
from mergebert.core.textio import decode_sides

JAVA = """\
package com.acme.ports;

import java.util.List;
import java.util.Map;

public class PortRegistry {
    private final Map<String, Integer> ports;
    private int fallback = 8080;

    public PortRegistry(Map<String, Integer> ports) {
        this.ports = ports;
    }

    public int lookup(String name) {
        Integer port = ports.get(name);
        if (port == null) {
            return fallback;
        }
        return port;
    }

    public List<String> names() {
        return List.copyOf(ports.keySet());
    }
}
""".splitlines()

TYPESCRIPT = """\
import { Cart } from "./cart";

export interface LineItem {
  id: string;
  quantity: number;
  unitPrice: number;
}

export function total(cart: Cart, items: LineItem[]): number {
  let sum = 0;
  for (const item of items) {
    sum += item.quantity * item.unitPrice;
  }
  if (cart.discount) {
    sum -= cart.discount;
  }
  return sum;
}
""".splitlines()

SOURCES = {".java": JAVA, ".ts": TYPESCRIPT}
MARKER_LIKE = ["<<<<<<< HEAD", "=======", ">>>>>>> topic", "||||||| base", "<<<", "========"]
NAMES = ["App", "-Dash", "--help", "-h"]
REPORT = re.compile(r"resolved (\d+) of (\d+) conflict")


@st.composite
def side(draw: st.DrawFn, base: list[str]) -> list[str]:
    """`base` with a few line edits: a token renamed, a line replaced, inserted or deleted."""
    lines = list(base)
    pool = JAVA + TYPESCRIPT + MARKER_LIKE
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        op = draw(st.sampled_from(["rename", "rename", "replace", "insert", "delete"]))
        if op == "insert" or not lines:
            lines.insert(at, draw(st.sampled_from(pool)))
        elif op == "delete":
            del lines[at]
        elif op == "replace":
            lines[at] = draw(st.sampled_from(pool))
        else:
            words = re.findall(r"[A-Za-z_]\w*|\d+", lines[at])
            if words:
                word = draw(st.sampled_from(words))
                lines[at] = lines[at].replace(word, word + draw(st.sampled_from(["2", "X", "_new"])), 1)
    return lines


@st.composite
def three_way(draw: st.DrawFn) -> dict:
    suffix = draw(st.sampled_from(sorted(SOURCES)))
    base = SOURCES[suffix]
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    texts = []
    for lines in (draw(side(base)), base, draw(side(base))):  # ours, base, theirs
        side_eol = eol if draw(st.integers(0, 4)) else draw(st.sampled_from(["\n", "\r\n"]))
        text = side_eol.join(lines) + (side_eol if draw(st.integers(0, 5)) else "")
        bom = b"\xef\xbb\xbf" if draw(st.integers(0, 6)) == 0 else b""
        texts.append(bom + text.encode("utf-8"))
    return {
        "ours": texts[0],
        "base": texts[1],
        "theirs": texts[2],
        "name": draw(st.sampled_from(NAMES)) + suffix,
        "marker_size": draw(st.sampled_from([7, 7, 7, 3, 8, 12])),
        "diff3": draw(st.booleans()),
        "labels": draw(st.sampled_from([(), ("mine", "old", "yours")])),
        "model": draw(st.sampled_from(["none", "none", "none", "shipped at threshold 0"])),
        "in_place": draw(st.integers(0, 2)) == 0,
    }


BOM = b"\xef\xbb\xbf"


def run(command: list[str], folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, check=False, timeout=120)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(three_way())
def test_merge_file_keeps_gits_merge(case: dict) -> None:
    with tempfile.TemporaryDirectory(prefix="mergebert-prop-") as tmp:
        folder = Path(tmp)
        env = isolated_env(folder / "home")
        if case["model"] != "none":
            env.pop("MERGEBERT_MODEL")
            env["MERGEBERT_THRESHOLD"] = "0"
        current, base, other = case["name"], "base" + case["name"], "other" + case["name"]
        for name, data in ((current, case["ours"]), (base, case["base"]), (other, case["theirs"])):
            (folder / name).write_bytes(data)
        options = [f"--marker-size={case['marker_size']}", *(["--diff3"] if case["diff3"] else [])]
        for label in case["labels"]:
            options += ["-L", label]
        files = ["--", current, base, other]
        git = run(["git", "merge-file", "-p", *options, *files], folder, env)
        ours = run([MERGEBERT, "merge-file", "-p", *options, *files], folder, env)
        if case["in_place"]:
            in_place = run([MERGEBERT, "merge-file", *options, *files], folder, env)
            written = (folder / current).read_bytes()
            assert (in_place.returncode, written) == (ours.returncode, ours.stdout), "the file is the result"
    stderr = ours.stderr.decode("utf-8", "replace")
    assert git.returncode < 128 and ours.returncode < 128, stderr
    report = REPORT.search(stderr)
    resolved = int(report.group(1)) if report else 0
    if resolved == 0:
        assert (ours.returncode, ours.stdout) == (git.returncode, git.stdout), stderr
        return
    texts, bom = decode_sides(case["base"], case["ours"], case["theirs"])  # git's view of a BOM change
    output = ours.stdout.decode("utf-8").removeprefix("\ufeff" if bom else "")
    assert keeps(clean_segments(merge_lines(*texts)), output), "git's clean chunks are kept in order"
    label = (case["labels"] or [current])[0]
    left = len(re.findall(f"^{'<' * case['marker_size']} {re.escape(label)}\r?$", output, re.MULTILINE))
    assert ours.returncode == left, stderr
    assert not markers.pattern(case["marker_size"], "<").search(output) or left, "markers only where left"


def versions(case: dict) -> list[bytes]:
    """A generated input's ours, base and theirs."""
    return [case["ours"], case["base"], case["theirs"]]


AWKWARD = {
    "a BOM": lambda case: any(data.startswith(BOM) for data in versions(case)),
    "CRLF": lambda case: any(b"\r\n" in data for data in versions(case)),
    "mixed line endings": lambda case: len({b"\r\n" in data for data in versions(case)}) == 2,
    "no final newline": lambda case: any(not data.endswith(b"\n") for data in versions(case)),
    "a line like a marker": lambda case: any(
        line.rstrip(b"\r").decode() in MARKER_LIKE for data in versions(case) for line in data.splitlines()
    ),
    "a path starting with '-'": lambda case: case["name"].startswith("-"),
    "an odd marker size": lambda case: case["marker_size"] != 7,
    "the diff3 style": lambda case: case["diff3"],
    "labels": lambda case: bool(case["labels"]),
    "the shipped model": lambda case: case["model"] != "none",
    "a merge in place": lambda case: case["in_place"],
}


@pytest.mark.parametrize("awkward", sorted(AWKWARD))
def test_the_inputs_generated_include_each_awkward_property(awkward: str) -> None:
    """The property test's inputs reach every property its docstring promises (found, or this fails)."""
    find(three_way(), AWKWARD[awkward], settings=settings(database=None, phases=[Phase.generate]))


def test_a_bom_removed_by_one_side_conflicts_as_in_git(tmp_path: Path) -> None:
    """git sees the BOM as part of the first line: theirs drops it, ours changes every line ending, so the
    first line conflicts; mergebert sees that conflict too, and its token merge keeps both changes."""
    env = isolated_env(tmp_path / "home")
    files = ["App.java", "base.java", "o.java"]
    for name, data in zip(files, (BOM + b"a\r\nb\r\n", BOM + b"a\nb\n", b"a\nb\n"), strict=True):
        (tmp_path / name).write_bytes(data)
    git = run(["git", "merge-file", "-p", *files], tmp_path, env)
    ours = run([MERGEBERT, "merge-file", "-p", *files], tmp_path, env)
    assert git.returncode == 1
    assert ours.stderr.decode() == "mergebert: App.java: resolved 1 of 1 conflict\n"
    assert (ours.returncode, ours.stdout) == (0, b"a\r\nb\r\n")
