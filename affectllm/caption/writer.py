"""Caption outputs: append-only JSONL of result records (``affectllm.core.append_log``), one fsynced line each.

A rerun reads what is there: a torn last line is cut, any other line that is not a
record stops the run with ``FILE:LINE`` before anything is written. An id may appear
more than once (a failed record retried later); the last line of an id is its record.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from affectllm.core.append_log import LogAppender, read_log
from affectllm.core.errors import AffectLLMError

OUTPUT_WHAT = "a caption output (--out)"


def output_file(out: str | Path, inputs: list[str] | tuple[str, ...] = ()) -> Path:
    """OUT as the file it really is: links resolved, so two names for one file lock, resume and merge as one
    (and a merge replaces the file, not the link). Refused when it is one of ``inputs``: captions would
    overwrite the manifest they read, or read it as finished output."""
    real = Path(out).expanduser().resolve()
    for spec in inputs:
        named = glob.glob(spec, recursive=True) if glob.has_magic(spec) and not os.path.exists(spec) else [spec]
        for path in named:
            if os.path.isfile(path) and real.exists() and os.path.samefile(path, real):
                raise AffectLLMError(f"--out {out} is also an input ({path}); captioning would overwrite it — "
                                     "choose another --out")
    return real


def read_records(path: str | Path, repair: bool = False) -> list[dict]:
    """Every complete record of a caption output, in file order (ids may repeat; the last one counts).

    With ``repair`` a torn tail is cut off so the next append starts on a clean line;
    only the process that appends to ``path`` may repair it (another rank may be mid-write)."""
    return read_log(path, "id", OUTPUT_WHAT, repair=repair)


def latest_records(records: list[dict]) -> dict[str, dict]:
    """id -> the last record of that id, in order of first appearance."""
    out: dict[str, dict] = {}
    for rec in records:
        out[str(rec["id"])] = rec
    return out


def read_done_ids(path: str | Path, repair: bool = False, retry_failed: bool = False) -> set[str]:
    """Ids already written to ``path``; with ``retry_failed`` an id whose last record has an ``error`` is not done."""
    latest = latest_records(read_records(path, repair=repair))
    return {rid for rid, rec in latest.items() if not (retry_failed and rec.get("error"))}


class RecordWriter(LogAppender):
    """Appends one result record per line, each flushed and fsynced, so a crash loses nothing written."""

    def __init__(self, path: str | Path, overwrite: bool = False):
        super().__init__(path, "id", overwrite=overwrite)
