"""A conflict left just below the threshold shows a confidence and a threshold that read differently:
never `confidence 0.73 below threshold 0.73`."""

from __future__ import annotations

import json
import re

from gitrepo import TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "App.java"
SHOWN = re.compile(r"confidence (\S+) below threshold (\S+?)\)?$", re.MULTILINE)


def driver_confidence(repo: GitRepo) -> float:
    """The confidence at which the merge driver resolves the token conflict (from its decision log)."""
    repo.diverge(NAME, TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)
    repo.use_driver()
    repo.git("merge", "--no-edit", "feature")
    log = repo.path / ".git" / "mergebert" / "decisions.jsonl"
    (record,) = [json.loads(line) for line in log.read_text().splitlines() if '"path"' in line]
    repo.git("reset", "-q", "--hard", "HEAD^")
    return record["conflicts_detail"][0]["confidence"]


def test_a_confidence_just_below_the_threshold_is_shown_below_it(repo: GitRepo) -> None:
    confidence = driver_confidence(repo)
    threshold = confidence + 0.00005
    assert f"{confidence:.2f}" == f"{threshold:.2f}", "the two must round alike for this test"
    repo.env["MERGEBERT_THRESHOLD"] = repr(threshold)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 1
    shown = [repo.mergebert("review").stdout, repo.mergebert("resolve", "--dry-run", NAME).stdout]
    for output in shown:
        ((confidence_shown, threshold_shown),) = SHOWN.findall(output)
        assert float(confidence_shown) < float(threshold_shown), output


def test_figures_past_seventeen_decimals_are_still_told_apart() -> None:
    """A pure function: a threshold below 1e-17 is shown in the digits that tell it from the confidence."""
    from mergebert.core.resolver import below_threshold

    for confidence, threshold in ((0.0, 1e-20), (1e-30, 2e-30), (0.5, 0.5 + 2**-53)):
        line = below_threshold(confidence, threshold)
        ((confidence_shown, threshold_shown),) = SHOWN.findall(line)
        assert float(confidence_shown) < float(threshold_shown), line
