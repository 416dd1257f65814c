"""Which samples each rank reads, in which order, from which position.

Every rank derives the same shuffled order from (seed, epoch), pads it by wrapping
round so all ranks get equally many samples (ranks must take the same number of
steps), and takes every ``world_size``-th index from its rank on. The position
(epoch, samples already consumed) is all a checkpoint needs to continue exactly.

Several manifests mix by weight (``data.train: [{path, weight}]``, LLaMA-Factory's
``interleave_probs``): an epoch holds as many samples as all manifests together, split
between them in proportion to their weights (:func:`mixture_counts`). Each manifest is
read as an endless stream of reshuffled passes, so an under-weighted one shows new
samples epoch after epoch and an over-weighted one repeats only after a full pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import torch
from torch.utils.data import Sampler


@dataclass(frozen=True)
class Mixture:
    """Sizes of the concatenated manifests and how many samples each gives per epoch."""

    sizes: tuple[int, ...]
    counts: tuple[int, ...]

    @property
    def epoch_size(self) -> int:
        return sum(self.counts)


def mixture_counts(sizes: list[int], weights: list[float]) -> list[int]:
    """Samples per epoch from each manifest: sum(sizes) split by weight, rounded by largest remainder."""
    total, weight_sum = sum(sizes), sum(weights)
    exact = [total * w / weight_sum for w in weights]
    counts = [math.floor(x) for x in exact]
    for i in sorted(range(len(sizes)), key=lambda i: (counts[i] - exact[i], i))[: total - sum(counts)]:
        counts[i] += 1
    return counts


def mixture_order(mixture: Mixture, seed: int, epoch: int) -> list[int]:
    """Indices into the concatenated manifests for one epoch, shuffled together (see the module docstring)."""
    order: list[int] = []
    offset = 0
    for source, (size, count) in enumerate(zip(mixture.sizes, mixture.counts)):
        start = epoch * count  # position in this manifest's endless stream of passes
        stream: list[int] = []
        for n in range(start // size, (start + count + size - 1) // size):
            g = torch.Generator().manual_seed((seed * 1_000_003 + source) * 100_003 + n)
            stream += torch.randperm(size, generator=g).tolist()
        skip = start - (start // size) * size
        order += [offset + i for i in stream[skip: skip + count]]
        offset += size
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return [order[i] for i in torch.randperm(len(order), generator=g).tolist()]


def epoch_order(num_samples: int, rank: int, world_size: int, seed: int, epoch: int,
                shuffle: bool = True, mixture: Mixture | None = None) -> list[int]:
    """This rank's sample indices for ``epoch``: length ceil(epoch size / world_size)."""
    if mixture is not None:
        order = mixture_order(mixture, seed, epoch)
        num_samples = len(order)
    elif shuffle:
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

    def __init__(self, num_samples: int, rank: int = 0, world_size: int = 1, seed: int = 0, shuffle: bool = True,
                 mixture: Mixture | None = None):
        self.num_samples, self.rank, self.world_size = num_samples, rank, world_size
        self.seed, self.shuffle, self.mixture = seed, shuffle, mixture
        self.epoch, self.start = 0, 0

    @property
    def per_rank(self) -> int:
        size = self.mixture.epoch_size if self.mixture is not None else self.num_samples
        return math.ceil(size / self.world_size)

    def set_position(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def __iter__(self) -> Iterator[int]:
        order = epoch_order(self.num_samples, self.rank, self.world_size, self.seed, self.epoch, self.shuffle,
                            self.mixture)
        return iter(order[self.start:])

    def __len__(self) -> int:
        return self.per_rank - self.start
