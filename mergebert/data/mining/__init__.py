"""Mining merge conflicts and their committed resolutions from git histories."""

from mergebert.data.mining.miner import MineOptions, mine_each, mine_repository

__all__ = ["MineOptions", "mine_each", "mine_repository"]
