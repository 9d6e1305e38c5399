"""`mergebert install [--global]` / `mergebert uninstall`: wire mergebert into git, and take it out again.

Install writes four things: the merge driver and the two mergetools' config (`mergebert`, and
`mergebert-i` which asks about what is left; `git config`, with `mergebert.confirm`, whether git stops for
the user to check a file the driver resolved), the attributes that route Java/JS/TS/C# files to the driver
(`.git/info/attributes` locally, so tracked files stay untouched, followed by the files whose
`.gitattributes` declare another merge, which that file would otherwise outrank; the global attributes
file with `--global`; first in the file, so that the user's own lines there, read later, still win), and,
locally, the pre-commit hook (not over the pre-commit framework's, which is left for its hook id
mergebert-check). Uninstall removes exactly those: config keys that still hold mergebert's
values, `mergebert.confirm` where install wrote it and it still holds install's value (a "true" an earlier
release wrote without recording it counts), the marked attributes block and mergebert's own hook as
install wrote it (putting back a hook it had chained), also where the pre-commit framework moved it to
pre-commit.legacy. Lines the user added inside the block stay theirs
(install moves them after its new block, uninstall leaves them), and a pattern's line they deleted from it
stays deleted: the BEGIN line records the patterns install routed and the digest of the lines it wrote,
which tells an edited block. Everything that can refuse is checked before anything is written.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Collection, Sequence
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from mergebert.core.atomic import atomic_write
from mergebert.core.languages import EXTENSIONS
from mergebert.git import attributes, gitcmd, pystart
from mergebert.git.driver import CONFIRM_KEY

NAME = "mergebert: token-level merge of Java, JavaScript, TypeScript and C# conflicts"
# `--`: git passes $MERGED without `./`, and a file named `-x.txt` is no option
MERGETOOL_ARGUMENTS = 'mergetool -- "$BASE" "$LOCAL" "$REMOTE" "$MERGED"'
INTERACTIVE_ARGUMENTS = 'mergetool --interactive -- "$BASE" "$LOCAL" "$REMOTE" "$MERGED"'  # mergebert-i
# per mergetool command: the arguments install writes, and those installs before the `--` wrote
TOOL_ARGUMENTS = {
    "mergetool.mergebert.cmd": (MERGETOOL_ARGUMENTS, MERGETOOL_ARGUMENTS.replace(" -- ", " ")),
    "mergetool.mergebert-i.cmd": (INTERACTIVE_ARGUMENTS, INTERACTIVE_ARGUMENTS.replace(" -- ", " ")),
}
# What installs before the absolute paths wrote; install replaces this entry, uninstall removes it.
BARE_DRIVER = "mergebert driver %O %A %B %L %P"
LABELS_SINCE = (2, 44)  # git passes the conflict labels %S %X %Y to merge drivers from 2.44 on
# removed by uninstall once empty
SECTIONS = ("merge.mergebert", "mergetool.mergebert", "mergetool.mergebert-i", "mergebert")
PATTERNS = tuple(f"*{extension}" for extension in EXTENSIONS)
BEGIN = "# >>> mergebert: written by `mergebert install`, removed by `mergebert uninstall`"
END = "# <<< mergebert"
# what the BEGIN line's end says install did besides the block, for uninstall to undo exactly that
MADE_FILE = " (file made by install)"
# installs before the block went first appended it, after a line break added to a last line without one
ADDED_LF = " (line break added before)"
ADDED_CRLF = " (CRLF added before)"
# what the BEGIN line records of install's lines: the patterns its release routes (a pattern's line absent
# from the block is one the user deleted only if the release knew it), and a digest, by which a later
# install or uninstall knows the user edited them
KNOWN = re.compile(r" \(patterns: ([^)]*)\)")
WRITTEN = re.compile(r" \(lines ([0-9a-f]{12})\)")
# the patterns of the releases whose BEGIN line names none
UNNAMED_PATTERNS = ("*.java", "*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.mts", "*.cts", "*.tsx", "*.cs")
HOOK_MARK = "# mergebert pre-commit hook"
CHAINED = "pre-commit.before-mergebert"
# the hook's one line that differs between installations (the absolute path of `mergebert`)
OWN_COMMAND = re.compile(r'^mergebert\(\) \{ .+ "\$@"; \}$', re.MULTILINE)
# the mergebert.confirm value install wrote where the user had none, so that uninstall removes only that
CONFIRM_RECORD = "mergebert.confirmByInstall"
# the config files whose settings an install's repositories read (a setting of the user's there is kept)
READ_BY = {"--global": ("system", "global"), "--local": ("system", "global", "local", "worktree")}
MERGEBERTS, EDITED, USERS = "mergebert's", "edited", "user's"  # whose a pre-commit hook is
FRAMEWORK = "the pre-commit framework's"  # whose a pre-commit hook is, too: `pre-commit install`'s
# what `pre-commit install` writes in its hook; where it finds another hook, it moves that one to LEGACY and
# runs it first (so its own hook there would run itself again, and refuse every commit)
FRAMEWORK_MARK = "# File generated by pre-commit: https://pre-commit.com"
# the lines around the section of its hook that `pre-commit install` fills in (INSTALL_PYTHON, ARGS): the only
# lines by which its hooks differ between installations (another release, another environment)
TEMPLATED = (b"# start templated", b"# end templated")
# what install and uninstall say of a chained hook that holds FRAMEWORK_MARK but is not a copy of its hook (as
# LEGACY it could run the framework again)
NOT_THE_FRAMEWORKS = "holds the framework's marker line but differs from its hook: yours, left as it is"
LEGACY = "pre-commit.legacy"
USE_THE_HOOK_ID = "with the framework, use the hook id mergebert-check in .pre-commit-config.yaml"
DIFFERS = "differs from the hook install writes (changes of yours, or an older version's)"
# the hooks earlier releases wrote, as sha-256 of their text without the OWN_COMMAND line: mergebert's too
EARLIER_HOOKS = frozenset(
    {
        "c21048318801e56d1476f27e677278fdf84b80cf46be0a1fe17e15384f96f65e",  # 2dee883 to its SIGPIPE trap
        "06099b867e727f6cbf09e2095998db74c9892a9e45d16308307e86c384b51ff2",  # 13e02f6 to 2dee883
        "545aab6813096df4b89d2d841bf10275a6f26be0ccf83f48189de11adf0a2e5b",  # until 13e02f6
    }
)


OLDER_GIT = (  # what a git before LABELS_SINCE cannot do for the driver's shell entry point
    "git {version}: before git 2.44 the driver merges first with `git merge-file`, which diffs otherwise "
    "than git merge: a file it merges cleanly is written without a stop, even where git merge alone would "
    "have stopped on it (rarely); with git 2.44 or later, run `mergebert install` again"
)


class InstallError(Exception):
    """Install or uninstall cannot proceed (not in a repository, git failed)."""


def _git(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """gitcmd.git, its failure an InstallError (any exit status accepted when not `check`)."""
    try:
        return gitcmd.git(*args, accept=(0,) if check else range(256))
    except gitcmd.GitError as error:
        raise InstallError(str(error)) from error


def _git_output(*args: str, check: bool = True) -> str:
    """What `git ARGS` prints, as text without the final newline."""
    return _git(*args, check=check).stdout.decode().rstrip("\n")


def git_version() -> tuple[int, ...]:
    """The version of the `git` on PATH, e.g. (2, 39, 5)."""
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", _git_output("--version"))
    return tuple(int(part) for part in found.groups("0")) if found else (0,)


def mergebert_command() -> str:
    """This installation's `mergebert`, by absolute path, so that it runs whatever PATH git sees."""
    script = Path(sys.executable).parent / ("mergebert.exe" if os.name == "nt" else "mergebert")
    if script.is_file():
        return shlex.quote(str(script))
    return pystart.shell_command("mergebert")  # git runs it at the top of the work tree


