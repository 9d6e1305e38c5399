"""Gradient-boosted decision trees evaluated with numpy: the acceptor's model at run time.

The trees are fitted in training (``training/acceptor.py``, scikit-learn's histogram gradient boosting)
and stored as arrays of one row per tree and one column per node (``pack``):

- ``feature`` and ``threshold``: a row whose feature is ≤ the threshold goes to ``left``, else ``right``;
- ``missing_left``: where a row's feature is NaN, whether it goes left;
- ``leaf`` and ``value``: a leaf's contribution to the log-odds.

The probability is the sigmoid of ``baseline`` plus the value of the leaf each tree leads to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

NODE_ARRAYS = {  # name: (dtype, what a tree shorter than the widest is padded with)
    "feature": (np.intp, 0),
    "threshold": (np.float64, 0.0),
    "missing_left": (np.bool_, False),
    "left": (np.intp, 0),
    "right": (np.intp, 0),
    "leaf": (np.bool_, True),  # padding is never reached
    "value": (np.float64, 0.0),
}


def pack(baseline: float, trees: Sequence[Mapping[str, Sequence]]) -> dict[str, np.ndarray]:
    """Trees given as one dict of per-node lists each (keys of NODE_ARRAYS) as the stored arrays."""
    if not trees:
        raise ValueError("the acceptor has no fitted trees")
    for tree in trees:
        if len({len(tree[name]) for name in NODE_ARRAYS}) != 1:
            raise ValueError("a tree of the acceptor has fields of unequal length")
    width = max(len(tree["leaf"]) for tree in trees)
    arrays = {"baseline": np.float64(baseline)}
    for name, (dtype, fill) in NODE_ARRAYS.items():
        arrays[name] = np.full((len(trees), width), fill, dtype=dtype)
        for i, tree in enumerate(trees):
            arrays[name][i, : len(tree[name])] = tree[name]
    return arrays


class BoostedTrees:
    """A binary classifier: a sum of regression trees over the log-odds."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        shapes = {np.shape(arrays[name]) for name in NODE_ARRAYS}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2 or 0 in next(iter(shapes)):
            raise ValueError("the acceptor's tree arrays are empty or of unequal shapes")
        nodes = {name: np.asarray(arrays[name], dtype=dtype) for name, (dtype, _) in NODE_ARRAYS.items()}
        n_trees, width = nodes["leaf"].shape
        if not (np.isfinite(arrays["baseline"]) and np.isfinite(nodes["value"]).all()):
            raise ValueError("the acceptor's trees hold values that are not numbers")
        for child in ("left", "right"):
            if ((nodes[child] < 0) | (nodes[child] >= width)).any():
                raise ValueError("a tree of the acceptor points outside itself")
        # One flat array per field, children as flat indices; a leaf is its own child, so a walk that has
        # reached it stays there whatever its row's features.
        offset = (np.arange(n_trees) * width)[:, None]
        here = offset + np.arange(width)
        self.baseline = float(arrays["baseline"])
        self.leaf = nodes["leaf"].ravel()
        self.feature = np.where(nodes["leaf"], 0, nodes["feature"]).ravel()
        self.threshold = nodes["threshold"].ravel()
        self.missing_left = nodes["missing_left"].ravel()
        self.left = np.where(nodes["leaf"], here, offset + nodes["left"]).ravel()
        self.right = np.where(nodes["leaf"], here, offset + nodes["right"]).ravel()
        self.value = nodes["value"].ravel()
        self.roots = offset.ravel()

    def log_odds(self, features: np.ndarray) -> np.ndarray:
        """Each row's baseline plus the value of the leaf it reaches in every tree."""
        rows = np.asarray(features, dtype=np.float64)
        node = np.broadcast_to(self.roots, (len(rows), len(self.roots)))
        row_index = np.arange(len(rows))[:, None]
        for _ in range(len(self.leaf)):  # no walk is longer than a tree has nodes
            if self.leaf[node].all():
                break
            x = rows[row_index, self.feature[node]]
            go_left = (x <= self.threshold[node]) | (np.isnan(x) & self.missing_left[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return self.baseline + self.value[node].sum(axis=1)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(positive) for each row of ``features``."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.log_odds(features), -30.0, 30.0)))
