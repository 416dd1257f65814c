"""One writer per output file: ``OUT.lock`` holds the writer's host and pid under an exclusive ``flock``.

The kernel drops a ``flock`` when its process dies however it dies (kill -9 included),
so a lock file left by a dead process is simply taken over by the next run; a live
holder makes a second writer stop with one line naming it. The same lock guards the
merge of part files into OUT, so a merge never races a writer of OUT.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from affectllm.core.errors import AffectLLMError

# A flock belongs to the open file, which fork shares: a decoding worker forked while the lock
# is held would keep it alive after its parent dies. Children close their copies at once.
_HELD: set[int] = set()


def _drop_in_child() -> None:
    for fd in list(_HELD):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_in_child)


class OutputLock:
    """Exclusive lock on ``target`` (a caption output or part file) through ``target.lock``."""

    def __init__(self, target: str | Path):
        self.target = Path(target)
        self.path = Path(f"{target}.lock")
        self._fd: int | None = None
        self.holder = ""  # who holds it when ``acquire`` failed

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False (and ``holder`` set) when another process holds it."""
        if self._fd is not None:
            return True
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise AffectLLMError(f"{self.path}: cannot create the lock file ({err.strerror}); check that "
                                     f"{self.path.parent} is a writable folder with free space") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
                os.close(fd)
                return False
            # the holder may have unlinked the file between our open and flock: then lock the new one
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            try:  # a lock file left by a dead run holds its pid: ours replaces it
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{socket.gethostname()} pid {os.getpid()}\n".encode(), 0)
                os.fsync(fd)
            except OSError as err:
                os.close(fd)
                raise AffectLLMError(f"{self.path}: cannot write the lock file ({err.strerror}); free space and "
                                     "rerun") from None
            self._fd = fd
            _HELD.add(fd)
            return True

    def release(self) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # while still holding it, so nobody locks a file about to vanish
        _HELD.discard(self._fd)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "OutputLock":
        if not self.acquire():
            raise AffectLLMError(f"{self.target} is being written by another run ({self.holder}, lock file "
                                 f"{self.path}); wait for it to finish or choose another --out")
        return self

    def __exit__(self, *exc) -> None:
        self.release()
