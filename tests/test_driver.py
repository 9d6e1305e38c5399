"""The merge driver through real `git merge`, `git rebase` and `git cherry-pick`.

Where mergebert cannot resolve, the file must be byte for byte what git alone leaves: each such test
merges once with the driver and once without it and compares.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
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
    daemon_pids,
    java,
    threads,
    wait_until,
)

from mergebert.git import driver, install

NAME = "src/App.java"
SERVER = """public class Server {
    private final String host;
    private final int port;
    private final boolean tls;

    Server(String host, int port, boolean tls) {
        this.host = host;
        this.port = port;
        this.tls = tls;
    }

    public static void main(String[] args) {
        Server server = new Server("localhost", 8080, false);
        System.out.println("listening on " + server.host + ":" + server.port);
    }
}
"""


def test_merge_resolves_token_conflict_and_commits(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert "mergebert: src/App.java: resolved 1 of 1 conflict (mergebert review)\n" in merge.stderr
    parents = repo.git("rev-list", "--parents", "-n1", "HEAD").stdout.split()
    assert len(parents) == 3
    assert repo.git("show", f"HEAD:{NAME}").stdout == TOKEN_MERGED


@pytest.mark.parametrize("style", ["merge", "diff3"])
def test_merge_leaves_unresolvable_conflict_exactly_as_git(repo: GitRepo, style: str) -> None:
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert b"<<<<<<< HEAD\n" in with_driver and b">>>>>>> feature\n" in with_driver
    assert repo.conflicted() == [NAME]
    assert "mergebert: src/App.java: resolved 0 of 1 conflict (1 left" in stderr


@pytest.mark.parametrize("emptied", ["theirs", "ours"])
def test_a_side_that_empties_the_file_leaves_gits_conflict(repo: GitRepo, emptied: str) -> None:
    """One side empties the file, the other edits it: only a person can say whether the edit or the
    emptying wins (git's modify/delete, in content). mergebert never writes an emptied file (the
    shipped model at its default threshold once took the empty side here)."""
    del repo.env["MERGEBERT_MODEL"]
    edited = SERVER.replace("localhost", "0.0.0.0")
    ours, theirs = ("", edited) if emptied == "ours" else (edited, "")
    repo.diverge(NAME, SERVER, ours, theirs)
    without, with_driver, _ = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    assert repo.conflicted() == [NAME]


def test_merge_resolves_one_conflict_and_leaves_the_other(repo: GitRepo) -> None:
    padding = "".join(f"        step({i});\n" for i in range(8))
    base = java('Server s = new Server("localhost", 8080, false);', padding + "        int port = 8080;\n")
    ours = java('Server s = new Server("0.0.0.0", 8080, false);', padding + "        int port = 9090;\n")
    theirs = java('Server s = new Server("localhost", 8080, true);', padding + "        int port = 7070;\n")
    repo.diverge(NAME, base, ours, theirs)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    text = repo.read(NAME).decode()
    assert 'new Server("0.0.0.0", 8080, true);' in text
    assert text.count("<<<<<<< HEAD\n") == 1
    assert "        int port = 9090;\n=======\n        int port = 7070;\n>>>>>>> feature\n" in text
    assert repo.conflicted() == [NAME]


def test_rebase_resolves_token_conflict(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.git("checkout", "-q", "feature")
    rebase = repo.git("rebase", "main", check=False)
    assert rebase.returncode == 0, rebase.stdout + rebase.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert repo.git("rev-parse", "HEAD~1").stdout == repo.git("rev-parse", "main").stdout


def test_rebase_conflict_labels_equal_gits(repo: GitRepo) -> None:
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.git("checkout", "-q", "feature")
    without, with_driver, _ = repo.merge_both_ways(NAME, "rebase", "main")
    assert with_driver == without
    assert b"||||||| parent of " in with_driver


def test_cherry_pick_resolves_token_conflict(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    pick = repo.git("cherry-pick", "feature", check=False)
    assert pick.returncode == 0, pick.stdout + pick.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def test_cherry_pick_conflict_labels_equal_gits(repo: GitRepo) -> None:
    repo.git("config", "merge.conflictStyle", "diff3")
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    without, with_driver, _ = repo.merge_both_ways(NAME, "cherry-pick", "feature")
    assert with_driver == without


def test_custom_marker_size_from_attributes(repo: GitRepo) -> None:
    repo.add_attributes("*.java conflict-marker-size=12\n")
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    without, with_driver, _ = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert with_driver == without
    text = with_driver.decode()
    assert "<" * 12 + " HEAD\n" in text and ">" * 12 + " feature\n" in text
    assert "<" * 13 not in text


def test_internal_failure_falls_back_to_gits_line_merge(repo: GitRepo) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    without = repo.git("merge", "--no-edit", "feature", check=False)
    assert without.returncode != 0
    expected = repo.read(NAME)
    repo.git("merge", "--abort")
    repo.use_driver()
    for fault in ("resolve", "resolve,linemerge"):
        repo.env["MERGEBERT_TEST_FAULT"] = fault
        merge = repo.git("merge", "--no-edit", "feature", check=False)
        assert merge.returncode != 0
        assert repo.read(NAME) == expected
        assert "internal error" in merge.stderr and "kept git's line merge" in merge.stderr
        assert repo.conflicted() == [NAME]
        repo.git("merge", "--abort")


def merge_with_broken_model(repo: GitRepo, tmp_path, base: str, ours: str, theirs: str) -> str:
    """git merge with the driver and a model that cannot load; what git and mergebert printed."""
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    repo.env["MERGEBERT_MODEL"] = str(broken)
    repo.diverge("src/App.java", base, ours, theirs)
    repo.use_driver()
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    return merge.stdout + merge.stderr


def test_model_is_not_loaded_for_a_file_without_line_conflicts(repo: GitRepo, tmp_path) -> None:
    base = java("int a = 1;\n        int b = 2;\n        int c = 3;\n        int d = 4;")
    ours, theirs = base.replace("a = 1", "a = 10"), base.replace("d = 4", "d = 40")
    assert "model unavailable" not in merge_with_broken_model(repo, tmp_path, base, ours, theirs)


def test_model_is_loaded_for_a_line_conflict(repo: GitRepo, tmp_path) -> None:
    output = merge_with_broken_model(repo, tmp_path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert "model unavailable" in output
    assert repo.read("src/App.java") == TOKEN_MERGED.encode(), "the token merge still resolves it"


BARE = "mergebert driver %O %A %B %L %P"


def git_alone(repo: GitRepo, name: str, base: str, ours: str, theirs: str) -> bytes:
    """diverge, merge feature without any driver (it must conflict), abort; the file git left."""
    repo.diverge(name, base, ours, theirs)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    left = repo.read(name)
    repo.git("merge", "--abort")
    return left


@pytest.mark.parametrize("name", ["-Dash.java", "--help.ts", "-h.cs", "src/-x.java"])
@pytest.mark.parametrize("command", [None, BARE], ids=["installed", "bare"])
def test_path_starting_with_a_dash_keeps_both_sides(repo: GitRepo, name: str, command: str | None) -> None:
    expected = git_alone(repo, name, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.use_driver("*.java *.ts *.cs", command=command)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.read(name) == expected, merge.stderr
    assert repo.conflicted() == [name]


@pytest.mark.parametrize("command", [None, BARE], ids=["installed", "bare"])
def test_path_starting_with_a_dash_is_resolved(repo: GitRepo, command: str | None) -> None:
    repo.diverge("-h.java", TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver(command=command)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert repo.read("-h.java") == TOKEN_MERGED.encode()


def merge_file(tmp_path, base: str, ours: str, theirs: str, *options: str) -> tuple[bytes, int]:
    """`git merge-file -p` on the three texts: git's own result and exit status."""
    paths = []
    for side, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        (tmp_path / side).write_text(text)
        paths.append(str(tmp_path / side))
    proc = subprocess.run(["git", "merge-file", "-p", *options, *paths], capture_output=True, check=False)
    return proc.stdout, proc.returncode


