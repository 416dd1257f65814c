"""MELD dev from text, with and without the dialogue context: one model trained twice, scored on the same utterances.

    nice -n 5 .venv/bin/python benchmarks/bench_meld_context.py \\
        --run context_2 runs/ctx2/final data/dev_ctx2.jsonl --run context_0 runs/ctx0/final data/dev_ctx0.jsonl \\
        --train data/train_ctx0.jsonl --wheel-dir ../shared/emotion_wheel --out benchmarks/results/meld_text_context.json

Both runs train `train/configs/meld_text_smollm2.yaml` (SmolLM2-135M-Instruct + LoRA, all-MiniLM-L6-v2
over the utterance through the pre-fusion) with the same seed, steps and utterances; the only difference is
the manifest: `affectllm recipe meld --text-only --context 2` (the two previous turns of the dialogue, with
speaker names, in the prompt) or `--context 0`. Each model answers its own dev manifest (the same 1,109
utterances), greedy, through the path `train.eval_manifest` uses (`bench_meld_text.generate`), and is scored
as `affectllm eval` scores it (`bench_meld_text.scores`): closed-set accuracy / WAF over MELD's 7 classes,
the official MER-UniBench hit rate, sentiment WAF. Also reported: the same scores on the utterances that
have a previous turn (the first turn of a dialogue has no context, so its input is the same in both runs),
and McNemar's exact test on the paired right/wrong answers. Dev only scores: nothing is chosen on it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
from collections import Counter
from pathlib import Path

import torch

from affectllm.checkpoint.layout import parse_base_arguments
from affectllm.eval import evaluate
from affectllm.pretrained import AffectLLM
from affectllm.training.dataset import read_manifest
from bench_meld_text import _training_summary, generate, scores


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: of the n = only_a + only_b discordant pairs, a binomial(n, 1/2) tail."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def correct_ids(gold: dict, records: list[dict]) -> set[str]:
    """Ids whose answer `eval closed` counts as right (scored one by one, so the mapping is eval's own)."""
    by_id = {r["id"]: r for r in records}
    return {sid for sid, g in gold.items() if evaluate("closed", {sid: g}, {sid: by_id[sid]}).scores["acc"] == 1.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", nargs=3, action="append", required=True, metavar=("NAME", "CHECKPOINT", "DEV"),
                    help="a row: its name, the trained checkpoint, the dev manifest it answers (repeat)")
    ap.add_argument("--train", required=True, help="MELD train manifest (for the majority class)")
    ap.add_argument("--wheel-dir", default=None, help="MER-UniBench wheel files for the official hit rate")
    ap.add_argument("--out", required=True)
    ap.add_argument("--preds-dir", default=None, help="also write each model's predictions as JSONL here")
    ap.add_argument("--base", action="append", default=[], metavar="KEY=DIR|DIR",
                    help="base models the checkpoints name outside themselves (as `affectllm caption --base`)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    args = ap.parse_args()

    preds = Path(args.preds_dir) if args.preds_dir else None
    base, trusted = parse_base_arguments(args.base)
    rows, correct, seconds, trained = {}, {}, {}, {}
    devs = {name: read_manifest(dev_path) for name, _, dev_path in args.run}
    dev_ids = [s["id"] for s in devs[args.run[0][0]]]
    for name, _, dev_path in args.run:
        if [s["id"] for s in devs[name]] != dev_ids:
            raise SystemExit(f"{dev_path}: not the same utterances as the first run's dev manifest")
    # The utterances that have a previous turn, read from whichever manifest carries context, so every run
    # (with context or without) is also scored on that same subset.
    history_ids = {s["id"] for dev in devs.values() for s in dev if s.get("context")}
    for name, checkpoint, dev_path in args.run:
        dev = devs[name]
        gold = {s["id"]: s for s in dev}
        model = AffectLLM.from_checkpoint(checkpoint, base=base, trusted=trusted)
        records, seconds[name] = generate(model, model.cfg, Path(dev_path), len(dev), args.batch_size,
                                          args.max_new_tokens, preds, name)
        with_history = {sid: g for sid, g in gold.items() if sid in history_ids}
        rows[name] = scores(gold, records, args.wheel_dir)
        if with_history:
            rows[name]["with_previous_turns"] = {
                "utterances": len(with_history),
                "closed": evaluate("closed", with_history, {r["id"]: r for r in records}).scores}
        correct[name] = correct_ids(gold, records)
        trained[name] = {"checkpoint": checkpoint, "dev": dev_path, "training": _training_summary(checkpoint)}
        print(name, json.dumps(rows[name]["closed"]), flush=True)
        del model

    train = read_manifest(args.train)
    majority = Counter(s["label"] for s in train).most_common(1)[0][0]
    gold = {s["id"]: s for s in devs[args.run[0][0]]}
    rows[f"constant_{majority}"] = scores(gold, [{"id": sid, "emotions": [majority]} for sid in gold], args.wheel_dir)
    names = [name for name, _, _ in args.run]
    paired = {}
    if len(names) == 2:
        a, b = names
        only_a, only_b = len(correct[a] - correct[b]), len(correct[b] - correct[a])
        paired = {"right_only_" + a: only_a, "right_only_" + b: only_b, "both_right": len(correct[a] & correct[b]),
                  "mcnemar_exact_p": float(f"{mcnemar_exact(only_a, only_b):.3g}"),
                  "closed_waf_difference": round(rows[a]["closed"]["waf"] - rows[b]["closed"]["waf"], 4),
                  "closed_acc_difference": round(rows[a]["closed"]["acc"] - rows[b]["closed"]["acc"], 4)}
    result = {
        "benchmark": f"MELD dev, text only, with and without dialogue context: {len(dev_ids)} utterances, 7 classes",
        "command": "python benchmarks/bench_meld_context.py " + " ".join(
            f"--run {' '.join(r)}" for r in args.run) + f" --train {args.train}"
            + (f" --wheel-dir {args.wheel_dir}" if args.wheel_dir else "") + f" --out {args.out}",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, "
                   f"python {platform.python_version()}",
        "runs": trained,
        "train_majority_class": majority,
        "models": rows,
        "paired": paired,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v["closed"] for k, v in rows.items()}, indent=1))
    print(json.dumps(paired, indent=1))


if __name__ == "__main__":
    main()
