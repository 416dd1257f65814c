"""Converters from the field's published dataset layouts to the affectllm manifest.

Each recipe is a module ``data_recipes/<name>.py`` exposing ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; ``affectllm
recipe NAME`` discovers them, so adding a dataset never edits the CLI.
Shared logic (row reading with line numbers, error policy, sample building,
manifest writing) lives in ``data_recipes.manifest``.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def recipes() -> dict[str, ModuleType]:
    """Recipe modules by NAME, sorted."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return dict(sorted(found.items()))