def driver_script() -> Path:
    """The shell entry point of the merge driver (git's line merge first, Python only for conflicts)."""
    return Path(str(resources.files("mergebert").joinpath("git/driver.sh")))


def driver_command(version: tuple[int, ...]) -> str:
    """The `merge.mergebert.driver` value: the shell entry point by absolute paths, or, should it be
    gone (a deleted environment), git's own `git merge-file`, so %A still gets both sides."""
    labels = " %S %X %Y" if version >= LABELS_SINCE else ""
    names = "-L %X -L %S -L %Y" if labels else "-L ours -L base -L theirs"
    script = shlex.quote(str(driver_script()))
    # read by the shell git starts (`.`), not a second one (`exec sh`): a process less per file; the
    # script ends every path with `exit`
    return (
        f"[ -r {script} ] && {{ set -- {shlex.quote(sys.executable)} %O %A %B %L %P{labels}; . {script}; }}; "
        f"git merge-file --marker-size=%L {names} %A %O %B"
    )


def settings(version: tuple[int, ...]) -> dict[str, str]:
    """The git config install writes."""
    return {
        "merge.mergebert.name": NAME,
        "merge.mergebert.driver": driver_command(version),
        # the inner merge of a criss-cross merge's bases: git's text merge, as without mergebert (git
        # ignores a driver's exit status there, so a resolution would slip into the base unconfirmed)
        "merge.mergebert.recursive": "text",
        "mergetool.mergebert.cmd": f"{mergebert_command()} {MERGETOOL_ARGUMENTS}",
        "mergetool.mergebert.trustExitCode": "true",
        "mergetool.mergebert-i.cmd": f"{mergebert_command()} {INTERACTIVE_ARGUMENTS}",
        "mergetool.mergebert-i.trustExitCode": "true",
    }


