"""What `affectllm train-text-head` and `train-voice-head` share: the data, output and training options, the
output file check, and what the head file records about its data."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_head_options(p: argparse.ArgumentParser, defaults, examples: str, dev: str, hidden: str) -> None:
    """The options both head trainers take; ``defaults``: the head's training dataclass (its seed, epochs,
    hidden width, learning rate); ``examples`` / ``dev`` / ``hidden``: what a manifest line, the dev set and
    the hidden width mean for this head."""
    p.add_argument("--train", required=True, help=f"manifest with {examples} per line")
    p.add_argument("--dev", default=None, help=f"manifest scored after training ({dev})")
    p.add_argument("--out", required=True, help="head file to write (.safetensors)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed of the weights and the shuffling; same "
                   f"data and seed give the same head (default {defaults.seed})")
    p.add_argument("--epochs", type=int, default=defaults.epochs,
                   help=f"passes over the training set (default {defaults.epochs})")
    p.add_argument("--hidden", type=int, default=defaults.hidden, help=f"{hidden} (default {defaults.hidden})")
    p.add_argument("--lr", type=float, default=defaults.lr,
                   help=f"peak one-cycle AdamW learning rate (default {defaults.lr:g})")
    p.add_argument("--trained-on", default=None, help="what the data is, stored with the weights")
    p.add_argument("--licence", default=None, help="licence the weights inherit from the data, stored with them")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def head_file(out: str) -> Path:
    """``--out`` as a Path, refused unless it names a .safetensors file."""
    from affectllm.core.errors import AffectLLMError

    path = Path(out)
    if path.suffix != ".safetensors":
        raise AffectLLMError(f"--out {path}: name the head file *.safetensors")
    return path


def provenance(args: argparse.Namespace) -> dict[str, str]:
    """What the user said about the data (``--trained-on``, ``--licence``), for the head file's description."""
    return {k: v for k, v in (("trained_on", args.trained_on), ("licence", args.licence)) if v}
