"""`affectllm train-text-head --train TRAIN.jsonl [--dev DEV.jsonl] --out HEAD.safetensors [--seed N]`

Trains the cue path's text head (frozen all-MiniLM-L6-v2 + a small head for
7 emotions and 3 sentiments) on utterances with MELD-style labels. The
shipped head was made with:

    affectllm recipe meld --input ../shared/data/meld --split train --text-only --out meld_train.jsonl
    affectllm recipe meld --input ../shared/data/meld --split dev --text-only --out meld_dev.jsonl
    affectllm train-text-head --train meld_train.jsonl --dev meld_dev.jsonl \\
        --out affectllm/cues/data/text_head.safetensors --trained-on "MELD train split" --licence GPL-3.0
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "train-text-head"
HELP = "Train the cue path's text head (frozen MiniLM + emotion/sentiment head) on labelled utterances."


def add_arguments(p: argparse.ArgumentParser) -> None:
    from affectllm.cues.heads.text_head_config import HeadTraining

    d = HeadTraining()
    p.add_argument("--train", required=True, help="manifest with subtitle + label (+ sentiment) per line")
    p.add_argument("--dev", default=None, help="manifest scored after training (tune on it, never on test)")
    p.add_argument("--out", required=True, help="head file to write (.safetensors)")
    p.add_argument("--seed", type=int, default=d.seed,
                   help=f"seed of the weights and the shuffling; same data and seed give the same head (default {d.seed})")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"passes over the training set (default {d.epochs})")
    p.add_argument("--hidden", type=int, default=d.hidden, help=f"hidden width of the head (default {d.hidden})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"peak one-cycle AdamW learning rate (default {d.lr:g})")
    p.add_argument("--encoder", default=None, help="all-MiniLM-L6-v2 folder (default: the bundled copy)")
    p.add_argument("--trained-on", default=None, help="what the data is, stored with the weights")
    p.add_argument("--licence", default=None, help="licence the weights inherit from the data, stored with them")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.cues.heads.text_head import SentenceFeatures, save_text_head
    from affectllm.cues.heads.text_head_config import HeadTraining
    from affectllm.cues.heads.text_head_training import (featurize, head_scores, read_text_examples, train_head,
                                                         training_info)
    from affectllm.core.errors import AffectLLMError

    if args.epochs < 1 or args.hidden < 1 or args.lr <= 0:
        raise AffectLLMError("--epochs and --hidden must be >= 1 and --lr positive")
    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise AffectLLMError(f"--out {out}: name the head file *.safetensors")
    quiet_libraries()
    train = read_text_examples(args.train)
    dev = read_text_examples(args.dev) if args.dev else None
    cfg = HeadTraining(seed=args.seed, epochs=args.epochs, hidden=args.hidden, lr=args.lr)
    features = SentenceFeatures(args.encoder)
    x = featurize(train, features, progress=not args.quiet)
    net = train_head(x, train, cfg, progress=not args.quiet)
    scores = {"train": head_scores(net, x, train)}
    if dev is not None:
        scores["dev"] = head_scores(net, featurize(dev, features, progress=not args.quiet), dev)
    info = training_info(cfg, args.train, train, scores)
    info.update({k: v for k, v in (("trained_on", args.trained_on), ("licence", args.licence)) if v})
    save_text_head(net, out, info)
    print(json.dumps({"out": str(out), **scores}, indent=1))
    return 0
