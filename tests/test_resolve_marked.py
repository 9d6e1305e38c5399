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
    assert "1 marked conflict(s) not where mergebert finds git's conflicts" in result.stdout


def test_a_file_matching_none_of_gits_conflicts_is_left_alone(repo: GitRepo) -> None:
    text = stopped_merge(repo)
    edited = text.replace("call(10, 2);", "call(11, 2);", 1).replace("other(10, 2);", "other(11, 2);", 1)
    repo.write(NAME, edited)
    result = repo.mergebert("resolve")
    assert result.returncode == 1
    assert repo.read(NAME).decode() == edited
    assert not (repo.path / f"{NAME}.orig").exists()
    assert "2 marked conflict(s) not where mergebert finds git's conflicts" in result.stdout


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


@pytest.mark.parametrize("variant", ["crlf", "no final newline", "bom", "autocrlf"])
def test_awkward_files_are_still_matched(repo: GitRepo, variant: str) -> None:
    def shape(text: str) -> bytes:
        if variant == "crlf":
            return text.replace("\n", "\r\n").encode()
        if variant == "no final newline":
            return text.rstrip("\n").replace("other(", "last(").encode()
        if variant == "bom":
            return b"\xef\xbb\xbf" + text.encode()
        return text.encode()

    if variant == "autocrlf":
        repo.git("config", "core.autocrlf", "true")
    base, ours, theirs = shape(BASE), shape(OURS), shape(THEIRS)
    if variant == "no final newline":  # the last line conflicts and has no line ending
        base, ours, theirs = (t + b"\nx(1, 2);" for t in (base, ours, theirs))
        ours, theirs = ours.replace(b"x(1, 2);", b"x(10, 2);"), theirs.replace(b"x(1, 2);", b"x(1, 20);")
    repo.diverge(NAME, base, ours, theirs)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    before = repo.read(NAME)
    assert before.count(b"<<<<<<<") >= 2
    result = repo.mergebert("resolve", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    after = repo.read(NAME)
    assert b"<<<<<<<" not in after and b"call(10, 20);" in after
    assert after.startswith(before[: before.index(b"<<<<<<<")])
    if variant in ("crlf", "autocrlf"):
        assert after.count(b"\r\n") == after.count(b"\n")


@pytest.mark.parametrize("second", ["other(10, 2);|other(1, 20);", "int port = 9090;|int port = 7070;"])
def test_conflicts_git_writes_as_one_are_matched(repo: GitRepo, second: str) -> None:
    def close(first: str, then: str) -> str:  # two conflicts two lines apart: git joins them
        return f"class A {{\n    void f() {{ {first} }}\n}}\nclass B {{\n    void g() {{ {then} }}\n}}\n"

    ours_second, theirs_second = second.split("|")
    repo.diverge(
        NAME,
        close("call(1, 2);", "other(1, 2);" if "other" in second else "int port = 8080;"),
        close("call(10, 2);", ours_second),
        close("call(1, 20);", theirs_second),
    )
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    assert repo.read(NAME).count(b"<<<<<<<") == 1, "git joined the two conflicts"
    result = repo.mergebert("resolve", "--no-backup")
    after = repo.read(NAME).decode()
    assert "call(10, 20);" in after
    if "other" in second:
        assert result.returncode == 0 and after == close("call(10, 20);", "other(10, 20);")
    else:
        assert result.returncode == 1 and after.count("<<<<<<<") == 1
        assert "    void g() { int port = 9090; }\n=======\n    void g() { int port = 7070; }\n" in after


@pytest.mark.parametrize("style", ["diff3", "zdiff3"])
def test_conflict_styles_are_matched(repo: GitRepo, style: str) -> None:
    repo.git("config", "merge.conflictStyle", style)
    stopped_merge(repo)
    result = repo.mergebert("resolve", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.read(NAME).decode() == pair("call(10, 20);", "other(10, 20);")


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
@pytest.mark.parametrize("variant", ["crlf lines in an lf file", "an lf line in a crlf file"])
def test_conflicts_ending_lines_otherwise_than_the_file_are_matched(
    repo: GitRepo, variant: str, style: str
) -> None:
    # git ends marker lines as the line before the conflict ends, not as the conflict's own lines
    def shape(text: str, side: str) -> bytes:
        if variant == "crlf lines in an lf file":
            return text.replace("); }\n", "); }\r\n").encode()
        crlf = text.replace("\n", "\r\n")
        return (crlf.replace("); }\r\n", "); }\n") if side == "theirs" else crlf).encode()

    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, shape(BASE, "base"), shape(OURS, "ours"), shape(THEIRS, "theirs"))
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    assert repo.read(NAME).count(b"<<<<<<<") == 2
    result = repo.mergebert("resolve", "--no-backup")
    assert "not marked" not in result.stdout and "match none" not in result.stderr + result.stdout, (
        result.stdout + result.stderr
    )
    if variant == "crlf lines in an lf file":
        assert result.returncode == 0, result.stdout + result.stderr
        assert repo.read(NAME) == shape(pair("call(10, 20);", "other(10, 20);"), "ours")


def three(first: str, second: str, third: str, between: str) -> str:
    """Three conflicts: the first two two lines apart (git joins them), the third `between` lines later."""
    return (
        f"class A {{\n    void f() {{ {first} }}\n}}\nclass B {{\n    void g() {{ {second} }}\n"
        f"{between}    void h() {{ {third} }}\n}}\n"
    )


# between the second and third conflicts, as base, ours and theirs have it: three lines, one of them
# changed on our side only (git joins no conflicts a change lies between); or four lines without letters
# or digits (`git merge-file` joins the conflicts they separate, `git merge` does not)
BETWEEN = {
    "a change of one side": tuple(f"    int a = 0;\n    int x = {x};\n    int b = 0;\n" for x in (1, 5, 1)),
    "lines without letters": ("    {\n    }\n    {\n    }\n",) * 3,
}


def joined_in_part(between: str) -> tuple[str, str, str, str]:
    """Base, ours, theirs with three conflicts git joins in part (`three`), and their token merge."""
    base, ours, theirs = BETWEEN[between]
    return (
        three("call(1, 2);", "other(1, 2);", "last(1, 2);", base),
        three("call(10, 2);", "other(10, 2);", "last(10, 2);", ours),
        three("call(1, 20);", "other(1, 20);", "last(1, 20);", theirs),
        three("call(10, 20);", "other(10, 20);", "last(10, 20);", ours),
    )


@pytest.mark.parametrize("between", list(BETWEEN))
def test_conflicts_git_joins_in_part_are_matched(repo: GitRepo, between: str) -> None:
    base, ours, theirs, merged = joined_in_part(between)
    repo.diverge(NAME, base, ours, theirs)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    assert repo.read(NAME).count(b"<<<<<<<") == 2, "git joined the first two conflicts, not the third"
    result = repo.mergebert("resolve", "--no-backup")
    assert "match none" not in result.stdout, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.read(NAME).decode() == merged


def test_a_conflict_is_matched_as_git_narrows_it(repo: GitRepo) -> None:
    """git narrows a conflict by a diff of ours against theirs alone: here it keeps all of ours in the
    block, where a merge of the conflict's own three sides would settle part of it."""
    base = "    close();\n    int x = 1;\n    close();\n    close();\n"
    ours = "    close();\n    int x = 1;\n    open();\n    close();\n    log();\n"
    theirs = "    int x = 2;\n    int x = 1;\n    int x = 1;\n    close();\n"
    repo.diverge("steps.txt", base, ours, theirs)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    repo.git("checkout", "--conflict=merge", "steps.txt")  # as `git merge-file` writes it
    before = repo.read("steps.txt")
    assert (
        before.count(b"<<<<<<<") == 1 and b"<<<<<<< ours\n    open();\n    close();\n    log();\n" in before
    )
    result = repo.mergebert("resolve", "--no-backup")
    assert "not marked" not in result.stdout and "match none" not in result.stdout, result.stdout
    assert "1:left" in result.stdout and result.returncode == 1
    assert repo.read("steps.txt") == before
