"""`mergebert merge-file` against `git merge-file` where git's behaviour is defined: a folder it may
not write, a stdout it cannot write, marker sizes, usage errors, empty labels, binary files, a time limit."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from gitrepo import (
    CLASH_BASE,
    CLASH_OURS,
    CLASH_THEIRS,
    MERGEBERT,
    TOKEN_BASE,
    TOKEN_MERGED,
    TOKEN_OURS,
    TOKEN_THEIRS,
    GitRepo,
    without_root_privilege,
)


def sides(folder: Path, base: str, ours: str, theirs: str) -> list[str]:
    """current.java, base.java and other.java in `folder`; their paths, in merge-file's order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (("current", ours), ("base", base), ("other", theirs)):
        (folder / f"{name}.java").write_text(text)
        paths.append(str(folder / f"{name}.java"))
    return paths


def both(repo: GitRepo, *args: str) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """`mergebert merge-file ARGS` and `git merge-file ARGS`."""
    return repo.mergebert("merge-file", *args), repo.git("merge-file", *args, check=False)


@pytest.mark.parametrize(
    ("texts", "merged"),
    [((TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), TOKEN_MERGED), ((CLASH_BASE, CLASH_OURS, CLASH_THEIRS), None)],
    ids=["resolved", "left"],
)
def test_a_writable_current_in_a_folder_it_may_not_write_is_merged_in_place(
    repo: GitRepo, texts: tuple[str, str, str], merged: str | None
) -> None:
    """No temporary file can be made beside CURRENT: written in place, as git writes it."""
    prefix = without_root_privilege()
    results = {}
    for who, command in (("git", ["git"]), ("mergebert", [MERGEBERT])):
        folder = repo.path / who
        current, base, other = sides(folder, *texts)
        folder.chmod(0o555)
        try:
            labels = ("-L", "ours", "-L", "base", "-L", "theirs")
            run = repo.run(*prefix, *command, "merge-file", *labels, current, base, other, check=False)
        finally:
            folder.chmod(0o755)
        results[who] = (run.returncode, Path(current).read_text(), run.stderr)
        assert sorted(p.name for p in folder.iterdir()) == ["base.java", "current.java", "other.java"]
    status, text, stderr = results["mergebert"]
    assert "cannot write" not in stderr, stderr
    if merged is None:
        assert (status, text) == results["git"][:2]
    else:
        assert (status, text) == (0, merged)
        assert results["git"][0] == 1


