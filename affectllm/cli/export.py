"""affectllm export CHECKPOINT --out DIR [--merge] [--copy-base] [--metrics BENCH/report.json] [--base KEY=DIR|DIR]"""

from __future__ import annotations

import argparse

NAME = "export"
HELP = ("Export a checkpoint as a portable folder: peft adapter, fusion weights, tokenizer, model card; "
        "--merge adds the LLM with the LoRA folded in as a plain transformers folder.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="checkpoint folder (e.g. runs/NAME/best or runs/NAME/final)")
    p.add_argument("--out", required=True, help="export folder to write (must not exist, or be empty)")
    p.add_argument("--merge", action="store_true", help="also write the LLM with the LoRA merged in (OUT/llm)")
    p.add_argument("--copy-base", action="store_true",
                   help="copy local base-model folders into OUT/base (hub and bundled models stay names)")
    p.add_argument("--metrics", default=None, metavar="BENCH/report.json",
                   help="the report.json that `affectllm benchmark --out BENCH` wrote (or BENCH itself): "
                        "the model card gets a table per evaluation set")
    p.add_argument("--base", action="append", default=[], metavar="KEY=DIR|DIR",
                   help="use DIR for base model KEY, or trust the checkpoint's paths under DIR (repeatable); "
                        "checkpoints from `affectllm train` name the base models you trained from")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export in OUT")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from affectllm.checkpoint.layout import load_checkpoint, parse_base_arguments, read_training_record
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.checkpoint.export import export_model, read_metrics_file

    quiet_libraries()
    metrics = read_metrics_file(args.metrics) if args.metrics else None
    base, trusted = parse_base_arguments(args.base)
    model = load_checkpoint(args.checkpoint, base=base, trusted=trusted)
    report = export_model(model, args.out, merge=args.merge, copy_base=args.copy_base, overwrite=args.overwrite,
                          training=read_training_record(args.checkpoint), metrics=metrics)
    print(f"exported {args.checkpoint} to {report.out}" + (" (LoRA merged into llm/)" if report.merged else ""))
    for key, reference in report.references.items():
        print(f"  model.{key}: {reference}")
    if report.outside:
        print(f"  base models outside the export: load it with {report.load_hint()} (or export with --copy-base)")
    print(f"  model card: {Path(report.out) / 'README.md'}")
    return 0
