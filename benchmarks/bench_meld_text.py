"""MELD dev from text: the trained SmolLM2 + MiniLM model against its untrained self and simple baselines.

    nice -n 5 .venv/bin/python benchmarks/bench_meld_text.py --checkpoint runs/meld_text_smollm2/final \\
        --train data/meld/train.jsonl --dev data/meld/dev.jsonl --wheel-dir ../shared/emotion_wheel \\
        --out benchmarks/results/meld_text_smollm2.json

Every model answers each dev sample's own user turn (the MELD recipe's label question, the
utterance as the subtitle), greedy, through the code path `train.eval_manifest` uses during
training; answers are parsed with the checkpoint's template and scored as `affectllm eval`
scores them: closed-set accuracy / WAF over MELD's 7 classes, the official MER-UniBench hit
rate (`--wheel-dir`), and sentiment WAF (utterances with non-zero gold valence).

Rows, all in the same run on the same dev set:
  trained         the checkpoint: LoRA + the trained MiniLM pre-fusion tokens
  lora_off        the same checkpoint with the LoRA adapter disabled (fusion tokens still fed)
  base_zero_shot  SmolLM2-135M-Instruct alone, untrained: same prompt and subtitle, no encoder tokens
  constant_*      one label for every utterance; ``constant_neutral`` is the train majority class
  minilm_probe    logistic regression on frozen mean-pooled MiniLM embeddings, fit on train
The dev set only scores: nothing is chosen on it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter
from pathlib import Path

import torch

from affectllm.checkpoint.layout import checkpoint_config, parse_base_arguments, read_training_record
from affectllm.config.schema import Config
from affectllm.eval import EvalOptions, evaluate
from affectllm.pretrained import AffectLLM
from affectllm.training.dataset import read_manifest
from affectllm.core.distributed import Rank
from affectllm.training.generation_eval import GenerationEval

GOAL_WAF = 0.50


def scores(gold: dict, records: list[dict], wheel_dir: str | None) -> dict:
    pred = {r["id"]: r for r in records}
    out = {"closed": evaluate("closed", gold, pred).scores,
           "sentiment": evaluate("sentiment", gold, pred).scores}
    if wheel_dir:
        out["hit_rate_official"] = evaluate("basic", gold, pred, EvalOptions(wheel_dir=wheel_dir)).scores["hit_rate"]
    out["unparsed"] = sum(not r.get("emotions") for r in records)
    out["predicted_labels"] = dict(Counter(r["emotions"][0] if r.get("emotions") else "" for r in records)
                                   .most_common())
    return out


def generate(model: AffectLLM, cfg: Config, dev: Path, limit: int, batch_size: int, max_new_tokens: int,
             preds: Path | None, name: str) -> tuple[list[dict], float]:
    cfg.train.eval_manifest, cfg.train.eval_limit = str(dev), limit
    cfg.train.eval_batch_size, cfg.train.eval_max_new_tokens = batch_size, max_new_tokens
    cfg.train.eval_task, cfg.train.deepspeed = "closed", None
    evaluator = GenerationEval(cfg, Rank())
    start = time.perf_counter()
    records = evaluator.answers(model)
    seconds = time.perf_counter() - start
    if preds is not None:
        preds.mkdir(parents=True, exist_ok=True)
        (preds / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return records, seconds


def minilm_probe(cfg: Config, train: list[dict], dev: list[dict]) -> list[dict]:
    """Frozen MiniLM (mean-pooled, normalised) + logistic regression fit on train."""
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(cfg.model.text_encoder)
    enc = AutoModel.from_pretrained(cfg.model.text_encoder).eval()

    @torch.no_grad()
    def embed(samples: list[dict]) -> torch.Tensor:
        out = []
        for i in range(0, len(samples), 128):
            batch = tok([s.get("subtitle") or "" for s in samples[i:i + 128]], padding=True, truncation=True,
                        max_length=cfg.model.max_text_tokens, return_tensors="pt")
            hidden = enc(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out.append(torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1))
        return torch.cat(out).numpy()

    probe = LogisticRegression(max_iter=2000, C=1.0).fit(embed(train), [s["label"] for s in train])
    return [{"id": s["id"], "emotions": [label]} for s, label in zip(dev, probe.predict(embed(dev)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--train", required=True, help="MELD train manifest (for the majority class and the probe)")
    ap.add_argument("--dev", required=True, help="MELD dev manifest (affectllm recipe meld --split dev --text-only)")
    ap.add_argument("--wheel-dir", default=None, help="MER-UniBench wheel files for the official hit rate")
    ap.add_argument("--out", required=True)
    ap.add_argument("--preds-dir", default=None, help="also write each model's predictions as JSONL here")
    ap.add_argument("--base", action="append", default=[], metavar="KEY=DIR|DIR")
    ap.add_argument("--limit", type=int, default=0, help="first N dev samples only (0 = all)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--skip", nargs="*", default=[], choices=["lora_off", "base_zero_shot", "minilm_probe"])
    args = ap.parse_args()

    dev_path, preds = Path(args.dev), Path(args.preds_dir) if args.preds_dir else None
    dev = read_manifest(dev_path)[: args.limit or None]
    train = read_manifest(args.train)
    gold = {s["id"]: s for s in dev}
    base, trusted = parse_base_arguments(args.base)
    rows: dict[str, dict] = {}
    timing: dict[str, float] = {}

    model = AffectLLM.from_checkpoint(args.checkpoint, base=base, trusted=trusted)
    cfg = model.cfg
    records, timing["trained"] = generate(model, cfg, dev_path, len(dev), args.batch_size, args.max_new_tokens,
                                          preds, "trained")
    rows["trained"] = scores(gold, records, args.wheel_dir)
    print("trained", json.dumps(rows["trained"]["closed"]), flush=True)
    if "lora_off" not in args.skip:
        with model.llm.disable_adapter():
            records, timing["lora_off"] = generate(model, cfg, dev_path, len(dev), args.batch_size,
                                                   args.max_new_tokens, preds, "lora_off")
        rows["lora_off"] = scores(gold, records, args.wheel_dir)
        print("lora_off", json.dumps(rows["lora_off"]["closed"]), flush=True)
    if "base_zero_shot" not in args.skip:
        bare = checkpoint_config(Path(args.checkpoint), base=base, trusted=trusted)
        bare.model.lora.enabled, bare.model.prefusion = False, "none"
        bare.model.audio_encoder = bare.model.vision_encoder = bare.model.text_encoder = None
        zero_shot = AffectLLM.from_config(bare, trainable=False).eval()
        records, timing["base_zero_shot"] = generate(zero_shot, bare, dev_path, len(dev), args.batch_size,
                                                     args.max_new_tokens, preds, "base_zero_shot")
        rows["base_zero_shot"] = scores(gold, records, args.wheel_dir)
        print("base_zero_shot", json.dumps(rows["base_zero_shot"]["closed"]), flush=True)
    classes = sorted({s["label"] for s in train})
    majority = Counter(s["label"] for s in train).most_common(1)[0][0]
    for label in classes:
        rows[f"constant_{label}"] = scores(gold, [{"id": s["id"], "emotions": [label]} for s in dev], args.wheel_dir)
    if "minilm_probe" not in args.skip:
        start = time.perf_counter()
        rows["minilm_probe"] = scores(gold, minilm_probe(cfg, train, dev), args.wheel_dir)
        timing["minilm_probe"] = time.perf_counter() - start

    waf = rows["trained"]["closed"]["waf"]
    result = {
        "benchmark": f"MELD dev, text only: {len(dev)} utterances, 7 classes",
        "command": "python benchmarks/bench_meld_text.py " + " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in vars(args).items() if v not in (None, [], 0, False)),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, "
                   f"python {platform.python_version()}",
        "checkpoint": {"path": str(args.checkpoint), "training": _training_summary(args.checkpoint)},
        "train_majority_class": majority,
        "models": rows,
        "seconds": {k: round(v, 1) for k, v in timing.items()},
        "goal": {"closed_waf": GOAL_WAF, "trained_closed_waf": waf, "met": waf >= GOAL_WAF},
        "ratios": {f"trained_waf_over_{k}": round(waf / r["closed"]["waf"], 3)
                   for k, r in rows.items() if k != "trained" and r["closed"]["waf"] > 0
                   and (not k.startswith("constant_") or k == f"constant_{majority}")},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v["closed"] for k, v in rows.items() if not k.startswith("constant_")
                      or k == f"constant_{majority}"}, indent=1))


def _training_summary(checkpoint: str) -> dict | None:
    record = read_training_record(checkpoint)
    if record is None:
        return None
    t = record["config"]["train"]
    return {"data": record["data"], "steps": record["step"], "samples_seen": record["samples_seen"],
            "micro_batch_size": t["micro_batch_size"], "lr": t["lr"], "fusion_lr": t["fusion_lr"],
            "max_steps": t["max_steps"], "seed": t["seed"]}


if __name__ == "__main__":
    main()
