"""`mergebert install [--global]` / `mergebert uninstall`: wire mergebert into git, and take it out again.

Install writes four things: the merge driver and the two mergetools' config (`mergebert`, and
`mergebert-i` which asks about what is left; `git config`, with `mergebert.confirm`, whether git stops
for the user to check a file the driver resolved), the attributes that
route Java/JS/TS/C# files to the driver (`.git/info/attributes` locally, so tracked files stay
untouched, followed by the files whose `.gitattributes` declare another merge, which that file would
otherwise outrank; the global attributes file with `--global`; first in the file, so that the user's own
lines there, read later, still win), and, locally, the pre-commit hook. Uninstall removes exactly those:
config keys that still hold mergebert's values, `mergebert.confirm` where install wrote it and it still
holds install's value, the marked attributes block and mergebert's own hook as install wrote it (putting
back a hook it had chained). Everything that can refuse is checked before anything is written.
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
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from mergebert.core.atomic import atomic_write
from mergebert.core.languages import EXTENSIONS
from mergebert.git import attributes, gitcmd
from mergebert.git.driver import CONFIRM_KEY

NAME = "mergebert: token-level merge of Java, JavaScript, TypeScript and C# conflicts"
MERGETOOL_ARGUMENTS = 'mergetool "$BASE" "$LOCAL" "$REMOTE" "$MERGED"'
INTERACTIVE_ARGUMENTS = 'mergetool --interactive "$BASE" "$LOCAL" "$REMOTE" "$MERGED"'  # mergebert-i
# What installs before the absolute paths wrote; install replaces these entries, uninstall removes them.
BARE_DRIVER = "mergebert driver %O %A %B %L %P"
BARE_MERGETOOL = f"mergebert {MERGETOOL_ARGUMENTS}"
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
HOOK_MARK = "# mergebert pre-commit hook"
CHAINED = "pre-commit.before-mergebert"
# the hook's one line that differs between installations (the absolute path of `mergebert`)
OWN_COMMAND = re.compile(r'^mergebert\(\) \{ .+ "\$@"; \}$', re.MULTILINE)
# the mergebert.confirm value install wrote where the user had none, so that uninstall removes only that
CONFIRM_RECORD = "mergebert.confirmByInstall"
MERGEBERTS, EDITED, USERS = "mergebert's", "edited", "user's"  # whose a pre-commit hook is
DIFFERS = "differs from the hook install writes (changes of yours, or an older version's)"
# the hooks earlier releases wrote, as sha-256 of their text without the OWN_COMMAND line: mergebert's too
EARLIER_HOOKS = frozenset(
    {
        "06099b867e727f6cbf09e2095998db74c9892a9e45d16308307e86c384b51ff2",  # 13e02f6 to 2dee883
        "545aab6813096df4b89d2d841bf10275a6f26be0ccf83f48189de11adf0a2e5b",  # until 13e02f6
    }
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
    return f"{shlex.quote(sys.executable)} -m mergebert"


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
    if key == "mergetool.mergebert.cmd":
        return "mergebert" in value and value.endswith(MERGETOOL_ARGUMENTS)
    if key == "mergetool.mergebert-i.cmd":
        return "mergebert" in value and value.endswith(INTERACTIVE_ARGUMENTS)
    return value == settings((0,))[key]


def hook_script() -> str:
    """The pre-commit hook shipped with the package (git_hooks/pre-commit), calling this installation's
    `mergebert` by absolute path."""
    text = resources.files("mergebert").joinpath("git/hooks/pre-commit").read_text(encoding="utf-8")
    own = f'\nmergebert() {{ {mergebert_command()} "$@"; }}\n'
    return text.replace('\nmergebert() { command mergebert "$@"; }\n', own, 1)


def attributes_block(declared: Sequence[tuple[str, str]] = (), done: str = "") -> str:
    """The lines install adds to the attributes file: the patterns routed to mergebert, then the files
    whose repository declares another merge (`declared`: path, merge), which win as git reads later
    lines; `done`: what else install did (MADE_FILE), said on the BEGIN line."""
    routed = [f"{pattern} merge={attributes.DRIVER_NAME}" for pattern in PATTERNS]
    kept = [attributes.attribute_line(path, value) for path, value in declared]
    return "\n".join([BEGIN + done, *routed, *kept, END]) + "\n"


def attributes_file(global_: bool) -> Path:
    """`.git/info/attributes`, or the global attributes file git reads (core.attributesFile / XDG)."""
    if not global_:
        return Path(_git_output("rev-parse", "--git-path", "info/attributes"))
    configured = _git_output(
        "config", "--global", "--includes", "--get", "core.attributesFile", check=False
    ).strip()
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "git" / "attributes"


def _split_bom(data: bytes) -> tuple[bytes, bytes]:
    """The UTF-8 byte order mark git skips at the start of an attributes file (or nothing), and the rest."""
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    return bom, data[len(bom) :]


def _without_blocks(data: bytes) -> tuple[bytes, bool]:
    """The attributes file without mergebert's blocks (a BEGIN line to the first END line after it, with
    no other BEGIN between), and without the line break an older install added before one; and whether
    install made the file. A BEGIN line with no END after it, or an END line alone, is the user's."""
    bom, data = _split_bom(data)
    lines = data.splitlines(keepends=True)
    bare = [line.rstrip(b"\r\n").decode("utf-8", "replace") for line in lines]
    out: list[bytes] = []
    made, at = False, 0
    while at < len(lines):
        stop = None
        if bare[at].startswith(BEGIN):
            after = (i for i in range(at + 1, len(lines)) if bare[i] == END or bare[i].startswith(BEGIN))
            stop = next(after, None)
        if stop is None or bare[stop] != END:
            out.append(lines[at])
            at += 1
            continue
        done = bare[at][len(BEGIN) :]
        if out and (ADDED_LF in done or ADDED_CRLF in done):
            out[-1] = out[-1][: -2 if ADDED_CRLF in done else -1]
        made |= MADE_FILE in done
        at = stop + 1
    return bom + b"".join(out), made


