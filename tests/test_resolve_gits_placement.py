"""`mergebert resolve` and `git mergetool --tool mergebert` over a file git's own merge (the ort strategy,
histogram diff) wrote with its conflicts placed otherwise than mergebert's line merge (Myers) finds them:
the file untouched since git wrote it is resolved as the merge driver would have resolved it, and what
cannot be matched is never blamed on the user."""

from __future__ import annotations

import test_safety_check as safety
from gitrepo import GitRepo

NAME = "src/repository.ts"
HEADER = 'import { Context } from "./types"\nimport { Query } from "./query"\n'
CLASS = "export class Repository {\n  constructor(private store: Store) {}\n}\n"
BASE = HEADER + 'import { Model } from "./models"\n\nimport { Store } from "./store"\n\n' + CLASS
OURS = HEADER + 'import { Model } from "./models"\n\nimport { Store } from "./store"\n' + CLASS
THEIRS = HEADER + '\n\nimport { Store } from "./store"\nimport { Logger } from "./logger"\n' + CLASS
MERGED = HEADER + '\n\nimport { Store } from "./store"\nimport { Logger } from "./logger"\n' + CLASS
ORT_BLOCK = '<<<<<<< HEAD\n=======\nimport { Logger } from "./logger"\n>>>>>>> feature\n'


def stopped_by_git_alone(repo: GitRepo) -> bytes:
    repo.diverge(NAME, BASE, OURS, THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 1
    conflicted = repo.read(NAME)
    assert ORT_BLOCK.encode() in conflicted, "ort places the conflict after the Store import"
    sides = []
    for name, text in (("ours", OURS), ("base", BASE), ("theirs", THEIRS)):
        sides.append(repo.path / ".git" / name)
        sides[-1].write_text(text)
    merge_file = repo.git(
        "merge-file", "-p", "-L", "HEAD", "-L", "base", "-L", "feature", *map(str, sides), check=False
    )
    assert ORT_BLOCK not in merge_file.stdout, "merge-file (Myers) places it otherwise"
    return conflicted


def test_resolve_over_gits_own_placement_resolves_as_the_driver(repo: GitRepo) -> None:
    stopped_by_git_alone(repo)
    resolved = repo.mergebert("resolve", "--no-backup", NAME)
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    assert repo.read(NAME) == MERGED.encode()
    assert "edited inside" not in resolved.stdout + resolved.stderr


def test_mergetool_over_gits_own_placement_resolves_as_the_driver(repo: GitRepo) -> None:
    stopped_by_git_alone(repo)
    repo.mergebert("install", check=True)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    assert repo.read(NAME) == MERGED.encode()
    assert repo.conflicted() == []


def test_resolve_after_review_undo_gives_the_drivers_result_back(repo: GitRepo) -> None:
    repo.diverge(NAME, BASE, OURS, THEIRS)
    repo.use_driver(confirm=True)
    repo.git("merge", "--no-edit", "feature", check=False)
    by_driver = repo.read(NAME)
    assert by_driver == MERGED.encode()
    repo.mergebert("review", "--undo", NAME, check=True)
    assert ORT_BLOCK.encode() in repo.read(NAME)
    repo.mergebert("resolve", "--no-backup", NAME, check=True)
    assert repo.read(NAME) == by_driver


def test_a_conflict_edited_inside_its_markers_is_kept_and_named_so(repo: GitRepo) -> None:
    conflicted = stopped_by_git_alone(repo)
    edited = conflicted.replace(b'import { Logger } from "./logger"\n', b'import { Logger } from "./log"\n')
    repo.write(NAME, edited)
    resolved = repo.mergebert("resolve", "--no-backup", NAME)
    assert resolved.returncode == 1
    assert repo.read(NAME) == edited
    assert "not where mergebert finds git's conflicts" in resolved.stdout


def test_mergetool_names_a_conflict_edited_inside_its_markers(repo: GitRepo) -> None:
    conflicted = stopped_by_git_alone(repo)
    repo.mergebert("install", check=True)
    edited = conflicted.replace(b'import { Logger } from "./logger"\n', b'import { Logger } from "./log"\n')
    repo.write(NAME, edited)
    tool = repo.git("mergetool", "--tool", "mergebert", "--no-prompt", check=False)
    assert tool.returncode != 0 and repo.conflicted() == [NAME]
    assert f"{NAME}: 1 marked conflict(s) not where mergebert finds git's conflicts" in tool.stderr


def test_resolve_over_gits_own_merge_in_a_style_other_than_the_configured_one(repo: GitRepo) -> None:
    """`git -c merge.conflictStyle=diff3 merge` wrote the file; the config says nothing (merge style)."""
    repo.diverge(NAME, BASE, OURS, THEIRS)
    assert (
        repo.git("-c", "merge.conflictStyle=diff3", "merge", "--no-edit", "feature", check=False).returncode
        == 1
    )
    assert b"||||||| " in repo.read(NAME)
    resolved = repo.mergebert("resolve", "--no-backup", NAME)
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    assert repo.read(NAME) == MERGED.encode()


def test_gits_own_merge_stays_where_a_resolution_would_change_its_clean_lines(repo: GitRepo) -> None:
    """test_safety_check's case: ort merges the scaleX lines cleanly, which mergebert's resolution would
    re-indent; `resolve` over git's own merge leaves it as git wrote it."""
    repo.diverge("chart.js", safety.BASE, safety.OURS, safety.THEIRS)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 1
    conflicted = repo.read("chart.js")
    resolved = repo.mergebert("resolve", "--no-backup", "chart.js")
    assert resolved.returncode == 1
    assert repo.read("chart.js") == conflicted
