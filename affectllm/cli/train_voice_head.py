"""`affectllm train-voice-head --train TRAIN.jsonl [--dev DEV.jsonl] --out HEAD.safetensors [--features both]`

Trains the cue path's voice head (frozen Whisper tiny.en encoder layers and
prosodic/spectral statistics + a small head for RAVDESS's 8 emotions) on
labelled clips, with its temperature chosen on speaker folds of the training
set. The shipped head was made with (the full --trained-on text is in
affectllm/cues/data/VOICE_HEAD_NOTICE.md):

    affectllm recipe ravdess --input ../shared/data/ravdess --split train --out ravdess_train.jsonl
    affectllm recipe ravdess --input ../shared/data/ravdess --actors 13-16 --out ravdess_dev.jsonl
    affectllm train-voice-head --train ravdess_train.jsonl --dev ravdess_dev.jsonl \\
        --out affectllm/cues/data/voice_head.safetensors \\
        --licence "CC BY-NC-SA 4.0 (https://creativecommons.org/licenses/by-nc-sa/4.0/)" \\
        --trained-on "RAVDESS speech, actors 01-12 (...)"
"""

from __future__ import annotations

import argparse
import json

NAME = "train-voice-head"
HELP = "Train the cue path's voice head (frozen Whisper-encoder and prosody features + an 8-emotion head) on labelled clips."


def add_arguments(p: argparse.ArgumentParser) -> None:
    from affectllm.cli._head_options import add_head_options
    from affectllm.cues.heads.voice_head_config import FEATURE_SETS, VoiceTraining

    d = VoiceTraining()
    add_head_options(p, d, "one audio clip + label (+ speaker)", "other speakers; never the test set",
                     "hidden width of the head, 0 for a linear head")
    p.add_argument("--features", choices=FEATURE_SETS, default=d.features,
                   help=f"whisper: encoder layers; prosody: pitch/loudness/spectral statistics; both (default {d.features})")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help=f"AdamW weight decay (default {d.weight_decay:g})")
    p.add_argument("--input-dropout", type=float, default=d.input_dropout,
                   help=f"share of input features dropped while training (default {d.input_dropout:g})")
    p.add_argument("--folds", type=int, default=d.folds,
                   help=f"speaker folds of the training set for the temperature and fold scores, 0 for none (default {d.folds})")
    p.add_argument("--whisper", default=None, help="faster-whisper model folder (default: the bundled tiny.en)")


def run(args: argparse.Namespace) -> int:
    from affectllm.cli._head_options import head_file, provenance
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.cues.heads.voice_head import probabilities, save_voice_head
    from affectllm.cues.heads.voice_head_training import (VoiceTraining, class_scores, featurize, fit,
                                                          read_voice_examples, speaker_folds, training_info)
    from affectllm.core.errors import AffectLLMError

    if args.epochs < 1 or args.hidden < 0 or args.lr <= 0 or args.weight_decay < 0 or args.folds < 0 \
            or not 0 <= args.input_dropout < 1:
        raise AffectLLMError("--epochs must be >= 1, --hidden and --folds >= 0, --lr positive, --weight-decay >= 0 "
                             "and --input-dropout in [0, 1)")
    out = head_file(args.out)
    quiet_libraries()
    train = read_voice_examples(args.train)
    dev = read_voice_examples(args.dev) if args.dev else None
    cfg = VoiceTraining(features=args.features, seed=args.seed, epochs=args.epochs, hidden=args.hidden, lr=args.lr,
                        weight_decay=args.weight_decay, input_dropout=args.input_dropout, folds=args.folds)
    if cfg.folds:
        speaker_folds(train.speakers, cfg.folds)  # too few speakers: say so before the features are computed
    x = featurize(train, cfg.features, args.whisper, progress=not args.quiet)
    net, temperature, scores = fit(x, train, cfg, progress=not args.quiet)
    if dev is not None:
        xd = featurize(dev, cfg.features, args.whisper, progress=not args.quiet)
        scores["dev"] = class_scores(probabilities(net, xd, temperature), dev.labels)
    info = training_info(cfg, args.train, train, scores)
    info.update(provenance(args))
    save_voice_head(net, out, cfg.features, temperature, info)
    print(json.dumps({"out": str(out), "temperature": temperature, **scores}, indent=1))
    return 0
