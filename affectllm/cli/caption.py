"""affectllm caption PATH... --out OUT.jsonl [--model cues|CHECKPOINT] [--batch-size N] [--workers N]

Resumable (ids already in OUT or its part files are skipped; failed ones are retried
unless ``--no-retry-failed``), one record per input (unusable media gets an ``error``
record), one writer per OUT (a lock file), sharded across ranks under torchrun /
accelerate launch or with ``--shard i/n``; ``--merge`` folds part files into OUT.
Setup mistakes (model, LLM, prompt, output) stop before the first clip with one line. With a
checkpoint, a manifest entry asks its own question, and an input without a subtitle gets the
transcript of its sound (``--no-asr`` skips it).
"""

from __future__ import annotations

import argparse
import json
import os

from affectllm.cli._model_options import add_model_arguments, backend_factory

NAME = "caption"
HELP = "Explain the emotions in media files, folders or a manifest; writes result records (JSONL), resumable."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="*", metavar="PATH", help="media files, folders, glob patterns or manifest .jsonl")
    p.add_argument("--out", required=True, help="output JSONL; ids already in it are skipped")
    p.add_argument("--model", default="cues", help="'cues' (default: offline cue extraction and fusion) or a checkpoint folder")
    add_model_arguments(p)
    p.add_argument("--shard", default=None, metavar="i/n", help="caption only shard i of n (no launcher needed); "
                   "the last shard to finish merges the part files into OUT")
    p.add_argument("--merge", action="store_true", help="only merge OUT's part files into OUT (in the order of "
                   "PATH... when given, else OUT's order then the parts') and exit")
    p.add_argument("--overwrite", action="store_true", help="start OUT afresh instead of resuming")
    p.add_argument("--follow-links", action="store_true", help="in input folders, follow symbolic links that lead "
                   "out of the folder (default: each such link gets an error record naming it)")
    p.add_argument("--no-retry-failed", dest="retry_failed", action="store_false",
                   help="keep records with an error as done (default: caption them again, replacing the old record)")
    p.add_argument("--summary-json", default=None, help="also write the run summary to this JSON file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from affectllm.caption import collect_inputs, merge_parts, read_records, run_job
    from affectllm.caption.lock import OutputLock
    from affectllm.caption.writer import output_file
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.core.errors import AffectLLMError

    out = output_file(args.out, args.inputs)
    if args.merge:
        items = collect_inputs(args.inputs, args.follow_links) if args.inputs else []
        with OutputLock(out):
            print(merge_parts(out, [it.id for it in items]).render(args.out))
        return 0
    if not args.inputs:
        raise AffectLLMError("no PATH given: name media files, folders, globs or a manifest (or use --merge)")
    read_records(out)  # an OUT that is not a file of records is refused first, untouched, whatever fails later
    cues = args.model in ("", "cues")
    quiet_libraries(load=not cues)  # the cue path may never import transformers
    if cues:
        # The cue models load and run in threads side by side (affectllm.cues.preload), each native library
        # with its own OpenMP pool (CTranslate2, torch): workers that spin while idle, the default, take the
        # cores the other threads need. Read when the libraries load, so before any of them is imported.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    make_backend = backend_factory(args, args.model)
    items = collect_inputs(args.inputs, args.follow_links)
    if not items:
        print("affectllm caption: nothing to caption (the folders hold no media files)")
        return 0
    result = run_job(items, out, make_backend, batch_size=args.batch_size, workers=args.workers,
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
