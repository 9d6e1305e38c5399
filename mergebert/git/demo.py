"""`mergebert demo`: a real merge conflict in a throwaway repository, before and after mergebert.

Two branches change the same line of a Java file, each a different argument of one call. git's line
merge can only stop with a conflict; mergebert's token merge sees that the edits do not overlap, and the
shipped model, at its default threshold, accepts that merge. The demo runs a plain `git merge` with
mergebert as the merge driver exactly as `mergebert install` sets it up out of the box: the shipped model
and its default threshold, whatever MERGEBERT_MODEL or MERGEBERT_THRESHOLD say, and confirm mode, so git
stops for the user to check the resolution; the demo shows `mergebert review`, then adds and commits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mergebert.core.options import MergeOptions
from mergebert.git import frontend, gitcmd, pystart

PATH = "src/Server.java"
TEMPLATE = """\
public class Server {{
    private final String host;
    private final int port;
    private final boolean tls;

    Server(String host, int port, boolean tls) {{
        this.host = host;
        this.port = port;
        this.tls = tls;
    }}

    public static void main(String[] args) {{
        Server server = new Server({host}, 8080, {tls});
        System.out.println("listening on " + server.host + ":" + server.port);
    }}
}}
"""
BASE = TEMPLATE.format(host='"localhost"', tls="false")
OURS = TEMPLATE.format(host='"0.0.0.0"', tls="false")  # main: listen on every interface
THEIRS = TEMPLATE.format(host='"localhost"', tls="true")  # feature: turn on TLS
EXPECTED = TEMPLATE.format(host='"0.0.0.0"', tls="true")


def _environment() -> dict[str, str]:
    """git isolated from the user's own config (signing, hooks, templates) for the throwaway repo."""
    env = {k: v for k, v in os.environ.items() if k not in ("MERGEBERT_MODEL", "MERGEBERT_THRESHOLD")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="mergebert demo",
        GIT_AUTHOR_EMAIL="demo@example.com",
        GIT_COMMITTER_NAME="mergebert demo",
        GIT_COMMITTER_EMAIL="demo@example.com",
        GIT_EDITOR="true",
    )
    return env


def _section(title: str) -> None:
    print(f"\n=== {title} ===")


def _commit(repo: Path, env: dict[str, str], text: str, message: str) -> None:
    (repo / PATH).write_text(text, encoding="utf-8")
    gitcmd.git("add", PATH, cwd=repo, env=env)
    gitcmd.git("commit", "-q", "-m", message, cwd=repo, env=env)


def run(keep: bool = False) -> int:
    """Run the demo; 0 when mergebert resolved the conflict as expected."""
    env = _environment()
    repo = Path(tempfile.mkdtemp(prefix="mergebert-demo-"))
    try:
        gitcmd.git("init", "-q", "-b", "main", cwd=repo, env=env)
        (repo / "src").mkdir()
        _commit(repo, env, BASE, "Server on localhost:8080")
        gitcmd.git("checkout", "-q", "-b", "feature", cwd=repo, env=env)
        _commit(repo, env, THEIRS, "Turn on TLS")
        gitcmd.git("checkout", "-q", "main", cwd=repo, env=env)
        _commit(repo, env, OURS, "Listen on every interface")

        driver = f"{pystart.shell_command('mergebert')} driver %O %A %B %L %P"
        gitcmd.git("config", "merge.mergebert.driver", driver, cwd=repo, env=env)
        (repo / ".git" / "info").mkdir(exist_ok=True)
        (repo / ".git" / "info" / "attributes").write_text("*.java merge=mergebert\n", encoding="utf-8")

        print(f"main changed the host, feature turned on TLS; both edited this line of {PATH}:")
        print("    " + BASE.splitlines()[12].strip())
        _section("git alone (git merge-file) would stop with this conflict")
        merged, conflicts = frontend.git_merge_file(
            BASE.encode(), OURS.encode(), THEIRS.encode(), MergeOptions(labels=("HEAD", "base", "feature"))
        )
        print(merged.decode().rstrip("\n"))
        print(f"({conflicts} conflict)")

        _section("git merge feature, with mergebert (shipped model, default threshold) as the merge driver")
        proc = gitcmd.git("merge", "--no-edit", "feature", cwd=repo, env=env, accept=range(256))
        print((proc.stdout + proc.stderr).decode("utf-8", "replace").rstrip("\n"))
        result = (repo / PATH).read_text(encoding="utf-8")
        _section(f"{PATH} after the merge: mergebert's resolution, left for you to confirm (confirm mode)")
        print(result.rstrip("\n"))
        review = subprocess.run(
            [*pystart.command_line("mergebert"), "review"], cwd=repo, env=env, capture_output=True, text=True
        )
        _section("mergebert review")
        print((review.stdout + review.stderr).rstrip("\n"))
        _section(f"git add {PATH} && git commit --no-edit")
        gitcmd.git("add", PATH, cwd=repo, env=env)
        commit = gitcmd.git("commit", "-q", "--no-edit", cwd=repo, env=env, accept=range(256))
        log = gitcmd.git("log", "--oneline", "--graph", cwd=repo, env=env)
        print(log.stdout.decode("utf-8", "replace").rstrip("\n"))
        ok = proc.returncode != 0 and result == EXPECTED and review.returncode == 0 and commit.returncode == 0
        print(
            "\nmergebert kept both edits; you confirmed and git committed the merge."
            if ok
            else "\nUnexpected result."
        )
        return 0 if ok else 1
    finally:
        if keep:
            print(f"(kept {repo})")
        else:
            shutil.rmtree(repo, ignore_errors=True)
