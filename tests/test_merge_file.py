"""`mergebert merge-file` against `git merge-file`: arguments, labels, output place and exit status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
)


def sides(folder: Path, base: str, ours: str, theirs: str, suffix: str = ".java") -> list[str]:
    """Write current/base/other files; their paths, in merge-file's order."""
    paths = []
    for name, text in (("current", ours), ("base", base), ("other", theirs)):
        path = folder / f"{name}{suffix}"
        path.write_text(text)
        paths.append(str(path))
    return paths


def test_resolves_in_place_with_exit_zero(repo: GitRepo) -> None:
    current, base, other = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", current, base, other)
    assert result.returncode == 0 and result.stdout == ""
    assert Path(current).read_text() == TOKEN_MERGED


def test_stdout_leaves_current_untouched(repo: GitRepo) -> None:
    current, base, other = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", "-p", current, base, other)
    assert result.returncode == 0
    assert result.stdout == TOKEN_MERGED
    assert Path(current).read_text() == TOKEN_OURS


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--diff3",),
        ("-L", "mine", "-L", "original", "-L", "yours"),
        ("-L", "only-ours"),
        ("--marker-size", "9", "--diff3"),
    ],
)
def test_unresolvable_output_and_status_equal_gits(repo: GitRepo, options: tuple[str, ...]) -> None:
    paths = sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    ours = repo.mergebert("merge-file", "-p", *options, *paths)
    git = repo.git("merge-file", "-p", *options, *paths, check=False)
    assert (ours.returncode, ours.stdout) == (git.returncode, git.stdout) == (1, git.stdout)


@pytest.mark.parametrize("option", ["--ours", "--theirs", "--union"])
@pytest.mark.parametrize(
    "texts", [(TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)]
)
def test_a_favoured_side_gives_gits_merge(repo: GitRepo, option: str, texts: tuple[str, str, str]) -> None:
    """git merge-file --ours/--theirs/--union settles every conflict its way; mergebert does not decide."""
    paths = sides(repo.path, *texts)
    ours = repo.mergebert("merge-file", "-p", option, *paths)
    git = repo.git("merge-file", "-p", option, *paths, check=False)
    assert (ours.returncode, ours.stdout) == (git.returncode, git.stdout) == (0, git.stdout)


def test_zdiff3_output_equals_gits(repo: GitRepo) -> None:
    paths = sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    ours = repo.mergebert("merge-file", "-p", "--zdiff3", *paths)
    git = repo.git("merge-file", "-p", "--zdiff3", *paths, check=False)
    assert (ours.returncode, ours.stdout) == (git.returncode, git.stdout) == (1, git.stdout)
    assert "|||||||" in ours.stdout


def test_conflict_style_from_git_config(repo: GitRepo) -> None:
    repo.git("config", "merge.conflictStyle", "diff3")
    paths = [Path(p).name for p in sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)]
    ours = repo.mergebert("merge-file", "-p", *paths)
    assert ours.stdout == repo.git("merge-file", "-p", *paths, check=False).stdout
    assert "||||||| base.java" in ours.stdout


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_conflict_style_from_the_users_config_only_where_git_merge_file_reads_it(
    tmp_path: Path, git_env: dict[str, str], where: str
) -> None:
    """Older releases of git merge-file read the config only in a repository (outside one they ignore the
    user's merge.conflictStyle); mergebert's bytes and exit status are the local git's either way."""
    folder = GitRepo.init(tmp_path / "repo", git_env).path if where == "inside" else tmp_path / "alone"
    folder.mkdir(exist_ok=True)
    outside = GitRepo(folder, git_env)
    outside.git("config", "--global", "merge.conflictStyle", "diff3")
    assert (outside.git("rev-parse", "--git-dir", check=False).returncode == 0) == (where == "inside")
    paths = [Path(p).name for p in sides(folder, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)]
    ours = outside.mergebert("merge-file", "-p", *paths)
    git = outside.git("merge-file", "-p", *paths, check=False)
    assert (ours.returncode, ours.stdout) == (git.returncode, git.stdout) == (1, git.stdout)


