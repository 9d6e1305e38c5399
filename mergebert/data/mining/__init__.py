"""Mining merge conflicts and their committed resolutions from git histories."""

from mergebert.data.mining.miner import MineOptions, mine, mine_repository

__all__ = ["MineOptions", "mine", "mine_repository"]
