"""`affectllm recipe NAME --input ROOT --out manifest.jsonl [--style S] [--split S] [--on-error skip|fail]`.

Converts a dataset in its published layout to a manifest; `affectllm recipe
check manifest.jsonl` validates one; `affectllm recipe --list` prints every
recipe, the dataset names it answers to (mer2023, raf-db, cmu-mosi, ...) and
the layout it expects. Recipes are the modules of ``affectllm.recipes``
(the top-level folder ``data_recipes/``, installed under that name; see its
``__init__.py``), discovered; a recipe's ``ALIASES`` maps
each extra name to the option defaults it implies (``cmu-mosi`` ->
``--corpus mosi``).
"""

from __future__ import annotations

import argparse
import sys
import textwrap

NAME = "recipe"
HELP = "convert a dataset in its published layout to a training/eval manifest, or check a manifest"


def _recipes() -> dict:
    try:
        import affectllm.recipes as recipes
    except ModuleNotFoundError as err:
        if err.name != "affectllm.recipes":
            raise  # a recipe's own missing dependency is that recipe's error, not a missing package
        return {}
    return recipes.recipes()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", action="store_true",
                        help="list the recipes, the dataset names each answers to and the layout it expects")
    sub = parser.add_subparsers(dest="recipe", metavar="NAME")
    for name, module in _recipes().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_recipe_run=module.run)
        for alias, defaults in getattr(module, "ALIASES", {}).items():
            # Own parser per alias (argparse aliases share one parser, so they could not imply defaults);
            # no help= keeps them out of --help, --list shows them.
            a = sub.add_parser(alias, description=f"{module.HELP} (same as `affectllm recipe {name}`"
                               + "".join(f" --{k.replace('_', '-')} {v}" for k, v in defaults.items()) + ")")
            module.add_arguments(a)
            a.set_defaults(_recipe_run=module.run, **defaults)


def recipe_table(width: int = 100) -> str:
    """The text `affectllm recipe --list` prints: one block per recipe."""
    blocks = []
    for name, module in _recipes().items():
        aliases = list(getattr(module, "ALIASES", {}))
        head = name + (f" (also: {', '.join(aliases)})" if aliases else "")
        body = getattr(module, "LAYOUT", module.HELP)
        blocks.append(head + "\n" + textwrap.fill(body, width=width, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(blocks)


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(recipe_table())
        return 0
    if not hasattr(args, "_recipe_run"):
        if not _recipes():
            print("affectllm recipe: the affectllm.recipes package is not installed; reinstall affectllm "
                  "(pip install -e . in a checkout)", file=sys.stderr)
        else:
            print("affectllm recipe: name a recipe (affectllm recipe --list shows them and the layouts they read)",
                  file=sys.stderr)
        return 2
    return int(args._recipe_run(args) or 0)
