"""The git process that runs the merge driver, found among the processes above it: /proc where there is
one, else `ps`. Standard library only: the driver's warm path reads it (`decisionlog.account`)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

PS_TIMEOUT = 5.0  # seconds for `ps` to list the processes
Process = Callable[[int], "tuple[list[str], int] | None"]  # a process's arguments and its parent's id


def proc_entry(pid: int) -> tuple[list[str], int] | None:
    """A process's arguments and its parent's id, from /proc (Linux); None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode("utf-8", "replace").split("\0")
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    return (args[:-1] if args[-1] == "" else args), int(stat.rsplit(")", 1)[1].split()[1])


def ps_table() -> dict[int, tuple[list[str], int]]:
    """Every process's arguments and parent's id by one `ps` (systems without /proc: macOS, the BSDs).
    ps joins the arguments with spaces, so they come back split at every space."""
    try:
        listing = subprocess.run(
            ["ps", "-A", "-ww", "-o", "pid=", "-o", "ppid=", "-o", "args="],  # -ww: never cut
            capture_output=True,
            timeout=PS_TIMEOUT,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    table: dict[int, tuple[list[str], int]] = {}
    for line in listing.decode("utf-8", "replace").splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].isdigit() and words[1].isdigit():
            table[int(words[0])] = (words[2:], int(words[1]))
    return table


def has_proc() -> bool:
    """Whether this system shows its processes in /proc."""
    return os.path.exists("/proc/self/stat")


def nearest_git(caller: int | None = None, process: Process | None = None) -> tuple[int, list[str]] | None:
    """The id and arguments of the nearest git process above `caller` (the driver's parent when None),
    within four generations (the shell git starts, a wrapper); None where there is none. `process(pid)`
    gives a process's arguments and parent: /proc where there is one, else `ps`."""
    if process is None:
        process = proc_entry if has_proc() else ps_table().get
    pid = os.getppid() if caller is None else caller
    for _ in range(4):
        entry = process(pid)
        if entry is None:
            return None
        args, parent = entry
        if args and os.path.basename(args[0]) == "git":  # a process may show no arguments at all
            return pid, args
        pid = parent
    return None