def is_ours(key: str, value: str) -> bool:
    """Whether a config value is one that some `mergebert install` wrote (any version, any path)."""
    if key == "merge.mergebert.driver":
        return value == BARE_DRIVER or ("mergebert" in value and "driver.sh" in value)
    if key in TOOL_ARGUMENTS:
        return "mergebert" in value and value.endswith(TOOL_ARGUMENTS[key])
    return value == settings((0,))[key]


def hook_script() -> str:
    """The pre-commit hook shipped with the package (mergebert/git/hooks/pre-commit), calling this
    installation's `mergebert` by absolute path."""
    text = resources.files("mergebert").joinpath("git/hooks/pre-commit").read_text(encoding="utf-8")
    own = f'\nmergebert() {{ {mergebert_command()} "$@"; }}\n'
    return text.replace('\nmergebert() { command mergebert "$@"; }\n', own, 1)


def routed_line(pattern: str) -> str:
    """The block's line routing the files `pattern` matches to mergebert."""
    return f"{pattern} merge={attributes.DRIVER_NAME}"


def block_lines(declared: Sequence[tuple[str, str]] = (), unrouted: Collection[str] = ()) -> list[str]:
    """The lines between BEGIN and END: the patterns routed to mergebert (but `unrouted`, whose lines the
    user deleted), then the files whose repository declares another merge (`declared`: path, merge),
    which win as git reads later lines."""
    routed = [routed_line(pattern) for pattern in PATTERNS if pattern not in unrouted]
    return routed + [attributes.attribute_line(path, value) for path, value in declared]


def attributes_block(
    declared: Sequence[tuple[str, str]] = (), done: str = "", unrouted: Collection[str] = ()
) -> str:
    """The block install adds to the attributes file (`block_lines`); `done`: what else install did
    (MADE_FILE) and its record of the lines (`_record`), said on the BEGIN line."""
    return "\n".join([BEGIN + done, *block_lines(declared, unrouted), END]) + "\n"


def _digest(lines: Sequence[str]) -> str:
    """A short digest of a block's lines, without their line endings."""
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:12]


def _record(lines: Sequence[str]) -> str:
    """The BEGIN line's record of the block's `lines`: the patterns this release routes, the lines' digest."""
    return f" (patterns: {' '.join(PATTERNS)}) (lines {_digest(lines)})"


def _config_read(key: str, scopes: Collection[str], *options: str) -> tuple[str, str] | None:
    """The scope and value of `key` as git reads it from the config files of `scopes` (system, global,
    local, worktree; included files followed, the last value winning); None where they set none."""
    try:
        found = gitcmd.git(
            "config", "--show-scope", *options, "--get-all", key, env=gitcmd.config_env(), accept=(0, 1)
        )
    except gitcmd.GitError as error:
        raise InstallError(str(error)) from error
    read = [line.split("\t", 1) for line in found.stdout.decode().splitlines() if "\t" in line]
    values = [(scope, value) for scope, value in read if scope in scopes]
    return values[-1] if values else None


def _attributes_file(global_: bool) -> tuple[Path | None, str]:
    """The attributes file install writes, and the config whose core.attributesFile is read for it ("" for
    none): `.git/info/attributes`, or with `global_` the one git reads in every repository
    (`attributes.global_attributes_file` of the global config's core.attributesFile, else the system
    config's), None where git reads none (the value read is empty)."""
    if not global_:
        return Path(_git_output("rev-parse", "--git-path", "info/attributes")), ""
    configured = _config_read("core.attributesFile", ("system", "global"), "--type=path")
    found = attributes.global_attributes_file(configured[1] if configured else None)
    return (Path(found) if found else None), (configured[0] if configured else "")


def attributes_file(global_: bool) -> Path | None:
    """`.git/info/attributes`, or the global attributes file git reads (`_attributes_file`)."""
    return _attributes_file(global_)[0]


