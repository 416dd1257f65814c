"""One captioning job across processes: pick this rank's share, caption it, merge the parts.

Three ways to run, one output contract (OUT holds every input once, in input order):

* one process: writes OUT directly (and folds in part files an earlier sharded run left);
* ``torchrun``/``accelerate launch``: rank i writes ``OUT.rank{i}-of-{n}.part``; after a
  barrier rank 0 merges;
* ``--shard i/n`` (schedulers without a launcher): the same part files; the last shard to
  finish merges (a lock file keeps two from doing it at once), or run ``--merge`` later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from affectllm.caption.engine import CaptionSummary, run_captioning
from affectllm.caption.inputs import CaptionItem
from affectllm.caption.parts import MergeLock, MergeResult, all_shards_done, list_parts, merge_parts
from affectllm.caption.ranks import (Rank, barrier, current_rank, destroy_process_group, device_for,
                                     init_process_group)


@dataclass
class JobResult:
    rank: Rank
    summary: CaptionSummary  # every rank's totals on the main rank of a launch, else this process's
    merged: MergeResult | None = None


def _gather_summaries(rank: Rank, summary: CaptionSummary) -> CaptionSummary:
    import torch.distributed as dist

    gathered = [None] * rank.world if rank.is_main else None
    dist.gather_object(summary, gathered, dst=0)
    if not rank.is_main:
        return summary
    total = gathered[0]
    for other in gathered[1:]:
        total.add(other)
    return total


def run_job(items: list[CaptionItem], out: str | Path, make_backend: Callable[[str | None], object],
            batch_size: int = 1, workers: int = 0, overwrite: bool = False, shard: str | None = None,
            progress: bool = True) -> JobResult:
    """Caption ``items`` into ``out``. ``make_backend(device)`` loads the model for this rank's device."""
    rank = current_rank(shard)
    init_process_group(rank)
    try:
        if overwrite and rank.launched:
            if rank.is_main:  # start afresh once, before any rank opens its part file
                Path(out).unlink(missing_ok=True)
                for part in list_parts(out):
                    part.unlink()
            barrier(rank)
        backend = make_backend(device_for(rank))
        summary = run_captioning(items, backend, out, batch_size=batch_size, overwrite=overwrite,
                                 progress=progress and (rank.is_main or not rank.launched), workers=workers,
                                 rank=rank)
        order = [it.id for it in items]
        result = JobResult(rank, summary)
        if rank.launched:
            result.summary = _gather_summaries(rank, summary)
            barrier(rank)
            if rank.is_main:
                result.merged = merge_parts(out, order)
        elif rank.sharded:
            if all_shards_done(out, rank.world):
                with MergeLock(out) as lock:
                    if lock.held and all_shards_done(out, rank.world):
                        result.merged = merge_parts(out, order)
        elif list_parts(out):
            result.merged = merge_parts(out, order)
        return result
    finally:
        destroy_process_group(rank)
