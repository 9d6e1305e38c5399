"""`mergebert resolve` replaces only the conflicts still marked in the working file (issue 10, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import GitRepo

NAME = "src/Pair.java"
FILLER = "".join(f"    int keep{i} = {i};\n" for i in range(6))  # keeps git from joining the conflicts


def pair(first: str, second: str) -> str:
    return f"class Pair {{\n    void f() {{ {first} }}\n{FILLER}    void g() {{ {second} }}\n}}\n"


BASE = pair("call(1, 2);", "other(1, 2);")
OURS = pair("call(10, 2);", "other(10, 2);")
THEIRS = pair("call(1, 20);", "other(1, 20);")
HAND = "    void f() { call(99, 99); }\n"


def block(text: str) -> tuple[int, int]:
    """Where the first conflict block of `text` starts and ends (its last marker line included)."""
    start = text.index("<<<<<<<")
    end = text.index("\n", text.index(">>>>>>>", start)) + 1
    return start, end


def stopped_merge(repo: GitRepo, ours: str = OURS) -> str:
    repo.diverge(NAME, BASE, ours, THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    text = repo.read(NAME).decode()
    assert text.count("<<<<<<<") == 2 if ours == OURS else 1
    return text


def test_a_hand_made_resolution_is_kept_and_the_rest_resolved(repo: GitRepo) -> None:
    text = stopped_merge(repo)
    start, end = block(text)
    by_hand = text[:start] + HAND + text[end:]
    repo.write(NAME, by_hand)
    result = repo.mergebert("resolve", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    second_start, second_end = block(by_hand)
    expected = by_hand[:second_start] + "    void g() { other(10, 20); }\n" + by_hand[second_end:]
    assert repo.read(NAME).decode() == expected
    assert result.stdout.splitlines()[1].split() == [
        NAME,
        "1",
        "1",
        "0",
        "1:not",
        "marked",
        "(kept)",
        "2:token-merge",
    ]


def test_a_conflict_edited_inside_its_markers_is_left_and_reported(repo: GitRepo) -> None:
    text = stopped_merge(repo)
    edited = text.replace("call(10, 2);", "call(11, 2);", 1)
    repo.write(NAME, edited)
    result = repo.mergebert("resolve", "--no-backup")
    assert result.returncode == 1
    start, end = block(edited)
    second_start, second_end = block(edited[end:])
    expected = edited[: end + second_start] + "    void g() { other(10, 20); }\n" + edited[end + second_end :]
    assert repo.read(NAME).decode() == expected
    assert "1 marked conflict(s) match none of git's" in result.stdout


def test_a_file_matching_none_of_gits_conflicts_is_left_alone(repo: GitRepo) -> None:
    text = stopped_merge(repo)
    edited = text.replace("call(10, 2);", "call(11, 2);", 1).replace("other(10, 2);", "other(11, 2);", 1)
    repo.write(NAME, edited)
    result = repo.mergebert("resolve")
    assert result.returncode == 1
    assert repo.read(NAME).decode() == edited
    assert not (repo.path / f"{NAME}.orig").exists()
    assert "2 marked conflict(s) match none of git's" in result.stdout


SHIPPED = Path(__file__).resolve().parent.parent / "mergebert" / "neural" / "model" / "model.onnx"


@pytest.mark.skipif(not SHIPPED.exists(), reason="no model shipped in mergebert/neural/model")
def test_a_file_the_driver_resolved_in_part_is_still_resolved(repo: GitRepo) -> None:
    ours = pair("call(10, 2);", "int port = 9090;")
    theirs = pair("call(1, 20);", "int port = 7070;")
    repo.diverge(NAME, pair("call(1, 2);", "int port = 8080;"), ours, theirs)
    repo.use_driver()
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    by_driver = repo.read(NAME).decode()
    assert "call(10, 20);" in by_driver and by_driver.count("<<<<<<<") == 1, by_driver
    del repo.env["MERGEBERT_MODEL"]  # the shipped model, at threshold 0: it answers every conflict
    result = repo.mergebert("resolve", "--threshold", "0", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    after = repo.read(NAME).decode()
    start, end = block(by_driver)
    assert after.startswith(by_driver[:start]) and after.endswith(by_driver[end:])
    assert "<<<<<<<" not in after and "port = " in after[start:]
