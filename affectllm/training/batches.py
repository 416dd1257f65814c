"""Training batches: endless micro-batches from any saved data position, moved to the device."""

from __future__ import annotations

from typing import Any, Iterator

import torch

from affectllm.config.schema import Config
from affectllm.training.dataset import TrainCollator
from affectllm.training.sampler import ShardSampler


class MicroBatches:
    """Endless micro-batches for this rank, epoch after epoch, from any saved position.

    Each epoch stops after a whole number of optimizer steps, so every rank does the
    same number of steps and the position after a step is exact."""

    def __init__(self, dataset, collator: TrainCollator, sampler: ShardSampler, cfg: Config):
        self.dataset, self.collator, self.sampler, self.cfg = dataset, collator, sampler, cfg
        t = cfg.train
        self.steps_per_epoch = sampler.per_rank // (t.micro_batch_size * t.grad_accum)
        self.samples_per_epoch = self.steps_per_epoch * t.micro_batch_size * t.grad_accum

    def iterate(self, epoch: int, position: int) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """Yields (epoch, position after this batch, batch)."""
        from torch.utils.data import DataLoader

        mbs = self.cfg.train.micro_batch_size
        workers = self.cfg.data.num_workers
        while True:
            if position >= self.samples_per_epoch:
                epoch, position = epoch + 1, 0
            self.sampler.set_position(epoch, position)
            loader = DataLoader(self.dataset, batch_size=mbs, sampler=self.sampler, collate_fn=self.collator,
                                num_workers=workers, prefetch_factor=4 if workers else None,
                                # own generator: worker seeding must not draw from the global RNG
                                generator=torch.Generator().manual_seed(self.cfg.train.seed + epoch))
            for batch in loader:
                position += mbs
                yield epoch, position, batch
                if position >= self.samples_per_epoch:
                    break


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """A collated batch on ``device`` (a CPU batch is returned as it is)."""
    if device.type == "cpu":
        return batch
    out = dict(batch)
    for key in ("input_ids", "attention_mask", "labels"):
        out[key] = batch[key].to(device, non_blocking=True)
    out["media_inputs"] = {m: {k: v.to(device, non_blocking=True) for k, v in inputs.items()}
                           for m, inputs in batch["media_inputs"].items()}
    return out
