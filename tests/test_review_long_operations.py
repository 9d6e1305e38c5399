"""`mergebert review` and `review --undo` across the stops of a long operation (a rebase, a cherry-pick
sequence): a folder takes only the files of the stop git is at, an earlier pick's file is undone only when
named; the log's cap drops the texts of earlier stops first; an operation run at a stop (a `git stash pop`,
the autostash applied at a rebase's end) joins the log of the one in progress; a skipped pick is not
taken for one applied.
"""

from __future__ import annotations

import random
import string
import subprocess
import sys

import pytest
from gitrepo import GitRepo

from mergebert.git import decisionlog


def greeter(name: str, returned: str) -> str:
    """A class whose greeting the sides change: mergebert merges `"Hi, " + name` with `name.trim()`."""
    return f"class Greeter{name} {{\n  String greet(String name) {{\n    return {returned};\n  }}\n}}\n"


def port(name: str, value: int) -> str:
    """A class whose port the sides set apart: mergebert leaves it."""
    return f"class Port{name} {{\n  int port() {{\n    int port = {value};\n    return port;\n  }}\n}}\n"


HELLO, HI, TRIM = '"Hello, " + name', '"Hi, " + name', '"Hello, " + name.trim()'
MERGED = '"Hi, " + name.trim()'


def two_picks(repo: GitRepo) -> tuple[str, str]:
    """main (checked out): base then upstream (Hi / 9090); topic: c1 trims G1 (mergebert resolves it), c2
    trims G2 and sets P2 to 7070 (one resolved, one left). The ids of c1 and c2."""
    repo.commit({"G1.java": greeter("1", HELLO), "G2.java": greeter("2", HELLO), "P2.java": port("2", 8080)})
    repo.git("branch", "topic")
    repo.commit({"G1.java": greeter("1", HI), "G2.java": greeter("2", HI), "P2.java": port("2", 9090)})
    repo.git("checkout", "-q", "topic")
    c1 = repo.commit({"G1.java": greeter("1", TRIM)}, "c1 G1")
    c2 = repo.commit({"G2.java": greeter("2", TRIM), "P2.java": port("2", 7070)}, "c2 G2 P2")
    return c1, c2


def at_the_second_stop(repo: GitRepo, command: str) -> tuple[str, str]:
    """The operation (`rebase` onto main, or `cherry-pick` of c1 and c2 onto main) stopped at c2, c1's
    resolution confirmed and committed."""
    c1, c2 = two_picks(repo)
    if command == "cherry-pick":
        repo.git("checkout", "-q", "main")
    repo.mergebert("install", check=True)
    started = repo.git(*(["rebase", "main"] if command == "rebase" else ["cherry-pick", c1, c2]), check=False)
    assert started.returncode != 0, started.stdout  # stopped at c1 to confirm G1
    repo.git("add", "G1.java")
    assert repo.git("-c", "core.editor=true", command, "--continue", check=False).returncode != 0
    assert repo.read("G2.java") == greeter("2", MERGED).encode()  # stopped at c2
    return c1, c2


def settle_and_continue(repo: GitRepo, command: str) -> None:
    """The user writes this stop's resolutions by hand, then `git add -A` and continues (no hook runs)."""
    repo.write("G2.java", greeter("2", MERGED))
    repo.write("P2.java", port("2", 7070))
    repo.git("add", "-A")
    repo.git("-c", "core.editor=true", command, "--continue")


COMMANDS = ["rebase", "cherry-pick"]


