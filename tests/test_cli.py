"""The installed `mergebert` command: help lists every command; the demo works end to end."""

from __future__ import annotations

from gitrepo import GitRepo

COMMANDS = ("driver", "mergetool", "resolve", "merge-file", "install", "uninstall", "check", "demo")


def test_help_lists_every_command_with_a_description(repo: GitRepo) -> None:
    result = repo.mergebert("--help", check=True)
    listed = {}
    for line in result.stdout.split("Commands for git users:", 1)[1].splitlines():
        words = line.split(maxsplit=1)
        if len(words) == 2:
            listed[words[0]] = words[1]
    for command in COMMANDS:
        assert listed.get(command), f"{command} missing from --help"
        assert not listed[command].endswith("..."), f"{command}: description cut short"


def test_demo_resolves_its_conflict(repo: GitRepo) -> None:
    result = repo.mergebert("demo", check=True)
    assert "<<<<<<< HEAD" in result.stdout
    assert 'new Server("0.0.0.0", 8080, true);' in result.stdout
    assert "mergebert kept both edits" in result.stdout
