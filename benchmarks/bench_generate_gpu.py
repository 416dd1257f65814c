"""Batched generation and end-to-end captioning speed on a GPU, against plain transformers + peft.

    python benchmarks/bench_generate_gpu.py                 # GPU: random-init Qwen2.5-7B shapes, bf16
    TINY=1 .venv/bin/python benchmarks/bench_generate_gpu.py  # CPU smoke test: tiny shapes, seconds

Weights do not change speed, so the LLM is random-init with Qwen2.5-7B-Instruct shapes and
LoRA r16 on every linear layer. One process, one model, measured in this order:

1. baseline (the plain stack): the bare model, then peft-wrapped with the adapter unmerged —
   batch 1 with sampling (the usual per-clip inference loop) and batch 32 greedy — calling
   ``generate(input_ids=...)`` on 300-token prompts for 256 new tokens;
2. the peers' loop end to end: decode one clip, encoders, unmerged peft, batch 1, sampling;
3. ours: the caption engine's model path (``CheckpointBackend``: LoRA merged in place,
   ``inputs_embeds`` generation, optional static cache + compiled decode step) on the same
   prompts at several batch sizes;
4. ours end to end: ``run_job`` over generated clips (decoding workers, encoders batched,
   batched generation, JSONL writing): clips/hour.

Every row is printed as one JSON line and the whole run is rewritten to the result file
after each row, so a time-out still leaves what was measured. Knobs (environment):
BATCHES (ours, default "32,64,128"), COMPILE_MODE ("default"; "" for eager only),
NEW_TOKENS (256), PROMPT (300), E2E_CLIPS (256), E2E_BATCH (128), BASE_E2E_CLIPS (2),
WORKERS (8), OUT (result file; default benchmarks/results/generate_gpu.json, or $OUT/... ).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

TINY = os.environ.get("TINY") == "1"
DEVICE = "cuda" if torch.cuda.is_available() and not TINY else "cpu"
DTYPE = torch.bfloat16 if DEVICE == "cuda" else torch.float32
NEW = int(os.environ.get("NEW_TOKENS", 16 if TINY else 256))
PROMPT = int(os.environ.get("PROMPT", 32 if TINY else 300))
BATCHES = [int(b) for b in os.environ.get("BATCHES", "2,4" if TINY else "32,64,128").split(",") if b]
COMPILE_MODE = os.environ.get("COMPILE_MODE", "" if TINY else "default") or None
E2E_CLIPS = int(os.environ.get("E2E_CLIPS", 6 if TINY else 256))
E2E_BATCH = int(os.environ.get("E2E_BATCH", 3 if TINY else 128))
BASE_E2E_CLIPS = int(os.environ.get("BASE_E2E_CLIPS", 1 if TINY else 2))
WORKERS = int(os.environ.get("WORKERS", 1 if TINY else min(8, os.cpu_count() or 1)))
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

if os.environ.get("OUT") and not os.environ.get("RESULT"):
    RESULT = Path(os.environ["OUT"]) / "generate_gpu.json"
else:
    RESULT = Path(os.environ.get("RESULT", Path(__file__).parent / "results" /
                                 ("generate_tiny_cpu.json" if TINY else "generate_gpu.json")))
ROWS: list[dict] = []


def machine() -> dict:
    info = {"device": DEVICE, "dtype": str(DTYPE).replace("torch.", ""), "torch": torch.__version__,
            "python": platform.python_version(), "cpus": os.cpu_count(), "tiny": TINY}
    if DEVICE == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    import peft
    import transformers

    info.update(transformers=transformers.__version__, peft=peft.__version__)
    return info


def report(**row) -> None:
    ROWS.append(row)
    print(json.dumps(row), flush=True)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    summary = {"machine": machine(), "new_tokens": NEW, "prompt_tokens": PROMPT, "rows": ROWS}
    base = next((r["new_tok_per_s"] for r in ROWS if r["what"] == "baseline_peft_unmerged" and r["batch"] == 32), None)
    ours = [r["new_tok_per_s"] for r in ROWS if r["what"].startswith("ours_") and "new_tok_per_s" in r]
    if base and ours:
        summary["best_ours_vs_peft_unmerged_batch32"] = round(max(ours) / base, 2)
    RESULT.write_text(json.dumps(summary, indent=1) + "\n")


def sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def llm_config():
    from transformers import Qwen2Config

    if TINY:
        return Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=2, vocab_size=1000)
    return Qwen2Config(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                       num_key_value_heads=4, vocab_size=152064, max_position_embeddings=32768, rope_theta=1e6,
                       tie_word_embeddings=False)


# ---------------------------------------------------------------- 1. the plain stack
def bench_plain(model, label: str, batch: int, **kw) -> float:
    """``generate(input_ids=...)`` as transformers users call it; returns new tokens/s."""
    ids = torch.randint(0, model.config.vocab_size, (batch, PROMPT), device=DEVICE)
    args = dict(max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False, pad_token_id=0)
    args.update(kw)
    with torch.no_grad():
        model.generate(input_ids=ids, **dict(args, max_new_tokens=4, min_new_tokens=4))  # warm-up
        sync()
        t = time.perf_counter()
        model.generate(input_ids=ids, **args)
        sync()
        s = time.perf_counter() - t
    rate = batch * NEW / s
    report(what=label, batch=batch, new_tokens=NEW, seconds=round(s, 3), new_tok_per_s=round(rate, 1))
    return rate


# ---------------------------------------------------------------- 3. ours
def affect_model(llm, tmp: Path):
    """An AffectLLM around ``llm`` with tiny real encoders (the LLM dominates generation time)."""
    from affectllm.encoders import build_encoders
    from affectllm.fusion import FusionAdapter
    from affectllm.model.affect_model import load_tokenizer
    from affectllm.pretrained import AffectLLM
    from affectllm.checkpoint.tiny import tiny_config, write_tiny_base

    paths = write_tiny_base(tmp / "base")
    cfg = tiny_config(paths)
    encoders = build_encoders(cfg.model)
    fusion = FusionAdapter(cfg.model, {m: e.output_dim for m, e in encoders.items()}, llm.config.hidden_size)
    model = AffectLLM(cfg, llm, load_tokenizer(str(paths["llm"])), encoders, fusion)
    for part in (model.encoders, model.fusion):
        part.to(DEVICE, DTYPE)
    return model


def bench_ours(backend, label: str, batch: int) -> float:
    """The engine's model call (``caption_batch`` minus parsing) on a text-only prompt batch."""
    # ordinary tokens of the (tiny) tokenizer: the media placeholders sit above its base vocabulary
    ids = torch.randint(3, backend.model.tokenizer.vocab_size, (batch, PROMPT))
    prompt = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "media_inputs": {}}
    with torch.no_grad():
        backend.model.generate(prompt, **backend.gen_kwargs)  # warm-up at full length: compiles once
        sync()
        t = time.perf_counter()
        backend.model.generate(prompt, **backend.gen_kwargs)
        sync()
        s = time.perf_counter() - t
    rate = batch * NEW / s
    report(what=label, batch=batch, new_tokens=NEW, seconds=round(s, 3), new_tok_per_s=round(rate, 1),
           setup=backend.setup)
    return rate


