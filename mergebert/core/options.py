"""How a conflict left in a file is written: marker size, labels and conflict style, as git would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ConflictStyle = Literal["merge", "diff3", "zdiff3"]
Labels = tuple[str, str, str]
DEFAULT_LABELS: Labels = ("ours", "base", "theirs")


@dataclass(frozen=True)
class MergeOptions:
    """git's conflict presentation; the git front-ends build it once (`gitinfo.merge_options`)."""

    marker_size: int = 7
    labels: Labels = DEFAULT_LABELS
    style: ConflictStyle = "merge"


GIT_DEFAULT = MergeOptions()  # what `git merge-file` writes without options
DIFF3 = MergeOptions(style="diff3")  # the resolver's own text view: conflicts with their base