def _writable(path: Path) -> bool:
    """Whether this process can write `path` as atomic_write does (through a symbolic link): the file, if
    there, and its folder, or the nearest folder there to make it in."""
    target = Path(os.path.realpath(path))
    if target.is_dir() or (target.exists() and not os.access(target, os.W_OK)):
        return False
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _check_attributes(path: Path | None, named_by: str) -> Path:
    """The attributes file install writes; refused, before anything is written, where git reads none or
    install cannot write it."""
    if path is None:
        raise InstallError(
            f"core.attributesFile is empty in {named_by} config, so git reads no global attributes file for "
            "`install --global` to write; nothing installed. Name one (`git config --global "
            "core.attributesFile PATH`), then install again"
        )
    if _writable(path):
        return path
    where = f" (core.attributesFile in {named_by} config)" if named_by else ""
    refused = f"cannot write {path}, the attributes file git reads{where}; nothing installed"
    if named_by == "system":
        refused += (
            "; set core.attributesFile in your global config to a file you can write (git then reads that "
            "one instead of this one), then install again"
        )
    raise InstallError(refused)


def _split_bom(data: bytes) -> tuple[bytes, bytes]:
    """The UTF-8 byte order mark git skips at the start of an attributes file (or nothing), and the rest."""
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    return bom, data[len(bom) :]


class Taken(NamedTuple):
    """What taking mergebert's blocks out of an attributes file leaves, and what it found in them."""

    rest: bytes  # the file without them, the user's lines that were inside them left in their place
    made: bool  # whether install made the file
    kept: int  # how many of the user's lines were inside them
    unrouted: list[str]  # the patterns whose lines the user deleted (or changed) in them


def _block_end(bare: Sequence[str], at: int) -> int | None:
    """The END line of the block whose BEGIN line is at `at` (the first END after it, with no other BEGIN
    between); None where no block begins there. A BEGIN line with no END after it, or an END line alone,
    is the user's."""
    if not bare[at].startswith(BEGIN):
        return None
    after = (i for i in range(at + 1, len(bare)) if bare[i] == END or bare[i].startswith(BEGIN))
    stop = next(after, None)
    return stop if stop is not None and bare[stop] == END else None


def _as_written(done: str, body: Sequence[str], appended: bool) -> bool:
    """Whether a block holds only install's lines: as its record says install wrote them, or, without a
    record, appended after the user's lines by a release before the block went first (taken whole)."""
    found = WRITTEN.search(done)
    return found.group(1) == _digest(body) if found else appended


def _unrouted(done: str, body: Sequence[str], as_written: bool) -> list[str]:
    """The patterns whose line is not in the block, as the user deleted it: of those the release that wrote
    it routed (KNOWN; a pattern a later release routes is no deletion); none in a block without a record
    taken whole (`_as_written`)."""
    if as_written and not WRITTEN.search(done):
        return []
    named = KNOWN.search(done)
    known = named.group(1).split() if named else UNNAMED_PATTERNS
    return [pattern for pattern in known if routed_line(pattern) not in body]


def _is_installs(line: str, expected: Collection[str], recorded: bool) -> bool:
    """Whether a line of an edited block is install's: one it writes now (`expected`), or, in a block with
    no record of its lines (an earlier release's), a file's line for a merge declared then
    (`attributes.is_attribute_line`), which would otherwise outrank everything as the user's."""
    return line in expected or (not recorded and attributes.is_attribute_line(line))


def _take_blocks(data: bytes, expected: Collection[str]) -> Taken:
    """The attributes file without mergebert's blocks, and without the line break an older install added
    before one; in a block the user edited, the lines that are not install's (`_is_installs`) are theirs,
    and stay where the block was."""
    bom, data = _split_bom(data)
    lines = data.splitlines(keepends=True)
    bare = [line.rstrip(b"\r\n").decode("utf-8", "replace") for line in lines]
    out: list[bytes] = []
    unrouted: set[str] = set()
    made, kept, at = False, 0, 0
    while at < len(lines):
        stop = _block_end(bare, at)
        if stop is None:
            out.append(lines[at])
            at += 1
            continue
        done, body = bare[at][len(BEGIN) :], bare[at + 1 : stop]
        as_written, recorded = _as_written(done, body, appended=bool(out)), bool(WRITTEN.search(done))
        theirs = [i for i in range(at + 1, stop) if not _is_installs(bare[i], expected, recorded)]
        users = [] if as_written else [lines[i] for i in theirs]
        if out and not users and (ADDED_LF in done or ADDED_CRLF in done):
            out[-1] = out[-1][: -2 if ADDED_CRLF in done else -1]
        out += users
        made |= MADE_FILE in done
        kept += len(users)
        unrouted.update(_unrouted(done, body, as_written))
        at = stop + 1
    return Taken(bom + b"".join(out), made, kept, [p for p in PATTERNS if p in unrouted])


