"""`affectllm cache-features MANIFEST --config CONFIG.yaml`: run the frozen encoders once, store their outputs.

Training then reads features instead of decoding and encoding media: it finds the
cache beside the manifest (MANIFEST_STEM.features/) or at data.feature_cache, and
refuses one built with different encoders or media settings. With
``model.context_media`` the samples' context turns are cached too (a turn that is
itself a sample of the manifest has the same key and is stored once).
"""

from __future__ import annotations

import argparse
import json

NAME = "cache-features"
HELP = "precompute frozen encoder features for a manifest (a feature cache training reads)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", help="manifest JSONL whose media to encode")
    # overrides follow the config (argparse cannot match a second positional list after an option)
    parser.add_argument("--config", required=True, nargs="+", metavar=("CONFIG", "key=value"),
                        help="training YAML or checkpoint folder (its model and data.media), then overrides "
                             "such as data.media.num_frames=16")
    parser.add_argument("--out", help="cache folder (default: MANIFEST_STEM.features beside the manifest)")
    parser.add_argument("--batch-size", type=int, default=8, help="samples per encoder call (default 8)")
    parser.add_argument("--workers", type=int, default=None, help="decoding processes (default data.num_workers)")
    parser.add_argument("--shard-size", type=int, default=512, help="samples per safetensors shard (default 512)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from affectllm.cli._quiet import quiet_libraries
    from affectllm.checkpoint.layout import config_file
    from affectllm.config.schema import load_config
    from affectllm.encoders import build_encoders
    from affectllm.model.affect_model import DTYPES, load_tokenizer
    from affectllm.model.processor import AffectProcessor
    from affectllm.training.dataset import read_manifest
    from affectllm.training.feature_cache import build_feature_cache, cache_signature
    from affectllm.training.run import default_cache_dir

    config, *overrides = args.config
    cfg = load_config(config_file(config), overrides)
    quiet_libraries()
    manifest = Path(args.manifest)
    samples = read_manifest(manifest)
    if cfg.model.context_media:  # context turns are encoded as samples of their own (usually already among them)
        from affectllm.core.manifest import check_context
        from affectllm.model.processor import context_turn_sample

        samples += [context_turn_sample(turn, str(s["id"]), k) for s in samples
                    for k, turn in enumerate(check_context(s, str(s["id"])), start=1)]
    out = Path(args.out) if args.out else Path(cfg.data.feature_cache or default_cache_dir(manifest))
    encoders = build_encoders(cfg.model)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = DTYPES[cfg.model.dtype]
    for enc in encoders.values():
        enc.to(device, dtype)
    # the processor only decodes media here; rendering needs no fusion token counts
    processor = AffectProcessor(load_tokenizer(cfg.model.llm), encoders, {}, cfg.data.media, cfg.data.max_length)
    signature = cache_signature(encoders, cfg.data.media, cfg.model.max_text_tokens)
    counts = build_feature_cache(samples, manifest.parent, encoders, processor, signature, out,
                                 batch_size=args.batch_size, shard_size=args.shard_size,
                                 num_workers=cfg.data.num_workers if args.workers is None else args.workers)
    for line in counts.pop("errors"):
        print(f"skipped {line}")
    print(json.dumps({"cache": str(out), **counts}))
    return 0
