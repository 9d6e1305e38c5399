"""Awkward content through the real merge driver (`git merge`) and `mergebert merge-file`.

mergebert either handles it (the expected merge, the file's own encoding details kept) or leaves
exactly git's own line-merge result with one line on stderr; nothing is ever lost.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import CLASH_BASE, TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo, java

NAME = "src/App.java"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def driver_merge(repo: GitRepo, name: str, base: str | bytes, ours: str | bytes, theirs: str | bytes):
    """diverge, install the driver, `git merge feature`; (exit status, file bytes, stderr)."""
    repo.diverge(name, base, ours, theirs)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    return merge.returncode, repo.read(name), merge.stderr


def mergebert_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("mergebert:")]


@pytest.mark.parametrize(
    ("label", "transform"),
    [
        ("crlf", crlf),
        ("bom", lambda text: "\ufeff" + text),
        ("crlf and bom", lambda text: "\ufeff" + crlf(text)),
        ("no final newline", lambda text: text.rstrip("\n")),
    ],
)
def test_encoding_details_are_kept(repo: GitRepo, label: str, transform) -> None:
    status, data, stderr = driver_merge(
        repo, NAME, transform(TOKEN_BASE), transform(TOKEN_OURS), transform(TOKEN_THEIRS)
    )
    assert status == 0, stderr
    assert data == transform(TOKEN_MERGED).encode(), label


def test_mixed_line_endings_are_kept_line_by_line(repo: GitRepo) -> None:
    def mixed(text: str) -> str:
        lines = text.splitlines(keepends=True)
        lines[1] = lines[1].replace("\n", "\r\n")
        return "".join(lines)

    status, data, stderr = driver_merge(repo, NAME, mixed(TOKEN_BASE), mixed(TOKEN_OURS), mixed(TOKEN_THEIRS))
    assert status == 0, stderr
    assert data == mixed(TOKEN_MERGED).encode()


def test_conflict_on_a_last_line_without_newline(repo: GitRepo) -> None:
    status, data, stderr = driver_merge(
        repo, "run.js", 'let a = 1;\nrun("a", 1)', 'let a = 1;\nrun("b", 1)', 'let a = 1;\nrun("a", 2)'
    )
    assert status == 0, stderr
    assert data == b'let a = 1;\nrun("b", 2)'


def test_unknown_extension_uses_the_plain_tokenizer(repo: GitRepo) -> None:
    base = "x\ntimeout = compute(10, 20)\ny\n"
    status, data, stderr = driver_merge(
        repo, "notes.txt", base, base.replace("10", "15"), base.replace("20", "25")
    )
    assert status == 0, stderr
    assert data == b"x\ntimeout = compute(15, 25)\ny\n"


def test_non_utf8_falls_back_to_gits_merge(repo: GitRepo) -> None:
    tail = "// caf\u00e9\n".encode("latin-1")
    repo.diverge(NAME, TOKEN_BASE.encode() + tail, TOKEN_OURS.encode() + tail, TOKEN_THEIRS.encode() + tail)
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert tail in with_driver
    (line,) = mergebert_lines(stderr)
    assert "not UTF-8" in line and "kept git's line merge" in line


def test_non_utf8_through_merge_file_is_gits_merge_with_one_line(tmp_path: Path, repo: GitRepo) -> None:
    """As for binary content: git's bytes and exit status, and one line saying why (not a report line too)."""
    tail = "// caf\u00e9\n".encode("latin-1")
    sides = {"ours.java": TOKEN_OURS, "base.java": TOKEN_BASE, "theirs.java": TOKEN_THEIRS}
    for name, text in sides.items():
        (tmp_path / name).write_bytes(text.encode() + tail)
    args = ("merge-file", "-p", *(str(tmp_path / name) for name in sides))
    ours = repo.mergebert(*args, text=False)
    git = repo.git(*args, check=False, text=False)
    assert (ours.returncode, ours.stdout) == (git.returncode, git.stdout)
    assert git.returncode == 1
    (line,) = mergebert_lines(ours.stderr.decode())
    assert "not UTF-8" in line and "kept git's line merge" in line


