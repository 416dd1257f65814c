"""Append-only JSONL output that survives kill -9: one flushed line per finished record."""

from __future__ import annotations

import json
import os
from pathlib import Path


def _scan(data: bytes) -> tuple[list[dict], int]:
    """Complete, parseable records at the start of ``data`` and the byte offset where they end.

    A torn last line (a kill mid-write) or a corrupt line ends the trusted prefix."""
    records: list[dict] = []
    good_end = pos = 0
    for line in data.splitlines(keepends=True):
        pos += len(line)
        if not line.endswith(b"\n"):
            break
        if line.strip():
            try:
                rec = json.loads(line)
                str(rec["id"])
            except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
                break
            records.append(rec)
        good_end = pos
    return records, good_end


def read_records(path: str | Path, repair: bool = False) -> list[dict]:
    """The complete records of a JSONL output, in file order.

    With ``repair`` a torn tail is cut off so the next append starts on a clean line;
    only the process that appends to ``path`` may repair it (another rank may be mid-write)."""
    p = Path(path)
    if not p.exists():
        return []
    data = p.read_bytes()
    records, good_end = _scan(data)
    if repair and good_end < len(data):
        with open(p, "r+b") as f:
            f.truncate(good_end)
            os.fsync(f.fileno())
    return records


def read_done_ids(path: str | Path, repair: bool = True) -> set[str]:
    """Ids already written to ``path`` (see ``read_records``); nothing complete is ever lost."""
    return {str(r["id"]) for r in read_records(path, repair=repair)}


class RecordWriter:
    """Appends one JSON object per line, flushing and fsyncing each so a crash loses nothing written."""

    def __init__(self, path: str | Path, overwrite: bool = False, fsync: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._f = open(self.path, "w" if overwrite else "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        # one write call per line: a kill can tear only the line being written, never an earlier one
        self._f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._f.flush()
        if self.fsync:
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
