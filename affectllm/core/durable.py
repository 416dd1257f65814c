"""Files that are either complete or absent: write aside, fsync, rename, fsync the folder.

Every writer of a result a user keeps (checkpoints, exports, indexes, merged outputs, converted models)
goes through these, so a kill or a full disk at any moment leaves the old copy or the new one, never half.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

OLD_PREFIX = ".old-"  # a folder moved aside while its replacement is renamed into place


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


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Every file under ``folder``, then every folder bottom-up, on disk (renames need their parents synced)."""
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames:
            _fsync_file(Path(dirpath) / name)
        fsync_dir(dirpath)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically and durably: temp file, fsync, rename, fsync the folder."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def replace_dir(tmp: Path, final: Path, unique_aside: bool = False) -> None:
    """Rename the finished ``tmp`` to ``final``; an existing ``final`` is moved aside first and deleted only
    after the rename, so a crash at any point leaves a complete copy on disk. Aside is ``.old-NAME`` (inside a
    run folder, where resume looks for it) or, with ``unique_aside`` (a folder the user chose, whose
    neighbours are theirs), a new uniquely named folder."""
    # in a run folder, .old-NAME is ours: a copy an interrupted re-save left is removed once the new one is in
    aside = None if unique_aside else final.with_name(OLD_PREFIX + final.name)
    if final.exists():
        if unique_aside:  # an empty folder of ours: renaming a folder onto an empty one replaces it
            aside = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        else:
            shutil.rmtree(aside, ignore_errors=True)
        os.replace(final, aside)
    os.replace(tmp, final)
    fsync_dir(final.parent)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