@pytest.mark.parametrize("folder", [".", "sub"], ids=["top", "top-from-a-subfolder"])
@pytest.mark.parametrize("command", COMMANDS)
def test_undo_of_a_folder_takes_only_the_files_of_the_stop_git_is_at(
    repo: GitRepo, command: str, folder: str
) -> None:
    at_the_second_stop(repo, command)
    committed = repo.read("G1.java")
    (repo.path / "sub").mkdir()
    where, typed = ("sub", "..") if folder == "sub" else (".", ".")  # the top, from a subfolder too
    undo = repo.run("sh", "-c", f"cd {where} && exec mergebert review --undo {typed}", check=False)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert "G1.java" not in undo.stdout, undo.stdout
    assert repo.read("G1.java") == committed, "an earlier pick's file is left as committed"
    assert "<<<<<<< " in repo.read("G2.java").decode()
    assert "UU G2.java" in repo.git("status", "--short").stdout
    settle_and_continue(repo, command)
    markers = repo.git("grep", "-c", "^<<<<<<<", "HEAD", "--", "*.java", check=False).stdout
    assert markers == "", markers
    assert repo.read("G1.java") == greeter("1", MERGED).encode()


@pytest.mark.parametrize("command", COMMANDS)
def test_undo_of_an_earlier_picks_file_named_says_where_the_change_goes(repo: GitRepo, command: str) -> None:
    c1, _ = at_the_second_stop(repo, command)
    what = "rebase's pick" if command == "rebase" else "pick"
    undo = repo.mergebert("review", "--undo", "G1.java")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert "G1.java: conflict 1 (line 3): git's conflict put back" in undo.stdout, undo.stdout
    expected = (
        f"G1.java: the {what} of {c1[:7]} (c1 G1) is over: git cannot hold it unmerged again, and what "
        "you change in it now goes into the commit of the pick being applied; resolve it yourself, then "
        "`git add G1.java`\n"
    )
    assert expected in undo.stdout, undo.stdout
    assert "<<<<<<< " in repo.read("G1.java").decode()


@pytest.mark.parametrize("command", COMMANDS)
def test_review_tells_the_stop_git_is_at_from_earlier_picks(repo: GitRepo, command: str) -> None:
    c1, c2 = at_the_second_stop(repo, command)
    out = repo.mergebert("review").stdout
    titles = [line for line in out.splitlines() if line.endswith(")") and ": resolved " in line]
    assert f"G1.java: resolved 1 of 1 conflict (applying {c1[:7]} (c1 G1): an earlier pick)" in titles, out
    for name, resolved in (("G2.java", 1), ("P2.java", 0)):
        line = f"{name}: resolved {resolved} of 1 conflict (applying {c2[:7]} (c2 G2 P2): this stop)"
        assert line in titles, out


def big(greetings: dict[int, str]) -> str:
    """A Java class of some 3 MB that compresses poorly (the log keeps what the driver wrote and git's merge,
    zlib-compressed: two such files make a record past half the log's cap), with three greetings far apart
    (`greetings`: the returns that differ from HELLO)."""
    chance = random.Random(1)
    lines = ["class Big {"]
    for i in range(30_000):
        name = "".join(chance.choice(string.ascii_letters) for _ in range(80))
        lines.append(f'  String f{i}() {{ return "{name}"; }}')
        if i % 10_000 == 5_000:
            k = i // 10_000
            lines.append(f"  String greet{k}(String name) {{\n    return {greetings.get(k, HELLO)};\n  }}")
    return "\n".join([*lines, "}\n"])


def test_the_logs_cap_drops_earlier_picks_texts_first(repo: GitRepo) -> None:
    """Three picks, each resolving one conflict of a file whose record takes more than half the cap: at
    each stop the texts of that stop are kept, so `review` shows them and `--undo` works, and the log stays
    under its cap."""
    repo.commit({"Big.java": big({})}, "base")
    repo.git("branch", "topic")
    repo.commit({"Big.java": big(dict.fromkeys(range(3), HI))}, "upstream")
    repo.git("checkout", "-q", "topic")
    for k in range(3):
        repo.commit({"Big.java": big(dict.fromkeys(range(k + 1), TRIM))}, f"c{k}")
    repo.mergebert("install", check=True)
    log = repo.path / ".git" / decisionlog.LOG
    assert repo.git("rebase", "main", check=False).returncode != 0
    for k in range(3):
        if k:
            repo.git("add", "Big.java")
            assert repo.git("rebase", "--continue", check=False).returncode != 0
        assert log.stat().st_size <= decisionlog.MAX_BYTES + decisionlog.SLIM_ROOM
        review = repo.mergebert("review", "Big.java").stdout
        assert "the decision log was full" not in review.split("applying")[-1], review[-2000:]
    header, records = decisionlog.read(str(repo.path / ".git")) or ({}, [])
    assert [bool(r.get("slim")) for r in records] == [True, True, False]
    undo = repo.mergebert("review", "--undo", "Big.java")
    assert undo.returncode == 0, undo.stdout
    assert repo.read("Big.java").decode().count("<<<<<<< ") == 1


