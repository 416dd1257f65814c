"""Part files of a sharded run and their merge into one OUT.

Rank ``i`` of ``n`` appends to ``OUT.rank{i}-of-{n}.part`` and, when its shard is
finished, touches ``OUT.rank{i}-of-{n}.done``. The merge folds OUT and every part
file into OUT (atomic replace), one record per id, in input order, then removes the
parts. A crash between the replace and the clean-up only leaves parts whose ids are
already in OUT, so merging is idempotent and may be rerun at any time.
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from affectllm.caption.writer import read_records

_PART = re.compile(r"\.rank(\d+)-of-(\d+)\.part$")


def part_path(out: str | Path, rank: int, world: int) -> Path:
    return Path(f"{out}.rank{rank}-of-{world}.part")


def done_marker(out: str | Path, rank: int, world: int) -> Path:
    return Path(f"{out}.rank{rank}-of-{world}.done")


def list_parts(out: str | Path) -> list[Path]:
    """Every part file of OUT, whatever world size wrote it (a resumed run may use another)."""
    out = Path(out)
    if not out.parent.exists():
        return []
    found = [p for p in out.parent.glob(f"{glob_escape(out.name)}.rank*-of-*.part") if _PART.search(p.name)]
    return sorted(found, key=lambda p: tuple(int(x) for x in _PART.search(p.name).groups())[::-1])


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def done_ids(out: str | Path, own: Path) -> set[str]:
    """Ids finished anywhere: in OUT and in every part file. Only ``own`` (the file this
    process appends to) has its torn tail repaired; other ranks may be writing theirs."""
    own = Path(own)
    ids = set()
    for path in [Path(out), *list_parts(out)]:
        ids |= {str(r["id"]) for r in read_records(path, repair=path == own)}
    return ids


def all_shards_done(out: str | Path, world: int) -> bool:
    return all(done_marker(out, r, world).exists() for r in range(world))


@dataclass
class MergeResult:
    records: int = 0
    parts: int = 0
    duplicates: int = 0

    def render(self, out: str | Path) -> str:
        return (f"merged {self.parts} part file(s) into {out}: {self.records} records"
                + (f", {self.duplicates} duplicate(s) dropped" if self.duplicates else ""))


def merge_parts(out: str | Path, order: list[str] | None = None) -> MergeResult:
    """Fold the part files into OUT: one record per id, ids of ``order`` first and in that order,
    any other id after them in file order. A part's record replaces OUT's (it is newer)."""
    out = Path(out)
    parts = list_parts(out)
    result = MergeResult(parts=len(parts))
    chosen: dict[str, dict] = {}
    for rec in read_records(out, repair=False):
        chosen.setdefault(str(rec["id"]), rec)
    in_out = set(chosen)
    seen_in_parts: set[str] = set()
    for part in parts:
        for rec in read_records(part):
            rid = str(rec["id"])
            if rid in seen_in_parts or rid in in_out:
                result.duplicates += 1
            if rid not in seen_in_parts:
                chosen[rid] = rec
                seen_in_parts.add(rid)
    ordered = [rid for rid in dict.fromkeys(order or []) if rid in chosen]
    placed = set(ordered)
    ordered += [rid for rid in chosen if rid not in placed]
    tmp = out.with_name(out.name + ".merging")
    with open(tmp, "w", encoding="utf-8") as f:
        for rid in ordered:
            f.write(json.dumps(chosen[rid], ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    _fsync_dir(out.parent)
    for part in parts:
        part.unlink(missing_ok=True)
    for marker in out.parent.glob(f"{glob_escape(out.name)}.rank*-of-*.done"):
        marker.unlink(missing_ok=True)
    result.records = len(ordered)
    return result


class MergeLock:
    """At most one process merges: ``--shard`` processes finishing together race for it."""

    def __init__(self, out: str | Path):
        self.path = Path(f"{out}.merge.lock")
        self.held = False

    def __enter__(self) -> "MergeLock":
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, f"{socket.gethostname()} {os.getpid()}".encode())
            os.close(fd)
            self.held = True
        except FileExistsError:
            self.held = _stale(self.path) and self._steal()
        return self

    def _steal(self) -> bool:
        self.path.unlink(missing_ok=True)
        return self.__enter__().held

    def __exit__(self, *exc) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)


def _stale(lock: Path) -> bool:
    """A lock left by a process of this host that no longer runs (killed mid-merge). A lock from
    another host is never taken over: that merge may still be running."""
    try:
        host, pid = lock.read_text().split()
    except (OSError, ValueError):
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError):
        return False
    return False


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
