"""A long `git rebase` with mergebert installed, next to plain git and a driver that only runs git merge-file.

    python benchmarks/rebase.py [--commits 50] [--files 6] [--conflicts 10] [--repeat 3] [--in-process]

1. A fixed history: a branch of COMMITS commits, each changing FILES Java files that upstream also
   changed, at lines git merges on its own (so git calls the merge driver for every file of every
   commit, and nothing conflicts). It is rebased three times in one run: plain git; with a driver that
   only runs `git merge-file` (the floor for any merge driver: git forks a process per file); with
   `mergebert install`, each REPEAT times, interleaved (the median is shown). Target: mergebert at most
   1.5x the merge-file-only driver. The three results must be the same trees. With --in-process, both
   histories are also rebased with `mergebert driver` run in-process for every file (as before the shell
   entry point and the daemon), which must give the same trees.
2. A history whose CONFLICTS commits each conflict with upstream on one line that the token merge
   settles; mergebert's rebase (shipped model, default threshold) must complete, and its time per
   resolved conflict is reported.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def java(name: str, lines: int, changed: dict[int, str]) -> str:
    """A class of `lines` methods; `changed` replaces the bodies of some of them."""
    body = "".join(
        f"    static int f{i}(int x) {{ {changed.get(i, f'return x + {i};')} }}\n" for i in range(lines)
    )
    return f"public class {name} {{\n{body}}}\n"


def servers(name: str, count: int, hosts: dict[int, str], flags: dict[int, str]) -> str:
    """A class whose method starts `count` servers; each call's host and flag can change."""
    calls = "".join(
        f'        Server s{i} = new Server("{hosts.get(i, "localhost")}", {8000 + i}, '
        f'{flags.get(i, "false")});\n        s{i}.start();\n        log.info("started {i}");\n'
        for i in range(count)
    )
    return f"public class {name} {{\n    void run() {{\n{calls}    }}\n}}\n"


class Repo:
    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path, self.env = path, env

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise SystemExit(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc

    def commit(self, files: dict[str, str], message: str) -> None:
        for name, text in files.items():
            (self.path / name).write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message)


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MERGEBERT_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
        GIT_AUTHOR_DATE="2026-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2026-01-01T00:00:00Z",
        MERGEBERT_DAEMON_DIR=str(home / "d"),
    )
    return env


def clean_history(repo: Repo, commits: int, files: int) -> None:
    """Upstream changes the first methods of every file; each topic commit changes one method further down."""
    lines = commits + 40
    names = [f"F{n}" for n in range(files)]
    repo.commit({f"{n}.java": java(n, lines, {}) for n in names}, "base")
    repo.git("checkout", "-q", "-b", "topic")
    topic: dict[int, str] = {}
    for k in range(commits):
        topic[20 + k] = f"return x * {k + 2};"
        repo.commit({f"{n}.java": java(n, lines, topic) for n in names}, f"topic {k}")
    repo.git("checkout", "-q", "main")
    upstream = {i: f"return x - {i};" for i in range(5)}
    repo.commit({f"{n}.java": java(n, lines, upstream) for n in names}, "upstream")


def conflict_history(repo: Repo, conflicts: int) -> None:
    """Upstream changes every server's host; topic commit k turns server k's flag on: one token conflict."""
    repo.commit({"Servers.java": servers("Servers", conflicts, {}, {})}, "base")
    repo.git("checkout", "-q", "-b", "topic")
    flags: dict[int, str] = {}
    for k in range(conflicts):
        flags[k] = "true"
        repo.commit({"Servers.java": servers("Servers", conflicts, {}, flags)}, f"topic {k}")
    repo.git("checkout", "-q", "main")
    hosts = {i: "0.0.0.0" for i in range(conflicts)}
    repo.commit({"Servers.java": servers("Servers", conflicts, hosts, {})}, "upstream")


