"""Loading a model once per process, safely from several threads (the extractors and the preloader share it)."""

from __future__ import annotations

import threading
from functools import lru_cache, wraps
from typing import Callable


def load_once(load: Callable) -> Callable:
    """``lru_cache`` whose first call holds a lock: a thread that asks while another loads waits for that
    load and gets the same object. A failed load is not cached; the next call tries again."""
    cached = lru_cache(maxsize=None)(load)
    lock = threading.Lock()

    @wraps(load)
    def loaded(*args):
        with lock:
            return cached(*args)

    loaded.cache_clear = cached.cache_clear
    return loaded
