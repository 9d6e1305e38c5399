"""How git merges a file and writes a conflict left in it: the side its strategy options favour, marker
size, labels and conflict style."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ConflictStyle = Literal["merge", "diff3", "zdiff3"]
Labels = tuple[str, str, str]
Favour = Literal["ours", "theirs", "union"]
# which of git's line merges a result must equal where mergebert resolves nothing: `git merge-file`'s,
# that of the ort strategy (git merge, rebase, cherry-pick, revert, stash), which diffs with histogram, or
# the one of the commands that diff with Myers (`checkout -m`, `am -3`, the recursive strategy), which,
# unlike `git merge-file`, never joins two conflicts across more than three lines without letters or
# digits
Engine = Literal["merge-file", "ort", "myers"]
Whitespace = Literal["ignore-space-change", "ignore-all-space", "ignore-space-at-eol", "ignore-cr-at-eol"]
DEFAULT_LABELS: Labels = ("ours", "base", "theirs")


@dataclass(frozen=True)
class MergeOptions:
    """git's conflict presentation; the git front-ends build it once (`gitinfo.merge_options`)."""

    marker_size: int = 7
    labels: Labels = DEFAULT_LABELS
    style: ConflictStyle = "merge"
    # `-X ours|theirs` (`git merge-file --ours|--theirs|--union`): the side git's line merge gives every
    # conflict (union: both), so that none is left
    favour: Favour | None = None
    # `-X ignore-space-change` and its kin: what git's line merge was told to ignore
    whitespace: tuple[Whitespace, ...] = ()
    engine: Engine = "merge-file"

    @property
    def alnum(self) -> bool:
        """Whether the merge `engine` stands for joins two conflicts across lines without letters or digits
        (xdiff's ZEALOUS_ALNUM level: `git merge-file` does, git's own commands do not)."""
        return self.engine == "merge-file"


GIT_DEFAULT = MergeOptions()  # what `git merge-file` writes without options
DIFF3 = MergeOptions(style="diff3")  # the resolver's own text view: conflicts with their base
