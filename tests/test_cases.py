"""Every case folder under tests/cases (see its README) through the installed `mergebert merge-file`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitrepo import MERGEBERT, isolated_env

CASES = Path(__file__).resolve().parent / "cases"
LANGUAGES = ("java", "javascript", "typescript", "tsx", "csharp")
LABELS = ("-L", "Left", "-L", "Base", "-L", "Right")


def case_dirs() -> list[Path]:
    return sorted(path.parent for path in CASES.glob("*/*/Base.*"))


def _sides(case: Path) -> list[str]:
    ext = next(case.glob("Base.*")).suffix
    return [str(case / f"{name}{ext}") for name in ("Left", "Base", "Right")]


def _merge_file(command: list[str], env: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode < 128, done.stderr
    return done.stdout, done.returncode


def test_every_language_has_a_resolved_and_a_conflicted_case() -> None:
    for language in LANGUAGES:
        expected = [next(case.glob("Expected.*")).read_text() for case in CASES.glob(f"{language}/*/")]
        assert any("<<<<<<< Left" in text for text in expected), f"{language}: no case that stays conflicted"
        assert any("<<<<<<<" not in text for text in expected), f"{language}: no case that resolves"


@pytest.mark.parametrize("case", case_dirs(), ids=lambda case: f"{case.parent.name}/{case.name}")
def test_case(case: Path, tmp_path: Path) -> None:
    expected = next(case.glob("Expected.*")).read_text()
    token_only = isolated_env(tmp_path / "home")
    git_text, git_status = _merge_file(["git", "merge-file", "-p", *LABELS, *_sides(case)], token_only)
    shipped = {key: value for key, value in token_only.items() if key != "MERGEBERT_MODEL"}
    outputs = {}
    for name, env in (("shipped model", shipped), ("token merge only", token_only)):
        text, status = _merge_file([MERGEBERT, "merge-file", "-p", *LABELS, *_sides(case)], env)
        assert text in (expected, git_text), f"{name}: neither the expected merge nor git's conflict"
        assert status == (git_status if text == git_text else 0), f"{name}: exit status {status}"
        outputs[name] = text
    assert expected in outputs.values(), "neither run gives the expected merge"