def test_exit_status_counts_conflicts_up_to_127(repo: GitRepo) -> None:
    blocks = 130
    keep = "".join(f"unchanged line {j}\n" for j in range(4))  # git joins conflicts closer than that
    base = "".join(f"{keep}base {i}\n" for i in range(blocks))
    paths = sides(
        repo.path, base, base.replace("base", "ours"), base.replace("base", "theirs"), suffix=".txt"
    )
    assert repo.git("merge-file", "-p", *paths, check=False).returncode == 127
    assert repo.mergebert("merge-file", "-p", *paths).returncode == 127
    texts = [f"{keep}first {side}\n{keep}second {side}\n" for side in ("base", "ours", "theirs")]
    two = sides(repo.path, *texts, suffix=".txt")
    assert repo.mergebert("merge-file", "-p", *two).returncode == 2


NARROWED_BASE = (
    'class G {\n  String greet(String name) {\n    return "Hello, " + name;\n  }\n\n  void one() {}\n\n'
    "  void two() {}\n\n  void setup() {\n    alpha();\n    omega();\n  }\n}\n"
)


def narrowed_side(greeting: str, name: str, call: str) -> str:
    """NARROWED_BASE with its greeting changed, and four lines put in `setup` between changed calls."""
    shared = "    s1();\n    s2();\n    s3();\n    s4();\n"
    setup = f"    alpha{call};\n{shared}    omega{call};\n"
    text = NARROWED_BASE.replace('"Hello, "', greeting).replace("+ name;", name)
    return text.replace("    alpha();\n    omega();\n", setup)


# a conflict the token merge settles, then one it leaves whose sides share four lines: one region of the
# line merge, that git writes in merge style as two blocks (it narrows it so)
NARROWED = (
    NARROWED_BASE,
    narrowed_side('"Hi, "', "+ name;", "Ours(1)"),
    narrowed_side('"Hello, "', "+ name.trim();", "Theirs(2)"),
)


def test_exit_status_and_report_count_the_conflict_blocks_written(repo: GitRepo) -> None:
    """The exit status counts the blocks, as git's counts what it writes, and so does the line on stderr.
    (No model: the token merge settles the other conflict whatever a model decides.)"""
    paths = sides(repo.path, *NARROWED)
    merged = repo.mergebert("merge-file", "-p", "--model", "none", *paths)
    assert 'return "Hi, " + name.trim();' in merged.stdout, "the first conflict is resolved"
    assert merged.stdout.count("<<<<<<<") == 2
    assert merged.returncode == 2
    assert "resolved 1 of 3 conflicts (2 left: token conflict left)" in merged.stderr, merged.stderr


def test_exit_status_does_not_count_marker_like_lines_of_the_clean_text(repo: GitRepo) -> None:
    """A comment all three sides share shows a conflict: no conflict of git's, and not counted."""
    example = "  /* a conflict looks like:\n<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n  */\n"
    base = (
        f'class G {{\n{example}  String greet(String name) {{\n    return "Hello, " + name;\n  }}\n\n'
        "  void one() {}\n\n  void two() {}\n\n  int k() {\n    return 0;\n  }\n}\n"
    )
    ours = base.replace('"Hello, "', '"Hi, "').replace("return 0;", "return 1;")
    theirs = base.replace("+ name;", "+ name.trim();").replace("return 0;", "return 2;")
    merged = repo.mergebert("merge-file", "-p", "--model", "none", *sides(repo.path, base, ours, theirs))
    assert 'return "Hi, " + name.trim();' in merged.stdout and "return 1;" in merged.stdout
    assert merged.returncode == 1, "one conflict left, one block written"


def test_language_and_path_options_choose_the_grammar(repo: GitRepo) -> None:
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, suffix=".tmp")
    for option in (("--language", "java"), ("--path", "src/App.java")):
        result = repo.mergebert("merge-file", "-p", *option, *paths)
        assert result.returncode == 0 and result.stdout == TOKEN_MERGED


@pytest.mark.parametrize(
    ("problem", "status"),
    [
        ("missing file", 255),
        ("binary", 255),
        ("unknown language", 129),
        ("bad option", 129),
        ("four labels", 129),
    ],
)
def test_errors_exit_255_and_usage_errors_129(repo: GitRepo, problem: str, status: int) -> None:
    """As git merge-file's: 255 for a file it cannot merge, 129 for a command line it cannot use."""
    current, base, other = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    args = [current, base, other]
    if problem == "missing file":
        args[1] = str(repo.path / "nope.java")
    elif problem == "binary":
        Path(base).write_bytes(b"\0\1\2")
    elif problem == "unknown language":
        args = ["--language", "cobol", *args]
    elif problem == "bad option":
        args = ["--no-such-option", *args]
    else:
        args = ["-L", "a", "-L", "b", "-L", "c", "-L", "d", *args]
    result = repo.mergebert("merge-file", *args)
    assert result.returncode == status
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert Path(current).read_text() == TOKEN_OURS


