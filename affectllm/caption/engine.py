"""The captioning loop: skip what is done, caption in batches, write as you go, summarise."""

from __future__ import annotations

import collections
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from affectllm.caption.inputs import CaptionItem
from affectllm.caption.writer import RecordWriter, read_done_ids
from affectllm.records import ResultRecord


class CaptionBackend(Protocol):
    name: str

    def caption(self, items: list[CaptionItem]) -> list[ResultRecord]: ...


@dataclass
class CaptionSummary:
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    reasons: collections.Counter = field(default_factory=collections.Counter)

    def render(self) -> str:
        lines = [f"captioned {self.ok} ok, {self.failed} failed, {self.skipped} skipped (already in output) "
                 f"in {self.seconds:.1f} s"]
        for reason, n in self.reasons.most_common(10):
            lines.append(f"  {n} × {reason}")
        return "\n".join(lines)


def _reason(error: str) -> str:
    """Group errors by their kind, not by file: drop the leading 'path: '."""
    head, sep, tail = error.partition(": ")
    return tail if sep and ("/" in head or "." in head) else error


def run_captioning(items: list[CaptionItem], backend: CaptionBackend, out: str | Path, batch_size: int = 1,
                   overwrite: bool = False, progress: bool = True) -> CaptionSummary:
    """Caption ``items`` into ``out`` (JSONL), resuming by id unless ``overwrite``."""
    start = time.perf_counter()
    done = set() if overwrite else read_done_ids(out)
    todo = [it for it in items if it.id not in done]
    summary = CaptionSummary(skipped=len(items) - len(todo))
    bar = tqdm(total=len(todo), unit="clip", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    with RecordWriter(out, overwrite=overwrite) as writer:
        for i in range(0, len(todo), batch_size):
            chunk = todo[i:i + batch_size]
            try:
                records = backend.caption(chunk)
            except Exception as err:  # a model failure on one batch must not end an overnight run
                msg = f"{type(err).__name__}: {err}".splitlines()[0]
                records = [ResultRecord.failed(it.id, it.path, msg, backend.name) for it in chunk]
            for rec in records:
                writer.write(rec.to_dict())
                if rec.error:
                    summary.failed += 1
                    summary.reasons[_reason(rec.error)] += 1
                else:
                    summary.ok += 1
            bar.update(len(chunk))
    bar.close()
    summary.seconds = time.perf_counter() - start
    return summary