def call_driver(
    repo: GitRepo, entry: list[str], *arguments: str
) -> tuple[subprocess.CompletedProcess, bytes]:
    """The driver called as git calls it, on CLASH_* in files O, A, B; its process and A afterwards."""
    for name, text in (("O", CLASH_BASE), ("A", CLASH_OURS), ("B", CLASH_THEIRS)):
        repo.write(name, text)
    proc = repo.run(*entry, "O", "A", "B", *arguments, check=False)
    return proc, repo.read("A")


ENTRIES = {
    "bare": ["mergebert", "driver"],
    "shell": ["sh", str(Path(driver.__file__).with_name("driver.sh")), sys.executable],
}


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(
    "arguments",
    [
        ("-3", "-Dash.java"),
        ("abc", "x.java"),
        ("7",),
        (),
        ("7", "x.java", "one", "two", "three", "four"),
        ("7", "--", "--"),
    ],
)
def test_arguments_it_cannot_parse_still_give_gits_markers(
    repo: GitRepo, tmp_path, entry: str, arguments: tuple[str, ...]
) -> None:
    expected, conflicts = merge_file(
        tmp_path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS, "-L", "ours", "-L", "base", "-L", "theirs"
    )
    assert conflicts == 1
    proc, result = call_driver(repo, ENTRIES[entry], *arguments)
    assert proc.returncode == 1, proc.stderr
    assert result == expected


