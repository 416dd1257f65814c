"""The captioning loop: skip what is done, caption in batches, write as you go, summarise.

Decoding runs ahead in DataLoader workers (``loader.py``); this loop only runs the
model and appends records. Every input of this rank's share ends as exactly one line
of its output file: a caption, a record with ``error``, or a skip because a line for
its id already exists (in OUT or in any part file of a sharded run).
"""

from __future__ import annotations

import collections
import itertools
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

from tqdm import tqdm

from affectllm.caption.inputs import CaptionItem
from affectllm.caption.loader import PreparedBatch, Preparer, failure_message, prepare_batch, prepared_batches
from affectllm.caption.parts import done_ids, done_marker, part_path, remove_parts
from affectllm.core.distributed import Rank
from affectllm.core.errors import SetupError
from affectllm.caption.writer import RecordWriter, read_records
from affectllm.core.records import ResultRecord

STAGES = ("decode", "wait", "model", "write")


class CaptionBackend(Protocol):
    """Either ``caption(items)`` alone, or the pipelined pair ``preparer()`` + ``caption_batch``."""

    name: str

    def caption(self, items: list[CaptionItem]) -> list[ResultRecord]: ...


@dataclass
class CaptionSummary:
    inputs: int = 0  # this rank's share of the inputs
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0  # inputs whose earlier record had an error, captioned again
    unparsed: int = 0  # ok records whose answer held no readable emotion list
    # after the run, OUT checked against all inputs (None: not checked, e.g. parts not merged yet)
    expected: int | None = None  # inputs of the whole job
    records: int | None = None  # of them, inputs with a record in OUT
    missing: list[str] = field(default_factory=list)  # the first few inputs without one
    seconds: float = 0.0
    reasons: collections.Counter = field(default_factory=collections.Counter)
    # decode: CPU seconds in prepare+collate (summed over workers, overlapped with the model);
    # wait: seconds the model sat idle waiting for decoded batches; model: encoders + fusion + generate
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    ranks: int = 1

    @property
    def captioned(self) -> int:
        return self.ok + self.failed

    def add(self, other: "CaptionSummary") -> "CaptionSummary":
        """Fold another rank's summary in (wall time is the slowest rank's)."""
        self.inputs += other.inputs
        self.retried += other.retried
        self.ok += other.ok
        self.failed += other.failed
        self.skipped += other.skipped
        self.unparsed += other.unparsed
        self.seconds = max(self.seconds, other.seconds)
        self.reasons.update(other.reasons)
        for k, v in other.stages.items():
            self.stages[k] = self.stages.get(k, 0.0) + v
        self.ranks += other.ranks
        return self

    def render(self) -> str:
        rate = self.captioned / self.seconds if self.seconds else 0.0
        lines = [f"captioned {self.inputs} inputs: {self.ok} ok, {self.failed} failed, {self.skipped} skipped "
                 f"(already in output) in {self.seconds:.1f} s ({rate:.2f} clips/s"
                 + (f" over {self.ranks} ranks)" if self.ranks > 1 else ")")]
        if self.retried:
            lines.append(f"  {self.retried} of them had failed before and were captioned again (--no-retry-failed keeps "
                         "old errors)")
        if self.records is not None:
            if self.records == self.expected:
                lines.append(f"  output holds one record for each of the {self.expected} inputs")
            else:
                lines.append(f"  WARNING: {self.expected} inputs but only {self.records} have a record in the output "
                             f"(missing: {', '.join(self.missing)}); rerun to fill them in")
        if self.unparsed:
            lines.append(f"  {self.unparsed} of the ok answers held no readable emotion list (see parse_error, raw_output)")
        s = self.stages
        lines.append(f"  stages: decode {s['decode']:.1f} s (CPU, overlapped), waiting for decode {s['wait']:.1f} s, "
                     f"encode+generate {s['model']:.1f} s, write {s['write']:.1f} s")
        for reason, n in self.reasons.most_common(10):
            lines.append(f"  {n} × {reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reasons"] = dict(self.reasons)
        return d


def _reason(error: str) -> str:
    """Group errors by their kind, not by file: drop the leading 'path: '."""
    head, sep, tail = error.partition(": ")
    return tail if sep and ("/" in head or "." in head) else error


def _free_device_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _pipelined_records(backend, preparer: Preparer, work: PreparedBatch) -> dict[str, ResultRecord]:
    """Model half for one prepared batch. A batch that fails (out of memory, a model error) is
    retried clip by clip, so one bad clip costs only its own record."""
    records = {iid: ResultRecord.failed(iid, next(it.path for it in work.items if it.id == iid), msg, backend.name)
               for iid, msg in work.failed.items()}
    if not work.good:
        return records
    try:
        records.update({r.id: r for r in backend.caption_batch(work.good, work.batch)})
        return records
    except SetupError:
        raise  # no clip can be captioned: the run stops rather than fail every record
    except Exception as err:
        if len(work.good) == 1:
            it = work.good[0]
            records[it.id] = ResultRecord.failed(it.id, it.path, failure_message(err), backend.name)
            return records
    _free_device_memory()
    for it in work.good:
        single = prepare_batch([it], preparer)
        records.update(_pipelined_records(backend, preparer, single))
    return records


def caption_now(backend, items: list[CaptionItem]) -> list[ResultRecord]:
    """Unpipelined: prepare in this process, run the model, one record per item in order (demo, scripts)."""
    preparer = backend.preparer()
    records = _pipelined_records(backend, preparer, prepare_batch(items, preparer))
    return [records[it.id] for it in items]