@pytest.mark.parametrize("folder_mode", [0o755, 0o555])
def test_a_current_it_may_not_write_is_left_as_it_was_with_255(repo: GitRepo, folder_mode: int) -> None:
    """In place or not, a read-only CURRENT is never written: one line and 255, as git."""
    prefix = without_root_privilege()
    for command in (["git"], [MERGEBERT]):
        folder = repo.path / command[0].rsplit("/", 1)[-1]
        current, base, other = sides(folder, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
        Path(current).chmod(0o444)
        folder.chmod(folder_mode)
        try:
            run = repo.run(*prefix, *command, "merge-file", current, base, other, check=False)
        finally:
            folder.chmod(0o755)
        assert run.returncode == 255 and len(run.stderr.splitlines()) == 1, run.stderr
        assert Path(current).read_text() == TOKEN_OURS
        assert sorted(p.name for p in folder.iterdir()) == ["base.java", "current.java", "other.java"]


def printed_into(
    repo: GitRepo, paths: list[str], stdout: int
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """`mergebert merge-file -p PATHS` and `git merge-file -p PATHS`, each printing into `stdout`."""
    return tuple(  # type: ignore[return-value]
        subprocess.run(
            [*command, "merge-file", "-p", *paths],
            cwd=repo.path,
            env=repo.env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        for command in ([MERGEBERT], ["git"])
    )


def test_a_stdout_it_cannot_write_is_one_line_and_255(repo: GitRepo) -> None:
    """`-p > /dev/full`: one error line and 255, as git; no traceback."""
    paths = sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    with open("/dev/full", "wb") as full:
        ours, git = printed_into(repo, paths, full.fileno())
    assert (ours.returncode, git.returncode) == (255, 255)
    assert len(ours.stderr.splitlines()) == 1, ours.stderr
    assert "No space left on device" in ours.stderr


@pytest.mark.parametrize(
    "texts",
    [(TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)],
    ids=["resolved", "left"],
)
def test_a_stdout_nobody_reads_ends_it_as_it_ends_git(repo: GitRepo, texts: tuple[str, str, str]) -> None:
    """`-p | head -0`: the pipe's reader is gone, so the write ends the process by SIGPIPE, silently, as
    it ends git's (a shell sees 141); nothing is written to CURRENT."""
    paths = sides(repo.path, *texts)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        ours, git = printed_into(repo, paths, write_end)
    finally:
        os.close(write_end)
    assert git.returncode == -signal.SIGPIPE
    assert (ours.returncode, ours.stderr) == (git.returncode, git.stderr)
    assert Path(paths[0]).read_text() == texts[1]


@pytest.mark.parametrize("size", [["--marker-size=0"], ["--marker-size", "-1"], ["--marker-size=-12"]])
def test_a_marker_size_below_one_is_gits_default(repo: GitRepo, size: list[str]) -> None:
    paths = sides(repo.path, CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    ours, git = both(repo, "-p", *size, *paths)
    assert (ours.returncode, ours.stdout) == (git.returncode, git.stdout) == (1, git.stdout)
    assert "<<<<<<< " in ours.stdout


@pytest.mark.parametrize(
    "problem",
    ["four labels", "bogus option", "one file missing", "one file too many", "marker size not a number"],
)
def test_usage_errors_exit_as_gits_with_one_line(repo: GitRepo, problem: str) -> None:
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    args = {
        "four labels": ["-L", "a", "-L", "b", "-L", "c", "-L", "d", *paths],
        "bogus option": ["--bogus", *paths],
        "one file missing": paths[:2],
        "one file too many": [*paths, paths[0]],
        "marker size not a number": ["--marker-size=abc", *paths],
    }[problem]
    ours, git = both(repo, *args)
    assert ours.returncode == git.returncode == 129
    assert len(ours.stderr.splitlines()) == 1, ours.stderr
    assert Path(paths[0]).read_text() == TOKEN_OURS


@pytest.mark.parametrize("missing", [0, 1, 2])
def test_a_file_missing_is_an_error_as_gits(repo: GitRepo, missing: int) -> None:
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    Path(paths[missing]).unlink()
    ours, git = both(repo, *paths)
    assert ours.returncode == git.returncode == 255
    assert len(ours.stderr.splitlines()) == 1 and Path(paths[missing]).name in ours.stderr, ours.stderr


# a conflict the token merge settles, then, twelve lines on, one it leaves
GAP = "".join(f"        step({n});\n" for n in range(12))


def _two_conflicts(host: str, flag: str, port: int) -> str:
    call = f'        new Server("{host}", 80, {flag});\n'
    return f"class A {{\n    void run() {{\n{call}{GAP}        int port = {port};\n    }}\n}}\n"


TWO = (
    _two_conflicts("localhost", "false", 8080),
    _two_conflicts("0.0.0.0", "false", 9090),
    _two_conflicts("localhost", "true", 7070),
)


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
@pytest.mark.parametrize("labels", [("", "", ""), ("mine", "", "yours"), ("", "orig", "")])
def test_labels_written_beside_a_resolution_are_gits_bytes(
    repo: GitRepo, style: str, labels: tuple[str, str, str]
) -> None:
    """The conflict left beside one resolved has git's marker lines: `<<<<<<< ` and a label, even empty."""
    paths = sides(repo.path, *TWO)
    chosen = [f"--{style}"] if style != "merge" else []
    args = ["-p", *chosen, *(a for label in labels for a in ("-L", label)), *paths]
    ours, git = both(repo, *args)
    assert 'new Server("0.0.0.0", 80, true);' in ours.stdout, "the first conflict is resolved"
    left = git.stdout[git.stdout.index("<<<<<<<", git.stdout.index("step(11)")) :]
    assert ours.stdout.endswith(left), (ours.stdout, left)
    assert (ours.returncode, git.returncode) == (1, 2)


@pytest.mark.parametrize("binary", [(2,), (1,), (0, 2), (1, 2)])
def test_a_binary_file_is_named_as_git_names_it(repo: GitRepo, binary: tuple[int, ...]) -> None:
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    for index in binary:
        Path(paths[index]).write_bytes(b"binary\0data\n")
    before = Path(paths[0]).read_bytes()
    ours, git = both(repo, *paths)
    assert ours.returncode == git.returncode == 255
    named = git.stderr.strip().rsplit(": ", 1)[1]
    assert named == paths[binary[0]]
    assert len(ours.stderr.splitlines()) == 1 and ours.stderr.strip().endswith(f": {named}"), ours.stderr
    assert Path(paths[0]).read_bytes() == before


@pytest.mark.parametrize("stdout", [True, False], ids=["-p", "in place"])
def test_past_the_time_limit_the_file_gets_gits_merge(repo: GitRepo, stdout: bool) -> None:
    """A resolve longer than $MERGEBERT_DRIVER_TIMEOUT gives git's bytes and exit status, and one line."""
    texts = (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    git_paths = sides(repo.path / "git", *texts)
    paths = sides(repo.path / "mergebert", *texts)
    labels = ["-L", "ours", "-L", "base", "-L", "theirs"]
    git = repo.git("merge-file", *labels, *(["-p"] if stdout else []), *git_paths, check=False)
    repo.env["MERGEBERT_DRIVER_TIMEOUT"] = "0.001"  # less than any resolve: the model alone takes longer
    ours = repo.mergebert("merge-file", *labels, *(["-p"] if stdout else []), *paths)
    assert ours.returncode == git.returncode == 1
    if stdout:
        assert ours.stdout == git.stdout
    else:
        assert Path(paths[0]).read_text() == Path(git_paths[0]).read_text()
    [line] = ours.stderr.splitlines()
    assert line.startswith(f"mergebert: {paths[0]}: ") and "not resolved within 0.001 s" in line, line
    assert "($MERGEBERT_DRIVER_TIMEOUT); kept git's line merge" in line, line
    quiet = repo.mergebert("merge-file", "-q", "-p", *labels, *paths)
    assert (quiet.returncode, quiet.stderr) == (1, "")


def test_within_the_time_limit_the_file_is_resolved(repo: GitRepo) -> None:
    paths = sides(repo.path, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.env["MERGEBERT_DRIVER_TIMEOUT"] = "60"
    assert (repo.mergebert("merge-file", "-p", *paths).stdout) == TOKEN_MERGED


def test_quiet_help_says_what_it_drops(repo: GitRepo) -> None:
    """-q drops the line about the file's conflicts too, and its help says so."""
    paths = sides(repo.path, *TWO)
    assert repo.mergebert("merge-file", "-p", *paths).stderr
    assert repo.mergebert("merge-file", "-q", "-p", *paths).stderr == ""
    help_text = " ".join(repo.mergebert("merge-file", "--help").stdout.split())
    quiet = help_text[help_text.index("-q, --quiet") :].split(" --")[1]
    assert "conflicts" in quiet, quiet


def _many_conflicts(count: int) -> tuple[str, str, str]:
    """Base, ours and theirs of a class whose `count` methods each conflict on one line's tokens."""

    def version(body: str) -> str:
        methods = "".join(
            f"  int m{n}(int x) {{\n    return {body.format(n=n)};\n  }}\n\n" for n in range(count)
        )
        return f"class Many {{\n{methods}}}\n"

    return version("x + {n}"), version("x * {n} + {n}"), version("x + {n} - 1")


def test_ctrl_c_while_it_resolves_is_one_line_130_and_current_as_it_was(repo: GitRepo) -> None:
    """^C while the model works on a long file: no crash (its thread may be in native code), CURRENT as it
    was, one line and git's status for a command ^C ended."""
    paths = sides(repo.path, *_many_conflicts(1000))  # about 7 s of resolving on this machine, idle
    before = Path(paths[0]).read_bytes()
    del repo.env["MERGEBERT_MODEL"]  # the shipped model: its work is what takes the time
    run = subprocess.Popen(
        [MERGEBERT, "merge-file", *paths], env=repo.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    time.sleep(3)  # the model loaded, the conflicts being resolved
    assert run.poll() is None, "the resolve ended before the ^C: give it more conflicts"
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert (run.returncode, stdout, stderr) == (130, "", "mergebert: interrupted: nothing written\n")
    assert Path(paths[0]).read_bytes() == before
