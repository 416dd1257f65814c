"""Part files of a sharded run and their merge into one OUT.

Rank ``i`` of ``n`` appends to ``OUT.rank{i}-of-{n}.part`` (holding its lock, see
``lock.py``) and, when its shard is finished, touches ``OUT.rank{i}-of-{n}.done``.
The merge (under OUT's lock) takes each part's own lock too: a part whose writer is still
running is left alone and reported, never read half-written or deleted under it. It folds
OUT and every part it holds into OUT (atomic replace), one record per id — the last one —
in input order, then removes those parts, each while still holding its lock. A crash
between the replace and the clean-up only leaves parts whose ids are already in OUT, so
merging is idempotent and may be rerun at any time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from affectllm.core.append_log import LogAppender
from affectllm.core.durable import fsync_dir
from affectllm.caption.lock import OutputLock
from affectllm.caption.writer import latest_records, read_records
from affectllm.core.errors import AffectLLMError

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


def done_ids(out: str | Path, retry_failed: bool = True) -> tuple[set[str], set[str]]:
    """(ids finished anywhere, ids whose last record failed) over OUT and every part file, read without
    changing any of them (a file that is not ours stops here, untouched).

    With ``retry_failed`` a failed id is not finished: it is captioned again and its new
    record replaces the old one when OUT is merged."""
    latest: dict[str, dict] = {}
    for path in [Path(out), *list_parts(out)]:
        latest.update(latest_records(read_records(path)))
    failed = {rid for rid, rec in latest.items() if rec.get("error")}
    return (set(latest) - failed if retry_failed else set(latest)), failed


def all_shards_done(out: str | Path, world: int) -> bool:
    return all(done_marker(out, r, world).exists() for r in range(world))


@dataclass
class MergeResult:
    records: int = 0
    parts: int = 0
    duplicates: int = 0
    busy: dict[str, str] = field(default_factory=dict)  # parts left alone: file name -> its live writer

    def render(self, out: str | Path) -> str:
        if not self.parts:
            text = f"rewrote {out} with one record per id: {self.records} records, {self.duplicates} older one(s) replaced"
        else:
            text = (f"merged {self.parts} part file(s) into {out}: {self.records} records"
                    + (f", {self.duplicates} duplicate(s) dropped" if self.duplicates else ""))
        if self.busy:
            text += (f"\n  {len(self.busy)} part file(s) still being written were left as they are: "
                     + ", ".join(f"{name} ({holder})" for name, holder in self.busy.items())
                     + "; run --merge again when they finish")
        return text


def _lock_parts(out: Path, skip: Path | None = None) -> tuple[list[tuple[Path, OutputLock]], dict[str, str]]:
    """Each part file whose lock we could take (its writer is gone), and those still being written (name -> holder)."""
    held, busy = [], {}
    for part in list_parts(out):
        if part == skip:
            continue
        lock = OutputLock(part)
        if lock.acquire():
            held.append((part, lock))
        else:
            busy[part.name] = lock.holder
    return held, busy


def remove_parts(out: str | Path, keep: Path | None = None) -> None:
    """Delete OUT's part files (``--overwrite`` starts afresh), each under its own lock; a part another
    process is still writing stops the run with one line instead of being deleted under it."""
    held, busy = _lock_parts(Path(out), skip=keep)
    try:
        if busy:
            name, holder = next(iter(busy.items()))
            raise AffectLLMError(f"{name} is still being written by another run ({holder}); wait for it to finish "
                                 "or stop it before starting afresh with --overwrite")
        for part, _ in held:
            part.unlink(missing_ok=True)
    finally:
        for _, lock in held:
            lock.release()


def merge_parts(out: str | Path, order: list[str] | None = None) -> MergeResult:
    """Fold the finished part files into OUT: one record per id, ids of ``order`` first and in that order,
    any other id after them in file order. A later record of an id replaces an earlier one
    (a part's replaces OUT's, a retried record the failed one). The caller holds OUT's lock; each
    part's lock is taken here, and a part another process is writing is skipped (``busy``)."""
    out = Path(out)
    held, busy = _lock_parts(out)
    try:
        return _merge_held(out, [part for part, _ in held], busy, order)
    finally:
        for _, lock in held:
            lock.release()


def _merge_held(out: Path, parts: list[Path], busy: dict[str, str], order: list[str] | None) -> MergeResult:
    result = MergeResult(parts=len(parts), busy=busy)
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
        with LogAppender(tmp, "id", overwrite=True, fsync=False) as sink:
            for rid in ordered:
                sink.write(chosen[rid])
            sink.sync()
    except BaseException:
        tmp.unlink(missing_ok=True)  # OUT and the parts are untouched; the merge can simply be rerun
        raise
    os.replace(tmp, out)
    fsync_dir(out.parent)
    for part in parts:  # every one read in full, its lock still held: no writer can have appended since
        part.unlink(missing_ok=True)
    for marker in out.parent.glob(f"{glob_escape(out.name)}.rank*-of-*.done"):
        if marker.name[: -len(".done")] + ".part" not in busy:
            marker.unlink(missing_ok=True)
    result.records = len(ordered)
    return result
