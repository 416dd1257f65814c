"""Sub-commands and recipes are modules found by scanning a package, so adding one edits no list."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def discover(package: str, path: list[str]) -> dict[str, ModuleType]:
    """Modules of ``package`` (at ``path``) that expose ``NAME`` and ``run``, keyed and sorted by NAME.

    Modules whose file name starts with an underscore are private and skipped."""
    found = {}
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return dict(sorted(found.items()))
