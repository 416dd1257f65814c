"""Append-only JSONL logs that survive kill -9 and full disks: caption outputs, training metrics.

One record per line, each line written by a single ``os.write`` and fsynced, so a crash
can tear only the line being written — the last one, which then lacks its newline.
Reading is strict about everything else:

* a torn last line (no trailing newline, starting like a record) is ignored, and cut
  off when the reader owns the file (``repair=True``) so the next append starts clean;
* any other bad line — not JSON, not an object, no key field — anywhere in the file
  stops with ``FILE:LINE`` and changes nothing: the file is not ours to cut.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from affectllm.errors import AffectLLMError


class LogWriteError(AffectLLMError):
    """Appending to a log failed (disk full, file size limit, I/O error); what was written is kept."""


def _refuse(path: Path, lineno: int, reason: str, what: str) -> AffectLLMError:
    return AffectLLMError(f"{path}:{lineno}: {reason}; {what} must hold one JSON record per line — nothing "
                          "was changed: fix or remove that line, or choose another file")


def read_log(path: str | Path, key: str, what: str = "the log", repair: bool = False) -> list[dict[str, Any]]:
    """Every complete record of the log at ``path`` in file order (``[]`` when it does not exist).

    ``key`` must be in every record. With ``repair`` a torn last line is truncated away
    (only the process that appends to ``path`` may repair it: another may be mid-write)."""
    p = Path(path)
    if p.is_dir():
        raise AffectLLMError(f"{p} is a folder; {what} must be a JSONL file — name a file inside it")
    if not p.exists():
        return []
    data = p.read_bytes()
    records: list[dict[str, Any]] = []
    good_end = 0
    lines = data.splitlines(keepends=True)
    for lineno, line in enumerate(lines, start=1):
        if not line.endswith(b"\n"):
            # the last line, torn by a crash mid-write — unless it never was a record at all
            if not line.lstrip().startswith(b"{"):
                raise _refuse(p, lineno, "not a JSON record", what)
            break
        good_end += len(line)
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _refuse(p, lineno, "not valid JSON", what) from None
        if not isinstance(rec, dict):
            raise _refuse(p, lineno, f"a JSON {type(rec).__name__}, not an object", what)
        if key not in rec:
            raise _refuse(p, lineno, f'a record without "{key}"', what)
        records.append(rec)
    if repair and good_end < len(data):
        with open(p, "r+b") as f:
            f.truncate(good_end)
            os.fsync(f.fileno())
    return records


class LogAppender:
    """Appends one JSON object per line; each line is one ``os.write`` and, with ``fsync``, on disk
    before ``write`` returns. A failed write (disk full, ``RLIMIT_FSIZE``) raises LogWriteError naming
    the file; at most that line is torn, and the next ``read_log(repair=True)`` cuts it."""

    def __init__(self, path: str | Path, overwrite: bool = False, fsync: bool = True):
        self.path = Path(path)
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
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
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


def fsync_dir(folder: str | Path) -> None:
    """Make a rename or a new file in ``folder`` durable (best effort where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
