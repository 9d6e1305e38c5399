"""The tree-sitter lexer: real grammars, exact rebuild, comments and strings split on whitespace."""

import pytest

from mergebert.core.languages import language_by_name, language_for_path, parser_for
from mergebert.core.lexer import comment_words, tokenize

SAMPLES = {
    "java": 'class A {\n  // a comment here\n  String s = "x y";\n  int f() { return a.b(1, 2); }\n}\n',
    "javascript": "const el = <div className='a'>hi there</div>;\nlet re = /a b/g;\n",
    "typescript": "function f<T>(x: T): Promise<T> {\n\treturn `v ${x} w`;\n}\n",
    "tsx": "export const C = () => <Foo bar={1}>text</Foo>;\r\n",
    "csharp": 'namespace N {\n    var s = $"x {y}"; /* two words */\n}',
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_tokens_rebuild_the_source_exactly(name: str) -> None:
    source = SAMPLES[name]
    tokens = tokenize(source, language_by_name(name))
    assert tokens.render() == source
    assert all(token.text and not token.text.isspace() for token in tokens.tokens)
    assert all(token.lead.isspace() or token.lead == "" for token in tokens.tokens)


def test_comments_and_strings_are_split_on_whitespace() -> None:
    texts = tokenize(SAMPLES["java"], language_by_name("java")).texts()
    assert texts[3:7] == ("//", "a", "comment", "here")
    assert '"x' in texts and 'y"' in texts


def test_leaves_are_tree_sitter_tokens() -> None:
    texts = tokenize("a.b(1, 2);", language_by_name("java")).texts()
    assert texts == ("a", ".", "b", "(", "1", ",", "2", ")", ";")


def test_unknown_language_uses_the_simple_tokenizer() -> None:
    assert language_for_path("notes.rb") is None
    tokens = tokenize("def f(x)\n  x += 1\nend\n", None)
    assert tokens.texts() == ("def", "f", "(", "x", ")", "x", "+", "=", "1", "end")
    assert tokens.render() == "def f(x)\n  x += 1\nend\n"


def test_fragments_with_syntax_errors_still_cover_every_character() -> None:
    fragment = "    foo(a, b\n  }\n  else {{ ) ;\n"
    assert tokenize(fragment, language_by_name("csharp")).render() == fragment


def test_whitespace_inside_a_literal_is_part_of_the_tokens_key_and_a_comments_is_not() -> None:
    tokens = tokenize('s = "a  b"; // c  d\n', language_by_name("java")).tokens
    keys = {token.text: token.key() for token in tokens}
    assert keys['b"'] == '  b"' and keys['"a'] == '"a'
    assert keys["d"] == "d"


def test_the_last_word_of_a_line_comment_is_marked() -> None:
    tokens = tokenize("x = 1; // set x\n/* block */ y = 2;\n", language_by_name("java")).tokens
    assert [t.text for t in tokens if t.ends_comment] == ["x"]
    assert [t.text for t in tokens if t.holds_its_line_end] == ["x"]


def test_comment_words_are_the_words_of_comments_only() -> None:
    text = 'String s = "// not a comment"; // a note\n/* two\n words */\n'
    tree = parser_for(language_by_name("java")).parse(text.encode())
    assert comment_words(tree, text.encode()) == {"//", "a", "note", "/*", "two", "words", "*/"}
