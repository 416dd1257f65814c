"""The single `affectllm` entry point.

Each sub-command lives in its own module of this package and exposes
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Modules are discovered, so adding a command never edits this file.
Heavy imports (torch, transformers, gradio) belong inside ``run``: building the
parser must stay cheap, because every command, and a cold one-clip caption most
of all, pays for it before doing anything (``tests/test_cli_imports.py``).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from affectllm import __version__
from affectllm.core.errors import AffectLLMError
from affectllm.core.plugins import discover


def _commands() -> dict:
    return discover(__name__, __path__)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI; with ``command`` (a sub-command's name) only that sub-command's options are added, the
    others are listed by name and help alone (what ``main`` does: no command pays for another's options)."""
    parser = argparse.ArgumentParser(
        prog="affectllm",
        description="Multimodal emotion reasoning with LLMs: audio, video and text in; emotions and an explanation out.",
    )
    parser.add_argument("--version", action="version", version=f"affectllm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in _commands().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        if command is None or command == name:
            module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    typed = list(sys.argv[1:] if argv is None else argv)
    named = next((a for a in typed if not a.startswith("-")), None)  # options before it are the top level's
    args = build_parser(named if named in _commands() else None).parse_args(typed)
    args._argv = typed  # the command as typed, for run records
    try:
        return int(args._run(args) or 0)
    except AffectLLMError as err:
        print(f"affectllm {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"affectllm {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if argv is None:  # the program itself, about to exit (a caller passing argv keeps running)
            # The interpreter's last garbage collections walk every object torch and the other native libraries made:
            # most of a second of a cold caption's exit, spent collecting what the exit frees anyway.
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