def rebase(repo: Repo) -> tuple[float, str, str]:
    """Rebase a fresh copy of topic onto main: seconds, the resulting tree, git's stderr."""
    repo.git("checkout", "-q", "-B", "work", "topic")
    start = time.perf_counter()
    proc = repo.git("rebase", "main", check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the rebase stopped:\n{proc.stdout}{proc.stderr}")
    return elapsed, repo.git("rev-parse", "HEAD^{tree}").stdout.strip(), proc.stderr


def use(repo: Repo, driver: str | None) -> None:
    """No driver (plain git), the merge-file-only driver, or mergebert as `mergebert install` sets it up."""
    attributes = repo.path / ".git" / "info" / "attributes"
    repo.git("config", "--remove-section", "merge.mergefile", check=False)
    subprocess.run([str(BIN / "mergebert"), "uninstall"], cwd=repo.path, env=repo.env, capture_output=True)
    attributes.unlink(missing_ok=True)
    if driver == "merge-file":
        repo.git("config", "merge.mergefile.driver", "git merge-file --marker-size=%L %A %O %B")
        attributes.parent.mkdir(exist_ok=True)
        attributes.write_text("*.java merge=mergefile\n")
    elif driver in ("mergebert", "in-process"):
        # confirm mode off: the rebase must run through the conflicts mergebert resolves
        command = [str(BIN / "mergebert"), "install", "--no-confirm"]
        subprocess.run(command, cwd=repo.path, env=repo.env, check=True, capture_output=True)
    if driver == "in-process":  # what every driver call cost before the shell entry point and the daemon
        repo.git("config", "merge.mergebert.driver", f"{BIN / 'mergebert'} driver %O %A %B %L %P")


def in_process(repo: Repo) -> tuple[float, str, str]:
    """Rebase with `mergebert driver` started for every file, no shell entry point, no daemon."""
    use(repo, "in-process")
    repo.env["MERGEBERT_DAEMON"] = "0"
    try:
        return rebase(repo)
    finally:
        del repo.env["MERGEBERT_DAEMON"]


def stop_daemons(home: Path) -> None:
    for pid_file in (home / "d").glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), 15)
        except (OSError, ValueError):
            continue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--files", type=int, default=6)
    parser.add_argument("--conflicts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="rebases per setup; the median is shown")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="also rebase both histories with `mergebert driver` in-process for every file (slow) and check "
        "that the trees are the same as with the shell entry point and the daemon",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mergebert-rebase-") as tmp:
        home = Path(tmp) / "h"
        (home / ".config").mkdir(parents=True)
        (home / "d").mkdir(mode=0o700)
        env = environment(home)
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        try:
            clean = Repo(Path(tmp) / "clean", env)
            clean.path.mkdir()
            clean.git("init", "-q", "-b", "main")
            clean_history(clean, args.commits, args.files)
            runs: dict[str | None, list[float]] = {None: [], "merge-file": [], "mergebert": []}
            trees = {}
            for _ in range(args.repeat):  # interleaved, so that a burst of load does not hit one setup only
                for driver in runs:
                    use(clean, driver)
                    seconds, trees[driver], _ = rebase(clean)
                    runs[driver].append(seconds)
            times = {driver: statistics.median(seconds) for driver, seconds in runs.items()}
            calls = args.commits * args.files
            print(
                f"\n1. {args.commits} commits x {args.files} files, all merged by git's line merge "
                f"({calls} driver calls); median of {args.repeat} interleaved rebases each"
            )
            print(f"  plain git                {times[None]:7.2f} s")
            print(
                f"  git merge-file driver    {times['merge-file']:7.2f} s  "
                f"({times['merge-file'] / times[None]:.1f}x plain git)"
            )
            print(
                f"  mergebert installed      {times['mergebert']:7.2f} s  "
                f"({times['mergebert'] / times[None]:.1f}x plain git, "
                f"{times['mergebert'] / times['merge-file']:.2f}x the merge-file driver; target <= 1.5x)"
            )
            same = len(set(trees.values())) == 1
            print(f"  same tree all three ways: {'yes' if same else 'NO'}")
            if args.in_process:
                seconds, tree, _ = in_process(clean)
                print(
                    f"  in-process driver        {seconds:7.2f} s  ({seconds / times[None]:.1f}x plain git; "
                    f"same tree: {'yes' if tree == trees['mergebert'] else 'NO'})"
                )

            conflicted = Repo(Path(tmp) / "conflicts", env)
            conflicted.path.mkdir()
            conflicted.git("init", "-q", "-b", "main")
            conflict_history(conflicted, args.conflicts)
            use(conflicted, "mergebert")
            seconds, tree, stderr = rebase(conflicted)
            resolved = sum(int(m) for m in re.findall(r"resolved (\d+) of \d+ conflict", stderr))
            print(f"\n2. {args.conflicts} commits, each with a line conflict (shipped model at its defaults)")
            print(
                f"  mergebert installed      {seconds:7.2f} s  for {resolved} resolved conflicts: "
                f"{seconds / max(resolved, 1) * 1000:.0f} ms per resolved conflict"
            )
            if args.in_process:
                seconds, other, _ = in_process(conflicted)
                print(
                    f"  in-process driver        {seconds:7.2f} s  "
                    f"({seconds / max(resolved, 1) * 1000:.0f} ms per resolved conflict; "
                    f"same tree: {'yes' if other == tree else 'NO'})"
                )
        finally:
            stop_daemons(home)
            time.sleep(0.5)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
