"""A model directory's files: a training run builds its model in a folder beside the directory and moves it
in only when the run completes, and what belonged to an old model (its ONNX export, its acceptor, its
card) never stays beside a new one. Imports no torch."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mergebert.core import tempdirs
from mergebert.core.atomic import atomic_write
from mergebert.core.messages import warn

# what `train`, `export` and `fit-acceptor` write, model.onnx last: moved in once the rest is in place; and
# the card that describes a model (`python -m training.model_card`), which no other model may keep
MODEL_FILES = (
    "MODEL_CARD.md",
    "model.pt",
    "vocab.json",
    "merges.txt",
    "metrics.json",
    "export.json",
    "acceptor.npz",
    "acceptor_metrics.json",
    "config.json",
    "model.onnx",
)
ACCEPTOR_FILES = ("acceptor.npz", "acceptor_metrics.json")
# what to run again to get back a file the new model lacks, in the order that works (fit-acceptor reads
# model.onnx)
RERUN = {"model.onnx": "mergebert export", "acceptor.npz": "mergebert fit-acceptor"}


@contextmanager
def staged(out_dir: str, writes: bool = True) -> Iterator[str]:
    """A new folder beside `out_dir` to build a model in, moved into `out_dir` when the block completes
    and removed when it fails or is interrupted, leaving `out_dir` as it was. Without `writes` (a torchrun
    rank other than 0) nothing is made and the block gets `out_dir`."""
    if not writes:
        yield out_dir
        return
    parent, name = os.path.split(os.path.realpath(out_dir))  # beside a linked folder's target
    os.makedirs(parent, exist_ok=True)
    for removed in tempdirs.remove_abandoned(parent, f".{name}.", ".training"):
        warn(f"removed {removed}, left by a training run that was killed")
    work = tempdirs.make(f".{name}.", ".training", parent)  # locked while this run lives
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(work, 0o777 & ~umask)  # what os.makedirs would give the directory it becomes
    try:
        yield work
    except BaseException:
        tempdirs.remove(work)
        raise
    replace_model(work, out_dir)


def replace_model(work: str, out_dir: str) -> None:
    """Move the model built in `work` into `out_dir`, removing the old model's files the new one lacks."""
    if not os.path.isdir(out_dir):
        tempdirs.move(work, out_dir)  # without its lock file
        return
    old = [name for name in MODEL_FILES if os.path.exists(os.path.join(out_dir, name))]
    gone = [name for name in old if not os.path.exists(os.path.join(work, name))]
    for name in ("model.onnx", "acceptor.npz"):  # the runtime never pairs these with a half-moved model
        if name in old:
            os.remove(os.path.join(out_dir, name))
    for name in MODEL_FILES:
        if os.path.exists(os.path.join(work, name)):
            os.replace(os.path.join(work, name), os.path.join(out_dir, name))
    for name in gone:
        if os.path.exists(os.path.join(out_dir, name)):
            os.remove(os.path.join(out_dir, name))
    tempdirs.remove(work)
    if gone:
        warn(f"replaced the model in {out_dir}; removed the old model's {', '.join(gone)}{_rerun(gone)}")


def _rerun(names: list[str]) -> str:
    """What to run, in order, to get back the files `names` for the new model."""
    commands = [command for name, command in RERUN.items() if name in names]
    return f" (run {', then '.join(commands)} for the new model)" if commands else ""


def drop_acceptor(model_dir: str, config: dict) -> None:
    """Remove the acceptor from `config` (written by the caller) and its files from `model_dir`."""
    config.pop("acceptor", None)
    for name in ACCEPTOR_FILES:
        path = os.path.join(model_dir, name)
        if os.path.exists(path):
            os.remove(path)


def finite(value: Any) -> Any:
    """`value` with every NaN or infinity (not JSON) replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def write_json(path: str, value: Any) -> None:
    """`value` as indented JSON in `path` (replaced in one step), undefined numbers as null."""
    atomic_write(path, json.dumps(finite(value), indent=1).encode("utf-8"))
