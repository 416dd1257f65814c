"""Part files of a sharded run and their merge into one OUT.

Rank ``i`` of ``n`` appends to ``OUT.rank{i}-of-{n}.part`` (holding its lock, see
``lock.py``) and, when its shard is finished, touches ``OUT.rank{i}-of-{n}.done``.
The merge (under OUT's lock) folds OUT and every part file into OUT (atomic replace),
one record per id — the last one — in input order, then removes the parts. A crash between the replace and the clean-up only leaves parts whose ids are
already in OUT, so merging is idempotent and may be rerun at any time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from affectllm.append_log import LogAppender, fsync_dir
from affectllm.caption.writer import latest_records, read_records

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


def done_ids(out: str | Path, own: Path, retry_failed: bool = True) -> tuple[set[str], set[str]]:
    """(ids finished anywhere, ids whose last record failed) over OUT and every part file.

    With ``retry_failed`` a failed id is not finished: it is captioned again and its new
    record replaces the old one when OUT is merged. Only ``own`` (the file this process
    appends to) has its torn tail repaired; other ranks may be writing theirs."""
    own = Path(own)
    latest: dict[str, dict] = {}
    for path in [Path(out), *list_parts(out)]:
        latest.update(latest_records(read_records(path, repair=path == own)))
    failed = {rid for rid, rec in latest.items() if rec.get("error")}
    return (set(latest) - failed if retry_failed else set(latest)), failed


def all_shards_done(out: str | Path, world: int) -> bool:
    return all(done_marker(out, r, world).exists() for r in range(world))


@dataclass
class MergeResult:
    records: int = 0
    parts: int = 0
    duplicates: int = 0

    def render(self, out: str | Path) -> str:
        if not self.parts:
            return f"rewrote {out} with one record per id: {self.records} records, {self.duplicates} older one(s) replaced"
        return (f"merged {self.parts} part file(s) into {out}: {self.records} records"
                + (f", {self.duplicates} duplicate(s) dropped" if self.duplicates else ""))


def merge_parts(out: str | Path, order: list[str] | None = None) -> MergeResult:
    """Fold the part files into OUT: one record per id, ids of ``order`` first and in that order,
    any other id after them in file order. A later record of an id replaces an earlier one
    (a part's replaces OUT's, a retried record the failed one). The caller holds OUT's lock."""
    out = Path(out)
    parts = list_parts(out)
    result = MergeResult(parts=len(parts))
    chosen: dict[str, dict] = {}
    for path in [out, *parts]:
        for rec in read_records(path):
            rid = str(rec["id"])
            result.duplicates += rid in chosen
            chosen[rid] = rec
    ordered = [rid for rid in dict.fromkeys(order or []) if rid in chosen]
    placed = set(ordered)
    ordered += [rid for rid in chosen if rid not in placed]
    tmp = out.with_name(out.name + ".merging")
    try:
        with LogAppender(tmp, overwrite=True, fsync=False) as sink:
            for rid in ordered:
                sink.write(chosen[rid])
            sink.sync()
    except BaseException:
        tmp.unlink(missing_ok=True)  # OUT and the parts are untouched; the merge can simply be rerun
        raise
    os.replace(tmp, out)
    fsync_dir(out.parent)
    for part in parts:
        part.unlink(missing_ok=True)
    for marker in out.parent.glob(f"{glob_escape(out.name)}.rank*-of-*.done"):
        marker.unlink(missing_ok=True)
    result.records = len(ordered)
    return result