def _write_attributes(path: Path, declared: Sequence[tuple[str, str]]) -> None:
    """The attributes file with mergebert's block first (after a byte order mark), so that the user's own
    lines, which git reads later, win; their bytes kept as they are, the block in their line endings."""
    data, made = _without_blocks(path.read_bytes()) if path.exists() else (b"", True)
    bom, rest = _split_bom(data)
    eol = b"\r\n" if b"\r\n" in rest else b"\n"
    block = attributes_block(declared, MADE_FILE if made else "").encode("utf-8").replace(b"\n", eol)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, bom + block + rest)


def _remove_attributes(path: Path) -> bool:
    """Take mergebert's lines out of the attributes file; the file goes only if install made it."""
    if not path.exists():
        return False
    data = path.read_bytes()
    rest, made = _without_blocks(data)
    if rest == data:
        return False
    if rest or not made:
        atomic_write(path, rest)
    else:
        path.unlink()
    return True


def _hooks_dir() -> Path:
    return Path(_git_output("rev-parse", "--git-path", "hooks"))


def _exists(path: Path) -> bool:
    """Whether there is anything at `path`, a dangling symbolic link included."""
    return path.exists() or path.is_symlink()


def _hook_owner(hook: Path) -> str | None:
    """Whose the hook is: None (no hook), MERGEBERTS (as install writes it, whichever installation's
    `mergebert` it names), EDITED (mergebert's with changes: the user's, or an older version's) or USERS."""
    if not _exists(hook):
        return None
    try:
        text = hook.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return USERS
    if HOOK_MARK not in text:
        return USERS
    own = OWN_COMMAND.sub("", text, count=1)
    unchanged = own == OWN_COMMAND.sub("", hook_script(), count=1)
    earlier = hashlib.sha256(own.encode("utf-8")).hexdigest() in EARLIER_HOOKS
    return MERGEBERTS if unchanged or earlier else EDITED


def _is_tracked(folder: Path) -> bool:
    """Whether a repository, this one or another (a dotfiles repository), tracks `folder` or a file in it."""
    if not folder.is_dir():
        return False
    inside = gitcmd.git("rev-parse", "--is-inside-work-tree", cwd=folder, accept=range(256))
    if inside.stdout.strip() != b"true":  # a git folder (.git/hooks) lists its repository's whole index
        return False
    listed = gitcmd.git("ls-files", "-z", "--", ".", cwd=folder, accept=range(256))
    return listed.returncode == 0 and bool(listed.stdout)


