"""Side-swap augmentation (`mergebert train --swap-sides`): a unit shown with ours and theirs swapped is
exactly the unit of the same conflict merged the other way round, with its labels mirrored."""

from __future__ import annotations

import pytest

for _name in ("torch", "transformers"):
    pytest.importorskip(_name, reason=f"training tests need the [train] extra ({_name})")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mergebert.core.candidates import CLASS_NAMES, N_CLASSES, ConflictInput, label_units, units  # noqa: E402
from mergebert.core.languages import language_by_name  # noqa: E402
from mergebert.core.lexer import tokenize  # noqa: E402
from mergebert.core.patterns import PATTERN_BY_NAME, PATTERNS, mirrored  # noqa: E402
from mergebert.neural.bpe import BPE  # noqa: E402
from mergebert.neural.features import Featurizer  # noqa: E402
from mergebert.neural.policy import shipped_model_dir  # noqa: E402
from training.fit import swap_sides  # noqa: E402

JAVA = language_by_name("java")


def _tokens(text: str):
    return tokenize(text, JAVA).tokens


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_the_mirrored_pattern_does_with_the_sides_swapped_what_the_pattern_does(pattern) -> None:
    a, base, b = _tokens("call(x, y);"), _tokens("call(x);"), _tokens("call(x, z, w);")
    swapped = PATTERN_BY_NAME[mirrored(pattern.name)]
    assert [t.text for t in swapped.apply(b, a, base)] == [t.text for t in pattern.apply(a, b, base)]


def _region_batch(ours: str, base: str, theirs: str, resolution: str) -> tuple:
    """The region unit of one conflict as `fit` batches it: ids, types, is_token, multi-hot labels."""
    conflict = ConflictInput.from_texts(ours, base, theirs, "class A {\n", "}\n", JAVA)
    region = next(unit for unit in units(conflict) if unit.kind == "region")
    classes = label_units(conflict, resolution)[0]
    ids, types = Featurizer(BPE.from_dir(shipped_model_dir())).unit(region)
    labels = np.zeros((1, N_CLASSES), dtype=np.float32)
    labels[0, sorted(classes)] = 1.0
    return (
        torch.from_numpy(ids[None].astype(np.int64)),
        torch.from_numpy(types[None].astype(np.int64)),
        torch.zeros(1),
        torch.from_numpy(labels),
    )


def test_a_swapped_unit_is_the_unit_of_the_merge_the_other_way_round() -> None:
    ours = "  int total = count + 1;\n  log(total);\n"
    base = "  int total = count;\n"
    theirs = "  int total = count * 2;\n"
    resolution = ours + theirs  # A+B
    forward = _region_batch(ours, base, theirs, resolution)
    backward = _region_batch(theirs, base, ours, resolution)
    assert forward[3][0, CLASS_NAMES.index("A+B")] == 1.0
    swapped = swap_sides(forward, torch.tensor([True]))
    for got, expected in zip(swapped, backward, strict=True):
        assert torch.equal(got, expected)
    assert torch.equal(swap_sides(forward, torch.tensor([False]))[0], forward[0]), "unchosen units stay"
