"""Converters from the field's published dataset layouts to the affectllm manifest.

The folder ``data_recipes/`` installs as the package ``affectllm.recipes``
(pyproject ``package-dir``), so modules here import each other relatively.
Each recipe is a module ``data_recipes/<name>.py`` exposing ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``, and optionally
``ALIASES`` (the dataset names people type, each with the option defaults it
implies: ``{"cmu-mosi": {"corpus": "mosi"}}``) and ``LAYOUT`` (the published
layout it reads, for ``affectllm recipe --list``). ``affectllm recipe NAME``
discovers them, so adding a dataset never edits the CLI. Shared logic (row
reading with line numbers, error policy, sample building, manifest writing)
lives in ``affectllm.recipes.manifest``; what a label-only sample's target becomes
in ``affectllm.recipes.targets`` and ``affectllm.recipes.grounding``.
"""

from __future__ import annotations

from types import ModuleType

from affectllm.core.plugins import discover


def recipes() -> dict[str, ModuleType]:
    """Recipe modules by NAME, sorted."""
    return discover(__name__, __path__)