def test_binary_file_keeps_ours_like_git(repo: GitRepo) -> None:
    base, ours, theirs = b"\0base\n", b"\0ours\n", b"\0theirs\n"
    repo.diverge("blob.java", base, ours, theirs)
    without, with_driver, stderr = repo.merge_both_ways("blob.java", "merge", "--no-edit", "feature")
    assert with_driver == without == ours
    assert repo.conflicted() == ["blob.java"]
    (line,) = mergebert_lines(stderr)
    assert "binary" in line
    assert ".merge_file_" not in stderr, "no line names git's temporary file"


def test_add_add_with_empty_base_equals_git(repo: GitRepo) -> None:
    repo.commit({"README": "x\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS})
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: TOKEN_OURS})
    without, with_driver, _ = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert repo.conflicted() == [NAME]


def test_markers_already_in_the_file_are_kept(repo: GitRepo) -> None:
    """A marker line the versions hold is kept; git's blocks cannot then be told from the text, so the
    check that git's clean lines come out unchanged (`frontend.keeps_clean_lines`) cannot be made, and the
    file is git's merge, with the reason."""
    marker = "<<<<<<< left over\n"
    repo.diverge(NAME, TOKEN_BASE + marker, TOKEN_OURS + marker, TOKEN_THEIRS + marker)
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without and with_driver.endswith(marker.encode())
    assert "a resolution would change lines git merged cleanly; kept git's line merge" in stderr, stderr


def test_markers_inside_a_conflict_leave_it_to_git(repo: GitRepo) -> None:
    ours = TOKEN_OURS.replace("    }\n}", "=======\n    }\n}")
    theirs = TOKEN_THEIRS.replace("    }\n}", ">>>>>>> x\n    }\n}")
    repo.diverge(NAME, TOKEN_BASE, ours, theirs)
    without, with_driver, _ = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert repo.conflicted() == [NAME]


def test_five_megabyte_file(repo: GitRepo) -> None:
    """A 5 MB file is merged as a small one is: resolved, committed by git, nothing else changed."""
    methods = "".join(f"    static int f{i}(int x) {{ return x + {i}; }}\n" for i in range(110_000))
    base = TOKEN_BASE.replace("    public static", methods + "    public static")
    ours = TOKEN_OURS.replace("    public static", methods + "    public static")
    theirs = TOKEN_THEIRS.replace("    public static", methods + "    public static")
    merged = TOKEN_MERGED.replace("    public static", methods + "    public static").encode()
    assert len(base) > 5_000_000
    status, data, stderr = driver_merge(repo, NAME, base, ours, theirs)
    assert (status, data) == (0, merged), stderr
    assert mergebert_lines(stderr) == [f"mergebert: {NAME}: resolved 1 of 1 conflict (mergebert review)"]
    assert repo.git("show", f"HEAD:{NAME}", text=False).stdout == merged
    assert repo.git("rev-parse", "HEAD^2").stdout.strip() == repo.git("rev-parse", "feature").stdout.strip()
    assert repo.git("status", "--porcelain").stdout == ""


def test_merge_file_with_custom_marker_size_and_crlf_equals_git(tmp_path: Path, repo: GitRepo) -> None:
    sides = {
        "ours.java": java("int port = 9090;"),
        "base.java": CLASH_BASE,
        "theirs.java": java("int port = 7070;"),
    }
    for name, text in sides.items():
        (tmp_path / name).write_bytes(crlf(text).encode())
    args = ("merge-file", "-p", "--marker-size", "10", "--diff3", *(str(tmp_path / n) for n in sides))
    ours = repo.mergebert(*args, text=False)
    git = repo.git(*args, check=False, text=False)
    assert ours.returncode == git.returncode == 1
    assert ours.stdout == git.stdout
    assert b"=" * 10 + b"\r\n" in ours.stdout


def test_binary_file_whose_driver_cannot_start_says_why_git_could_not_merge(repo: GitRepo) -> None:
    repo.diverge("blob.java", b"\0base\n", b"\0ours\n", b"\0theirs\n")
    repo.env["MERGEBERT_TEST_FAULT"] = "start"
    without, with_driver, stderr = repo.merge_both_ways("blob.java", "merge", "--no-edit", "feature")
    assert with_driver == without
    (line,) = mergebert_lines(stderr)
    assert "Cannot merge binary files" in line
    assert ".merge_file_" not in stderr, "no line names git's temporary file"
