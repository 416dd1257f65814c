"""The single `affectllm` entry point.

Each sub-command lives in its own module of this package and exposes
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Modules are discovered, so adding a command never edits this file.
Heavy imports (torch, transformers, gradio) belong inside ``run``.
"""

from __future__ import annotations

import argparse
import os
import sys

from affectllm import __version__
from affectllm.errors import AffectLLMError
from affectllm.plugins import discover


def _commands() -> dict:
    return discover(__name__, __path__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="affectllm",
        description="Multimodal emotion reasoning with LLMs: audio, video and text in; emotions and an explanation out.",
    )
    parser.add_argument("--version", action="version", version=f"affectllm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in _commands().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    args._argv = list(sys.argv[1:] if argv is None else argv)  # the command as typed, for run records
    try:
        return int(args._run(args) or 0)
    except AffectLLMError as err:
        print(f"affectllm {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"affectllm {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