def _plain_records(backend, items: list[CaptionItem]) -> dict[str, ResultRecord]:
    records = {it.id: ResultRecord.failed(it.id, it.path, it.error, backend.name) for it in items if it.error}
    good = [it for it in items if not it.error]
    if not good:
        return records
    try:
        records.update({r.id: r for r in backend.caption(good)})
    except Exception as err:  # a model failure on one batch must not end an overnight run
        msg = failure_message(err)
        records.update({it.id: ResultRecord.failed(it.id, it.path, msg, backend.name) for it in good})
    return records


def _captioned(batches: Iterator[PreparedBatch], backend, preparer: Preparer | None,
               summary: CaptionSummary) -> Iterator[tuple[PreparedBatch, dict[str, ResultRecord]]]:
    """Each decoded batch with its records (the model's stage timed)."""
    for work in _timed(batches, summary):
        t = time.perf_counter()
        records = (_pipelined_records(backend, preparer, work) if preparer is not None
                   else _plain_records(backend, work.items))
        summary.stages["model"] += time.perf_counter() - t
        yield work, records


def _timed(batches: Iterator[PreparedBatch], summary: CaptionSummary) -> Iterator[PreparedBatch]:
    while True:
        t = time.perf_counter()
        work = next(batches, None)
        summary.stages["wait"] += time.perf_counter() - t
        if work is None:
            return
        summary.stages["decode"] += work.decode_seconds
        yield work


@dataclass
class CaptionPlan:
    """What one rank will do, worked out (and every output file checked) before any model loads."""

    own: Path  # the file this rank appends to: OUT, or its part file when sharded
    mine: list[CaptionItem]  # this rank's share of the inputs
    todo: list[CaptionItem]  # the part of it without a finished record
    retried: int = 0  # of ``todo``, inputs whose last record failed
    overwrite: bool = False


def plan_captioning(items: list[CaptionItem], out: str | Path, rank: Rank | None = None, overwrite: bool = False,
                    retry_failed: bool = True) -> CaptionPlan:
    """Read OUT and every part file (changing nothing) and pick the inputs still to caption.

    Raises AffectLLMError, before anything is written, when OUT is a folder or any of
    those files holds a line that is not a record."""
    rank = rank or Rank()
    out = Path(out)
    own = part_path(out, rank.rank, rank.world_size) if rank.sharded else out
    done, failed = done_ids(out, retry_failed)  # validates OUT and the parts even when overwriting
    mine = rank.take(items)
    if overwrite:
        return CaptionPlan(own, mine, list(mine), overwrite=True)
    todo = [it for it in mine if it.id not in done]
    return CaptionPlan(own, mine, todo, retried=sum(it.id in failed for it in todo))


def run_captioning(items: list[CaptionItem], backend: CaptionBackend, out: str | Path, batch_size: int = 1,
                   overwrite: bool = False, progress: bool = True, workers: int = 0,
                   rank: Rank | None = None, retry_failed: bool = True,
                   plan: CaptionPlan | None = None) -> CaptionSummary:
    """Caption this rank's share of ``items`` into OUT (or its part file when sharded), resuming by id
    unless ``overwrite``; records with an ``error`` are captioned again unless ``retry_failed`` is off.
    Returns this rank's summary; merging part files is the caller's step, and so is holding the
    output's lock (``run_job`` does both). A write that fails (disk full) raises LogWriteError."""
    start = time.perf_counter()
    rank = rank or Rank()
    out = Path(out)
    plan = plan or plan_captioning(items, out, rank, overwrite, retry_failed)
    todo = plan.todo
    summary = CaptionSummary(inputs=len(plan.mine), skipped=len(plan.mine) - len(todo), retried=plan.retried)
    marker = done_marker(out, rank.rank, rank.world_size)
    marker.unlink(missing_ok=True)

    preparer = backend.preparer() if hasattr(backend, "caption_batch") else None
    if preparer is not None:
        batches = prepared_batches(todo, preparer, max(1, batch_size), workers)
    else:
        batches = (PreparedBatch(todo[i:i + batch_size], good=todo[i:i + batch_size])
                   for i in range(0, len(todo), max(1, batch_size)))
    bar = tqdm(total=len(todo), unit="clip", disable=not progress, file=sys.stderr, dynamic_ncols=True,
               desc=f"rank {rank.rank}/{rank.world_size}" if rank.sharded else "caption")
    try:
        captioned = _captioned(batches, backend, preparer, summary)
        # The first batch is captioned before OUT is touched: a backend that loads its models while it
        # decodes raises a SetupError here, and the output is left as it was.
        first = next(captioned, None)
        if plan.overwrite and not rank.sharded:
            remove_parts(out)  # an older sharded run's parts would otherwise be merged back in
        if not plan.overwrite:
            read_records(plan.own, repair=True)  # a torn tail is cut only now, when this run is about to append
        with RecordWriter(plan.own, overwrite=plan.overwrite) as writer:
            for work, records in itertools.chain([first] if first else [], captioned):
                t = time.perf_counter()
                for it in work.items:
                    rec = records.get(it.id) or ResultRecord.failed(it.id, it.path, "backend returned no record",
                                                                    backend.name)
                    writer.write(rec.to_dict())
                    if rec.error:
                        summary.failed += 1
                        summary.reasons[_reason(rec.error)] += 1
                    else:
                        summary.ok += 1
                        summary.unparsed += bool(rec.extra.get("parse_error"))
                summary.stages["write"] += time.perf_counter() - t
                # postfix first: the update's redraw is then the final bar that close() repeats, not a second one
                bar.set_postfix(ok=summary.ok, failed=summary.failed, refresh=False)
                bar.update(len(work.items))
    finally:
        bar.close()
        if hasattr(batches, "close"):
            batches.close()  # stop decoding workers now, also when a write failed
    if rank.sharded:
        marker.touch()
    summary.seconds = time.perf_counter() - start
    return summary
