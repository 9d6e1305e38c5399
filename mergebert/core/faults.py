"""Stages made to fail (or to pause) on purpose, so that tests can prove the fallbacks work, as git's
GIT_TEST_* variables do: $MERGEBERT_TEST_FAULT names them, comma-separated. Standard library only: the
merge driver's warm path reads it."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

VARIABLE = "MERGEBERT_TEST_FAULT"
PAUSED = "MERGEBERT_TEST_PAUSED"  # the file whose write `paused` holds
RELEASE = "MERGEBERT_TEST_RELEASE"  # the file whose creation lets it go on
PAUSE_LIMIT = 60.0  # seconds: a test that never lets it go costs a minute, never a hung run


def injected(stage: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether $MERGEBERT_TEST_FAULT (of `environ`, else of this process) names `stage`."""
    return stage in (os.environ if environ is None else environ).get(VARIABLE, "").split(",")


def paused(stage: str, path: str) -> None:
    """Where $MERGEBERT_TEST_FAULT names `stage` and $MERGEBERT_TEST_PAUSED names the file `path`, wait
    until the file $MERGEBERT_TEST_RELEASE names exists (at most PAUSE_LIMIT): a test acts at that moment
    (a save, a signal), whatever the machine's speed, then lets the process go on."""
    named = os.environ.get(PAUSED)
    if not named or not injected(stage) or os.path.realpath(named) != os.path.realpath(path):
        return
    release = os.environ.get(RELEASE, "")
    deadline = time.monotonic() + PAUSE_LIMIT
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.01)
