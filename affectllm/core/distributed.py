"""Which slice of a job this process owns, and the process group it shares with the others.

Launchers (`torchrun`, `deepspeed`, `accelerate launch`) export RANK / LOCAL_RANK / WORLD_SIZE;
a caption job may instead be split by hand with ``--shard i/n`` (no group: shards never talk).
Without CUDA a group runs over gloo. The ranks a group reports are checked against the
launcher's, because a silently mis-initialised group makes every process rank 0 (no
sharding, duplicate saves, unsynchronised gradients).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from affectllm.core.errors import AffectLLMError

if TYPE_CHECKING:
    import torch

# torch is imported inside the functions: the caption CLI and the cue path import this module, and
# `affectllm` commands must not pay for importing torch before they need it.

# Caption ranks finish their shards at different times; the final barrier must outwait the slowest.
CAPTION_BARRIER_TIMEOUT = timedelta(hours=72)


@dataclass(frozen=True)
class Rank:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    launched: bool = False  # started by a launcher: the ranks share a process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def sharded(self) -> bool:
        """More than one process splits the work (a launch or ``--shard``)."""
        return self.world_size > 1

    @property
    def device(self) -> "torch.device":
        """This rank's GPU on its node (one per rank), else the CPU."""
        import torch

        if torch.cuda.is_available():
            return torch.device("cuda", self.local_rank % torch.cuda.device_count())
        return torch.device("cpu")

    def take(self, items: list) -> list:
        """This rank's disjoint share, strided so neighbouring (similar) items spread across ranks."""
        return items[self.rank::self.world_size]


def launched_rank() -> Rank:
    """The rank a launcher exported (WORLD_SIZE / RANK / LOCAL_RANK); one unlaunched process without them."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return Rank(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")),
                launched=world > 1 or "RANK" in os.environ)


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' with 0 <= i < n → (i, n)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise AffectLLMError(f"--shard {text}: expected i/n, e.g. --shard 0/4 for the first of four shards") from None
    if n < 1 or not 0 <= i < n:
        raise AffectLLMError(f"--shard {text}: need 0 <= i < n (shards are numbered from 0)")
    return i, n


def caption_rank(shard: str | None = None) -> Rank:
    """A caption job's rank: the launcher's (several processes), else ``--shard``, else the whole job."""
    env = launched_rank()
    if env.world_size > 1:
        if shard:
            raise AffectLLMError("--shard cannot be combined with a torchrun/accelerate launch: the launcher "
                                 "already splits the inputs across ranks; drop --shard")
        return env
    if shard:
        i, n = parse_shard(shard)
        return Rank(i, n)
    return Rank()


def _check_group(rank: Rank) -> None:
    import torch.distributed as dist

    if dist.get_rank() != rank.rank or dist.get_world_size() != rank.world_size:
        raise RuntimeError(f"process group reports rank {dist.get_rank()}/{dist.get_world_size()} but the "
                           f"launcher set RANK={rank.rank} WORLD_SIZE={rank.world_size}")


def join_caption_group(rank: Rank) -> None:
    """The group of a launched caption job. gloo also on GPU: its only collectives are a barrier and gathering
    the ranks' counts, and the barrier must not hold a CUDA stream for hours."""
    if not rank.launched:  # one process: no group, and no torch to import (the cue path may not need it yet)
        return
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(rank.device)
    dist.init_process_group(backend="gloo", timeout=CAPTION_BARRIER_TIMEOUT)
    _check_group(rank)


def join_training_group(use_deepspeed: bool) -> Rank:
    """Join the process group the launcher prepared (nothing for one process without a launcher; DeepSpeed
    always wants a group, so a lone `affectllm train` with DeepSpeed gets a one-process one)."""
    import torch
    import torch.distributed as dist

    rank = launched_rank()
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(rank.device)
    needs_group = rank.world_size > 1 or (use_deepspeed and "RANK" in os.environ)
    if use_deepspeed and not needs_group:
        os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=os.environ.get("MASTER_PORT", str(free_port())))
        needs_group = True
    if needs_group and not dist.is_initialized():
        backend = "nccl" if cuda else "gloo"
        if use_deepspeed:
            import deepspeed

            deepspeed.init_distributed(dist_backend=backend)
        else:
            dist.init_process_group(backend=backend)
    if dist.is_initialized():
        _check_group(rank)
    return Rank(rank.rank, rank.world_size, rank.local_rank, launched=needs_group)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a launcher's rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def barrier() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()


def leave_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def sum_across_ranks(values: list[float]) -> list[float]:
    """Sum floats over all ranks (identity without a group)."""
    import torch
    import torch.distributed as dist

    if not dist.is_initialized() or dist.get_world_size() == 1:
        return list(values)
    # nccl reduces only CUDA tensors
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.cpu().tolist()


def reduce_metrics(values: dict[str, float]) -> dict[str, float]:
    """Each named value summed over all ranks. Every rank must pass the same names (any order)."""
    names = sorted(values)
    return dict(zip(names, sum_across_ranks([float(values[k]) for k in names])))


def mean_across_ranks(values: list[float]) -> list[float]:
    import torch.distributed as dist

    world = dist.get_world_size() if dist.is_initialized() else 1
    return [v / world for v in sum_across_ranks(values)]
