"""Append-only JSONL output that survives kill -9: one flushed line per finished record."""

from __future__ import annotations

import json
import os
from pathlib import Path


def read_done_ids(path: str | Path) -> set[str]:
    """Ids already written to ``path``. A torn last line (a kill mid-write) is cut off so the
    next append starts on a clean line; nothing complete is ever lost."""
    p = Path(path)
    if not p.exists():
        return set()
    data = p.read_bytes()
    done: set[str] = set()
    good_end = 0
    pos = 0
    for line in data.splitlines(keepends=True):
        pos += len(line)
        if not line.endswith(b"\n"):
            break  # torn tail
        try:
            done.add(str(json.loads(line)["id"]))
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
            if line.strip():
                break  # a corrupt line ends the trusted prefix
        good_end = pos
    if good_end < len(data):
        with open(p, "r+b") as f:
            f.truncate(good_end)
    return done


class RecordWriter:
    """Appends one JSON object per line, flushing and fsyncing each so a crash loses nothing written."""

    def __init__(self, path: str | Path, overwrite: bool = False, fsync: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._f = open(self.path, "w" if overwrite else "a", encoding="utf-8")

    def write(self, record: dict) -> None:
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