def _shared_hooks_scope() -> str | None:
    """Where core.hooksPath is set when that is not this repository's own config (`global`, `system`,
    `command`): its hooks folder is then every repository's, not this one's; else None."""
    found = _git_output("config", "--show-scope", "--get", "core.hooksPath", check=False)
    scope = found.split("\t", 1)[0]
    return scope if found and scope not in ("local", "worktree") else None


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


def install_hook() -> str:
    """Write the pre-commit hook; an existing foreign hook is kept and chained after the check (`_check_hook`
    first). A hooks folder other repositories share or this one tracks, or a hook the user edited, is left
    alone."""
    hooks = _hooks_dir()
    shared = _not_ours_to_write(hooks)
    if shared:
        return (
            f"pre-commit hook: not installed: core.hooksPath ({hooks}) is {shared[0]}; add `mergebert check` "
            f"to its pre-commit hook yourself if {shared[1]} should run it"
        )
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    owner = _hook_owner(hook)
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
    """Remove mergebert's hook, as install wrote it, and put back a chained one; a hook that is not ours, one
    the user edited, or one in a folder that is not this repository's alone, is left alone."""
    hooks = _hooks_dir()
    hook, chained = hooks / "pre-commit", hooks / CHAINED
    owner = _hook_owner(hook)
    if owner in (None, USERS):
        return None
    shared = _not_ours_to_write(hooks)
    if shared:
        where = f"in a folder core.hooksPath names ({shared[0]})"
        return f"pre-commit hook: {hook} is mergebert's, {where}; left as it is"
    if owner == EDITED:
        kept = f", as is {chained}, which it runs" if _exists(chained) else ""
        return f"pre-commit hook: {hook} {DIFFERS}; left as it is{kept}"
    hook.unlink()
    if _exists(chained):
        chained.rename(hook)
        return f"removed the pre-commit hook {hook} and restored the one it chained"
    return f"removed the pre-commit hook {hook}"


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


def _write_confirm(scope: str, confirm: bool | None) -> str:
    """Set mergebert.confirm (`confirm`; None keeps a setting already there, else turns it on); where
    install writes it over none, or over its own value, CONFIRM_RECORD says so, for uninstall."""
    already = _git_output("config", scope, "--get", CONFIRM_KEY, check=False).strip()
    if already and confirm is None:
        return f"git config {scope} {CONFIRM_KEY}: kept {already!r}"
    setting = str(confirm is not False).lower()
    recorded = _git_output("config", scope, "--get", CONFIRM_RECORD, check=False)
    _git("config", scope, CONFIRM_KEY, setting)
    if not already or already == recorded:
        _git("config", scope, CONFIRM_RECORD, setting)
    else:  # the user's own setting, changed by their --confirm / --no-confirm: still theirs
        _git("config", scope, "--unset", CONFIRM_RECORD, check=False)
    return f"git config {scope} {CONFIRM_KEY} {setting}"


def _remove_confirm(scope: str) -> str | None:
    """Unset mergebert.confirm where install wrote it and it still holds install's value."""
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
    path = attributes_file(global_)
    # the local file outranks the repository's .gitattributes: the files they give another merge keep it
    declared = (
        [] if global_ else attributes.declared_merges(PATTERNS, _git_output("rev-parse", "--show-toplevel"))
    )
    done = []
    for key, value in settings(git_version()).items():
        _git("config", scope, key, value)
        done.append(f"git config {scope} {key} {value!r}")
    done.append(_write_confirm(scope, confirm))
    _write_attributes(path, declared)
    files = f"{len(declared)} file keeps" if len(declared) == 1 else f"{len(declared)} files keep"
    kept = f"; {files} the merge their attributes declare" if declared else ""
    done.append(f"attributes: {path} ({' '.join(PATTERNS)} merge=mergebert{kept})")
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
    for key in settings((0,)):
        current = _git("config", scope, "--get", key, check=False)
        if current.returncode == 0 and is_ours(key, current.stdout.decode().rstrip("\n")):
            _git("config", scope, "--unset", key)
            done.append(f"git config {scope} --unset {key}")
    confirm = _remove_confirm(scope)
    if confirm:
        done.append(confirm)
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
