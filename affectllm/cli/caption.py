"""affectllm caption PATH... --out OUT.jsonl [--model cues|CHECKPOINT] [--batch-size N] [--workers N]

Resumable (ids already in OUT or its part files are skipped; failed ones are retried
unless ``--no-retry-failed``), one record per input (unusable media gets an ``error``
record), one writer per OUT (a lock file), sharded across ranks under torchrun /
accelerate launch or with ``--shard i/n``; ``--merge`` folds part files into OUT.
Setup mistakes (model, LLM, prompt, output) stop before the first clip with one line.
"""

from __future__ import annotations

import argparse
import json

NAME = "caption"
HELP = "Explain the emotions in media files, folders or a manifest; writes result records (JSONL), resumable."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="*", metavar="PATH", help="media files, folders, glob patterns or manifest .jsonl")
    p.add_argument("--out", required=True, help="output JSONL; ids already in it are skipped")
    from affectllm.cues.llm import LLM_OPTION_HELP

    p.add_argument("--model", default="cues", help="'cues' (default: offline cue extraction and fusion) or a checkpoint folder")
    p.add_argument("--llm", default=None, help=LLM_OPTION_HELP)
    p.add_argument("--prompt", default=None, help="checkpoint only: prompt template name, or a template YAML file "
                   "(default: the checkpoint's own)")
    p.add_argument("--base", action="append", default=[], metavar="KEY=DIR|DIR",
                   help="checkpoint only: use DIR for base model KEY (llm, audio_encoder, vision_encoder, "
                        "text_encoder), or trust the checkpoint's paths under DIR; needed when its config points "
                        "outside the checkpoint folder (repeatable)")
    p.add_argument("--batch-size", type=int, default=8, help="clips per generation batch (default 8; 32-128 on a GPU)")
    p.add_argument("--workers", type=int, default=2, help="decoding worker processes (0: decode in the main process)")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    p.add_argument("--no-merge-lora", action="store_true", help="keep the LoRA adapter unmerged (merged is faster)")
    p.add_argument("--static-cache", action="store_true", help="fixed-shape KV cache (GPU)")
    p.add_argument("--compile", nargs="?", const="default", default=None, metavar="MODE",
                   help="static cache + torch.compile'd decode step (GPU; MODE default 'default')")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads in the main process")
    p.add_argument("--shard", default=None, metavar="i/n", help="caption only shard i of n (no launcher needed); "
                   "the last shard to finish merges the part files into OUT")
    p.add_argument("--merge", action="store_true", help="only merge OUT's part files into OUT (in the order of "
                   "PATH... when given, else OUT's order then the parts') and exit")
    p.add_argument("--overwrite", action="store_true", help="start OUT afresh instead of resuming")
    p.add_argument("--no-retry-failed", dest="retry_failed", action="store_false",
                   help="keep records with an error as done (default: caption them again, replacing the old record)")
    p.add_argument("--summary-json", default=None, help="also write the run summary to this JSON file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from affectllm.caption import collect_inputs, merge_parts, run_job
    from affectllm.caption.backends import load_backend
    from affectllm.caption.inference import InferenceOptions
    from affectllm.caption.lock import OutputLock
    from affectllm.checkpoint import parse_base_arguments
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.errors import AffectLLMError
    from affectllm.prompts import prompt_from_argument

    if args.merge:
        items = collect_inputs(args.inputs) if args.inputs else []
        with OutputLock(args.out):
            print(merge_parts(args.out, [it.id for it in items]).render(args.out))
        return 0
    if not args.inputs:
        raise AffectLLMError("no PATH given: name media files, folders, globs or a manifest (or use --merge)")
    if args.batch_size < 1 or args.workers < 0:
        raise AffectLLMError("--batch-size must be >= 1 and --workers >= 0")
    quiet_libraries()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    base, trusted = parse_base_arguments(args.base)
    prompt = prompt_from_argument(args.prompt) if args.prompt else None  # the user named it: a file is allowed
    items = collect_inputs(args.inputs)
    if not items:
        print("affectllm caption: nothing to caption (the folders hold no media files)")
        return 0
    options = InferenceOptions(merge_lora=not args.no_merge_lora, static_cache=args.static_cache,
                               compile_mode=args.compile)

    def make_backend(device):
        return load_backend(args.model, prompt, args.max_new_tokens, args.sample, args.llm, device, options,
                            base=base, trusted=tuple(trusted))

    result = run_job(items, args.out, make_backend, batch_size=args.batch_size, workers=args.workers,
                     overwrite=args.overwrite, shard=args.shard, progress=not args.quiet,
                     retry_failed=args.retry_failed)
    if result.rank.is_main or (result.rank.sharded and not result.rank.launched):
        print(result.summary.render())
        if result.merged is not None:
            print(result.merged.render(args.out))
        if args.summary_json:
            with open(args.summary_json, "w") as f:
                json.dump(result.summary.to_dict(), f, indent=1)
    return 0