def stash_of_g3(repo: GitRepo) -> None:
    """G3 greets "Hi" on main, "Hello" on topic, and a stash on topic trims it: applied on main's side, the
    stash conflicts and mergebert resolves it."""
    repo.git("checkout", "-q", "main")
    repo.commit({"G3.java": greeter("3", HI)}, "main G3")
    repo.git("checkout", "-q", "topic")
    repo.commit({"G3.java": greeter("3", HELLO)}, "topic G3")
    repo.write("G3.java", greeter("3", TRIM))
    repo.git("stash", "-q")


def test_a_stash_popped_at_a_rebases_stop_joins_its_log(repo: GitRepo) -> None:
    """`git stash pop` at a stop: both the stop's file and the stash's can be reviewed and undone."""
    c1, _ = two_picks(repo)
    stash_of_g3(repo)
    repo.mergebert("install", check=True)
    assert repo.git("rebase", "main", check=False).returncode != 0  # stopped at c1
    repo.git("add", "G1.java")
    assert repo.git("stash", "pop", check=False).returncode != 0
    assert repo.read("G3.java") == greeter("3", MERGED).encode()
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith("mergebert review: rebase onto "), out
    assert f"G1.java: resolved 1 of 1 conflict (applying {c1[:7]} (c1 G1): this stop)" in out, out
    assert (
        "G3.java: resolved 1 of 1 conflict (applying Stashed changes: a stash apply within the rebase)" in out
    )
    for name in ("G1.java", "G3.java"):
        undo = repo.mergebert("review", "--undo", name)
        assert undo.returncode == 0, undo.stdout + undo.stderr
        assert f"{name}: conflict 1 (line 3): git's conflict put back" in undo.stdout, undo.stdout
    assert {"UU G1.java", "UU G3.java"} <= set(repo.git("status", "--short").stdout.splitlines())


def test_undo_of_a_stash_popped_at_an_earlier_stop_names_the_stash_apply(repo: GitRepo) -> None:
    """The stash popped at c1's stop is over once the rebase moves on: named, its file is undone, the line
    saying the stash apply (not "the operation") is over."""
    two_picks(repo)
    stash_of_g3(repo)
    repo.mergebert("install", check=True)
    assert repo.git("rebase", "main", check=False).returncode != 0  # stopped at c1
    repo.git("add", "G1.java")
    assert repo.git("stash", "pop", check=False).returncode != 0
    repo.git("add", "G3.java")
    assert repo.git("rebase", "--continue", check=False).returncode != 0  # stopped at c2
    repo.write("G3.java", greeter("3", '"Hey, " + name.trim()'))
    edited = repo.mergebert("review", "--undo", "G3.java", check=False).stdout
    said = "G3.java: conflict 1: not as mergebert wrote it: changed since (by you or a later step); "
    assert edited == said + "left as it is\n", edited
    repo.write("G3.java", greeter("3", MERGED))
    undo = repo.mergebert("review", "--undo", "G3.java")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    expected = (
        "G3.java: the stash apply is over: git cannot hold it unmerged again, and what you change in it now "
        "goes into the commit of the pick being applied; resolve it yourself, then `git add G3.java`\n"
    )
    assert expected in undo.stdout, undo.stdout


