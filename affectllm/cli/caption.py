"""affectllm caption PATH... --out OUT.jsonl [--model cues|CHECKPOINT]"""

from __future__ import annotations

import argparse

NAME = "caption"
HELP = "Explain the emotions in media files, folders or a manifest; writes result records (JSONL), resumable."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="PATH", help="media files, folders, glob patterns or manifest .jsonl")
    p.add_argument("--out", required=True, help="output JSONL; ids already in it are skipped")
    p.add_argument("--model", default="cues", help="'cues' (default: offline cue extraction + small LLM) or a checkpoint folder")
    p.add_argument("--llm", default=None, help="cue path only: a local instruct LLM folder instead of the bundled SmolLM2")
    p.add_argument("--prompt", default=None, help="checkpoint only: prompt template (default: the checkpoint's own)")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    p.add_argument("--overwrite", action="store_true", help="start OUT afresh instead of resuming")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from affectllm.caption import collect_inputs, run_captioning
    from affectllm.caption.backends import load_backend
    from affectllm.cli._quiet import quiet_libraries

    quiet_libraries()
    items = collect_inputs(args.inputs)
    if not items:
        print("affectllm caption: nothing to caption (no media files matched)")
        return 0
    backend = load_backend(args.model, args.prompt, args.max_new_tokens, args.sample, args.llm)
    summary = run_captioning(items, backend, args.out, batch_size=args.batch_size, overwrite=args.overwrite,
                             progress=not args.quiet)
    print(summary.render())
    return 0
