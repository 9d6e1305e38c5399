"""The one way mergebert runs git: arguments in, output out, an error that carries git's stderr."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Container, Mapping, Sequence

# the variables that point git at a repository, an index or an object store: a git run on another
# repository (an empty one, a scratch one) must not inherit the user's
REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


def without_repository(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without REPOSITORY_VARIABLES."""
    return {name: value for name, value in environ.items() if name not in REPOSITORY_VARIABLES}


# points `git config`, and no other git command, at one file instead of the config git reads
CONFIG_FILE_VARIABLE = "GIT_CONFIG"


def config_env() -> dict[str, str]:
    """os.environ without CONFIG_FILE_VARIABLE: `git config` then reads what the git running mergebert
    reads."""
    return {name: value for name, value in os.environ.items() if name != CONFIG_FILE_VARIABLE}


class GitError(RuntimeError):
    """git exited with a status the caller did not expect; the message ends with git's own stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: bytes) -> None:
        said = stderr.decode("utf-8", "replace").strip()
        self.returncode = returncode
        self.stderr = said
        self.said = " ".join(part.strip() for part in said.splitlines() if part.strip())  # in one line
        super().__init__(f"git {' '.join(args)} failed (exit {returncode}){': ' + self.said if said else ''}")

    @property
    def first_line(self) -> str:
        """git's first line on stderr: what went wrong."""
        return self.stderr.partition("\n")[0]


def git(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    data: bytes | None = None,
    accept: Container[int] = (0,),
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS` (stdin: `data`); raises GitError unless its exit status is in `accept`."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, input=data, capture_output=True, check=False)
    except OSError as error:  # git itself cannot be started
        raise GitError(args, 127, str(error).encode()) from error
    if proc.returncode not in accept:
        raise GitError(args, proc.returncode, proc.stderr)
    return proc
