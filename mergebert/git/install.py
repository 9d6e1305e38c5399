"""`mergebert install [--global]` / `mergebert uninstall`: wire mergebert into git, and take it out again.

Install writes four things: the merge driver and mergetool config (`git config`), the attributes that
route Java/JS/TS/C# files to the driver (`.git/info/attributes` locally, so tracked files stay
untouched; the global attributes file with `--global`), and, locally, the pre-commit hook. Uninstall
removes exactly those: config keys that still hold mergebert's values, the marked attributes block and
mergebert's own hook (putting back a hook it had chained).
"""

from __future__ import annotations

import os
import stat
import subprocess
from importlib import resources
from pathlib import Path

CONFIG: dict[str, str] = {
    "merge.mergebert.name": "mergebert: token-level merge of Java, JavaScript, TypeScript and C# conflicts",
    "merge.mergebert.driver": "mergebert driver %O %A %B %L %P",
    "mergetool.mergebert.cmd": 'mergebert mergetool "$BASE" "$LOCAL" "$REMOTE" "$MERGED"',
    "mergetool.mergebert.trustExitCode": "true",
}
SECTIONS = ("merge.mergebert", "mergetool.mergebert")
PATTERNS = ("*.java", "*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts", "*.cs")
BEGIN = "# >>> mergebert: written by `mergebert install`, removed by `mergebert uninstall`"
END = "# <<< mergebert"
HOOK_MARK = "# mergebert pre-commit hook"
CHAINED = "pre-commit.before-mergebert"


class InstallError(Exception):
    """Install or uninstall cannot proceed (not in a repository, git failed)."""


def _git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise InstallError(f"git {' '.join(args)}: {proc.stderr.strip() or f'exit {proc.returncode}'}")
    return proc


def hook_script() -> str:
    """The pre-commit hook shipped with the package (identical to git_hooks/pre-commit)."""
    return resources.files("mergebert").joinpath("git/hooks/pre-commit").read_text(encoding="utf-8")


def attributes_block() -> str:
    """The lines install adds to the attributes file."""
    return "\n".join([BEGIN, *(f"{p} merge=mergebert" for p in PATTERNS), END]) + "\n"


def attributes_file(global_: bool) -> Path:
    """`.git/info/attributes`, or the global attributes file git reads (core.attributesFile / XDG)."""
    if not global_:
        return Path(_git("rev-parse", "--git-path", "info/attributes").stdout.strip())
    configured = _git("config", "--global", "--get", "core.attributesFile", check=False).stdout.strip()
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "git" / "attributes"


def _without_block(text: str) -> str:
    lines = text.splitlines(keepends=True)
    if not any(line.rstrip("\r\n") == BEGIN for line in lines):
        return text
    start = next(i for i, line in enumerate(lines) if line.rstrip("\r\n") == BEGIN)
    end = next((i for i in range(start, len(lines)) if lines[i].rstrip("\r\n") == END), len(lines) - 1)
    return "".join(lines[:start] + lines[end + 1 :])


def _write_attributes(path: Path) -> None:
    text = _without_block(path.read_text(encoding="utf-8")) if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + attributes_block(), encoding="utf-8")


def _remove_attributes(path: Path) -> bool:
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    rest = _without_block(text)
    if rest == text:
        return False
    if rest:
        path.write_text(rest, encoding="utf-8")
    else:
        path.unlink()
    return True


def _hooks_dir() -> Path:
    return Path(_git("rev-parse", "--git-path", "hooks").stdout.strip())


def _is_ours(hook: Path) -> bool:
    try:
        return HOOK_MARK in hook.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def install_hook() -> str:
    """Write the pre-commit hook; an existing foreign hook is kept and chained after the check."""
    hooks = _hooks_dir()
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    note = ""
    if (hook.exists() or hook.is_symlink()) and not _is_ours(hook):
        if chained.exists() or chained.is_symlink():
            raise InstallError(
                f"{hook} exists and so does {chained}; not touching either. "
                "Add `mergebert check` to your hook yourself, or use the pre-commit framework "
                "(hook id mergebert-check)."
            )
        hook.rename(chained)
        note = f" (your previous hook now runs after it, from {chained})"
    hooks.mkdir(parents=True, exist_ok=True)
    hook.write_text(hook_script(), encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return f"pre-commit hook: {hook}{note}"


def uninstall_hook() -> str | None:
    """Remove mergebert's hook and put back a chained one; a hook that is not ours is left alone."""
    hooks = _hooks_dir()
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    if not _is_ours(hook):
        return None
    hook.unlink()
    if chained.exists() or chained.is_symlink():
        chained.rename(hook)
        return f"removed the pre-commit hook {hook} and restored the one it chained"
    return f"removed the pre-commit hook {hook}"


def install(global_: bool = False) -> list[str]:
    """Configure git to use mergebert; returns what was done, one line each."""
    scope = "--global" if global_ else "--local"
    if not global_:
        _git("rev-parse", "--git-dir")
    done = []
    for key, value in CONFIG.items():
        _git("config", scope, key, value)
        done.append(f"git config {scope} {key} {value!r}")
    path = attributes_file(global_)
    _write_attributes(path)
    done.append(f"attributes: {path} ({' '.join(PATTERNS)} merge=mergebert)")
    if global_:
        done.append("pre-commit hook: per repository; run `mergebert install` inside a repository to add it")
    else:
        done.append(install_hook())
    return done


def uninstall(global_: bool = False) -> list[str]:
    """Remove what `install` added, nothing else; returns what was done, one line each."""
    scope = "--global" if global_ else "--local"
    if not global_:
        _git("rev-parse", "--git-dir")
    done = []
    for key, value in CONFIG.items():
        current = _git("config", scope, "--get", key, check=False)
        if current.returncode == 0 and current.stdout.rstrip("\n") == value:
            _git("config", scope, "--unset", key)
            done.append(f"git config {scope} --unset {key}")
    for section in SECTIONS:
        pattern = "^" + section.replace(".", r"\.") + r"\."
        if _git("config", scope, "--get-regexp", pattern, check=False).returncode == 1:
            _git("config", scope, "--remove-section", section, check=False)
    path = attributes_file(global_)
    if _remove_attributes(path):
        done.append(f"attributes: removed mergebert's lines from {path}")
    if not global_:
        line = uninstall_hook()
        if line:
            done.append(line)
    return done
