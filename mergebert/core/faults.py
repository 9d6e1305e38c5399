"""Stages made to fail on purpose, so that tests can prove the fallbacks work, as git's GIT_TEST_*
variables do: $MERGEBERT_TEST_FAULT names them, comma-separated. Standard library only: the merge
driver's warm path reads it."""

from __future__ import annotations

import os
from collections.abc import Mapping

VARIABLE = "MERGEBERT_TEST_FAULT"


def injected(stage: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether $MERGEBERT_TEST_FAULT (of `environ`, else of this process) names `stage`."""
    return stage in (os.environ if environ is None else environ).get(VARIABLE, "").split(",")