def test_invalid_threshold_option_gives_gits_markers(repo: GitRepo, tmp_path) -> None:
    repo.write("O", TOKEN_BASE)
    repo.write("A", TOKEN_OURS)
    repo.write("B", TOKEN_THEIRS)
    expected, _ = merge_file(
        tmp_path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, "-L", "ours", "-L", "base", "-L", "theirs"
    )
    command = ["mergebert", "driver", "--threshold", "nan", "O", "A", "B", "7", "x.java"]
    proc = repo.run(*command, check=False)
    assert proc.returncode == 1
    assert repo.read("A") == expected
    assert "--threshold='nan' is not a threshold" in proc.stderr


def test_driver_help_says_it_overwrites_current(repo: GitRepo) -> None:
    for flag in ("--help", "-h"):
        shown = repo.mergebert("driver", flag)
        assert shown.returncode == 0
        assert "Overwrites CURRENT" in shown.stdout


def test_labels_passed_by_git_are_used(repo: GitRepo) -> None:
    proc, result = call_driver(
        repo, ["mergebert", "driver"], "7", "x.java", "base-label", "our-label", "their"
    )
    assert proc.returncode == 1
    assert result.startswith(b"public class App") and b"<<<<<<< our-label\n" in result
    assert b">>>>>>> their\n" in result


def test_mergebert_that_cannot_start_leaves_gits_markers(repo: GitRepo, tmp_path) -> None:
    """A broken environment (the interpreter is gone): the shell entry writes git's merge."""
    expected, _ = merge_file(
        tmp_path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS, "-L", "HEAD", "-L", "base", "-L", "theirs"
    )
    shell = ["sh", str(Path(driver.__file__).with_name("driver.sh")), str(tmp_path / "gone" / "python")]
    proc, result = call_driver(repo, shell, "7", "x.java")
    assert proc.returncode == 1
    assert result == expected
    assert "mergebert could not run (exit 127); kept git's line merge" in proc.stderr
    assert proc.stderr.count("\n") == 1, f"one line, no shell error: {proc.stderr!r}"


