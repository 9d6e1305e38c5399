"""How mergebert starts Python on one of its modules where git runs it, at the top of a work tree: never
with that folder on sys.path (`python -m` puts it first, so a `json.py`, a `typing.py` or a `mergebert/`
package the repository holds would be imported in place of the real ones). `driver.sh` starts the driver
with the same CODE."""

from __future__ import annotations

import shlex
import sys

# `python -c CODE MODULE ARGS...`: the folder -c puts first ("", the current one) off sys.path, then MODULE
# run as `python -m MODULE ARGS...` would run it (no single quote: driver.sh holds it in one)
CODE = (
    "import sys\n"  # built in: nothing on sys.path can stand for it
    "sys.path[:1] = [entry for entry in sys.path[:1] if entry]\n"
    "import runpy\n"  # only now: a runpy.py (an importlib/ on 3.12) of the work tree's would be taken
    'runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)'
)


def command_line(module: str) -> list[str]:
    """This Python running `module` as `python -m` would, without the current folder on sys.path."""
    return [sys.executable, "-c", CODE, module]


def shell_command(module: str) -> str:
    """`command_line`, quoted for a shell."""
    return " ".join(shlex.quote(part) for part in command_line(module))