def one_pick_and_a_local_edit(repo: GitRepo) -> None:
    """main: G1 and G3 greet "Hi"; topic (checked out): c1 trims G1's name, and G3's is trimmed in the work
    tree, uncommitted: mergebert resolves c1's conflict with main, and the edit's once it is applied on
    main's G3."""
    repo.commit({"G1.java": greeter("1", HELLO), "G3.java": greeter("3", HELLO)}, "base")
    repo.git("branch", "topic")
    repo.commit({"G1.java": greeter("1", HI), "G3.java": greeter("3", HI)}, "upstream")
    repo.git("checkout", "-q", "topic")
    repo.commit({"G1.java": greeter("1", TRIM)}, "c1 G1")
    repo.write("G3.java", greeter("3", TRIM))


AUTOSTASHED = {  # the command, and the operation it logs
    "rebase": (["rebase", "--autostash", "main"], "rebase"),
    "merge": (["merge", "--autostash", "main"], "merge"),
    "pull": (["pull", "--no-rebase", "--autostash", ".", "main"], "merge"),
}


@pytest.mark.parametrize("command", AUTOSTASHED)
def test_the_autostash_applied_at_an_operations_end_joins_its_log(repo: GitRepo, command: str) -> None:
    """The stash `--autostash` applies when the operation ends conflicts: the operation's decisions stay
    reviewable beside the stash's."""
    one_pick_and_a_local_edit(repo)
    repo.mergebert("install", "--no-confirm", check=True)
    args, logged = AUTOSTASHED[command]
    ran = repo.git(*args, check=False)
    assert "Applied autostash." in ran.stdout + ran.stderr, ran.stdout + ran.stderr  # its conflict resolved
    assert repo.read("G3.java") == greeter("3", MERGED).encode()
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith(f"mergebert review: {logged} "), out
    assert "G1.java: resolved 1 of 1 conflict" in out, out
    stash = f"G3.java: resolved 1 of 1 conflict (applying Stashed changes: a stash apply within the {logged})"
    assert stash in out, out
    undo = repo.mergebert("review", "--undo", "G3.java")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert "UU G3.java" in repo.git("status", "--short").stdout


@pytest.mark.parametrize(
    "conclude", [["commit", "--no-edit"], ["merge", "--continue"]], ids=["commit", "continue"]
)
def test_the_autostash_applied_when_a_confirmed_merge_is_concluded_joins_its_log(
    repo: GitRepo, conclude: list[str]
) -> None:
    """With confirm on, the merge stops for G1; the user's `git commit` (or `merge --continue`) ends it and
    applies the autostash, which conflicts: the merge's decision stays reviewable beside the stash's."""
    one_pick_and_a_local_edit(repo)
    repo.mergebert("install", check=True)
    assert repo.git("merge", "--autostash", "main", check=False).returncode != 0  # to confirm G1
    repo.git("add", "G1.java")
    ended = repo.git(*conclude, check=False)
    assert "Applying autostash resulted in conflicts." in ended.stdout + ended.stderr, ended.stderr
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith("mergebert review: merge of main into "), out
    assert "G1.java: resolved 1 of 1 conflict" in out, out
    stash = "G3.java: resolved 1 of 1 conflict (applying Stashed changes: a stash apply within the merge)"
    assert stash in out, out
    undo = repo.mergebert("review", "--undo", "G3.java")
    assert undo.returncode == 0, undo.stdout + undo.stderr


def test_an_unrelated_autostash_does_not_join_an_old_merges_log(repo: GitRepo) -> None:
    """feature is merged into main (mergebert resolves G1); later, on another branch, `git merge --autostash
    feature` fast-forwards and its autostash conflicts: that stash apply is an operation of its own."""
    repo.commit({"G1.java": greeter("1", HELLO), "G3.java": greeter("3", HELLO)}, "base")
    repo.git("branch", "other")
    repo.git("branch", "feature")
    repo.commit({"G1.java": greeter("1", HI)}, "main G1")
    repo.git("checkout", "-q", "feature")
    repo.commit({"G1.java": greeter("1", TRIM), "G3.java": greeter("3", HI)}, "feature G1 G3")
    repo.git("checkout", "-q", "main")
    repo.mergebert("install", "--no-confirm", check=True)
    repo.git("merge", "-m", "merge feature", "feature")
    repo.git("checkout", "-q", "other")
    repo.write("G3.java", greeter("3", TRIM))
    repo.git("merge", "--autostash", "feature")
    assert repo.read("G3.java") == greeter("3", MERGED).encode()
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith("mergebert review: stash apply on "), out
    assert "G1.java" not in out, out
    assert "G3.java: resolved 1 of 1 conflict (applying Stashed changes)\n" in out, out