@pytest.mark.parametrize("style", ["merge", "diff3"])
@pytest.mark.parametrize("command", [("merge", "--no-edit", "feature"), ("rebase", "main")])
def test_mergebert_that_cannot_start_gives_exactly_gits_conflict(
    repo: GitRepo, style: str, command: tuple[str, ...]
) -> None:
    """Even the labels git (before 2.44) does not pass are git's own: HEAD, the branch, the commit."""
    repo.git("config", "merge.conflictStyle", style)
    repo.diverge(NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    if command[0] == "rebase":
        repo.git("checkout", "-q", "feature")
    repo.env["MERGEBERT_TEST_FAULT"] = "start"
    without, with_driver, stderr = repo.merge_both_ways(NAME, *command)
    assert "mergebert could not run (exit 127)" in stderr
    assert with_driver == without


def test_missing_entry_point_falls_back_to_git_merge_file(repo: GitRepo) -> None:
    """The whole environment deleted: the configured command runs `git merge-file` itself."""
    expected = git_alone(repo, NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    command = install.driver_command(install.git_version())
    script = str(Path(driver.__file__).with_name("driver.sh"))
    assert script in command
    repo.use_driver(command=command.replace(script, "/nonexistent/mergebert/git/driver.sh"))
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    text = repo.read(NAME)
    assert text.replace(b" ours\n", b" HEAD\n").replace(b" theirs\n", b" feature\n") == expected
    assert repo.conflicted() == [NAME]


@pytest.mark.parametrize("fault", ["start", "fastpath", "fastpath,start"])
def test_faults_in_the_shell_entry_keep_both_sides(repo: GitRepo, fault: str) -> None:
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.env["MERGEBERT_TEST_FAULT"] = fault
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    text = repo.read(NAME).decode()
    if fault == "fastpath":  # git merge-file failed: mergebert still resolves
        assert merge.returncode == 0 and text == TOKEN_MERGED
    elif fault == "start":  # mergebert cannot start: git's markers
        assert merge.returncode != 0 and repo.conflicted() == [NAME]
        assert TOKEN_OURS.split("\n")[2] in text and TOKEN_THEIRS.split("\n")[2] in text
        assert "<<<<<<< HEAD\n" in text and ">>>>>>> feature\n" in text
    else:  # neither runs: ours stays, git records the conflict (all sides in the index), as for binaries
        assert merge.returncode != 0 and repo.conflicted() == [NAME]
        assert text == TOKEN_OURS and "left ours in place" in merge.stderr
        assert repo.git("show", f":3:{NAME}").stdout == TOKEN_THEIRS


def test_clean_file_does_not_start_python(repo: GitRepo, tmp_path) -> None:
    base = java("int a = 1;\n        int b = 2;\n        int c = 3;\n        int d = 4;")
    ours, theirs = base.replace("a = 1", "a = 10"), base.replace("d = 4", "d = 40")
    repo.diverge(NAME, base, ours, theirs)
    command = install.driver_command(install.git_version())
    repo.use_driver(command=command.replace(shlex.quote(sys.executable), str(tmp_path / "no-python")))
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert "mergebert" not in merge.stderr
    assert repo.read(NAME) == base.replace("a = 1", "a = 10").replace("d = 4", "d = 40").encode()


def test_resolve_past_the_time_limit_keeps_gits_merge(repo: GitRepo) -> None:
    expected = git_alone(repo, NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.env.update(MERGEBERT_TEST_FAULT="stall", MERGEBERT_DRIVER_TIMEOUT="1")
    merge = repo.git("merge", "--no-edit", "feature", check=False, timeout=120)
    assert merge.returncode != 0
    assert repo.read(NAME) == expected
    assert "src/App.java: resolved 0 of 1 conflict (1 left: not resolved within 1 s" in merge.stderr
    assert "($MERGEBERT_DRIVER_TIMEOUT); kept git's line merge; mergebert review)" in merge.stderr


@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "in-process"])
def test_settings_given_with_git_dash_c_reach_the_driver(repo: GitRepo, daemon: str) -> None:
    """`git -c merge.conflictStyle=diff3 -c mergebert.threshold=2 merge`: nothing reaches a threshold of 2,
    so the file is what git alone writes with the same `-c`, diff3 style included."""
    repo.env["MERGEBERT_DAEMON"] = daemon
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    settings = ("-c", "merge.conflictStyle=diff3", "-c", "Mergebert.Threshold=2")
    alone = repo.git(*settings, "merge", "--no-edit", "feature", check=False)
    assert alone.returncode != 0
    without = repo.read(NAME)
    assert b"|||||||" in without
    repo.git("merge", "--abort")
    repo.use_driver()
    merged = repo.git(*settings, "merge", "--no-edit", "feature", check=False)
    assert merged.returncode != 0 and repo.read(NAME) == without, merged.stderr
    assert "resolved 0 of 1 conflict" in merged.stderr


@pytest.mark.parametrize("bare", [False, True], ids=["work-tree", "bare"])
def test_merge_tree_points_to_no_review_and_no_git_add(repo: GitRepo, tmp_path: Path, bare: bool) -> None:
    """`git merge-tree --write-tree` merges in memory: its decisions are not logged and there is nothing
    to `git add` (nor, in a bare repository, a work tree to review), so the driver's lines name neither."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    if bare:
        repo.git("clone", "-q", "--bare", ".", str(tmp_path / "bare.git"))
        repo = GitRepo(tmp_path / "bare.git", repo.env)
    repo.use_driver(confirm=True)
    done = repo.git("merge-tree", "--write-tree", "main", "feature", check=False)
    assert done.returncode == 1, "confirm mode: merge-tree reports the file conflicted, as git alone does"
    assert "mergebert: src/App.java: resolved 1 of 1 conflict\n" in done.stderr
    assert "mergebert: src/App.java: left conflicted for you to confirm (mergebert.confirm)\n" in done.stderr
    assert "review" not in done.stderr and "git add" not in done.stderr


SETTINGS = "[merge]\n\tconflictStyle = diff3\n[mergebert]\n\tthreshold = 2\n"


@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "in-process"])
@pytest.mark.parametrize("where", ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "includeIf hasconfig"])
def test_config_that_git_reads_and_libgit2_does_not_reaches_the_driver(
    repo: GitRepo, tmp_path: Path, daemon: str, where: str
) -> None:
    """merge.conflictStyle=diff3 and mergebert.threshold=2 in a file git reads (named by GIT_CONFIG_GLOBAL
    or GIT_CONFIG_SYSTEM, or included where a remote's URL matches): nothing reaches a threshold of 2, so
    the file is what git alone writes, diff3 style included."""
    settings = tmp_path / "settings.cfg"
    settings.write_text(SETTINGS)
    repo.env["MERGEBERT_DAEMON"] = daemon
    if where == "GIT_CONFIG_GLOBAL":
        repo.env["GIT_CONFIG_GLOBAL"] = str(settings)
    elif where == "GIT_CONFIG_SYSTEM":
        del repo.env["GIT_CONFIG_NOSYSTEM"]
        repo.env["GIT_CONFIG_SYSTEM"] = str(settings)
    else:
        repo.git("remote", "add", "origin", "https://example.com/team/app.git")
        included = "includeIf.hasconfig:remote.*.url:https://example.com/**.path"
        repo.git("config", "--global", included, str(settings))
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    without, with_driver, stderr = repo.merge_both_ways(NAME, "merge", "--no-edit", "feature")
    assert b"|||||||" in without
    assert with_driver == without, stderr
    assert "resolved 0 of 1 conflict" in stderr


def test_the_file_only_git_config_reads_does_not_reach_the_driver(repo: GitRepo, tmp_path: Path) -> None:
    """GIT_CONFIG points `git config` (and no other git command) at one file: git merges without it, and
    so does the driver (its settings, confirm mode included, are the repository's)."""
    settings = tmp_path / "settings.cfg"
    settings.write_text(SETTINGS)
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.env["GIT_CONFIG"] = str(settings)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


def fake_python(tmp_path: Path, name: str, body: str) -> str:
    """An executable standing in for the driver's Python: a shell script running `body`."""
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize("style", ["merge", "diff3"])
def test_mergebert_that_dies_gives_exactly_gits_conflict(repo: GitRepo, tmp_path: Path, style: str) -> None:
    """Killed mid-resolve (the OOM killer, a crash): git's labels (git before 2.44 passes none), not
    ours/theirs."""
    repo.git("config", "merge.conflictStyle", style)
    expected = git_alone(repo, NAME, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    command = install.driver_command(install.git_version())
    repo.use_driver(
        command=command.replace(shlex.quote(sys.executable), fake_python(tmp_path, "py", "kill -9 $$"))
    )
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert "mergebert could not run (exit 137); kept git's line merge" in merge.stderr
    assert repo.read(NAME) == expected
    assert repo.conflicted() == [NAME]


@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "in-process"])
def test_result_that_cannot_be_written_gives_gits_conflict(repo: GitRepo, daemon: str) -> None:
    """A full disk: %A can be neither replaced nor overwritten, so git's merge (made before mergebert
    ran) is moved there."""
    expected = git_alone(repo, NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.env.update(MERGEBERT_TEST_FAULT="write,overwrite", MERGEBERT_DAEMON=daemon)
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert "src/App.java: cannot write the merge result ([Errno 28] " in merge.stderr
    assert repo.read(NAME) == expected
    assert repo.conflicted() == [NAME]


def test_result_without_room_for_a_copy_is_written_in_place(repo: GitRepo) -> None:
    """A disk too full for the atomic write's copy: %A, git's temporary file, takes the result itself."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.env["MERGEBERT_TEST_FAULT"] = "write"
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode == 0, merge.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


# a `git` in front of the real one that sends the driver's shell SIGNAL while its first merge-file runs
SIGNALLING_GIT = """#!/bin/sh
case " $* " in *" merge-file "*) [ -e "$0.sent" ] || {{ : >"$0.sent" && kill -{signal} $PPID; }} ;; esac
exec {git} "$@"
"""


@pytest.mark.parametrize("signal", ["TERM", "INT", "HUP"])
@pytest.mark.parametrize("during", ["merge-file", "python"])
def test_signal_to_the_shell_entry_leaves_gits_conflict(
    repo: GitRepo, tmp_path: Path, signal: str, during: str
) -> None:
    """^C, kill or a closed terminal while git merges the file or mergebert runs: git's merge in %A,
    never ours alone, and no scratch file left."""
    expected, _ = merge_file(
        tmp_path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS, "-L", "HEAD", "-L", "base", "-L", "theirs"
    )
    python = sys.executable
    if during == "merge-file":
        wrapper = tmp_path / "bin" / "git"
        wrapper.parent.mkdir()
        real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True)
        wrapper.write_text(SIGNALLING_GIT.format(signal=signal, git=real.stdout.strip()))
        wrapper.chmod(0o755)
        repo.env["PATH"] = f"{wrapper.parent}:{repo.env['PATH']}"
    else:  # the signal reaches the shell and Python (the terminal's process group), which dies of it
        python = fake_python(tmp_path, "py", f"kill -{signal} $PPID; kill -{signal} $$")
    shell = ["sh", str(Path(driver.__file__).with_name("driver.sh")), python]
    proc, result = call_driver(repo, shell, "7", "x.java")
    assert proc.returncode != 0
    assert result == expected
    assert sorted(p.name for p in repo.path.iterdir() if p.name != ".git") == ["A", "B", "O"]


def test_driver_killed_before_it_finishes_leaves_no_record(repo: GitRepo, tmp_path: Path) -> None:
    """Killed while it reads mergebert.confirm, after %A is written: driver.sh puts git's merge in %A, and
    the decision log must not claim the resolution the file does not hold."""
    expected = git_alone(repo, NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True)
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    kill = 'case "$*" in *mergebert.confirm*) kill -9 $PPID ;; esac'  # the driver, as it reads the setting
    wrapper.write_text(f'#!/bin/sh\n{kill}\nexec {real.stdout.strip()} "$@"\n')
    wrapper.chmod(0o755)
    command = install.driver_command(install.git_version())
    repo.use_driver(command=f"PATH={wrapper.parent}:$PATH; {command}", confirm=True)
    repo.env["MERGEBERT_DAEMON"] = "0"
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert "mergebert could not run (exit 137); kept git's line merge" in merge.stderr
    assert repo.read(NAME) == expected
    review = repo.mergebert("review")
    assert "resolved 1 of 1" not in review.stdout, review.stdout


def drivers_in_session(session: int) -> list[int]:
    """The merge driver's Python processes in session `session` (not a child the driver is forking, which
    shows the driver's command line until it runs its own: the daemon it starts, say)."""
    found: dict[int, int] = {}  # pid: parent's pid
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read()
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            continue
        if int(fields[3]) == session and b"mergebert.git.driver" in command:
            found[int(entry)] = int(fields[1])
    return [pid for pid, parent in found.items() if parent not in found]


@pytest.mark.parametrize("daemon", ["1", "0"], ids=["daemon", "in-process"])
def test_ctrl_c_during_a_merge_prints_no_traceback(repo: GitRepo, daemon: str) -> None:
    """^C while the driver waits for the daemon's reply or for its own resolve thread (a resolve that never
    ends): the driver ends at once, and says nothing but its one line of mergebert's (git alone says
    nothing on ^C)."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.env.update(MERGEBERT_TEST_FAULT="stall", MERGEBERT_DAEMON=daemon)
    merge = subprocess.Popen(
        ["git", "merge", "--no-edit", "feature"],
        cwd=repo.path,
        env=repo.env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: drivers_in_session(merge.pid), 120)
        (waiting,) = drivers_in_session(merge.pid)
        if daemon == "1":  # the daemon has the request once it runs a thread to resolve it
            folder = Path(repo.env["MERGEBERT_DAEMON_DIR"])
            assert wait_until(lambda: len(daemon_pids(folder)) == 1, 120)
            waiting = daemon_pids(folder)[0]
        assert wait_until(lambda: threads(waiting) == 2, 120), "the resolve has started, and never ends"
        os.killpg(merge.pid, signal.SIGINT)  # as a terminal's ^C
        _, stderr = merge.communicate(timeout=60)  # a bound: without the ^C the resolve waits 300 s
    finally:
        merge.kill()
    assert merge.returncode == -signal.SIGINT and drivers_in_session(merge.pid) == []
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert [line.startswith(f"mergebert: {NAME}: ") for line in stderr.splitlines()] == [True], stderr


def test_driver_killed_after_it_finished_keeps_its_merge(repo: GitRepo, tmp_path: Path) -> None:
    """Killed after it wrote %A and the decision log (on its way out): the file keeps the merge the log
    records, which git stops on."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    python = fake_python(tmp_path, "py", f'{shlex.quote(sys.executable)} "$@"; kill -9 $$')
    command = install.driver_command(install.git_version())
    repo.use_driver(command=command.replace(shlex.quote(sys.executable), python))
    repo.env["MERGEBERT_DAEMON"] = "0"
    merge = repo.git("merge", "--no-edit", "feature", check=False)
    assert merge.returncode != 0
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert repo.conflicted() == [NAME]
    assert "resolved 1 of 1" in repo.mergebert("review").stdout


def test_driver_outside_a_repository_points_to_no_review(tmp_path: Path, git_env: dict[str, str]) -> None:
    """Nothing is logged outside a repository, so the report line names no `mergebert review`."""
    outside = GitRepo(tmp_path / "files", git_env)
    for name, text in (("O", TOKEN_BASE), ("A", TOKEN_OURS), ("B", TOKEN_THEIRS)):
        outside.write(name, text)
    proc = outside.mergebert("driver", "O", "A", "B", "7", "x.java")
    assert proc.returncode == 1, proc.stderr  # confirm mode: on unless configured off
    assert outside.read("A").decode() == TOKEN_MERGED
    assert "resolved 1 of 1 conflict" in proc.stderr and "mergebert review" not in proc.stderr, proc.stderr
