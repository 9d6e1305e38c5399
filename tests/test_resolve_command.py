"""`mergebert resolve` inside repositories stopped mid-merge, mid-rebase and mid-cherry-pick."""

from __future__ import annotations

import fcntl
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
    paused_write,
    signalled_while_waiting,
    without_root_privilege,
)

NAME = "src/App.java"
CLASH = "src/Clash.java"


def stopped(repo: GitRepo, command: str) -> None:
    """Two files conflict (one token-resolvable, one not); run `command`, which stops on them."""
    token, clash = (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS), (CLASH_BASE, CLASH_OURS, CLASH_THEIRS)
    repo.stop_on({NAME: token, CLASH: clash}, command)


@pytest.mark.parametrize("command", ["merge", "rebase", "cherry-pick"])
def test_resolve_rewrites_what_it_can_and_reports(repo: GitRepo, command: str) -> None:
    stopped(repo, command)
    clash_before, token_before = repo.read(CLASH), repo.read(NAME)
    result = repo.mergebert("resolve")
    assert result.returncode == 1, result.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert repo.read(NAME + ".orig") == token_before
    assert repo.read(CLASH) == clash_before
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["file", "conflicts", "resolved", "left"]
    assert lines[1].split() == [NAME, "1", "1", "0", "1:token-merge"]
    assert lines[2].split()[:5] == [CLASH, "1", "0", "1", "1:left"]
    assert sorted(repo.conflicted()) == [NAME, CLASH]  # not staged without --add


def test_resolve_keeps_a_backup_already_there(repo: GitRepo) -> None:
    """A `<file>.orig` already there (the user's, or a mergetool's backup) is never overwritten: the new
    backup takes the next free name."""
    stopped(repo, "merge")
    token_before = repo.read(NAME)
    repo.write(NAME + ".orig", "mine\n")
    repo.write(NAME + ".orig.1", "mine too\n")
    result = repo.mergebert("resolve")
    assert result.returncode == 1, result.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    assert (repo.read(NAME + ".orig"), repo.read(NAME + ".orig.1")) == (b"mine\n", b"mine too\n")
    assert repo.read(NAME + ".orig.2") == token_before
    assert f"backup {NAME}.orig.2" in result.stdout


def test_resolve_add_stages_fully_resolved_files_only(repo: GitRepo) -> None:
    stopped(repo, "merge")
    repo.mergebert("resolve", "--add", "--no-backup")
    assert repo.conflicted() == [CLASH]
    assert repo.git("show", f":{NAME}").stdout == TOKEN_MERGED
    assert not (repo.path / (NAME + ".orig")).exists()


def test_resolve_add_where_git_cannot_stage_says_so(repo: GitRepo) -> None:
    stopped(repo, "merge")
    (repo.path / ".git" / "index.lock").write_text("")  # another git command is running
    result = repo.mergebert("resolve", "--add")
    assert result.returncode == 1
    assert repo.read(NAME) == TOKEN_MERGED.encode()  # written, not staged
    [said] = result.stderr.splitlines()
    assert said.startswith("mergebert: cannot stage the files resolved: fatal: Unable to create"), said
    assert NAME in result.stdout and "staged" not in result.stdout
    (repo.path / ".git" / "index.lock").unlink()
    assert sorted(repo.conflicted()) == sorted([NAME, CLASH])


def test_resolve_dry_run_writes_nothing(repo: GitRepo) -> None:
    stopped(repo, "merge")
    before = repo.read(NAME)
    result = repo.mergebert("resolve", "--dry-run", NAME)
    assert repo.read(NAME) == before
    assert not (repo.path / (NAME + ".orig")).exists()
    assert f"+++ b/{NAME}" in result.stdout
    assert '+        Server s = new Server("0.0.0.0", 8080, true);' in result.stdout
    assert CLASH not in result.stdout


def test_resolve_paths_limit_the_files(repo: GitRepo) -> None:
    stopped(repo, "merge")
    result = repo.mergebert("resolve", CLASH)
    assert result.returncode == 1
    assert NAME not in result.stdout
    assert b"<<<<<<<" in repo.read(NAME)


def test_resolve_takes_a_folder_and_refuses_paths_matching_no_conflicted_file(repo: GitRepo) -> None:
    stopped(repo, "merge")
    before = repo.read(NAME), repo.read(CLASH)
    for path in str(repo.path.parent / "Elsewhere.java"), "src/Typo.java", "docs":
        refused = repo.mergebert("resolve", path)
        assert refused.returncode == 2 and refused.stdout == "", refused.stdout
        [line] = refused.stderr.splitlines()
        assert path in line
    assert (repo.read(NAME), repo.read(CLASH)) == before
    result = repo.mergebert("resolve", "src")
    assert result.returncode == 1 and repo.read(NAME) == TOKEN_MERGED.encode()


