"""Process-group set-up shared by the DeepSpeed and plain-torch paths.

Launchers (`deepspeed`, `torchrun`) export RANK / LOCAL_RANK / WORLD_SIZE. Without CUDA
the group runs over gloo; the ranks the group reports are checked against the
launcher's, because a silently mis-initialised group makes every process rank 0
(no sharding, duplicate saves, unsynchronised gradients).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_distributed(use_deepspeed: bool) -> DistInfo:
    """Join the process group the launcher prepared (a no-op for one process without a launcher)."""
    world = launched_world_size()
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    needs_group = world > 1 or (use_deepspeed and "RANK" in os.environ)
    if use_deepspeed and not needs_group:
        # DeepSpeed always wants a process group; a lone `affectllm train` gets a one-process one.
        os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=os.environ.get("MASTER_PORT", str(_free_port())))
        needs_group = True
    if needs_group and not dist.is_initialized():
        backend = "nccl" if cuda else "gloo"
        if use_deepspeed:
            import deepspeed

            deepspeed.init_distributed(dist_backend=backend)
        else:
            dist.init_process_group(backend=backend)
    if dist.is_initialized():
        if dist.get_rank() != rank or dist.get_world_size() != world:
            raise RuntimeError(f"process group reports rank {dist.get_rank()}/{dist.get_world_size()} but the "
                               f"launcher set RANK={rank} WORLD_SIZE={world}")
    return DistInfo(rank, local_rank, world, device)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def sum_across_ranks(values: list[float]) -> list[float]:
    """Sum floats over all ranks (identity without a group)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return list(values)
    # nccl reduces only CUDA tensors
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.cpu().tolist()


def mean_across_ranks(values: list[float]) -> list[float]:
    world = dist.get_world_size() if dist.is_initialized() else 1
    return [v / world for v in sum_across_ranks(values)]