def test_unusable_model_falls_back_to_the_token_merge(repo: GitRepo) -> None:
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    result = repo.mergebert("merge-file", "-p", "--model", str(repo.path / "no-model"), *paths)
    assert result.returncode == 0
    assert result.stdout == TOKEN_MERGED
    assert sum("model unavailable" in line for line in result.stderr.splitlines()) == 1


def _merge_in_place(repo: GitRepo, texts: tuple[bytes, bytes, bytes], *options: str) -> tuple[int, bytes]:
    """merge-file over copies of (base, ours, theirs) in place: its exit status and the file's bytes."""
    folder = repo.path / f"run{len(list(repo.path.glob('run*')))}"
    folder.mkdir()
    paths = []
    for name, data in zip(("base", "current", "other"), texts, strict=True):
        (folder / f"{name}.java").write_bytes(data)
        paths.append(str(folder / f"{name}.java"))
    base, current, other = paths
    options = (*options, "-L", "ours", "-L", "base", "-L", "theirs")
    if options[:1] == ("git",):
        status = repo.git("merge-file", *options[1:], current, base, other, check=False).returncode
    else:
        status = repo.mergebert("merge-file", *options, current, base, other).returncode
    return status, Path(current).read_bytes()


CRLF_BASE = b"class A {\n    void f() {\n        int x = foo(1, 2);\n    }\n}\n"


def _crlf(text: bytes) -> bytes:
    return text.replace(b"\n", b"\r\n")


@pytest.mark.parametrize(
    "ours, theirs, merged",
    [
        (
            CRLF_BASE.replace(b"(1, 2)", b"(10, 2)"),
            _crlf(CRLF_BASE),
            _crlf(CRLF_BASE.replace(b"(1, 2)", b"(10, 2)")),
        ),
        (
            CRLF_BASE.replace(b"(1, 2)", b"(10, 2)"),
            _crlf(CRLF_BASE.replace(b"(1, 2)", b"(1, 20)")),
            _crlf(CRLF_BASE.replace(b"(1, 2)", b"(10, 20)")),
        ),
        (
            _crlf(CRLF_BASE.replace(b"(1, 2)", b"(10, 2)")),
            CRLF_BASE.replace(b"(1, 2)", b"(1, 20)"),
            _crlf(CRLF_BASE.replace(b"(1, 2)", b"(10, 20)")),
        ),
    ],
    ids=["theirs-converts", "theirs-converts-and-edits", "ours-converts-theirs-edits"],
)
@pytest.mark.parametrize("model", ["shipped", "none"])
def test_a_side_converting_line_endings_keeps_its_conversion(
    repo: GitRepo, ours: bytes, theirs: bytes, merged: bytes, model: str
) -> None:
    """One side converted every line ending: a merge keeps the conversion with the other side's edits
    (the token merge gives it; the shipped model gives it or leaves git's conflict), never one side's
    endings alone or a mix line by line."""
    if model == "shipped":
        del repo.env["MERGEBERT_MODEL"]
    git = _merge_in_place(repo, (CRLF_BASE, ours, theirs), "git")
    assert git[0] == 1
    result = _merge_in_place(repo, (CRLF_BASE, ours, theirs))
    assert result in ((0, merged), git)
    if model == "none":
        assert result == (0, merged)


@pytest.mark.parametrize(
    "base, ours, theirs",
    [  # ours converted to CRLF, theirs mixes both: no merge can keep both sides' endings
        (
            CRLF_BASE,
            _crlf(CRLF_BASE.replace(b"(1, 2)", b"(10, 2)")),
            CRLF_BASE.replace(b"(1, 2);\n", b"(1, 20);\r\n"),
        ),
        # one line each: theirs' LF line in a CRLF file is an edit, not a conversion of the file
        (b"x();\r\nf(1, 2);\r\n", b"x();\r\nf(10, 2);\r\n", b"x();\r\nf(1, 20);\n"),
    ],
    ids=["mixed", "one-line"],
)
@pytest.mark.parametrize("model", ["shipped", "none"])
def test_sides_that_end_lines_differently_otherwise_keep_gits_conflict(
    repo: GitRepo, base: bytes, ours: bytes, theirs: bytes, model: str
) -> None:
    if model == "shipped":
        del repo.env["MERGEBERT_MODEL"]
    git = _merge_in_place(repo, (base, ours, theirs), "git")
    assert git[0] == 1
    assert _merge_in_place(repo, (base, ours, theirs)) == git