def test_resolve_leaves_hand_edited_files_alone(repo: GitRepo) -> None:
    stopped(repo, "merge")
    repo.write(NAME, TOKEN_OURS)
    result = repo.mergebert("resolve")
    assert "no conflict markers" in result.stdout
    assert repo.read(NAME) == TOKEN_OURS.encode()


def test_resolve_names_a_file_the_driver_resolved_in_confirm_mode(repo: GitRepo) -> None:
    repo.mergebert("install", check=True)  # the driver, in confirm mode (the default): git stops on the file
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    assert repo.read(NAME) == TOKEN_MERGED.encode() and repo.conflicted() == [NAME]
    result = repo.mergebert("resolve")
    assert "the merge driver resolved it; check it (mergebert review), then git add it" in result.stdout
    assert "resolved by hand" not in result.stdout
    assert repo.read(NAME) == TOKEN_MERGED.encode() and repo.conflicted() == [NAME]


def test_resolve_reports_deleted_and_binary_files(repo: GitRepo) -> None:
    repo.commit({NAME: TOKEN_BASE, "data.bin": b"\0base\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({NAME: TOKEN_THEIRS, "data.bin": b"\0theirs\n"}, "theirs")
    repo.git("checkout", "-q", "main")
    repo.git("rm", "-q", NAME)
    repo.commit({"data.bin": b"\0ours\n"}, "ours")
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode != 0
    result = repo.mergebert("resolve")
    assert result.returncode == 1
    assert "deleted by us; left alone" in result.stdout
    assert "binary; left alone" in result.stdout
    assert repo.read("data.bin") == b"\0ours\n"
    assert repo.read(NAME) == TOKEN_THEIRS.encode()


def test_resolve_outside_a_conflict(repo: GitRepo) -> None:
    repo.commit({NAME: TOKEN_BASE})
    result = repo.mergebert("resolve")
    assert result.returncode == 0
    assert "no conflicted files" in result.stdout


@pytest.mark.parametrize("style", ["diff3", "zdiff3"])
def test_resolve_finds_conflicts_written_in_a_style_the_config_does_not_name(
    repo: GitRepo, style: str
) -> None:
    """`git -c merge.conflictStyle=diff3 merge` (or `checkout --conflict=diff3`) wrote them."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git(
        "-c", f"merge.conflictStyle={style}", "merge", "--no-edit", "feature", check=False
    ).returncode
    assert b"|||||||" in repo.read(NAME)
    result = repo.mergebert("resolve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.read(NAME) == TOKEN_MERGED.encode()


# a name that is not UTF-8 (Latin-1 bytes, as old Windows and Samba checkouts have), as Python reads it
LATIN1 = os.fsdecode(b"caf\xe9/Gr\xfc.java")


def in_locale(repo: GitRepo, locale: str, folder: Path) -> None:
    """Run `repo`'s commands in `locale`: C, C.UTF-8 (where Python writes a name that is not UTF-8 as its
    bytes to stdout), or a user's UTF-8 locale (en_US.UTF-8, where it refuses to), made into `folder`."""
    if locale == "en_US.UTF-8":
        made = subprocess.run(["localedef", "-i", "en_US", "-f", "UTF-8", str(folder / locale)], check=False)
        if made.returncode not in (0, 1) or not (folder / locale).exists():  # 1: made, with warnings
            pytest.skip("localedef cannot make the en_US.UTF-8 locale here")
        repo.env["LOCPATH"] = str(folder)
    repo.env["LC_ALL"] = locale


@pytest.mark.parametrize("locale", ["C", "C.UTF-8", "en_US.UTF-8"])
def test_resolve_a_file_whose_name_is_not_utf8_and_names_it_by_its_bytes(
    repo: GitRepo, locale: str, tmp_path: Path
) -> None:
    in_locale(repo, locale, tmp_path)
    repo.diverge(LATIN1, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False, text=False).returncode != 0
    result = repo.mergebert("resolve", text=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.read(LATIN1) == TOKEN_MERGED.encode()
    [row] = result.stdout.splitlines()[1:]
    assert row.split() == [b"caf\xe9/Gr\xfc.java", b"1", b"1", b"0", b"1:token-merge"]


def test_resolve_reports_a_file_it_cannot_write_and_resolves_the_others(repo: GitRepo) -> None:
    other = "src/Other.java"
    token = (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.stop_on({NAME: token, other: token})
    before = repo.read(NAME)
    (repo.path / NAME).chmod(0o444)
    result = repo.run(*without_root_privilege(), MERGEBERT, "resolve", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert repo.read(NAME) == before  # git's conflict, as it was
    assert not (repo.path / (NAME + ".orig")).exists()
    assert repo.read(other) == TOKEN_MERGED.encode()
    row = next(line for line in result.stdout.splitlines() if line.startswith(NAME))
    assert row.split()[1:4] == ["1", "0", "1"] and "cannot write" in row, result.stdout


def test_resolve_leaves_a_file_saved_while_it_writes(repo: GitRepo) -> None:
    """A save landing while resolve writes (here: as it writes the backup) is the user's; it is kept."""
    stopped(repo, "merge")
    mine = b"class App { /* resolved by hand */ }\n"
    result = paused_write(repo, NAME + ".orig", ["resolve"], lambda _: (repo.path / NAME).write_bytes(mine))
    assert repo.read(NAME) == mine
    row = next(line for line in result.stdout.splitlines() if line.startswith(NAME))
    assert "changed since it was read; left alone" in row, result.stdout
    assert result.returncode == 1


def test_resolve_killed_while_it_writes_writes_every_file_whole(repo: GitRepo) -> None:
    """A kill (SIGTERM) while the answered files are written is held off, as ^C is: all of them, or none."""
    other = "src/Other.java"
    token = (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.stop_on({NAME: token, other: token})
    resolve = paused_write(  # the kill while it writes the first backup
        repo, NAME + ".orig", ["resolve"], lambda process: process.send_signal(signal.SIGTERM)
    )
    assert resolve.returncode == 0, resolve
    assert repo.read(NAME) == repo.read(other) == TOKEN_MERGED.encode()


@pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="sets a pipe's size, as Linux lets it")
def test_resolve_killed_while_it_prints_its_table_says_every_file_is_written(repo: GitRepo) -> None:
    """A kill (SIGTERM, as ^C) once every file is written, while the table is printed (here: to a pipe
    that holds less than the table, read after the kill): the one line and exit 130, not click's
    'Aborted!'."""
    folder = "src/" + "/".join(f"{n}{'d' * 250}" for n in range(9))  # two rows of it outgrow the pipe
    names = [f"{folder}/App.java", f"{folder}/Other.java"]
    repo.stop_on({name: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS) for name in names})
    reader, writer = os.pipe()
    fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, 4096)  # the least a pipe holds: one page
    with open(reader, "rb") as table:
        command = [MERGEBERT, "resolve"]
        resolve = subprocess.Popen(
            command, cwd=repo.path, env=repo.env, stdout=writer, stderr=subprocess.PIPE, text=True
        )
        os.close(writer)
        try:
            deadline = time.monotonic() + 120  # a bound on waiting for the table to fill the pipe
            while resolve.poll() is None and time.monotonic() < deadline:
                with open(f"/proc/{resolve.pid}/wchan") as wchan:
                    if "pipe_write" in wchan.read():
                        break
                time.sleep(0.05)
            merged = [TOKEN_MERGED.encode()] * 2
            assert [repo.read(name) for name in names] == merged  # the files are written before the table
            resolve.send_signal(signal.SIGTERM)
            assert table.read().startswith(b"file ")
            _, said = resolve.communicate(timeout=120)
        finally:
            resolve.kill()
    assert (resolve.returncode, said) == (130, "mergebert: interrupted: every file is written\n")
    assert [repo.read(name) for name in names] == merged


def waiting_or_done(proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Until `proc` has ended, or waits for a lock (as /proc shows it; else until `seconds` have passed)."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/wchan") as f:
                if "lock" in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.05)


def test_two_resolves_at_once_leave_one_backup_of_gits_conflict(repo: GitRepo) -> None:
    """A second `resolve --add` run while the first writes the file (here: the first paused right after
    its backup, before it replaces the file) neither makes a second backup nor has the first remove the
    backup of the file as it resolved it."""
    stopped(repo, "merge")
    conflict = repo.read(NAME)
    command = ["resolve", "--add", NAME]
    second: list[subprocess.Popen[bytes]] = []

    def meanwhile(_: object) -> None:
        second.append(
            subprocess.Popen([MERGEBERT, *command], cwd=repo.path, env=repo.env, stdout=subprocess.PIPE)
        )
        waiting_or_done(second[0])

    paused_write(repo, NAME, command, meanwhile)
    second[0].communicate(timeout=120)
    assert repo.read(NAME) == TOKEN_MERGED.encode()
    backups = sorted(path.name for path in (repo.path / "src").glob("App.java.orig*"))
    assert backups == ["App.java.orig"]
    assert repo.read(NAME + ".orig") == conflict
    assert NAME not in repo.conflicted()


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_waiting_for_another_writer_can_be_interrupted(repo: GitRepo, number: int) -> None:
    """While another mergebert holds the write lock, `resolve` says it waits; ^C or a kill then ends it
    with nothing written."""
    stopped(repo, "merge")
    before = {name: repo.read(name) for name in (NAME, CLASH)}
    waiting = (
        "mergebert: waiting for another mergebert resolve, mergetool or review --undo to finish writing\n"
    )
    status, first, said = signalled_while_waiting(repo, [MERGEBERT, "resolve", "--add"], number)
    assert first == waiting
    assert status == 130  # SIGTERM, as ^C
    assert said.endswith("mergebert: interrupted: nothing written\n")
    assert {name: repo.read(name) for name in (NAME, CLASH)} == before
    assert sorted(repo.conflicted()) == sorted([NAME, CLASH])
    assert not list((repo.path / "src").glob("*.orig*"))
