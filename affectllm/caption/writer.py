"""Caption outputs: append-only JSONL of result records (``affectllm.append_log``), one fsynced line each.

A rerun reads what is there: a torn last line is cut, any other line that is not a
record stops the run with ``FILE:LINE`` before anything is written. An id may appear
more than once (a failed record retried later); the last line of an id is its record.
"""

from __future__ import annotations

from pathlib import Path

from affectllm.append_log import LogAppender, read_log

OUTPUT_WHAT = "a caption output (--out)"


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


def read_done_ids(path: str | Path, repair: bool = True, retry_failed: bool = False) -> set[str]:
    """Ids already written to ``path``; with ``retry_failed`` an id whose last record has an ``error`` is not done."""
    latest = latest_records(read_records(path, repair=repair))
    return {rid for rid, rec in latest.items() if not (retry_failed and rec.get("error"))}


class RecordWriter(LogAppender):
    """Appends one result record per line, each flushed and fsynced, so a crash loses nothing written."""
