"""Median wall time of the merge driver, as `mergebert install` configures it, next to `git merge-file`.

    python benchmarks/driver_latency.py [--runs N] [--lines L]

Inside a throwaway repository, on a Java class of L lines, it times whole processes, each on a fresh
copy of the current version (as git does):
- a file git's line merge settles: the driver against `git merge-file` (target: at most 4x);
- a conflict the shipped model decides and resolves at its default threshold (the driver must exit 0):
  cold (no daemon
  running, so the call starts one), in-process (MERGEBERT_DAEMON=0, the fallback) and warm (the daemon
  is up; target: a median of at most 0.15 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mergebert.git import install


def java(lines: int, call: str, first: str = "return x + 0;") -> str:
    methods = "".join(f"    static int f{i}(int x) {{ return x + {i}; }}\n" for i in range(1, lines))
    return (
        f"public class App {{\n    static int f0(int x) {{ {first} }}\n{methods}    void run() {{\n"
        f"        {call}\n    }}\n}}\n"
    )


def timed(command: list[str], cwd: Path, env: dict[str, str], current: Path, ours: str, ok: int) -> float:
    """Seconds one process takes on a fresh copy of ours; it must exit `ok`."""
    current.write_text(ours)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != ok:
        raise SystemExit(f"{command[:3]} exited {proc.returncode}, not {ok}: {proc.stderr.decode()}")
    return elapsed


def cpu_seconds(daemons: Path) -> float:
    """CPU time used so far by this benchmark's finished children and by the running daemons."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    for pid_file in daemons.glob("*.pid"):
        try:
            fields = Path(f"/proc/{int(pid_file.read_text())}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue
    return total


def stop_daemons(folder: Path) -> None:
    for pid_file in folder.glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        except (OSError, ValueError):
            continue
    deadline = time.monotonic() + 10
    while list(folder.glob("*.pid")) and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        daemons = Path(tempfile.mkdtemp(prefix="mb-bench-"))
        env = dict(os.environ, MERGEBERT_DAEMON_DIR=str(daemons))
        for name in ("MERGEBERT_MODEL", "MERGEBERT_THRESHOLD"):  # the shipped model at its default decides
            env.pop(name, None)
        subprocess.run(["git", "init", "-q", str(work)], check=True)
        # confirm mode off, so that exit 0 says the conflict was resolved (the log is still written)
        subprocess.run(["git", "-C", str(work), "config", "mergebert.confirm", "false"], check=True)
        current, base_file, other = work / "current", work / "base", work / "other"
        files = [str(current), str(base_file), str(other)]
        # what git runs: `sh -c` over the command `mergebert install` writes, its placeholders filled in
        configured = install.driver_command(install.git_version())
        given = {"%O": files[1], "%A": files[0], "%B": files[2], "%L": "7", "%P": "App.java"}
        given |= {"%S": "base", "%X": "ours", "%Y": "theirs"}
        command = configured
        for placeholder, value in given.items():
            command = command.replace(placeholder, shlex.quote(value))
        driver = ["sh", "-c", command]
        arguments = [files[1], files[0], files[2], "7", "App.java"]
        print(f"driver: sh -c {shlex.quote(configured)}")
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

        def versions(call_base: str, call_ours: str, call_theirs: str, first_ours: str, first_theirs: str):
            base_file.write_text(java(args.lines, call_base))
            other.write_text(java(args.lines, call_theirs, first_theirs))
            return java(args.lines, call_ours, first_ours)

        # clean: one change on each side, far apart
        call = 'Server s = new Server("localhost", 8080, false);'
        ours = versions(
            call, call, 'Server s = new Server("localhost", 8080, true);', "return x - 0;", "return x + 0;"
        )
        size = len(ours.encode())
        git = [timed(["git", "merge-file", *files], work, env, current, ours, 0) for _ in range(args.runs)]
        clean = [timed(driver, work, env, current, ours, 0) for _ in range(args.runs)]
        print(f"\nclean file ({args.lines + 5} lines, {size} bytes), median of {args.runs} runs")
        print(f"  git merge-file          {statistics.median(git) * 1000:8.1f} ms")
        print(
            f"  driver                  {statistics.median(clean) * 1000:8.1f} ms  "
            f"({statistics.median(clean) / statistics.median(git):.1f}x git merge-file; target <= 4x)"
        )

        # conflict: both sides change the same line; the model decides (exit 0 required)
        ours = versions(
            call,
            'Server s = new Server("0.0.0.0", 8080, false);',
            'Server s = new Server("localhost", 8080, true);',
            "return x + 0;",
            "return x + 0;",
        )
        git = [timed(["git", "merge-file", *files], work, env, current, ours, 1) for _ in range(args.runs)]
        cold_runs = max(3, args.runs // 4)
        cold = []
        for _ in range(cold_runs):
            stop_daemons(daemons)
            cold.append(timed(driver, work, env, current, ours, 0))
        stop_daemons(daemons)
        in_process_env = dict(env, MERGEBERT_DAEMON="0")
        in_process = [timed(driver, work, in_process_env, current, ours, 0) for _ in range(cold_runs)]
        # what `mergebert install` used to configure: `mergebert driver` through click, all in-process
        click = [str(Path(sys.executable).parent / "mergebert"), "driver", *arguments]
        old_entry = [timed(click, work, in_process_env, current, ours, 0) for _ in range(cold_runs)]
        timed(driver, work, env, current, ours, 0)  # start the daemon
        before = cpu_seconds(daemons)
        warm = [timed(driver, work, env, current, ours, 0) for _ in range(args.runs)]
        warm_cpu = (cpu_seconds(daemons) - before) / args.runs
        stop_daemons(daemons)
        shutil.rmtree(daemons)
        print(f"\nconflict the model resolves ({size} bytes, default threshold, exit 0)")
        print(f"  git merge-file          {statistics.median(git) * 1000:8.1f} ms  (leaves the conflict)")
        print(
            f"  driver, cold            {statistics.median(cold) * 1000:8.1f} ms  "
            f"(median of {cold_runs}; no daemon: starts one)"
        )
        print(
            f"  driver, in-process      {statistics.median(in_process) * 1000:8.1f} ms  "
            f"(median of {cold_runs}; MERGEBERT_DAEMON=0)"
        )
        print(
            f"  `mergebert driver`      {statistics.median(old_entry) * 1000:8.1f} ms  "
            f"(median of {cold_runs}; the command install wrote before, in-process)"
        )
        print(
            f"  driver, warm            {statistics.median(warm) * 1000:8.1f} ms  "
            f"(median of {args.runs}; target <= 150 ms)"
        )
        print(f"  driver, warm, CPU       {warm_cpu * 1000:8.1f} ms  (mean; driver's processes and daemon)")
        print(f"  warm / git merge-file   {statistics.median(warm) / statistics.median(git):8.1f} x")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
