"""torch.distributed for the trainer: process group under torchrun, collectives, data sharding.

Under ``torchrun --nproc_per_node N`` every process runs the same script;
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` come from the environment. On CPU
the backend is gloo, on CUDA nccl with one GPU per process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from avlib.errors import TrainingError
from avlib.profiles import resolve_device


@dataclass(frozen=True)
class DistInfo:
    """This process's rank, the number of processes and its device."""

    rank: int
    world: int
    device: torch.device


def env_rank() -> int:
    """This process's rank from torchrun's environment (0 outside torchrun)."""
    return int(os.environ.get("RANK", "0"))


@contextlib.contextmanager
def distributed(device: str) -> Iterator[DistInfo]:
    """One process, or a torchrun process group (created here unless one already exists)."""
    dev = torch.device(resolve_device(device))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        yield DistInfo(0, 1, dev)
        return
    if dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    created = not dist.is_initialized()
    if created:
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    try:
        yield DistInfo(dist.get_rank(), dist.get_world_size(), dev)
    finally:
        if created:
            dist.destroy_process_group()


def gather(obj: Any, d: DistInfo) -> list:
    """Every rank's ``obj`` in rank order (a one-element list in one process)."""
    if d.world == 1:
        return [obj]
    out: list = [None] * d.world
    dist.all_gather_object(out, obj)
    return out


def from_rank0(obj: Any, d: DistInfo) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if d.world == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_over_ranks(values: torch.Tensor, d: DistInfo) -> torch.Tensor:
    """All-reduce average of a tensor (the tensor itself in one process)."""
    if d.world == 1:
        return values
    values = values.to(d.device)
    dist.all_reduce(values)
    return values / d.world


class RankStride:
    """Rank r's share of data that cannot shard itself: batches r, r + W, r + 2W, ...

    Every rank builds every batch and keeps its own, so the order must be the
    same on all ranks (it depends on the seed and ``set_epoch`` only). The
    epoch is cut to a multiple of W batches so all ranks make the same steps.
    """

    def __init__(self, data, rank: int, world: int):
        self.data, self.rank, self.world = data, rank, world

    def __len__(self) -> int:
        return len(self.data) // self.world

    def set_epoch(self, epoch: int) -> None:
        """Forward the epoch to the wrapped data."""
        if hasattr(self.data, "set_epoch"):
            self.data.set_epoch(epoch)

    def __iter__(self):
        limit = len(self) * self.world
        for i, batch in enumerate(self.data):
            if i >= limit:
                return
            if i % self.world == self.rank:
                yield batch


def shard(data, d: DistInfo):
    """This rank's data: itself in one process, ``data.shard(rank, world)`` if it can, else a stride."""
    if d.world == 1:
        return data
    if not hasattr(data, "shard"):
        return RankStride(data, d.rank, d.world)
    data.shard(d.rank, d.world)
    lengths = gather(len(data), d)
    if len(set(lengths)) != 1:
        raise TrainingError(f"ranks see different numbers of batches per epoch: {lengths}")
    return data
