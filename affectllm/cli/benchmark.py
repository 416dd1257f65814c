"""affectllm benchmark MODEL... --suite NAME --data [NAME=]PATH... --out DIR [--baselines ...] [--adapter on|off|both]

    affectllm benchmark runs/meld/final --suite auto --data MELD=data/meld_dev.jsonl --out bench/meld \
        --adapter both --baselines majority,constants --wheel-dir emotion_wheel --base /models

Each MODEL ('cues' or a checkpoint folder) answers every manifest's samples through the caption
engine (OUT/predictions/<model>/<dataset>.jsonl, resumable); each dataset is scored with its task's
metric (``affectllm.benchmark.suites``); OUT/report.md, report.json and report.png hold the table.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from affectllm.cli._model_options import add_model_arguments, backend_factory
from affectllm.cli.eval import add_scoring_arguments, scoring_options

NAME = "benchmark"
ADAPTER_OFF_MIN_TOKENS = 32  # enough for a label sentence or a short list, whatever the checkpoint recorded
HELP = "Run models over prepared manifests, score each dataset with its official metric, write the paper table."


def add_arguments(p: argparse.ArgumentParser) -> None:
    from affectllm.benchmark.suites import SUITES

    p.add_argument("models", nargs="*", metavar="MODEL", help="'cues' or checkpoint folders (none: baselines only)")
    p.add_argument("--suite", default="auto", choices=list(SUITES),
                   help="mer-unibench: its nine datasets and metrics; auto (default): every --data manifest, known "
                        "datasets scored as MER-UniBench does, others by their gold fields")
    p.add_argument("--data", nargs="+", required=True, metavar="[NAME=]PATH",
                   help="prepared manifests (`affectllm recipe`), or folders of them; a file is matched to its "
                        "dataset by NAME, its file name or its samples' dataset field")
    p.add_argument("--out", required=True, help="output folder: predictions/, report.md, report.json, report.png")
    p.add_argument("--baselines", default=None, metavar="LIST",
                   help="comma-separated: majority (the evaluated set's most frequent label), constant:WORD, "
                        "constants (one row per gold label)")
    p.add_argument("--adapter", choices=("on", "off", "both"), default="on",
                   help="checkpoints: with their LoRA adapter (on), with it removed (off: the base LLM and the "
                        "trained fusion), or both rows")
    p.add_argument("--limit", type=int, default=None, help="only the first N samples of each manifest")
    p.add_argument("--overwrite", action="store_true", help="predict afresh instead of resuming")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_model_arguments(p)
    add_scoring_arguments(p)


def model_specs(args: argparse.Namespace) -> list:
    """The table's rows: each model (per adapter variant), then the fixed baselines."""
    from pathlib import Path

    from affectllm.benchmark import ModelSpec, parse_baselines
    from affectllm.core.errors import AffectLLMError

    specs = []
    for model in args.models:
        if model == "cues":
            specs.append(ModelSpec("cues", "cues", backend_factory(args, "cues")))
            continue
        if not Path(model).is_dir():
            raise AffectLLMError(f"{model}: not 'cues' and not a checkpoint folder")
        name = model.rstrip("/")
        for use_adapter in {"on": (True,), "off": (False,), "both": (True, False)}[args.adapter]:
            label = name if use_adapter else f"{name} (LoRA off)"
            limit = None if use_adapter else adapter_off_tokens(args, model, label)
            specs.append(ModelSpec(label, "checkpoint", _once(backend_factory(args, model, use_adapter, limit)),
                                   max_new_tokens=args.max_new_tokens or limit))
    baselines, _ = parse_baselines(args.baselines)
    specs += [ModelSpec(b.name, "baseline", baseline=b) for b in baselines]
    return specs


