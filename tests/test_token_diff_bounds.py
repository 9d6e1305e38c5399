"""Inputs that made the old difflib token alignment take tens of seconds, through `mergebert merge-file`,
and the deterministic bound on token-diff work per file."""

from __future__ import annotations

from pathlib import Path

from gitrepo import GitRepo

from mergebert.core.languages import language_by_name
from mergebert.core.resolver import MAX_FILE_TOKENS, resolve_text


def table_line(cells: int, changes: dict[int, str]) -> str:
    """One Java line holding an int table of `cells` numbers, some replaced."""
    values = [changes.get(i, str((i * 7) % 10)) for i in range(cells)]
    return f"    static final int[] T = {{{','.join(values)}}};\n"


def write_sides(folder: Path, base: str, ours: str, theirs: str) -> list[str]:
    paths = []
    for name, text in (("current", ours), ("base", base), ("other", theirs)):
        path = folder / f"{name}.java"
        path.write_text(text)
        paths.append(str(path))
    return paths


def test_a_one_line_table_of_6kb_resolves(repo: GitRepo) -> None:
    """The issue's 6.4 KB table: both sides edit different cells of the one line."""
    cells = 3200

    def side(changes: dict[int, str]) -> str:
        return "class T {\n" + table_line(cells, changes) + "}\n"

    paths = write_sides(repo.path, side({}), side({1000: "42"}), side({2500: "43"}))
    assert repo.git("merge-file", "-p", *paths, check=False).returncode == 1
    result = repo.mergebert("merge-file", "-p", *paths)
    assert (result.returncode, result.stdout) == (0, side({1000: "42", 2500: "43"}))


def test_deeply_nested_brackets_resolve(repo: GitRepo) -> None:
    """A 6 KB one-line expression of nested calls edited at its innermost and outermost ends."""
    depth = 1500

    def side(outer: str, inner: str) -> str:
        return f"class N {{\n    int x = {outer}({'f(' * depth}{inner}{')' * depth});\n}}\n"

    paths = write_sides(repo.path, side("g", "0"), side("g", "1"), side("h", "0"))
    assert repo.git("merge-file", "-p", *paths, check=False).returncode == 1
    result = repo.mergebert("merge-file", "-p", *paths)
    assert (result.returncode, result.stdout) == (0, side("h", "1"))


def test_conflicts_past_the_files_token_bound_are_left_as_git_wrote_them(repo: GitRepo) -> None:
    """Three one-line conflicts of about 16,000 tokens each: the third passes the file's bound."""
    cells = 2700
    lines = 3
    base = ["class T {\n", *(table_line(cells, {}) for _ in range(lines)), "}\n"]
    ours = ["class T {\n", *(table_line(cells, {10: "42"}) for _ in range(lines)), "}\n"]
    theirs = ["class T {\n", *(table_line(cells, {2600: "43"}) for _ in range(lines)), "}\n"]
    # keep the line conflicts apart with unchanged lines between them
    for sides in (base, ours, theirs):
        for at in (3, 2):
            sides.insert(at, "    int keep;\n")
    texts = ["".join(sides) for sides in (base, ours, theirs)]
    result = resolve_text(*texts, lang=language_by_name("java"))
    assert [r.reason for r in result.resolutions] == [
        "resolved",
        "resolved",
        f"past the file's bound on token-diff work ({MAX_FILE_TOKENS} tokens)",
    ]
    paths = write_sides(repo.path, *texts)
    ours_run = repo.mergebert("merge-file", "-p", *paths)
    assert ours_run.returncode == 1
    merged = table_line(cells, {10: "42", 2600: "43"})
    assert ours_run.stdout.count(merged) == 2
    assert ours_run.stdout.count("<<<<<<<") == 1
