"""Decode and tokenise in DataLoader worker processes while the model works on the previous batch.

Each DataLoader element is one whole batch: the worker decodes every item, renders
its prompt and collates the good ones into model inputs (padding, log-mel, pixel
normalisation, subtitle tokens), so the main process only moves tensors to the
device and runs the model. A bad file becomes a failure entry, never an exception;
a worker that dies (a decoder crash) or hangs costs only its own batch.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

from affectllm.caption.inputs import CaptionItem
from affectllm.core.errors import AffectLLMError

# Seconds one worker may spend on one clip before its batch is given up as hung.
DECODE_TIMEOUT_PER_CLIP = 120


class Preparer(Protocol):
    """The CPU half of a backend; must be usable in a forked worker process."""

    def prepare(self, item: CaptionItem) -> Any: ...

    def collate(self, prepared: list) -> Any: ...


@dataclass
class PreparedBatch:
    items: list[CaptionItem]  # the whole batch, in input order
    good: list[CaptionItem] = field(default_factory=list)  # the items inside ``batch``
    batch: Any = None  # collated model inputs for ``good``
    failed: dict[str, str] = field(default_factory=dict)  # item id → one-line reason
    decode_seconds: float = 0.0  # CPU time spent in prepare + collate (in the worker)


def failure_message(err: BaseException) -> str:
    """One line: a user-facing error as is, anything else with its type."""
    text = str(err) if isinstance(err, AffectLLMError) else f"{type(err).__name__}: {err}"
    return " ".join(text.split()) or type(err).__name__


def setup_failure(err: BaseException) -> str:
    """The one line for a model that failed to load (not a user mistake the error itself explains)."""
    return f"the model could not be loaded, nothing was captioned ({failure_message(err)})"


def prepare_batch(items: list[CaptionItem], preparer: Preparer) -> PreparedBatch:
    start = time.perf_counter()
    out = PreparedBatch(items)
    prepared = []
    for item in items:
        if item.error:  # known bad before decoding (missing path, malformed manifest line)
            out.failed[item.id] = item.error
            continue
        try:
            prepared.append(preparer.prepare(item))
            out.good.append(item)
        except Exception as err:  # any decoder failure is this file's problem, not the run's
            out.failed[item.id] = failure_message(err)
    if out.good:
        try:
            out.batch = preparer.collate(prepared)
        except Exception as err:
            msg = failure_message(err)
            out.failed.update({it.id: msg for it in out.good})
            out.good = []
    out.decode_seconds = time.perf_counter() - start
    return out


class _Batches:
    """Map-style dataset over whole batches (``batch_size=None`` in the DataLoader)."""

    def __init__(self, batches: list[list[CaptionItem]], preparer: Preparer):
        self.batches = batches
        self.preparer = preparer

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, k: int) -> PreparedBatch:
        return prepare_batch(self.batches[k], self.preparer)


def _as_is(x):
    return x


def prepared_batches(items: list[CaptionItem], preparer: Preparer, batch_size: int,
                     workers: int = 0) -> Iterator[PreparedBatch]:
    """Yield prepared batches in input order; with ``workers`` > 0 they are made ahead in worker processes."""
    batches = [items[i:i + batch_size] for i in range(0, len(items), batch_size)]
    if workers <= 0:
        for chunk in batches:
            yield prepare_batch(chunk, preparer)
        return
    from torch.utils.data import DataLoader

    # fork shares the loaded model read-only instead of pickling it into every worker
    ctx = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    def loader(chunks: list[list[CaptionItem]], n_workers: int):
        return DataLoader(_Batches(chunks, preparer), batch_size=None, shuffle=False, num_workers=n_workers,
                          collate_fn=_as_is, multiprocessing_context=ctx, prefetch_factor=2,
                          timeout=DECODE_TIMEOUT_PER_CLIP * batch_size)

    start = 0
    while start < len(batches):
        k = start
        try:
            for work in loader(batches[start:], min(workers, len(batches) - start)):
                yield work
                k += 1
            return
        except RuntimeError:
            # A worker died (a decoder segfault) or hung. The death is noticed at whichever batch
            # the main process waits for next, so that batch is retried alone before it is blamed.
            pass
        try:
            yield next(iter(loader([batches[k]], 1)))
        except RuntimeError as err:
            msg = f"decoding worker failed on this batch ({failure_message(err)[:200]})"
            yield PreparedBatch(batches[k], failed={it.id: msg for it in batches[k]})
        start = k + 1