@pytest.mark.parametrize("size", ["10", "3"])
def test_a_side_holding_markers_of_the_size_in_use_keeps_gits_conflict(repo: GitRepo, size: str) -> None:
    """A side already holding marker lines of the size in use is never resolved: the output would hold
    markers that look like a conflict left, with exit status 0."""
    marker = int(size)
    base = b"class A {\n    int x = f(1, 2);\n}\n"
    ours = b"class A {\n    int x = f(10, 2); /*\n" + b"<" * marker + b" old\n" + b"=" * marker + b"\n*/\n}\n"
    theirs = b"class A {\n    int x = f(1, 20);\n}\n"
    git = _merge_in_place(repo, (base, ours, theirs), "git", "--marker-size", size)
    assert git[0] == 1
    assert _merge_in_place(repo, (base, ours, theirs), "--marker-size", size) == git


@pytest.mark.parametrize("style", ["diff3", "merge"])
def test_outside_a_repository_the_config_is_listed_once(
    tmp_path: Path, git_env: dict[str, str], style: str
) -> None:
    """The conflict style, the model and the threshold are read from one `git config --list` outside a
    repository too, as inside one (a conflict style other than git's default asked for it again)."""
    folder = tmp_path / "alone"
    folder.mkdir()
    outside = GitRepo(folder, git_env)
    outside.git("config", "--global", "merge.conflictStyle", style)
    assert outside.git("rev-parse", "--git-dir", check=False).returncode != 0
    paths = [Path(p).name for p in sides(folder, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)]
    log = tmp_path / "trace"
    outside.env.update(GIT_TRACE2=str(log), GIT_TRACE2_BRIEF="1")
    assert outside.mergebert("merge-file", "-p", *paths).returncode == 1
    listed = [line for line in log.read_text().splitlines() if line.startswith("start git config --list")]
    assert len(listed) == 1, listed


def test_a_file_name_that_is_not_utf8_labels_the_conflict_left(repo: GitRepo) -> None:
    """A file resolved in part is rebuilt from libgit2's merge, with its name as label: as bytes, as git's."""
    gap = "".join(f"        step({n});\n" for n in range(12))

    def text(host: str, flag: str, port: int) -> str:
        call = f'        new Server("{host}", 80, {flag});\n'
        return f"class A {{\n    void run() {{\n{call}{gap}        int port = {port};\n    }}\n}}\n"

    names = [
        os.path.join(os.fsencode(repo.path), name) for name in (b"caf\xe9.java", b"base.java", b"o.java")
    ]
    for path, content in zip(
        names,
        (text("0.0.0.0", "false", 9090), text("localhost", "false", 8080), text("localhost", "true", 7070)),
        strict=True,
    ):
        with open(path, "w") as f:
            f.write(content)
    merged = repo.run("mergebert", "merge-file", "-p", *names, text=False, check=False)
    assert merged.returncode == 1 and b"error" not in merged.stderr, merged.stderr
    assert b'new Server("0.0.0.0", 80, true);' in merged.stdout
    assert b"<<<<<<< " + names[0] + b"\n        int port = 9090;\n" in merged.stdout


def test_a_conflict_left_is_narrowed_as_git_narrows_it(repo: GitRepo) -> None:
    """Beside a conflict it resolves, the conflict mergebert leaves is written as git writes it: narrowed
    by a diff of ours against theirs alone (which keeps all of ours here), not by a merge of its sides."""
    keep = "".join(f"    keep({i});\n" for i in range(6))
    texts = [
        f"    call({call});\n{keep}{steps}"
        for call, steps in (
            ("1, 2", "    close();\n    int x = 1;\n    close();\n    close();\n"),
            ("10, 2", "    close();\n    int x = 1;\n    open();\n    close();\n    log();\n"),
            ("1, 20", "    int x = 2;\n    int x = 1;\n    int x = 1;\n    close();\n"),
        )
    ]
    paths = sides(repo.path, texts[0], texts[1], texts[2], suffix=".txt")
    git = repo.git("merge-file", "-p", *paths, check=False).stdout
    merged = repo.mergebert("merge-file", "-p", "--model", "none", *paths)
    assert merged.stdout.startswith("    call(10, 20);\n"), "the first conflict is resolved"
    assert merged.stdout[merged.stdout.index("\n") :] == git[git.index(keep) - 1 :]
    assert merged.returncode == 1
