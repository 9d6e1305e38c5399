"""`mergebert train` under torchrun: the process group, the training data sharded by file, and the few
collective steps the fitting loop needs. Rank 0 validates, checkpoints and writes; the others only train.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them (or with one process) nothing here runs and
training is the single-process run.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from training.config import TrainingError

T = TypeVar("T")
# rank 0 validates while the others wait at the next step; the default 10-30 min could end a long validation
TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class Ranks:
    """This process's place in a torchrun job."""

    rank: int
    world: int
    device: torch.device


def is_main() -> bool:
    """Whether this process writes the run's files: rank 0, or the only process."""
    return int(os.environ.get("RANK", "0")) == 0


def start() -> Ranks | None:
    """Join torchrun's process group (nccl on CUDA, gloo on CPU); None for a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    dist.init_process_group(backend, timeout=TIMEOUT)
    return Ranks(dist.get_rank(), world, device)


def stop(ranks: Ranks | None, *, finished: bool) -> None:
    """Leave the process group. Where training `finished`, every rank first waits for the others (rank 0
    validates and saves after the last step): a rank whose group was still held when rank 0 closed its
    side could abort in gloo's teardown (SIGABRT). Objects that still hold the group are collected first."""
    if ranks is None:
        return
    if finished:
        dist.barrier()
    gc.collect()
    dist.destroy_process_group()


def file_key(record: dict) -> tuple[str, str, str]:
    """The file a region record comes from: repository, merge and path."""
    return record.get("repo", ""), record.get("merge", ""), record.get("path", "")


def shard_by_file(records: Sequence[dict], ranks: Ranks) -> list[dict]:
    """This rank's records: all records of one file on one rank, files dealt out in order of appearance."""
    files: dict[tuple[str, str, str], int] = {}
    for record in records:
        files.setdefault(file_key(record), len(files))
    return [record for record in records if files[file_key(record)] % ranks.world == ranks.rank]


def from_main(ranks: Ranks, value: T | None) -> T:
    """Rank 0's `value` on every rank (pickled)."""
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]  # type: ignore[return-value]


def total_units(ranks: Ranks | None, units: int) -> int:
    """Training units over all ranks; fails on every rank when one has none (fewer files than processes)."""
    if ranks is None:
        return units
    counts: list[int] = [0] * ranks.world
    dist.all_gather_object(counts, units)
    empty = [rank for rank, count in enumerate(counts) if count == 0]
    if empty:
        raise TrainingError(
            f"rank(s) {empty} got no training units: fewer training files with labelled conflicts than "
            "processes"
        )
    return sum(counts)


def agree(ranks: Ranks, progress: float, stop: bool) -> tuple[float, bool]:
    """The furthest progress (the slowest clock of a time budget) and whether any rank (rank 0, after an
    early-stopping validation) stops: every rank takes the same step or stops at the same one."""
    both = torch.tensor([progress, float(stop)], dtype=torch.float64, device=ranks.device)
    dist.all_reduce(both, op=dist.ReduceOp.MAX)
    return float(both[0]), bool(both[1])


def wrap(model: torch.nn.Module, ranks: Ranks) -> DistributedDataParallel:
    """The model whose backward pass averages the gradients over the ranks."""
    ids = [ranks.device.index] if ranks.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)