def _write_attributes(path: Path, declared: Sequence[tuple[str, str]]) -> Taken:
    """The attributes file with mergebert's block first (after a byte order mark), so that the user's own
    lines, which git reads later, win; their bytes kept as they are, the block in their line endings.
    Returns what the earlier block held of the user's (`Taken`)."""
    exists = path.exists()
    taken = _take_blocks(path.read_bytes(), block_lines(declared)) if exists else Taken(b"", True, 0, [])
    bom, rest = _split_bom(taken.rest)
    eol = b"\r\n" if b"\r\n" in rest else b"\n"
    done = (MADE_FILE if taken.made else "") + _record(block_lines(declared, taken.unrouted))
    block = attributes_block(declared, done, taken.unrouted).encode("utf-8").replace(b"\n", eol)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, bom + block + rest)
    return taken


def _remove_attributes(path: Path, expected: Collection[str]) -> int | None:
    """Take mergebert's lines out of the attributes file (the file goes only if install made it and
    nothing of the user's is left); None where there were none, else how many of the user's lines that
    were inside the block stay (`expected`: the lines install would write)."""
    if not path.exists():
        return None
    data = path.read_bytes()
    taken = _take_blocks(data, expected)
    if taken.rest == data:
        return None
    if taken.rest or not taken.made:
        atomic_write(path, taken.rest)
    else:
        path.unlink()
    return taken.kept


def _declared(global_: bool) -> list[tuple[str, str]]:
    """The tracked files whose repository declares another merge, which a local install writes after its
    patterns (`attributes.declared_merges`); none with --global, or outside a work tree."""
    top = "" if global_ else _git_output("rev-parse", "--show-toplevel", check=False)
    return attributes.declared_merges(PATTERNS, top) if top else []


def _lines_of_yours(count: int) -> str:
    """`count` lines of the user's, as a message says it: "1 line of yours that was", "2 lines ... were"."""
    return f"{count} line of yours that was" if count == 1 else f"{count} lines of yours that were"


def _attributes_done(path: Path, declared: Sequence[tuple[str, str]], taken: Taken) -> list[str]:
    """What install says of the attributes file: the patterns routed and the files keeping their declared
    merge; the user's lines it kept, and the patterns it left out as the user deleted their lines."""
    files = f"{len(declared)} file keeps" if len(declared) == 1 else f"{len(declared)} files keep"
    kept = f"; {files} the merge their attributes declare" if declared else ""
    routed = " ".join(pattern for pattern in PATTERNS if pattern not in taken.unrouted)
    done = [f"attributes: {path} ({routed} merge=mergebert{kept})"]
    if taken.kept:
        done.append(f"attributes: kept {_lines_of_yours(taken.kept)} inside mergebert's block, now after it")
    if taken.unrouted:
        left_out = " ".join(taken.unrouted)
        done.append(
            f"attributes: left out of mergebert's block, as you deleted or changed their lines there: "
            f"{left_out} (a line `PATTERN merge=mergebert` in the file routes one again)"
        )
    return done


def _hooks_dir() -> Path:
    return Path(_git_output("rev-parse", "--git-path", "hooks"))


def _exists(path: Path) -> bool:
    """Whether there is anything at `path`, a dangling symbolic link included."""
    return path.exists() or path.is_symlink()


def _hook_owner(hook: Path) -> str | None:
    """Whose the hook is: None (no hook), MERGEBERTS (as install writes it, whichever installation's
    `mergebert` it names), EDITED (mergebert's with changes: the user's, or an older version's), FRAMEWORK
    or USERS."""
    if not _exists(hook):
        return None
    try:
        text = hook.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return USERS
    if FRAMEWORK_MARK in text:
        return FRAMEWORK
    if HOOK_MARK not in text:
        return USERS
    own = OWN_COMMAND.sub("", text, count=1)
    unchanged = own == OWN_COMMAND.sub("", hook_script(), count=1)
    earlier = hashlib.sha256(own.encode("utf-8")).hexdigest() in EARLIER_HOOKS
    return MERGEBERTS if unchanged or earlier else EDITED


def _tracked_here(folder: Path) -> bool:
    """Whether this repository tracks a file in `folder` (none where it is outside its work tree)."""
    listed = gitcmd.git("--literal-pathspecs", "ls-files", "-z", "--", str(folder), accept=range(256))
    return listed.returncode == 0 and bool(listed.stdout)


def _tracked_by_its_own(folder: Path) -> bool:
    """Whether the repository whose work tree `folder` is in tracks a file in it: git run there without
    the caller's GIT_DIR and the like, which would make `folder` this repository's work tree."""
    env = gitcmd.without_repository(os.environ)
    inside = gitcmd.git("rev-parse", "--is-inside-work-tree", cwd=folder, env=env, accept=range(256))
    if inside.stdout.strip() != b"true":  # a git folder (.git/hooks) lists its repository's whole index
        return False
    listed = gitcmd.git("ls-files", "-z", "--", ".", cwd=folder, env=env, accept=range(256))
    return listed.returncode == 0 and bool(listed.stdout)


