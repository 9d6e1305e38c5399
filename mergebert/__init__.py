"""mergebert: neural merge-conflict resolution for git (MergeBERT, FSE 2022)."""

__version__ = "0.1.0"
