"""Append-only JSONL logs that survive kill -9 and full disks: caption outputs, training metrics.

One record per line, each line written by a single ``os.write`` and fsynced, with the
record's key field first, so a crash can tear only the line being written — the last
one, which then lacks its newline and starts like a record (``{"id":``). Lines end at
``\n`` only (a stray ``\r`` is part of its line). Reading is strict about everything else:

* the bytes after the last ``\n``: a complete record there (written by hand, or by a
  tool that ends files without a newline) is kept, and given its newline when the reader
  owns the file (``repair=True``); a torn record (unparseable, starting like one of ours)
  is ignored, and cut off when the reader owns the file, so the next append starts clean;
* any other bad line — not JSON, not an object, no key field, a tail that is not the start
  of a record — anywhere in the file stops with ``FILE:LINE`` and changes nothing: the
  file is not ours to cut. Nothing is ever cut before the whole file has been checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from affectllm.core.errors import AffectLLMError


class LogWriteError(AffectLLMError):
    """Appending to a log failed (disk full, file size limit, I/O error); what was written is kept."""


def _refuse(path: Path, lineno: int, reason: str, what: str) -> AffectLLMError:
    return AffectLLMError(f"{path}:{lineno}: {reason}; {what} must hold one JSON record per line — nothing "
                          "was changed: fix or remove that line, or choose another file")


def _torn_prefix(key: str) -> bytes:
    """How every line of ours starts (the key first, ``json.dumps``' spacing): ``{"id":``."""
    return json.dumps({key: None})[: len(key) + 4].encode()


def _parse_line(p: Path, lineno: int, line: bytes, key: str, what: str) -> dict[str, Any]:
    try:
        rec = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _refuse(p, lineno, "not valid JSON", what) from None
    if not isinstance(rec, dict):
        raise _refuse(p, lineno, f"a JSON {type(rec).__name__}, not an object", what)
    if key not in rec:
        raise _refuse(p, lineno, f'a record without "{key}"', what)
    return rec


def read_log(path: str | Path, key: str, what: str = "the log", repair: bool = False) -> list[dict[str, Any]]:
    """Every complete record of the log at ``path`` in file order (``[]`` when it does not exist).

    ``key`` must be in every record. With ``repair`` a torn last line is truncated away and a
    complete last record without its newline gets one; only the process that appends to ``path``
    may repair it (another may be mid-write). The whole file is checked before anything changes."""
    p = Path(path)
    if p.is_dir():
        raise AffectLLMError(f"{p} is a folder; {what} must be a JSONL file — name a file inside it")
    if not p.exists():
        return []
    data = p.read_bytes()
    body_end = data.rfind(b"\n") + 1
    records: list[dict[str, Any]] = []
    lines = data[:body_end].split(b"\n")[:-1]
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            records.append(_parse_line(p, lineno, line, key, what))
    tail = data[body_end:]
    torn = False
    if tail.strip():
        lineno = len(lines) + 1
        try:
            records.append(_parse_line(p, lineno, tail, key, what))
        except AffectLLMError:
            start, prefix = tail.lstrip(), _torn_prefix(key)
            if not (start.startswith(prefix) or prefix.startswith(start)):
                raise
            torn = True  # a record cut short by a crash mid-write: never complete, safe to drop
    if repair and tail:
        with open(p, "r+b") as f:
            if torn or not tail.strip():
                f.truncate(body_end)
            else:
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
            os.fsync(f.fileno())
    return records


class LogAppender:
    """Appends one JSON object per line; each line is one ``os.write`` and, with ``fsync``, on disk
    before ``write`` returns. A failed write (disk full, ``RLIMIT_FSIZE``) raises LogWriteError naming
    the file; at most that line is torn, and the next ``read_log(repair=True)`` cuts it."""

    def __init__(self, path: str | Path, key: str, overwrite: bool = False, fsync: bool = True):
        self.path = Path(path)
        self.key = key
        self.fsync = fsync
        self.written = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if overwrite else 0)
            self._fd: int | None = os.open(self.path, flags, 0o644)
        except OSError as err:
            raise LogWriteError(f"{self.path}: cannot open for writing ({err.strerror}); check the folder "
                                "exists and is writable") from None

    def write(self, record: dict[str, Any]) -> None:
        # the key first: a line torn by a crash then starts like a record, and only such a tail is cut
        line = (json.dumps({self.key: record[self.key], **record}, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view):]
            if self.fsync:
                os.fsync(self._fd)
        except OSError as err:
            raise LogWriteError(f"{self.path}: cannot write ({err.strerror}) after {self.written} record(s) in "
                                "this run; everything written is kept — free space and rerun to continue") from None
        self.written += 1

    def sync(self) -> None:
        """fsync now (for writers opened with ``fsync=False`` that write many lines, then sync once)."""
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "LogAppender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