def _is_tracked(folder: Path) -> bool:
    """Whether a repository, this one or another (a dotfiles repository), tracks `folder` or a file in it."""
    return folder.is_dir() and (_tracked_here(folder) or _tracked_by_its_own(folder))


def _shared_hooks_scope() -> str | None:
    """Where core.hooksPath is set when that is not this repository's own config (`global`, `system`,
    `command`): its hooks folder is then every repository's, not this one's; else None."""
    found = _config_read("core.hooksPath", ("system", "global", "local", "worktree", "command"))
    return found[0] if found and found[0] not in ("local", "worktree") else None


def _not_ours_to_write(hooks: Path) -> tuple[str, str] | None:
    """What the hooks folder is, and whose commits its hooks check, where it is not this repository's alone
    to write: a folder core.hooksPath names from config other repositories share, or a folder this
    repository tracks (everyone who clones it has it); else None."""
    scope = _shared_hooks_scope()
    if scope:
        return f"set in {scope} config, a folder other repositories share", "every repository"
    if _is_tracked(hooks):
        return "a folder a repository tracks, shared with everyone who clones it", "the whole team"
    return None


def _check_hook(hooks: Path) -> None:
    """Refuse, before anything is written, a hook of the user's that cannot be moved aside."""
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    if _hook_owner(hook) == USERS and _exists(chained) and not _not_ours_to_write(hooks):
        raise InstallError(
            f"{hook} exists and so does {chained}; not touching either; nothing installed. "
            "Add `mergebert check` to your hook yourself, or use the pre-commit framework "
            "(hook id mergebert-check)."
        )


def _untemplated(data: bytes) -> bytes | None:
    """A framework hook's text without the lines between its TEMPLATED markers (the markers kept); None
    where it lacks the framework's marker line or either TEMPLATED marker."""
    lines = data.splitlines(keepends=True)
    bare = [line.rstrip(b"\r\n") for line in lines]
    start, end = TEMPLATED
    try:
        first = bare.index(start)
        last = bare.index(end, first)
    except ValueError:
        return None
    outside = b"".join(lines[: first + 1] + lines[last:])
    return outside if FRAMEWORK_MARK.encode() in outside else None


def _copy_of_the_framework(hooks: Path) -> bool:
    """Whether the hook mergebert's chains is a copy of the framework's hook (an earlier install moved it
    aside, then `pre-commit install` wrote it again): the hook at `pre-commit`, byte for byte or but for its
    templated lines, which another release or environment of the framework writes otherwise. A hook that
    differs elsewhere (copied from it, then edited) is the user's."""
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    try:
        if chained.is_symlink() or not chained.is_file() or hook.samefile(chained):
            return False
        if _hook_owner(hook) != FRAMEWORK:
            return False
        framework, copy = hook.read_bytes(), chained.read_bytes()
        if copy == framework:  # a framework release whose hook has no templated section too
            return True
        outside = _untemplated(framework)
        return outside is not None and _untemplated(copy) == outside
    except OSError:
        return False


def _beside_the_framework(hooks: Path) -> str:
    """What install says of the pre-commit framework's hook, which it leaves as it is. Where the framework
    runs mergebert's hook as LEGACY, a copy of the framework's hook that one chains (an earlier install's) is
    removed: it made the framework run itself again. Another chained hook holding the framework's marker line
    is the user's: left, and named, as it may do the same."""
    hook, chained, legacy = hooks / "pre-commit", hooks / CHAINED, hooks / LEGACY
    done = f"pre-commit hook: {hook} is {FRAMEWORK}; left as it is ({USE_THE_HOOK_ID})"
    if _hook_owner(legacy) not in (MERGEBERTS, EDITED):
        return done
    done += f"; mergebert's hook {legacy}, which it runs, stays until `mergebert uninstall`"
    if _copy_of_the_framework(hooks):
        chained.unlink()
        done += (
            f"; removed {chained}, a copy of the framework's hook, which ran it again, refusing every commit"
        )
    elif _hook_owner(chained) == FRAMEWORK:
        done += (
            f"; {chained}, which mergebert's hook runs, {NOT_THE_FRAMEWORKS} (should it run the framework "
            "again, every commit is refused)"
        )
    return done