def test_a_new_operation_still_replaces_the_log(repo: GitRepo) -> None:
    """Once the rebase is over, a stash popped is an operation of its own."""
    one_pick_and_a_local_edit(repo)
    repo.git("stash", "-q")
    repo.mergebert("install", "--no-confirm", check=True)
    assert repo.git("rebase", "main", check=False).returncode == 0
    repo.git("stash", "pop")
    assert repo.read("G3.java") == greeter("3", MERGED).encode()
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith("mergebert review: stash apply on "), out
    assert "G1.java" not in out and "G3.java: resolved 1 of 1 conflict (applying Stashed changes)\n" in out, (
        out
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_skipped_pick_is_not_taken_for_one_applied(repo: GitRepo, command: str) -> None:
    """Skipped, c2's resolution of G2 is in no file: its undo does not say the user edited it."""
    _, c2 = at_the_second_stop(repo, command)
    repo.git(command, "--skip")
    assert repo.read("G2.java") == greeter("2", HI).encode()
    out = repo.mergebert("review").stdout
    assert f"G2.java: resolved 1 of 1 conflict (applying {c2[:7]} (c2 G2 P2))" in out, out
    undo = repo.mergebert("review", "--undo", "G2.java")
    assert "edited since" not in undo.stdout, undo.stdout
    said = "G2.java: conflict 1: not as mergebert wrote it: changed since (by you or a later step), or "
    assert said + "its step was skipped; left as it is\n" in undo.stdout, undo.stdout
    assert repo.read("G2.java") == greeter("2", HI).encode()


@pytest.mark.parametrize("command", COMMANDS)
def test_review_after_an_abort_says_the_run_is_over(repo: GitRepo, command: str) -> None:
    at_the_second_stop(repo, command)
    repo.git(command, "--abort")
    first = repo.mergebert("review").stdout.splitlines()[0]
    assert first.endswith(" (no longer in progress: HEAD is back where it started, as after --abort)"), first
    undo = repo.mergebert("review", "--undo", "G1.java")
    said = (
        "G1.java: conflict 1: not as mergebert wrote it: the run was aborted (HEAD is back where it started)"
    )
    assert undo.stdout == said + "; left as it is\n", undo.stdout


def test_undo_of_a_folder_at_a_stop_with_no_file_of_its_own_is_refused(repo: GitRepo) -> None:
    """At a `break` after c1, nothing of the stop git is at was merged: the folder names no file to undo,
    and c1's committed file is left alone."""
    two_picks(repo)
    repo.mergebert("install", "--no-confirm", check=True)
    editing = GitRepo(repo.path, {**repo.env, "GIT_SEQUENCE_EDITOR": "sed -i '1a break'"})
    assert editing.git("rebase", "-i", "main", check=False).returncode == 0  # c1 resolved, then the break
    committed = repo.read("G1.java")
    undo = repo.mergebert("review", "--undo", ".")
    assert undo.returncode == 1 and undo.stdout == "", undo.stdout
    assert "matches no file the merge driver handled at the stop git is at" in undo.stderr, undo.stderr
    assert repo.read("G1.java") == committed
    named = repo.mergebert("review", "--undo", "G1.java")
    assert named.returncode == 0 and "goes into the commit of the pick being applied" in named.stdout


HOLD = """import fcntl, os, sys
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def test_a_merge_is_not_held_up_by_another_process_holding_the_logs_lock(repo: GitRepo) -> None:
    """While another process holds the log's lock (one stopped in its write, say), `git merge` ends with
    mergebert's merge all the same: one line says the record was not written, and none is."""
    one_pick_and_a_local_edit(repo)
    repo.git("checkout", "-q", "--", ".")
    repo.mergebert("install", "--no-confirm", check=True)
    lock = repo.path / ".git" / decisionlog.LOCK
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        merged = repo.git("merge", "main", check=False)
    finally:
        holder.communicate("")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert repo.read("G1.java") == greeter("1", MERGED).encode()
    said = [line for line in merged.stderr.splitlines() if "decision log" in line]
    assert len(said) == 1 and said[0].startswith("mergebert: G1.java: cannot write the decision log ("), said
    assert "another process has held its lock" in said[0], said
    assert not (repo.path / ".git" / decisionlog.LOG).exists()


def holding_the_logs_lock(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    """`git *args` while another process holds the decision log's lock."""
    lock = repo.path / ".git" / decisionlog.LOCK
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        return repo.git(*args, check=False)
    finally:
        holder.communicate("")


def test_undo_refuses_a_record_of_an_earlier_merge_where_this_ones_was_not_written(repo: GitRepo) -> None:
    """f2 is merged (mergebert resolves G1, logged); then feature is merged while another process holds the
    log's lock: G1's record of this merge is not written, its line does not point to `mergebert review`,
    and `review --undo G1.java` refuses to put f2's conflict in it: git's stages and the file are kept;
    `--undo .` does not reopen G2 either, of the f2 merge, which is over."""
    repo.commit({"G1.java": greeter("1", HELLO), "G2.java": greeter("2", HELLO)}, "base")
    repo.git("branch", "feature")
    repo.git("branch", "f2")
    repo.commit({"G1.java": greeter("1", HI), "G2.java": greeter("2", HI)}, "main")
    repo.git("checkout", "-q", "f2")
    repo.commit({"G1.java": greeter("1", TRIM), "G2.java": greeter("2", TRIM)}, "f2")
    repo.git("checkout", "-q", "feature")
    repo.commit({"G1.java": greeter("1", TRIM), "N.txt": "x\n"}, "feature")
    repo.git("checkout", "-q", "main")
    repo.mergebert("install", check=True)
    assert repo.git("merge", "f2", check=False).returncode != 0  # to confirm G1
    repo.git("add", "G1.java", "G2.java")
    repo.git("commit", "-q", "--no-edit")
    merged = holding_the_logs_lock(repo, "merge", "feature")
    assert merged.returncode != 0, merged.stdout + merged.stderr  # to confirm G1
    g1 = [line for line in merged.stderr.splitlines() if "G1.java" in line]
    assert any(
        "cannot write the decision log" in line and "`mergebert review` will not list it" in line
        for line in g1
    ), g1
    assert not any("(mergebert review)" in line for line in g1), g1
    stages = repo.git("ls-files", "-s", "G1.java").stdout
    written = repo.read("G1.java")
    undo = repo.mergebert("review", "--undo", "G1.java")
    assert undo.returncode == 1, undo.stdout + undo.stderr
    assert "G1.java: the decision log's record of it is of an earlier operation" in undo.stdout, undo.stdout
    assert repo.read("G1.java") == written
    assert repo.git("ls-files", "-s", "G1.java").stdout == stages
    every = repo.mergebert("review", "--undo", ".")
    assert every.returncode == 1, every.stdout + every.stderr
    assert "G2.java: the decision log's record of it is of an earlier operation" in every.stdout, every.stdout
    assert repo.read("G2.java") == greeter("2", MERGED).encode()
    assert repo.read("G1.java") == written


def test_the_autostash_ending_a_merge_joins_its_log_without_a_reflog(repo: GitRepo) -> None:
    """With core.logAllRefUpdates=false (no reflog), the autostash `git merge --autostash` applies still
    joins the merge's log: it inherits the merge's GITHEAD_<id>."""
    repo.git("config", "core.logAllRefUpdates", "false")
    one_pick_and_a_local_edit(repo)
    for log in (repo.path / ".git" / "logs").rglob("*"):
        if log.is_file():
            log.unlink()
    repo.mergebert("install", "--no-confirm", check=True)
    ran = repo.git("merge", "--autostash", "--no-edit", "main", check=False)
    assert "Applied autostash." in ran.stdout + ran.stderr, ran.stdout + ran.stderr
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith("mergebert review: merge of main into "), out
    assert "G1.java: resolved 1 of 1 conflict" in out, out
    assert "(applying Stashed changes: a stash apply within the merge)" in out, out


def test_the_autostash_applied_when_a_squash_merge_is_committed_joins_its_log(repo: GitRepo) -> None:
    """`git merge --squash --autostash` applies the stash at the user's `git commit` (reflog `commit: `):
    the squash's decisions stay reviewable beside the stash's."""
    one_pick_and_a_local_edit(repo)
    repo.mergebert("install", "--no-confirm", check=True)
    repo.git("merge", "--squash", "--autostash", "main")
    ended = repo.git("commit", "-qm", "squashed", check=False)
    assert "Applied autostash." in ended.stdout + ended.stderr, ended.stdout + ended.stderr
    out = repo.mergebert("review").stdout
    assert "G1.java: resolved 1 of 1 conflict" in out, out
    assert "(applying Stashed changes: a stash apply within the merge)" in out, out


def test_an_autostash_after_an_aborted_merge_does_not_join_its_log(repo: GitRepo) -> None:
    """A merge of feature stops (confirm) and is aborted; `git merge --autostash f3` from the same HEAD
    is another merge: its autostash's stash apply does not join the aborted merge's log."""
    repo.commit({"G1.java": greeter("1", HELLO), "G3.java": greeter("3", HELLO)}, "base")
    repo.git("branch", "feature")
    repo.git("branch", "f3")
    repo.commit({"G1.java": greeter("1", HI)}, "main")
    repo.git("checkout", "-q", "feature")
    repo.commit({"G1.java": greeter("1", TRIM)}, "feature")
    repo.git("checkout", "-q", "f3")
    repo.commit({"G3.java": greeter("3", HI)}, "f3")
    repo.git("checkout", "-q", "main")
    repo.mergebert("install", check=True)
    assert repo.git("merge", "feature", check=False).returncode != 0
    repo.git("merge", "--abort")
    repo.write("G3.java", greeter("3", TRIM))
    repo.git("merge", "--autostash", "--no-edit", "f3", check=False)
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith("mergebert review: stash apply on "), out
    assert "G1.java" not in out, out


def test_a_stash_popped_by_hand_after_a_merge_commit_does_not_join_its_log(repo: GitRepo) -> None:
    """The merge resolves G1 and commits; then the user pops an old stash (G3 conflicts): an operation of
    its own, so `review --undo .` undoes G3 alone."""
    one_pick_and_a_local_edit(repo)
    repo.git("stash", "-q")
    repo.mergebert("install", "--no-confirm", check=True)
    repo.git("merge", "--no-edit", "main")
    repo.git("stash", "pop", check=False)
    assert repo.read("G3.java") == greeter("3", MERGED).encode()
    out = repo.mergebert("review").stdout
    assert out.splitlines()[0].startswith("mergebert review: stash apply on "), out
    assert "G1.java" not in out, out
    repo.mergebert("review", "--undo", ".")
    assert repo.read("G1.java") == greeter("1", MERGED).encode()


def test_undo_refuses_an_earlier_stash_applys_record_where_this_ones_was_not_written(repo: GitRepo) -> None:
    """Two stashes made on the base; one is applied on a later HEAD (mergebert resolves G1, logged) and
    reset; the other is applied on the same HEAD while another process holds the log's lock: `review
    --undo G1.java` refuses the first's record, whose versions are not the ones git holds unmerged."""
    repo.commit({"G1.java": greeter("1", HELLO)}, "base")
    repo.write("G1.java", greeter("1", TRIM))
    repo.git("stash", "-q")
    repo.write("G1.java", greeter("1", '"Hello, " + name.strip()'))
    repo.git("stash", "-q")
    repo.commit({"G1.java": greeter("1", HI)}, "upstream")
    repo.mergebert("install", check=True)
    assert repo.git("stash", "apply", "stash@{1}", check=False).returncode != 0  # to confirm G1
    repo.git("reset", "-q", "--hard")
    applied = holding_the_logs_lock(repo, "stash", "apply", "stash@{0}")
    assert applied.returncode != 0, applied.stdout + applied.stderr
    written = repo.read("G1.java")
    assert written == greeter("1", '"Hi, " + name.strip()').encode()
    undo = repo.mergebert("review", "--undo", "G1.java")
    assert undo.returncode == 1, undo.stdout + undo.stderr
    assert "G1.java: the decision log has no record of this merge of the file" in undo.stdout, undo.stdout
    assert repo.read("G1.java") == written


def crlf_base_text_auto(repo: GitRepo) -> None:
    """A base committed with CRLFs, both sides LF under `* text=auto`: git's merge renormalizes only where
    asked, so the versions the driver merges depend on `-X renormalize`."""
    repo.commit({"G1.java": greeter("1", HELLO).replace("\n", "\r\n")}, "base")
    repo.git("branch", "feature")
    repo.commit({".gitattributes": "* text=auto\n", "G1.java": greeter("1", HI)}, "main")
    repo.git("checkout", "-q", "feature")
    repo.commit({".gitattributes": "* text=auto\n", "G1.java": greeter("1", TRIM)}, "feature")
    repo.git("checkout", "-q", "main")


RENORMALIZED = {"-X renormalize": (None, "renormalize"), "-X no-renormalize": ("true", "no-renormalize")}


@pytest.mark.parametrize("config, option", RENORMALIZED.values(), ids=RENORMALIZED)
def test_undo_takes_its_own_record_whatever_the_merge_renormalized(
    repo: GitRepo, config: str | None, option: str
) -> None:
    """The record's versions are those the driver merged, renormalized or not by `-X`, which the config
    does not show: undo recognises its own record either way."""
    crlf_base_text_auto(repo)
    if config is not None:
        repo.git("config", "merge.renormalize", config)
    repo.mergebert("install", check=True)
    repo.git("merge", "-X", option, "--no-edit", "feature", check=False)
    assert b"<<<<<<<" not in repo.read("G1.java")
    undo = repo.mergebert("review", "--undo", "G1.java")
    assert undo.returncode == 0 and "git's conflict put back" in undo.stdout, undo.stdout + undo.stderr
    assert b"<<<<<<<" in repo.read("G1.java")


def test_undo_of_an_earlier_operations_file_at_an_unrelated_stop_says_so(repo: GitRepo) -> None:
    """git stopped in a rebase the driver had no part in (a `break`): a file of an earlier, finished merge is
    not put back into it, and the line says why truly (the record is of an earlier operation)."""
    repo.commit({"G1.java": greeter("1", HELLO)}, "base")
    repo.git("branch", "f2")
    repo.commit({"G1.java": greeter("1", HI)}, "main")
    repo.git("checkout", "-q", "f2")
    repo.commit({"G1.java": greeter("1", TRIM)}, "f2")
    repo.git("checkout", "-q", "main")
    repo.mergebert("install", "--no-confirm", check=True)
    repo.git("merge", "--no-edit", "f2", check=True)
    repo.commit({"N": "n\n"}, "n")
    repo.git("-c", "sequence.editor=sed -i 1ibreak", "rebase", "-i", "HEAD~1", check=False)
    before = repo.read("G1.java")
    undo = repo.mergebert("review", "--undo", "G1.java")
    assert undo.returncode == 1 and repo.read("G1.java") == before, undo.stdout
    assert "was not written" not in undo.stdout and "earlier" in undo.stdout, undo.stdout
