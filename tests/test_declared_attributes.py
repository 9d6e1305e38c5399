"""A repository's own `merge` attributes with mergebert installed.

`mergebert install` routes Java/JS/TS/C# files to the driver in `.git/info/attributes`, which outranks the
repository's `.gitattributes`. Where those declare another merge for a file (`merge=union`, `-merge`,
`binary`, `merge=text`, a driver of their own), the file must end as git alone would have merged it.
Each test merges with git alone, undoes it, merges again with the installed driver and compares.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import TOKEN_BASE, TOKEN_MERGED, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"


def merged_both_ways(repo: GitRepo, attributes: str) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    """`attributes` committed as .gitattributes, then the token conflict of NAME merged by git alone and
    with the driver: (exit status, file) each time."""
    repo.commit({".gitattributes": attributes}, "attributes")
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    results = []
    for driver in (False, True):
        if driver:
            repo.git("merge", "--abort", check=False)
            repo.git("reset", "-q", "--hard", start)
            repo.use_driver()
        merge = repo.git("merge", "--no-edit", "feature", check=False)
        results.append((merge.returncode, repo.read(NAME)))
    return results[0], results[1]


@pytest.mark.parametrize(
    "attributes",
    ["src/*.java merge=union\n", "*.java -merge\n", "src/App.java binary\n", "*.java merge=text\n"],
)
def test_a_declared_builtin_merge_is_gits(repo: GitRepo, attributes: str) -> None:
    alone, with_driver = merged_both_ways(repo, attributes)
    assert with_driver == alone
    assert with_driver[1] != TOKEN_MERGED.encode()


def test_a_declared_driver_of_the_repository_runs(repo: GitRepo) -> None:
    repo.git("config", "merge.keep-theirs.driver", "cp %B %A")
    alone, with_driver = merged_both_ways(repo, "*.java merge=keep-theirs\n")
    assert with_driver == alone == (0, TOKEN_THEIRS.encode())


def test_a_declared_driver_is_found_as_git_finds_it_where_git_config_is_pointed_elsewhere(
    repo: GitRepo, tmp_path: Path
) -> None:
    """GIT_CONFIG points `git config` alone at one file; git merge reads the repository's config all the
    same, and so must the driver when it looks the repository's driver up."""
    repo.git("config", "merge.keep-theirs.driver", "cp %B %A")
    repo.use_driver()
    repo.commit({".gitattributes": "*.java merge=keep-theirs\n"}, "attributes")
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    (tmp_path / "tool.cfg").write_text("[core]\n\tpager = less\n")
    repo.env["GIT_CONFIG"] = str(tmp_path / "tool.cfg")
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert (merge.returncode, repo.read(NAME)) == (0, TOKEN_THEIRS.encode()), merge.stderr


def test_an_undefined_driver_is_gits_text_merge(repo: GitRepo) -> None:
    alone, with_driver = merged_both_ways(repo, "*.java merge=nowhere\n")
    assert with_driver == alone
    assert with_driver[0] == 1 and b"<<<<<<< HEAD\n" in with_driver[1]


def test_mergebert_declared_by_the_repository_resolves(repo: GitRepo) -> None:
    alone, with_driver = merged_both_ways(repo, "*.java merge=mergebert\n")
    assert with_driver == (0, TOKEN_MERGED.encode())


def test_attributes_for_other_files_leave_mergebert_resolving(repo: GitRepo) -> None:
    alone, with_driver = merged_both_ways(repo, "*.txt merge=union\ndist/*.java binary\n")
    assert with_driver == (0, TOKEN_MERGED.encode())


def test_install_keeps_the_merge_the_repository_declares_even_for_a_clean_text_merge(repo: GitRepo) -> None:
    """git's binary merge conflicts where a text merge would be clean; installed, mergebert keeps it."""
    repo.commit({".gitattributes": "dist/*.js binary\n"}, "attributes")
    bundle = "".join(f"var a{i} = {i};\n" for i in range(12))
    repo.diverge("dist/app.js", bundle, bundle.replace("a1 =", "b1 ="), bundle.replace("a9 =", "b9 ="))
    start = repo.git("rev-parse", "HEAD").stdout.strip()
    alone = repo.git("merge", "--no-edit", "feature", check=False)
    assert alone.returncode == 1 and repo.conflicted() == ["dist/app.js"]
    expected = repo.read("dist/app.js")
    repo.git("merge", "--abort")
    repo.git("reset", "-q", "--hard", start)
    repo.mergebert("install", "--no-confirm", check=True)
    assert "/dist/app.js -merge\n" in (repo.path / ".git" / "info" / "attributes").read_text()
    merged = repo.git("merge", "--no-edit", "feature", check=False)
    assert (merged.returncode, repo.read("dist/app.js"), repo.conflicted()) == (1, expected, ["dist/app.js"])
    repo.mergebert("uninstall", check=True)
    left = repo.path / ".git" / "info" / "attributes"
    assert not left.exists() or "dist/app.js" not in left.read_text()


def test_attribute_lines_take_odd_paths_literally(repo: GitRepo) -> None:
    from mergebert.git.attributes import attribute_line

    repo.commit({".gitattributes": "", "a b/[x]*.js": "x\n", "plain.js": "y\n"}, "files")
    lines = attribute_line("a b/[x]*.js", "union") + "\n" + attribute_line("plain.js", "unset") + "\n"
    (repo.path / ".git" / "info" / "attributes").write_text(lines)
    checked = repo.git("check-attr", "merge", "--", "a b/[x]*.js", "a b/x1.js", "plain.js", "sub/plain.js")
    assert checked.stdout.splitlines() == [
        "a b/[x]*.js: merge: union",
        "a b/x1.js: merge: unspecified",
        "plain.js: merge: unset",
        "sub/plain.js: merge: unspecified",
    ]


@pytest.mark.parametrize("strategy", ["ort", "recursive"])
@pytest.mark.parametrize("attribute", ["-merge", "binary"])
def test_a_binary_merge_from_the_users_attributes_says_what_git_says(
    repo: GitRepo, strategy: str, attribute: str
) -> None:
    """An attribute git reads as a binary merge, in the user's global attributes file written after
    install: the driver prints git's own warning, on the stream git prints it to (ort: stdout; the
    recursive strategy: stderr), and names the file the attribute comes from."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    user_file = Path(repo.env["XDG_CONFIG_HOME"], "git", "attributes")
    user_file.parent.mkdir(parents=True, exist_ok=True)
    run = ("merge", "--no-edit", "-s", strategy, "feature")
    said = []
    for driver in (False, True):
        if driver:
            repo.git("merge", "--abort")
            user_file.unlink()
            repo.mergebert("install", "--no-confirm", check=True)
        user_file.write_text(f"*.java {attribute}\n")
        merge = repo.git(*run, check=False)
        said.append((merge.returncode, merge.stdout, merge.stderr))
    warning = f"warning: Cannot merge binary files: {NAME} (HEAD vs. feature)\n"
    stream = 1 if strategy == "ort" else 2
    assert warning in said[0][stream]
    assert (said[1][0], said[1][1]) == (said[0][0], said[0][1])  # stdout: git's lines alone
    assert said[0][2] in said[1][2]
    assert "in the repository's attributes" not in said[1][2]
    assert f"merge=unset in {user_file}" in said[1][2]