def install_hook() -> str:
    """Write the pre-commit hook; an existing foreign hook is kept and chained after the check (`_check_hook`
    first), the pre-commit framework's left as it is (one an earlier install chained put back). A hooks
    folder other repositories share or this one tracks, or a hook the user edited, is left alone."""
    hooks = _hooks_dir()
    shared = _not_ours_to_write(hooks)
    if shared:
        return (
            f"pre-commit hook: not installed: core.hooksPath ({hooks}) is {shared[0]}; add `mergebert check` "
            f"to its pre-commit hook yourself if {shared[1]} should run it"
        )
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    owner = _hook_owner(hook)
    if owner == FRAMEWORK:
        return _beside_the_framework(hooks)
    if owner == MERGEBERTS and _hook_owner(chained) == FRAMEWORK:
        hook.unlink()
        chained.rename(hook)
        put_back = f"put back {FRAMEWORK} hook {hook}, which an earlier install chained"
        return f"pre-commit hook: {put_back}; {USE_THE_HOOK_ID}"
    if owner == EDITED:
        return (
            f"pre-commit hook: {hook} {DIFFERS}; left as it is (delete it, then install, for the current one)"
        )
    note = ""
    if owner == USERS:
        hook.rename(chained)
        note = f" (your previous hook now runs after it, from {chained})"
    hooks.mkdir(parents=True, exist_ok=True)
    hook.write_text(hook_script(), encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return f"pre-commit hook: {hook}{note}"


def uninstall_hook() -> str | None:
    """Remove mergebert's hook, as install wrote it, and put back a chained one; also where the pre-commit
    framework moved it to LEGACY and runs it (a chained copy of the framework's hook, which would run itself
    again from there, is removed; another chained hook holding its marker line is the user's, and left where
    it is). A hook that is not ours, one the user edited, or one in a folder that is not this repository's
    alone, is left alone."""
    hooks = _hooks_dir()
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    beside_the_framework = _hook_owner(hook) == FRAMEWORK
    if beside_the_framework:
        hook = hooks / LEGACY
    owner = _hook_owner(hook)
    if owner not in (MERGEBERTS, EDITED):
        return None
    shared = _not_ours_to_write(hooks)
    if shared:
        where = f"in a folder core.hooksPath names ({shared[0]})"
        return f"pre-commit hook: {hook} is mergebert's, {where}; left as it is"
    if owner == EDITED:
        kept = f", as is {chained}, which it runs" if _exists(chained) else ""
        return f"pre-commit hook: {hook} {DIFFERS}; left as it is{kept}"
    hook.unlink()
    removed = f"removed mergebert's pre-commit hook {hook}"
    if beside_the_framework:
        removed += f" ({FRAMEWORK} hook ran it)"
    if beside_the_framework and _copy_of_the_framework(hooks):
        chained.unlink()
        return f"{removed} and {chained}, a copy of the framework's hook, which it ran"
    if beside_the_framework and _hook_owner(chained) == FRAMEWORK:
        return (
            f"{removed}; {chained}, which it ran, {NOT_THE_FRAMEWORKS}, no longer run (move it to {LEGACY} "
            "for the framework to run it, unless it runs the framework: it would then refuse every commit)"
        )
    if _exists(chained):
        chained.rename(hook)
        return f"{removed} and restored the one it chained"
    return removed


def _require_work_tree() -> None:
    """Refuse, before anything is written, a repository without a work tree (bare, or run inside .git)."""
    if _git_output("rev-parse", "--is-inside-work-tree") == "true":
        return
    if _git_output("rev-parse", "--is-bare-repository") == "true":
        raise InstallError(
            "a bare repository has no work tree to merge in: run `mergebert install` in a clone with one, "
            "or `mergebert install --global`"
        )
    raise InstallError("run `mergebert install` in the repository's work tree, not inside its .git folder")


def _by_a_release_before_the_record(scope: str, path: Path | None) -> bool:
    """Whether `scope`'s mergebert.confirm is the "true" a release before CONFIRM_RECORD wrote, unrecorded
    (and removed on uninstall, whoever set it): no record, and a block in the attributes file that records
    none of its lines (WRITTEN came an hour after CONFIRM_RECORD, so a "true" of the user's under an install
    of that hour is taken for install's too: confirm mode is on without it as with it). A "false" stays
    the user's: those releases wrote it only for --no-confirm, and some kept a setting the user had."""
    if _git_output("config", scope, "--get", CONFIRM_RECORD, check=False):
        return False
    if _git_output("config", scope, "--get", CONFIRM_KEY, check=False) != "true":
        return False
    if path is None or not path.is_file():
        return False
    bare = [line.decode("utf-8", "replace") for line in _split_bom(path.read_bytes())[1].splitlines()]
    return any(_block_end(bare, at) is not None and not WRITTEN.search(bare[at]) for at in range(len(bare)))


def _write_confirm(scope: str, confirm: bool | None) -> str:
    """Set mergebert.confirm (`confirm`; None keeps a setting git already reads, from any config file
    the install is for, else turns it on); where install writes it over none in its config file, or over
    its own value, CONFIRM_RECORD says so, for uninstall."""
    found = _config_read(CONFIRM_KEY, READ_BY[scope])
    if found and confirm is None:
        return f"git config {scope} {CONFIRM_KEY}: kept {found[1].strip()!r} ({found[0]} config)"
    already = _git_output("config", scope, "--get", CONFIRM_KEY, check=False).strip()
    setting = str(confirm is not False).lower()
    recorded = _git_output("config", scope, "--get", CONFIRM_RECORD, check=False)
    _git("config", scope, CONFIRM_KEY, setting)
    if not already or already == recorded:
        _git("config", scope, CONFIRM_RECORD, setting)
    else:  # the user's own setting, changed by their --confirm / --no-confirm: still theirs
        _git("config", scope, "--unset", CONFIRM_RECORD, check=False)
    return f"git config {scope} {CONFIRM_KEY} {setting}"


def _remove_confirm(scope: str, path: Path | None) -> str | None:
    """Unset mergebert.confirm where install wrote it and it still holds install's value (`path`: the
    attributes file, for `_by_a_release_before_the_record`)."""
    if _by_a_release_before_the_record(scope, path):
        _git("config", scope, "--unset", CONFIRM_KEY)
        return f"git config {scope} --unset {CONFIRM_KEY}"
    recorded = _git_output("config", scope, "--get", CONFIRM_RECORD, check=False)
    if not recorded:
        return None
    _git("config", scope, "--unset", CONFIRM_RECORD)
    if _git_output("config", scope, "--get", CONFIRM_KEY, check=False) != recorded:
        return None
    _git("config", scope, "--unset", CONFIRM_KEY)
    return f"git config {scope} --unset {CONFIRM_KEY}"


def install(global_: bool = False, confirm: bool | None = None) -> list[str]:
    """Configure git to use mergebert (`confirm`: git stops after a file the driver resolved something
    in, for the user to check and `git add`; None keeps the setting already there, else turns it on);
    returns what was done, one line each. What can refuse is checked before anything is written."""
    scope = "--global" if global_ else "--local"
    if not global_:
        _require_work_tree()
        _check_hook(_hooks_dir())
    path, named_by = _attributes_file(global_)
    path = _check_attributes(path, named_by)
    # the local file outranks the repository's .gitattributes: the files they give another merge keep it
    declared = _declared(global_)
    done = []
    version = git_version()
    for key, value in settings(version).items():
        _git("config", scope, key, value)
        done.append(f"git config {scope} {key} {value!r}")
    if (0,) < version < LABELS_SINCE:  # (0,): a version git did not tell
        done.append(OLDER_GIT.format(version=".".join(map(str, version))))
    if _by_a_release_before_the_record(scope, path):  # install's value, as a fresh install records it
        _git("config", scope, CONFIRM_RECORD, "true")
    done.append(_write_confirm(scope, confirm))
    done += _attributes_done(path, declared, _write_attributes(path, declared))
    if named_by == "system":
        shared = f"attributes: {path} is the file core.attributesFile names in system config"
        done.append(f"{shared}: every user's repositories read it")
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
    done, unset = [], []
    for key in settings((0,)):
        current = _git("config", scope, "--get", key, check=False)
        if current.returncode == 0 and is_ours(key, current.stdout.decode().rstrip("\n")):
            _git("config", scope, "--unset", key)
            unset.append(key)
            done.append(f"git config {scope} --unset {key}")
    path = attributes_file(global_)
    confirm = _remove_confirm(scope, path)
    if confirm:
        unset.append(CONFIRM_KEY)
        done.append(confirm)
    emptied = {key.rpartition(".")[0] for key in unset}
    for section in SECTIONS:  # only those it took a key out of: git writes a config file to remove one
        pattern = "^" + section.replace(".", r"\.") + r"\."
        if section in emptied and _git("config", scope, "--get-regexp", pattern, check=False).returncode == 1:
            _git("config", scope, "--remove-section", section, check=False)
    kept = _remove_attributes(path, block_lines(_declared(global_))) if path else None
    if kept is not None:
        yours = f"; kept {_lines_of_yours(kept)} inside its block" if kept else ""
        done.append(f"attributes: removed mergebert's lines from {path}{yours}")
    if not global_:
        line = uninstall_hook()
        if line:
            done.append(line)
    return done
