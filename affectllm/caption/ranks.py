"""Which slice of the job this process owns: a torchrun/accelerate rank, a `--shard i/n`, or all of it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from affectllm.errors import AffectLLMError

# Ranks finish their shards at different times; the final barrier must outwait the slowest.
BARRIER_TIMEOUT = timedelta(hours=72)


@dataclass(frozen=True)
class Rank:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    launched: bool = False  # started by torchrun / accelerate launch (a process group exists)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def sharded(self) -> bool:
        return self.world > 1

    def take(self, items: list) -> list:
        """This rank's disjoint share, strided so neighbouring (similar) clips spread across ranks."""
        return items[self.rank::self.world]


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' with 0 <= i < n → (i, n)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise AffectLLMError(f"--shard {text}: expected i/n, e.g. --shard 0/4 for the first of four shards") from None
    if n < 1 or not 0 <= i < n:
        raise AffectLLMError(f"--shard {text}: need 0 <= i < n (shards are numbered from 0)")
    return i, n


def current_rank(shard: str | None = None) -> Rank:
    """The launcher's rank from WORLD_SIZE/RANK/LOCAL_RANK, else ``--shard``, else the whole job."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        if shard:
            raise AffectLLMError("--shard cannot be combined with a torchrun/accelerate launch: the launcher "
                                 "already splits the inputs across ranks; drop --shard")
        return Rank(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")), launched=True)
    if shard:
        i, n = parse_shard(shard)
        return Rank(i, n)
    return Rank()


def device_for(rank: Rank) -> str | None:
    """One GPU per rank on its node; None keeps the model where it loads (CPU)."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{rank.local_rank % torch.cuda.device_count()}"
    return None


def init_process_group(rank: Rank) -> None:
    """NCCL between GPUs, gloo on CPU. Without an explicit backend, CPU ranks would not talk at all."""
    import torch
    import torch.distributed as dist

    if not rank.launched or dist.is_initialized():
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(rank.local_rank % torch.cuda.device_count())
    # gloo also on GPU: the only collective is a barrier, and it must not hold a CUDA stream for hours
    dist.init_process_group(backend="gloo", timeout=BARRIER_TIMEOUT)
    if dist.get_rank() != rank.rank or dist.get_world_size() != rank.world:
        raise RuntimeError(f"process group disagrees with the environment: rank {dist.get_rank()}/"
                           f"{dist.get_world_size()} vs {rank.rank}/{rank.world}")


def barrier(rank: Rank) -> None:
    import torch.distributed as dist

    if rank.launched and dist.is_initialized():
        dist.barrier()


def destroy_process_group(rank: Rank) -> None:
    import torch.distributed as dist

    if rank.launched and dist.is_initialized():
        dist.destroy_process_group()
