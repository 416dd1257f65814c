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

from affectllm.caption.engine import CaptionSummary, plan_captioning, run_captioning
from affectllm.caption.inputs import CaptionItem
from affectllm.caption.loader import setup_failure
from affectllm.caption.lock import OutputLock
from affectllm.caption.parts import MergeResult, all_shards_done, list_parts, merge_parts, part_path, remove_parts
from affectllm.core.distributed import Rank, barrier, caption_rank, join_caption_group, leave_group
from affectllm.caption.writer import latest_records, output_file, read_records
from affectllm.core.errors import AffectLLMError

MISSING_SHOWN = 5  # inputs named when some have no record


@dataclass
class JobResult:
    rank: Rank
    summary: CaptionSummary  # every rank's totals on the main rank of a launch, else this process's
    merged: MergeResult | None = None


def _gather_summaries(rank: Rank, summary: CaptionSummary) -> CaptionSummary:
    import torch.distributed as dist

    gathered = [None] * rank.world_size if rank.is_main else None
    dist.gather_object(summary, gathered, dst=0)
    if not rank.is_main:
        return summary
    total = gathered[0]
    for other in gathered[1:]:
        total.add(other)
    return total


def load_backend_or_fail(make_backend: Callable[[str | None], object], rank: Rank):
    """The backend, or one AffectLLMError line: a bad model, LLM or prompt stops the run before the first clip
    instead of becoming an error record for every input."""
    try:
        device = rank.device  # a GPU per rank; on the CPU the model stays where it loads
        return make_backend(str(device) if device.type == "cuda" else None)
    except AffectLLMError:
        raise
    except Exception as err:
        raise AffectLLMError(setup_failure(err)) from None


def _account(summary: CaptionSummary, out: Path, items: list[CaptionItem]) -> None:
    """Check OUT against the inputs: how many have a record, and which do not."""
    present = latest_records(read_records(out))
    missing = [it.id for it in items if it.id not in present]
    summary.expected = len(items)
    summary.records = len(items) - len(missing)
    summary.missing = missing[:MISSING_SHOWN]


def run_job(items: list[CaptionItem], out: str | Path, make_backend: Callable[[str | None], object],
            batch_size: int = 1, workers: int = 0, overwrite: bool = False, shard: str | None = None,
            progress: bool = True, retry_failed: bool = True) -> JobResult:
    """Caption ``items`` into ``out``. ``make_backend(device)`` loads the model for this rank's device.

    Before the model loads, this process locks the file it writes (a second writer is refused)
    and reads every output file (a file that is not ours is refused), so setup mistakes end
    the run at once with one AffectLLMError line and nothing written."""
    out = output_file(out)
    rank = caption_rank(shard)
    join_caption_group(rank)
    own = part_path(out, rank.rank, rank.world_size) if rank.sharded else out
    try:
        with OutputLock(own):
            plan = plan_captioning(items, out, rank, overwrite, retry_failed)  # every output file checked, none changed
            if overwrite and rank.launched:
                barrier()  # every rank has checked the files before any is deleted
                if rank.is_main:  # start afresh once, before any rank opens its part file
                    remove_parts(out, keep=own)
                    out.unlink(missing_ok=True)
                barrier()
            backend = load_backend_or_fail(make_backend, rank)
            summary = run_captioning(items, backend, out, batch_size=batch_size, progress=progress and
                                     (rank.is_main or not rank.launched), workers=workers, rank=rank, plan=plan)
            order = [it.id for it in items]
            result = JobResult(rank, summary)
            if not rank.sharded:
                if list_parts(out) or summary.retried or _has_repeats(out):
                    result.merged = merge_parts(out, order)
                _account(summary, out, items)
        if rank.launched:
            result.summary = _gather_summaries(rank, summary)
            barrier()
            if rank.is_main:
                with OutputLock(out):
                    result.merged = merge_parts(out, order)
                _account(result.summary, out, items)
        elif rank.sharded and all_shards_done(out, rank.world_size):
            lock = OutputLock(out)
            if lock.acquire():  # the last shards to finish race for the merge; one does it
                try:
                    if all_shards_done(out, rank.world_size):
                        result.merged = merge_parts(out, order)
                        _account(summary, out, items)
                finally:
                    lock.release()
        return result
    finally:
        if rank.launched:
            leave_group()


def _has_repeats(out: Path) -> bool:
    """An id written twice (a retry killed before its run could compact OUT)."""
    ids = [str(r["id"]) for r in read_records(out)]
    return len(ids) != len(set(ids))