# ---------------------------------------------------------------- 2/4. end to end
def make_clips(folder: Path, n: int) -> list:
    from affectllm.caption import collect_inputs
    from affectllm.media.synthetic import write_tone_clip

    folder.mkdir(parents=True, exist_ok=True)
    first = write_tone_clip(folder / "clip0000.mp4", 440.0, "red", seconds=4.0, size=224, fps=25)
    for i in range(1, n):  # identical content, distinct files: decoding cost is what matters
        (folder / f"clip{i:04d}.mp4").write_bytes(first.read_bytes())
    return collect_inputs([str(folder)])


def bench_e2e(label: str, backend, items, batch: int, workers: int, out: Path) -> None:
    from affectllm.caption import run_job

    t = time.perf_counter()
    result = run_job(items, out, lambda device: backend, batch_size=batch, workers=workers, overwrite=True,
                     progress=False)
    sync()
    s = time.perf_counter() - t
    n = result.summary.ok + result.summary.failed
    report(what=label, clips=n, failed=result.summary.failed, batch=batch, workers=workers,
           seconds=round(s, 2), clips_per_hour=round(3600 * n / s), new_tokens=NEW,
           stages={k: round(v, 2) for k, v in result.summary.stages.items()})


def main() -> int:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from affectllm.caption.checkpoint_backend import CheckpointBackend
    from affectllm.caption.inference import InferenceOptions

    torch.manual_seed(0)
    t = time.perf_counter()
    with torch.device(DEVICE):
        base = AutoModelForCausalLM.from_config(llm_config(), dtype=DTYPE)
    base.eval().requires_grad_(False)
    report(what="init", params=sum(p.numel() for p in base.parameters()), seconds=round(time.perf_counter() - t, 1))

    bench_plain(base, "baseline_bare", 32 if not TINY else BATCHES[0])
    peft_model = get_peft_model(base, LoraConfig(r=16, lora_alpha=32, target_modules=LORA_TARGETS)).eval()
    bench_plain(peft_model, "baseline_peft_unmerged_sampling", 1, do_sample=True, top_p=0.9, temperature=1.0)
    bench_plain(peft_model, "baseline_peft_unmerged", 32 if not TINY else BATCHES[0])
    if TINY:  # the ratio row needs a batch-32 baseline even in the smoke test
        bench_plain(peft_model, "baseline_peft_unmerged", 32)

    tmp = Path(tempfile.mkdtemp(prefix="bench_gen_"))
    model = affect_model(peft_model, tmp)
    model.base_llm.generation_config.min_new_tokens = NEW  # random weights may emit EOS early
    try:
        items = make_clips(tmp / "clips", max(E2E_CLIPS, BASE_E2E_CLIPS))
    except Exception as err:  # no ffmpeg / decord on this machine: skip the end-to-end rows
        items = None
        report(what="e2e_skipped", reason=f"{type(err).__name__}: {err}"[:300])

    if items:
        peers = CheckpointBackend(model=model, name="peers", max_new_tokens=NEW, do_sample=True,
                                  options=InferenceOptions(merge_lora=False))
        bench_e2e("baseline_e2e_peft_unmerged_batch1_sampling", peers, items[:BASE_E2E_CLIPS], 1, 0,
                  tmp / "peers.jsonl")

    eager = CheckpointBackend(model=model, name="ours", max_new_tokens=NEW, options=InferenceOptions())
    bench_ours(eager, "ours_merged", BATCHES[0])
    best = eager
    if COMPILE_MODE:
        try:
            compiled = CheckpointBackend(model=model, name="ours", max_new_tokens=NEW,
                                         options=InferenceOptions(compile_mode=COMPILE_MODE))
            for b in BATCHES:
                bench_ours(compiled, f"ours_merged_static_compiled_{COMPILE_MODE}", b)
            best = compiled
        except Exception as err:
            report(what="ours_compile_failed", error=f"{type(err).__name__}: {err}"[:400])
            model.base_llm.generation_config.cache_implementation = None
    else:
        for b in BATCHES[1:]:
            bench_ours(eager, "ours_merged", b)
    if items:
        bench_e2e("ours_e2e", best, items[:E2E_CLIPS], E2E_BATCH, WORKERS, tmp / "ours.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
