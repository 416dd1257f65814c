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

NAME = "train-text-head"
HELP = "Train the cue path's text head (frozen MiniLM + emotion/sentiment head) on labelled utterances."


def add_arguments(p: argparse.ArgumentParser) -> None:
    from affectllm.cli._head_options import add_head_options
    from affectllm.cues.heads.text_head_config import HeadTraining

    add_head_options(p, HeadTraining(), "subtitle + label (+ sentiment)", "tune on it, never on test",
                     "hidden width of the head")
    p.add_argument("--encoder", default=None, help="all-MiniLM-L6-v2 folder (default: the bundled copy)")


def run(args: argparse.Namespace) -> int:
    from affectllm.cli._head_options import head_file, provenance
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.cues.heads.text_head import SentenceFeatures, save_text_head
    from affectllm.cues.heads.text_head_config import HeadTraining
    from affectllm.cues.heads.text_head_training import (featurize, head_scores, read_text_examples, train_head,
                                                         training_info)
    from affectllm.core.errors import AffectLLMError

    if args.epochs < 1 or args.hidden < 1 or args.lr <= 0:
        raise AffectLLMError("--epochs and --hidden must be >= 1 and --lr positive")
    out = head_file(args.out)
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
    info.update(provenance(args))
    save_text_head(net, out, info)
    print(json.dumps({"out": str(out), **scores}, indent=1))
    return 0
