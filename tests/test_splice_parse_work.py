"""How much the splice's parse check parses per conflict, and that its verdicts hold however it is bounded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import tree_sitter
from proposing import Proposes

from mergebert.core import splice
from mergebert.core.candidates import ConflictInput
from mergebert.core.languages import Language, language_by_name
from mergebert.core.resolver import resolve_text

JAVA = language_by_name("java")


def servers(count: int, every: int, side: str) -> str:
    """A method starting `count` servers; ours changes the host and theirs the flag of every `every`th
    server (one line conflict each, that the token merge settles); "merged" has both changes."""
    lines = []
    for i in range(count):
        edited = i % every == 0
        host = "prod" if edited and side in ("ours", "merged") else "localhost"
        flag = "true" if edited and side in ("theirs", "merged") else "false"
        lines.append(f'        Server s{i} = new Server("{host}", {i}, {flag});\n')
        lines.append(f"        s{i}.start();\n        log.info({i});\n")
    return "class S {\n    void run() {\n" + "".join(lines) + "    }\n}\n"


def sides(count: int, every: int) -> tuple[str, str, str]:
    return servers(count, every, "base"), servers(count, every, "ours"), servers(count, every, "theirs")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the parse check parses, in order: `splice.parse` wrapped to record its argument and
    call through, unchanged otherwise. A spy on our own code, kept because these tests are about work
    that leaves no trace outside the process: each parse is made on a tree-sitter parser of its own
    (`languages.parser_for`), there is no shared parser whose logger could count them, and the
    only other measure, time, is not something tests assert."""
    texts: list[str] = []
    parse = splice.parse

    def counting(text: str, lang: Language) -> tree_sitter.Tree:
        texts.append(text)
        return parse(text, lang)

    monkeypatch.setattr(splice, "parse", counting)
    return texts


def ours_with(old: str, *news: str) -> Proposes:
    """A classifier proposing, for every conflict, its ours with `old` replaced by each of `news`."""

    def replaced(new: str) -> Callable[[ConflictInput], str]:
        return lambda conflict: conflict.ours.replace(old, new)

    return Proposes.alike(*map(replaced, news), confidence=0.9)


def test_a_file_checked_whole_is_parsed_with_ours_once(parsed: list[str]) -> None:
    """Every check shows the other conflicts as ours, so the file with ours in place is one text for all
    of them: it is parsed once, and each conflict adds the file with its theirs and with its candidate."""
    result = resolve_text(*sides(60, 6), lang=JAVA)
    assert (result.conflicts, result.left, result.text) == (10, 0, servers(60, 6, "merged"))
    assert len(parsed) == 1 + 2 * 10
    assert all(len(text) >= len(result.text) - 100 for text in parsed), "each is the whole file"


def test_past_the_work_bound_each_conflict_is_checked_on_a_window(parsed: list[str]) -> None:
    base, ours, theirs = sides(600, 6)
    assert len(ours) * 100 > splice.WHOLE_FILE_WORK > len(ours) * 10 and len(ours) < splice.WHOLE_FILE_LIMIT
    result = resolve_text(base, ours, theirs, lang=JAVA)
    assert (result.conflicts, result.left, result.text) == (100, 0, servers(600, 6, "merged"))
    assert len(parsed) == 3 * 100
    assert max(text.count("\n") for text in parsed) <= 2 * splice.WINDOW_LINES + 1


@pytest.mark.parametrize("count", [60, 600], ids=["whole file", "windows"])
def test_a_candidate_that_breaks_the_parse_is_still_refused(count: int) -> None:
    """Shared or windowed, the check refuses a candidate that makes the file parse worse than the sides."""
    base, ours, theirs = sides(count, 6)
    broken = ours_with('"prod", ', '"prod" ')
    result = resolve_text(base, ours, theirs, lang=JAVA, classifier=broken)
    assert result.left == result.conflicts == count // 6
    assert {resolution.reason for resolution in result.resolutions} == {"no candidate parses"}
    then_good = ours_with('"prod", ', '"prod" ', '"prod", ')
    result = resolve_text(base, ours, theirs, lang=JAVA, classifier=then_good)
    assert (result.left, result.text) == (0, ours)


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""], ids=["LF", "CRLF", "no final newline"])
def test_a_window_is_the_lines_around_its_conflict(ending: str) -> None:
    """Past the work bound, a conflict's view is the WINDOW_LINES lines before and after it in the file
    with every other conflict as ours, whatever lines lie nearer or farther than other conflicts."""
    from mergebert.core.linemerge import LineConflict, merge_lines
    from mergebert.core.textio import split_lines

    base, ours, theirs = (text.replace("\n", "\r\n") if ending == "\r\n" else text for text in sides(900, 7))
    if not ending:
        base, ours, theirs = (text.rstrip("\n") for text in (base, ours, theirs))
    chunks = merge_lines(base, ours, theirs)
    positions = [at for at, chunk in enumerate(chunks) if isinstance(chunk, LineConflict)]
    assert len(ours) * len(positions) > splice.WHOLE_FILE_WORK
    shown = [
        "".join(c.ours if isinstance(c, LineConflict) else c.text for c in chunks[:at]) for at in positions
    ]
    for index in (0, 1, 30, len(positions) - 2, len(positions) - 1):
        at = positions[index]
        after = "".join(c.ours if isinstance(c, LineConflict) else c.text for c in chunks[at + 1 :])
        view = splice.FileView(chunks, index)
        assert view.conflict is chunks[at]
        assert view.before == "".join(split_lines(shown[index])[-splice.WINDOW_LINES :])
        assert view.after == "".join(split_lines(after)[: splice.WINDOW_LINES])


def test_a_candidate_with_comments_adds_only_the_parse_with_the_base_in_place(parsed: list[str]) -> None:
    """The comment check reads the sides' comments from the parses the error count made (ours', theirs'),
    and parses the file once more, with the base in place."""
    base = "class S {\n  // start the pump\n  int a = 1;\n}\n"
    ours = "class S {\n  // start the big pump\n  int a = 2;\n}\n"
    theirs = "class S {\n  // start the pump now\n  int a = 1;\n}\n"
    result = resolve_text(base, ours, theirs, lang=JAVA)
    assert (result.conflicts, result.left) == (1, 0)
    assert "// start the big pump now\n  int a = 2;" in result.text
    assert len(parsed) == 4, "ours, theirs, the candidate, and the base"