def adapter_off_tokens(args: argparse.Namespace, model: str, label: str) -> int:
    """The answer length for ``model`` without its adapter, said on stderr. The base LLM was never taught the
    answer format, so a small one seldom stops and runs every answer to the limit (at 256 tokens, many times
    the adapter row's time): without ``--max-new-tokens`` it gets twice its longest trained answer."""
    from affectllm.checkpoint.layout import read_training_record
    from affectllm.cli._model_options import DEFAULT_MAX_NEW_TOKENS
    from affectllm.model.questions import trained_answer_tokens

    longest = trained_answer_tokens(read_training_record(model))
    cap = min(DEFAULT_MAX_NEW_TOKENS, max(ADAPTER_OFF_MIN_TOKENS, 2 * longest) if longest else ADAPTER_OFF_MIN_TOKENS)
    trained = (f"its longest trained answer is {longest} tokens" if longest else
               "its training.json records no answer length")
    if args.max_new_tokens is None:
        print(f"affectllm benchmark: note: {label}: without its adapter a base LLM seldom stops on its own and "
              f"runs every answer to the limit; {trained}, so these answers stop at {cap} tokens "
              "(--max-new-tokens N sets the limit for every row)", file=sys.stderr)
    elif args.max_new_tokens > cap:
        print(f"affectllm benchmark: note: {label}: without its adapter a base LLM seldom stops on its own, so "
              f"expect every answer to run to --max-new-tokens {args.max_new_tokens} ({trained}; {cap} would "
              "do), which is slow", file=sys.stderr)
    return cap


def check_inputs(args: argparse.Namespace) -> None:
    """Everything the run reads besides the manifests (``run_benchmark`` reads those first), checked before
    the first sample: a wrong path found after the predictions costs the whole generation time."""
    from pathlib import Path

    from affectllm.core.errors import AffectLLMError

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise AffectLLMError(f"--out {out}: exists and is not a folder; choose another path")
    if args.wheel_dir:
        from affectllm.eval.wheel import load_official_wheels

        load_official_wheels(args.wheel_dir)  # every file opened and parsed now; kept for scoring
    if "cues" in args.models:
        from affectllm.cues.llm import llm_choice

        llm_choice(args.llm)
    checkpoints = [m for m in args.models if m != "cues"]
    if checkpoints:
        from affectllm.caption.checkpoint_backend import check_asr
        from affectllm.checkpoint.layout import check_checkpoint, parse_base_arguments
        from affectllm.reasoning.prompts import load_prompt

        base, trusted = parse_base_arguments(args.base)
        for model in checkpoints:
            if not Path(model).is_dir():
                raise AffectLLMError(f"{model}: not 'cues' and not a checkpoint folder")
            cfg = check_checkpoint(Path(model), base=base, trusted=trusted)
            if args.prompt is None:
                load_prompt(cfg.model.prompt)
        if args.asr:
            check_asr(args.whisper)


def _once(make_backend):
    """Load a model once for all the datasets it answers."""
    loaded = {}

    def make(device):
        if "backend" not in loaded:
            loaded["backend"] = make_backend(device)
        return loaded["backend"]

    return make


def run(args: argparse.Namespace) -> int:
    from affectllm.benchmark import parse_baselines, run_benchmark, suite_sources
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.core.errors import AffectLLMError

    if args.limit is not None and args.limit < 1:
        raise AffectLLMError(f"--limit {args.limit}: must be at least 1")
    _, per_label = parse_baselines(args.baselines)
    if not args.models and not args.baselines:
        raise AffectLLMError("nothing to score: name a MODEL ('cues' or a checkpoint folder) or --baselines")
    sources, notes = suite_sources(args.suite, args.data)
    check_inputs(args)
    for note in notes:
        print(f"affectllm benchmark: note: {note}", file=sys.stderr)
    quiet_libraries()
    specs = model_specs(args)
    facts = {"suite": args.suite, "command": "affectllm " + shlex.join(map(str, args._argv)), "notes": notes}
    report = run_benchmark(sources, specs, args.out, scoring_options(args), per_label_baselines=per_label,
                           limit=args.limit, batch_size=args.batch_size, workers=args.workers,
                           overwrite=args.overwrite, progress=not args.quiet, facts=facts)
    if args.json:
        import json

        print(json.dumps(report))
    else:
        from affectllm.eval.report import report_markdown

        print(report_markdown(report), end="")
        print(f"\nwrote {args.out}/report.md, report.json, report.png and predictions/")
    return 0
