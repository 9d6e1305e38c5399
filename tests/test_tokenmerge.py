"""Token-level diff3."""

from mergebert.core.languages import language_by_name
from mergebert.core.lexer import tokenize
from mergebert.core.tokenmerge import MergedRun, TokenConflict, diff3_tokens, token_conflicts

JAVA = language_by_name("java")


def merge(ours: str, base: str, theirs: str):
    return diff3_tokens(tokenize(ours, JAVA), tokenize(base, JAVA), tokenize(theirs, JAVA))


def merged_text(items) -> str:
    assert not token_conflicts(items)
    return "".join(t.lead + t.text for item in items for t in item.tokens)


def test_changes_to_different_tokens_merge_cleanly() -> None:
    items = merge("  foo(a2, b);", "  foo(a, b);", "  foo(a, b3);")
    assert merged_text(items) == "  foo(a2, b3);"
    assert [item.source for item in items if isinstance(item, MergedRun) and item.source != "base"] == [
        "a",
        "b",
    ]


def test_same_change_on_both_sides_is_taken_once() -> None:
    assert merged_text(merge("x = 2;", "x = 1;", "x = 2;")) == "x = 2;"


def test_different_changes_to_one_token_conflict() -> None:
    items = merge("foo(x, b);", "foo(a, b);", "foo(y, b);")
    conflicts = token_conflicts(items)
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert isinstance(conflict, TokenConflict)
    assert ([t.text for t in conflict.a], [t.text for t in conflict.base], [t.text for t in conflict.b]) == (
        ["x"],
        ["a"],
        ["y"],
    )


def test_whitespace_only_differences_are_not_changes() -> None:
    assert merged_text(merge("f(a,  b);", "f(a, b);", "f(a, b);")) == "f(a,  b);"


def test_insertion_by_theirs_keeps_their_line_break() -> None:
    items = merge("  LineItemUpdate\n", "  LineItemUpdate,\n", "  isCart,\n  LineItemUpdate,\n")
    assert merged_text(items) == "  isCart,\n  LineItemUpdate"


def test_deletion_by_theirs_keeps_the_line_break_it_held() -> None:
    """theirs deleted `this.`, the tokens that held the line break: the next line must not be joined."""
    ours = "f() {\n  this._assertUnremoved();\n"
    base = "f() {\n  this._assertUnremoved();\n"
    theirs = "f() {\n  _assertUnremoved.call(this);\n"
    items = merge(ours.replace("f()", "g(x)"), base, theirs)
    assert merged_text(items) == "g(x) {\n  _assertUnremoved.call(this);"


def test_whitespace_inside_a_string_is_a_change() -> None:
    """theirs fixes a double space inside a string, ours edits another token: both edits are kept."""
    items = merge('s = "a  b"; n = 2;', 's = "a  b"; n = 1;', 's = "a b"; n = 1;')
    assert merged_text(items) == 's = "a b"; n = 2;'


def test_different_whitespace_inside_one_string_conflicts() -> None:
    assert token_conflicts(merge('s = "a   b";', 's = "a  b";', 's = "a b";'))


def test_a_side_that_reindents_keeps_its_indentation_beside_the_others_edit() -> None:
    items = merge("{\n    g(1, 3);\n}", "{\n    g(1, 2);\n}", "{\n\tg(4, 2);\n}")
    assert merged_text(items) == "{\n\tg(4, 3);\n}"


def test_whitespace_both_sides_changed_is_ours() -> None:
    assert merged_text(merge("{\n  g(1, 3);", "{\n    g(1, 2);", "{\n\tg(1, 2);")) == "{\n  g(1, 3);"


def test_an_insertion_by_theirs_ends_its_line_where_ours_moved_the_next_token() -> None:
    """ours took the blank line away before `stop`, theirs inserted a comment line there: ours' lead
    (no line break) must not follow theirs' comment, which would then swallow `stop(2);`."""
    items = merge("  stop(2);", "\n  stop(1);", "  // the pump first\n  stop(1);")
    assert merged_text(items) == "  // the pump first\n  stop(2);"


def test_an_insertion_by_ours_ends_its_line_where_theirs_moved_the_next_token() -> None:
    items = merge("  // the pump first\n  stop(1);", "\n  stop(1);", "  stop(2);")
    assert merged_text(items) == "  // the pump first\n  stop(2);"


def test_a_line_theirs_joined_stays_joined_after_ours_change() -> None:
    """No line comment ends ours' change: theirs' joining of the call's lines is kept."""
    items = merge(
        "call(first, extra,\n        second);", "call(first,\n        second);", "call(first, second);"
    )
    assert merged_text(items) == "call(first, extra, second);"


def test_a_token_theirs_put_after_its_return_on_one_line_stays_on_it() -> None:
    """ours re-indents the line, theirs puts `return` before its call: a line break there would return
    nothing in JavaScript."""
    items = merge("    compute(a);", "  compute(a);", "  return compute(a);")
    assert merged_text(items) == "  return compute(a);"


def test_a_return_theirs_added_inside_lines_ours_reindented_keeps_its_call() -> None:
    items = merge(
        "  try {\n    row = get(id)\n    decode(row)\n",
        "  row = get(id)\n  decode(row)\n",
        "  row = get(id)\n  return decode(row)\n",
    )
    assert "return decode(row)" in merged_text(items)


def test_a_line_break_added_in_a_crlf_conflict_is_crlf() -> None:
    items = merge("  stop(2);\r\n", "\r\n  stop(1);\r\n", "  // the pump first\r\n  stop(1);\r\n")
    assert merged_text(items) == "  // the pump first\r\n  stop(2);"
