"""The merge a repository's own attributes declare for a file, which a local `mergebert install` outranks.

`mergebert install` routes Java/JS/TS/C# files to the driver in `$GIT_DIR/info/attributes`, the one
attributes file git ranks above the repository's `.gitattributes`. A file those declare another merge for
(`merge=union`, `-merge`, `binary`, `merge=text`, a driver of the repository's own) is merged as git alone
would merge it. git's check-attr tells what they declare, run over the same work tree with an empty
repository, so that `info/attributes` is not read: `install` asks for the tracked files, the driver for
each file that reaches it with conflicts.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from mergebert.git import gitcmd

TYPE_CHECKING = False  # install imports this module: no typing import needed at run time
if TYPE_CHECKING:
    from mergebert.core.options import MergeOptions

DRIVER_NAME = "mergebert"  # the driver `mergebert install` configures (merge.mergebert.driver)
UNSPECIFIED = "unspecified"  # check-attr's value for an attribute nothing sets
TEXT, UNION, BINARY = ("set", "text"), "union", ("unset", "binary")  # git's built-in merges


def global_attributes_file(configured: str | None) -> str | None:
    """The global attributes file git reads, given core.attributesFile as git reads it (None where
    nothing sets it): none for an empty value (git then reads no global file), the file it names, else
    $XDG_CONFIG_HOME/git/attributes (or ~/.config/git/attributes)."""
    if configured is not None:
        return configured or None
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config_home, "git", "attributes")


def attributes_file_read(top: str) -> str | None:
    """The attributes file beyond the repository's own that git reads in the work tree `top`
    (`global_attributes_file` of its core.attributesFile as git reads it there: every scope, includes,
    `git -c`); None where git reads none."""
    found = gitcmd.git(
        "config", "--get", "core.attributesFile", cwd=top, env=gitcmd.config_env(), accept=(0, 1)
    )
    return global_attributes_file(os.fsdecode(found.stdout.rstrip(b"\n")) if found.returncode == 0 else None)


def _declared(paths: list[str], top: str, global_file: str | None) -> dict[str, str]:
    """The `merge` attribute every attributes file but `$GIT_DIR/info/attributes` gives each of `paths`
    (relative to the work tree `top`): git's check-attr over `top` with an empty repository, told the
    attributes file the real one reads, `global_file` (its config may name another than the empty
    repository's would, or an `includeIf` may; None: none)."""
    env = gitcmd.without_repository(os.environ)  # the empty repository is read, not the real one
    with tempfile.TemporaryDirectory(prefix="mergebert-attributes-") as empty:
        for folder in ("objects", "refs"):
            os.mkdir(os.path.join(empty, folder))
        Path(empty, "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
        args = ("--git-dir", empty, "--work-tree", ".", "-c", f"core.attributesFile={global_file or ''}")
        args += ("check-attr", "-z", "--stdin", "merge")
        data = b"".join(os.fsencode(path) + b"\0" for path in paths)
        try:
            out = gitcmd.git(*args, cwd=top, env=env, data=data).stdout
        except gitcmd.GitError:
            return {}
    fields = out.split(b"\0")  # path, attribute, value, path, ...
    return {
        os.fsdecode(fields[i]): fields[i + 2].decode("utf-8", "replace") for i in range(0, len(fields) - 2, 3)
    }


def declared_merge(path: str, configured: str | None, top: str = ".") -> str | None:
    """The merge the repository's own attributes declare for `path` (relative to the work tree `top`,
    where git runs its merge drivers; `configured`: core.attributesFile as git reads it there, None where
    unset): "set", "unset" or a driver's name; None where they say nothing, name mergebert, or cannot be
    read."""
    value = _declared([path], top, global_attributes_file(configured)).get(path, UNSPECIFIED)
    return None if value in (UNSPECIFIED, DRIVER_NAME) else value


def declared_in(path: str, declared: str, configured: str | None, top: str = ".") -> str:
    """Where the merge `declared` (`declared_merge`) of `path` comes from, for a message: the global
    attributes file git reads (`configured`: core.attributesFile) where the repository's own attributes
    alone do not declare it, else the repository's attributes."""
    global_file = global_attributes_file(configured)
    own = _declared([path], top, None).get(path, UNSPECIFIED)
    return "the repository's attributes" if own == declared or not global_file else global_file


def declared_merges(patterns: tuple[str, ...], top: str) -> list[tuple[str, str]]:
    """(path, declared merge) of the tracked files matching `patterns` whose repository declares a merge
    other than mergebert's (see `declared_merge`)."""
    try:
        listed = gitcmd.git("ls-files", "-z", "--", *patterns, cwd=top).stdout
        global_file = attributes_file_read(top)
    except gitcmd.GitError:
        return []
    paths = [os.fsdecode(path) for path in listed.split(b"\0") if path]
    found = _declared(paths, top, global_file) if paths else {}
    return [(path, value) for path, value in found.items() if value not in (UNSPECIFIED, DRIVER_NAME)]


def attribute_line(path: str, value: str) -> str:
    """An attributes line giving the one file `path` (relative to the top) the merge `value`."""
    pattern = "/" + re.sub(r"([\\*?\[])", r"\\\1", path)  # anchored; glob characters taken literally
    if any(character in pattern for character in ' \t"'):
        pattern = '"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"'
    merge = {"set": "merge", "unset": "-merge"}.get(value, f"merge={value}")
    return f"{pattern} {merge}"


def is_attribute_line(line: str) -> bool:
    """Whether `line` is one `attribute_line` writes: one anchored file, given a merge."""
    pattern, _, merge = line.rpartition(" ")
    value = {"merge": "set", "-merge": "unset"}.get(merge) or merge.removeprefix("merge=")
    if pattern[:1] == '"':
        pattern = re.sub(r"\\(.)", r"\1", pattern[1:-1])
    path = re.sub(r"\\(.)", r"\1", pattern[1:])
    return pattern[:1] == "/" and attribute_line(path, value) == line


def driver_command(name: str, top: str = ".") -> str | None:
    """The command of the repository's merge driver `name` (merge.<name>.driver, read as git merge reads
    it: `gitinfo.config_value`); None for git's built-in merges and for a name without one, which git
    merges as text."""
    if name in (*TEXT, UNION, *BINARY):
        return None
    from mergebert.git import gitinfo  # here: install imports this module and needs no pygit2

    return gitinfo.config_value(gitinfo.open_repo_gently(top), f"merge.{name}.driver") or None


def _expand(command: str, values: dict[str, str]) -> str:
    """`command` with git's placeholders (%O, %A, ...) replaced by the shell-quoted `values`."""
    expanded, rest = "", command
    while "%" in rest:
        before, _, rest = rest.partition("%")
        key, rest = rest[:1], rest[1:]
        value = values.get(key)
        expanded += before + (shlex.quote(value) if value is not None else "%" + key)
    return expanded + rest


def run_driver(
    command: str, sides: tuple[bytes, bytes, bytes], options: MergeOptions, path: str, top: str
) -> tuple[bytes, int]:
    """A merge driver `command` run as git runs it (`sh -c` in the work tree `top`, %O %A %B %L %P and
    the labels %S %X %Y replaced) on copies of the (base, ours, theirs) bytes: what it leaves in %A, and
    0 when it exits 0, else 1 (conflicts)."""
    with tempfile.TemporaryDirectory(prefix="mergebert-driver-") as folder:
        files = [os.path.join(folder, name) for name in ("base", "current", "other")]
        for name, data in zip(files, sides, strict=True):
            Path(name).write_bytes(data)
        ours, base, theirs = options.labels
        values = dict(zip("OAB", files, strict=True), L=str(options.marker_size), P=path)
        values.update(S=base, X=ours, Y=theirs)
        status = subprocess.run(["sh", "-c", _expand(command, values)], cwd=top, check=False).returncode
        return Path(files[1]).read_bytes(), int(status != 0)


def merge_as_declared(
    declared: str, sides: tuple[bytes, bytes, bytes], options: MergeOptions, path: str, top: str = "."
) -> tuple[bytes, int]:
    """git's merge of a file whose repository declares the merge `declared` (see `declared_merge`): the
    repository's driver, or git's built-in one; the bytes and the number of conflicts left."""
    command = driver_command(declared, top)
    if command:
        return run_driver(command, sides, options, path, top)
    return builtin_merge(declared, *sides, options)


def builtin_merge(
    declared: str, base: bytes, ours: bytes, theirs: bytes, options: MergeOptions
) -> tuple[bytes, int]:
    """git's built-in merge `declared` (text, union, binary, or text for a driver git does not know):
    the bytes and the number of conflicts left."""
    from dataclasses import replace

    from mergebert.git import frontend

    if declared in BINARY:  # git keeps ours, or the side -X names, as one conflict unless -X names one
        if options.favour == "theirs":
            return theirs, 0
        return ours, int(options.favour != "ours")
    if declared == UNION:
        options = replace(options, favour="union")
    return frontend.line_merge(base, ours, theirs, options)
