"""Which samples each rank reads, in which order, from which position.

Every rank derives the same shuffled order from (seed, epoch), pads it by wrapping
round so all ranks get equally many samples (ranks must take the same number of
steps), and takes every ``world_size``-th index from its rank on. The position
(epoch, samples already consumed) is all a checkpoint needs to continue exactly.
"""

from __future__ import annotations

import math
from typing import Iterator

import torch
from torch.utils.data import Sampler


def epoch_order(num_samples: int, rank: int, world_size: int, seed: int, epoch: int,
                shuffle: bool = True) -> list[int]:
    """This rank's sample indices for ``epoch``: length ceil(num_samples / world_size)."""
    if shuffle:
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(num_samples, generator=g).tolist()
    else:
        order = list(range(num_samples))
    per_rank = math.ceil(num_samples / world_size)
    total = per_rank * world_size
    order = (order * math.ceil(total / num_samples))[:total]
    return order[rank:total:world_size]


class ShardSampler(Sampler[int]):
    """This rank's indices for the current epoch, starting ``start`` samples in."""

    def __init__(self, num_samples: int, rank: int = 0, world_size: int = 1, seed: int = 0, shuffle: bool = True):
        self.num_samples, self.rank, self.world_size = num_samples, rank, world_size
        self.seed, self.shuffle = seed, shuffle
        self.epoch, self.start = 0, 0

    @property
    def per_rank(self) -> int:
        return math.ceil(self.num_samples / self.world_size)

    def set_position(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def __iter__(self) -> Iterator[int]:
        order = epoch_order(self.num_samples, self.rank, self.world_size, self.seed, self.epoch, self.shuffle)
        return iter(order[self.start:])

    def __len__(self) -> int:
        return self.per_rank - self.start
