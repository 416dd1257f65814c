"""`affectllm recipe NAME --input ROOT --out manifest.jsonl [--style S] [--split S] [--on-error skip|fail]`.

Converts a dataset in its published layout to a manifest; `affectllm recipe
check manifest.jsonl` validates one. Recipes are the modules of
``data_recipes`` (discovered; see ``data_recipes/__init__.py``).
"""

from __future__ import annotations

import argparse
import sys

NAME = "recipe"
HELP = "convert a dataset in its published layout to a training/eval manifest, or check a manifest"


def _recipes() -> dict:
    try:
        import data_recipes
    except ImportError:
        return {}
    return data_recipes.recipes()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    found = _recipes()
    sub = parser.add_subparsers(dest="recipe", metavar="NAME")
    sub.required = True
    for name, module in found.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_recipe_run=module.run)


def run(args: argparse.Namespace) -> int:
    if not hasattr(args, "_recipe_run"):
        print("affectllm recipe: the data_recipes package is not importable; reinstall affectllm", file=sys.stderr)
        return 2
    return int(args._recipe_run(args) or 0)
