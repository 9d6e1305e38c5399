"""git's conflicts asked for again at a stopped merge, with mergebert installed, next to git alone.

    python benchmarks/checkout_merge.py [--files 100] [--runs 3]

FILES Java files each conflict on one line (a host against a flag, which the token merge settles) in a
merge that stops, in two copies of one repository: git alone, and with `mergebert install` (the token
merge only, `MERGEBERT_MODEL=none`: the commands timed use no model). In each, `git checkout -m -- src`
and `git checkout --conflict=diff3 -- src` make git's conflicts again (git runs the merge driver per
file; it writes git's own merge), RUNS times, the two copies interleaved. Prints the medians and whether
the two work trees end the same.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from driver_latency import stop_daemons
from rebase import environment

BIN = Path(sys.executable).parent
COMMANDS = (("checkout", "-m", "--", "src"), ("checkout", "--conflict=diff3", "--", "src"))


def java(number: int, host: str = "localhost", flag: str = "false") -> str:
    """A class of 40 lines; line 16 starts a server, whose host and flag the two branches change."""
    lines = [f"static int f{j}(int x) {{ return x + {j}; }}" for j in range(40)]
    lines[15] = f'Server s = new Server("{host}", 8080, {flag});'
    return f"public class C{number} {{\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


def git(repo: Path, env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,)) -> None:
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in ok:
        raise SystemExit(f"git {' '.join(args)} exited {proc.returncode}: {proc.stderr}")


def history(repo: Path, env: dict[str, str], files: int) -> None:
    """main changes every host, topic every flag: one conflict per file."""
    (repo / "src").mkdir(parents=True)
    git(repo, env, "init", "-q", "-b", "main")
    for branch, change in (("main", {}), ("topic", {"flag": "true"}), ("main", {"host": "prod"})):
        if branch == "topic":
            git(repo, env, "checkout", "-q", "-b", "topic")
        elif change:
            git(repo, env, "checkout", "-q", "main")
        for number in range(files):
            (repo / "src" / f"C{number}.java").write_text(java(number, **change))
        git(repo, env, "add", "-A")
        git(repo, env, "commit", "-q", "--no-verify", "-m", branch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mergebert-bench-") as tmp:
        env = environment(Path(tmp) / "home")
        env["MERGEBERT_MODEL"] = "none"
        alone, installed = Path(tmp) / "git", Path(tmp) / "mergebert"
        history(alone, env, args.files)
        shutil.copytree(alone, installed, symlinks=True)
        install = [str(BIN / "mergebert"), "install"]
        subprocess.run(install, cwd=installed, env=env, check=True, capture_output=True)
        for repo in (alone, installed):
            git(repo, env, "merge", "--no-edit", "topic", ok=(1,))
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for command in COMMANDS:
            times: dict[Path, list[float]] = {alone: [], installed: []}
            for _ in range(args.runs):
                for repo in (alone, installed):
                    start = time.perf_counter()
                    git(repo, env, *command)
                    times[repo].append(time.perf_counter() - start)
            git_alone, mergebert = (statistics.median(times[repo]) for repo in (alone, installed))
            print(
                f"git {' '.join(command)} ({args.files} unmerged files), median of {args.runs}: "
                f"git {git_alone:.3f} s, mergebert {mergebert:.3f} s ({mergebert / git_alone:.0f}x)"
            )
        same = all(
            (alone / "src" / name).read_bytes() == (installed / "src" / name).read_bytes()
            for name in os.listdir(alone / "src")
        )
        print(f"work trees: {'the same as git' if same else 'NOT the same as git'}'s")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        stop_daemons(Path(env["MERGEBERT_DAEMON_DIR"]))


if __name__ == "__main__":
    main()
