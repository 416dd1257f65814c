"""GRPO step speed on a GPU: rollout tokens/s and update tokens/s, against plain transformers + peft.

    python benchmarks/bench_grpo_gpu.py [--out benchmarks/results/grpo_gpu.json]
    TINY=1 python benchmarks/bench_grpo_gpu.py          (tiny shapes on CPU, seconds; a smoke test)

Random-init real shapes (weights do not change speed), as in bench_train_gpu.py: a
Qwen2.5-7B-shaped LLM with LoRA r16 on every linear layer, Whisper-large-v3 and
ViT-L/14-shaped encoders whose features are cached (as a feature cache gives them),
bf16, gradient checkpointing for the update. PROMPTS prompts of PROMPT tokens (media
placeholders first), GROUP completions each, NEW_TOKENS new tokens (knobs in the
environment; defaults 2, 300, 8, 256).

Rows (one JSON line each, and all of them in --out):
- ``baseline_rollout``: ``generate(input_ids=...)`` on the unmerged peft model, the
  PROMPTS·GROUP prompt rows batched, sampling at temperature 1, KV cache;
- ``affectllm_sampling``: our sampling alone (``rollout.sample_completions``: fused prompt
  embedded once per prompt, repeated GROUP times, ``inputs_embeds`` generation);
- ``affectllm_rollout``: the whole rollout of a GRPO step (sampling, decoding, parsing and
  rewards, advantages, the reference pass with the adapter disabled);
- ``baseline_update`` / ``affectllm_update``: one optimizer step on the same
  PROMPTS·GROUP sequences — plain peft forward with ``labels`` on the completion tokens,
  backward, torch AdamW — against our GRPO loss (prompt re-embedded through the fusion
  adapter, log-probabilities projected only at completion tokens, clipped objective + KL),
  backward, fused AdamW.
Rollout tokens/s counts new tokens (rows × decoded positions); update tokens/s counts every
position of the prompt + completion sequences. Ratios are against the baseline of the same
kind in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train_gpu import DEV, DTYPE, LORA_TARGETS, TINY, build_affectllm, random_models, random_samples, \
    sync  # noqa: E402

PROMPTS = int(os.environ.get("PROMPTS", "2"))
GROUP = int(os.environ.get("GROUP", "4" if TINY else "8"))
PROMPT = int(os.environ.get("PROMPT", "32" if TINY else "300"))
NEW_TOKENS = int(os.environ.get("NEW_TOKENS", "16" if TINY else "256"))


def timed(fn, reps: int) -> tuple[float, object]:
    """Median seconds of ``fn()`` over ``reps`` runs after one warm-up, and the last result."""
    times, out = [], None
    for i in range(reps + 1):
        sync()
        started = time.perf_counter()
        out = fn()
        sync()
        if i:
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2], out


def row(what: str, seconds: float, tokens: int, **extra) -> dict:
    out = dict(what=what, prompts=PROMPTS, group=GROUP, prompt_tokens=PROMPT, new_tokens=NEW_TOKENS,
               seconds=round(seconds, 4), tokens=tokens, tokens_per_s=round(tokens / seconds, 1),
               peak_mem_gib=round(torch.cuda.max_memory_allocated() / 2**30, 1) if DEV == "cuda" else None, **extra)
    print(json.dumps(out), flush=True)
    if DEV == "cuda":
        torch.cuda.reset_peak_memory_stats()
    return out


def grpo_settings():
    from affectllm.config.schema import GRPOSettings

    return GRPOSettings(group_size=GROUP, max_new_tokens=NEW_TOKENS, temperature=1.0, top_p=1.0, kl_beta=0.04)


def baseline_rows(llm, vocab: int, eos: list[int], reps: int) -> tuple[list[dict], torch.nn.Module]:
    from peft import LoraConfig, get_peft_model
    from transformers import GenerationConfig

    pm = get_peft_model(llm, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS))
    rows_n = PROMPTS * GROUP
    ids = torch.randint(0, vocab, (rows_n, PROMPT), device=DEV)
    config = GenerationConfig(do_sample=True, temperature=1.0, top_p=1.0, top_k=None, max_new_tokens=NEW_TOKENS,
                              use_cache=True, eos_token_id=eos, pad_token_id=eos[0])
    pm.eval()
    with torch.no_grad():
        seconds, out = timed(lambda: pm.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                                 generation_config=config), reps)
    new = out.shape[1] - PROMPT
    rows = [row("baseline_rollout", seconds, rows_n * new)]

    full = torch.cat([ids, out[:, PROMPT:]], dim=1)
    labels = full.clone()
    labels[:, :PROMPT] = -100
    pm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    pm.enable_input_require_grads()
    pm.train()
    opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=1e-5)

    def step():
        pm(input_ids=full, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    seconds, _ = timed(step, reps)
    rows.append(row("baseline_update", seconds, full.numel(), grad_ckpt=True))
    pm.gradient_checkpointing_disable()
    del opt
    return rows, pm.unload()


def affectllm_rows(llm, paths: dict, tokenizer_dir: Path, vocab: int, reps: int) -> list[dict]:
    from affectllm.emotions import default_vocabulary
    from affectllm.eval.open_vocab import VocabularySpace
    from affectllm.model.processor import IGNORE_INDEX, PreparedSample
    from affectllm.training.grpo.objective import GRPOLoss
    from affectllm.training.grpo.rewards import RewardContext
    from affectllm.training.grpo.rollout import encode_once, rollout, sample_completions
    from affectllm.training.optim import build_optimizer, parameter_groups

    model, cfg = build_affectllm(llm, paths, tokenizer_dir, gradient_checkpointing=True)
    settings = grpo_settings()
    prompts = [PreparedSample(s.id, s.input_ids[:PROMPT], [IGNORE_INDEX] * PROMPT, s.media)
               for s in random_samples(model, PROMPTS, vocab, cached=True)]
    batch = model.processor.collate(prompts, padding_side="left")
    batch["media_inputs"] = encode_once(model, batch["media_inputs"])
    gold = [{"id": p.id, "emotions": ["happy"], "label": "happy"} for p in prompts]
    ctx = RewardContext("emer", VocabularySpace(default_vocabulary()), format_max_tokens=NEW_TOKENS)
    weights = {"wheel_f1": 1.0, "format": 0.5}

    seconds, (tokens, _) = timed(lambda: sample_completions(model, batch["input_ids"], batch["attention_mask"],
                                                            batch["media_inputs"], settings, GROUP), reps)
    rows = [row("affectllm_sampling", seconds, tokens.numel())]
    seconds, result = timed(lambda: rollout(model, batch, gold, settings, ctx, weights), reps)
    rows.append(row("affectllm_rollout", seconds, result.batch["completion_ids"].numel(),
                    includes="sampling, parsing, rewards, advantages, reference pass"))

    model.train()
    loss_module = GRPOLoss(model, settings)
    opt = build_optimizer(parameter_groups(model, cfg.train))

    def step():
        loss_module(result.batch).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    seconds, _ = timed(step, reps)
    positions = result.batch["completion_ids"].shape[0] * (PROMPT + result.batch["completion_ids"].shape[1])
    rows.append(row("affectllm_update", seconds, positions, grad_ckpt=True))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2 if TINY else 3, help="timed repetitions per row")
    parser.add_argument("--out", default=f"benchmarks/results/grpo_{'tiny_cpu' if TINY else 'gpu'}.json")
    args = parser.parse_args()

    from affectllm.cli._quiet import quiet_libraries
    from affectllm.model.affect_model import load_tokenizer

    quiet_libraries()
    started = time.time()
    tmp, paths, cfg, llm = random_models("bench_grpo_")
    eos = [load_tokenizer(str(tmp / "tokenizer")).eos_token_id]
    torch.manual_seed(0)
    rows, llm = baseline_rows(llm, cfg.vocab_size, eos, args.reps)
    rows += affectllm_rows(llm, paths, tmp / "tokenizer", cfg.vocab_size, args.reps)

    by = {r["what"]: r for r in rows}
    ratios = {
        "sampling_vs_baseline_rollout": round(by["affectllm_sampling"]["tokens_per_s"]
                                              / by["baseline_rollout"]["tokens_per_s"], 2),
        "rollout_vs_baseline_rollout": round(by["affectllm_rollout"]["tokens_per_s"]
                                             / by["baseline_rollout"]["tokens_per_s"], 2),
        "update_vs_baseline_update": round(by["affectllm_update"]["tokens_per_s"]
                                           / by["baseline_update"]["tokens_per_s"], 2),
    }
    print(json.dumps(ratios), flush=True)
    import peft
    import transformers

    device = torch.cuda.get_device_name(0) if DEV == "cuda" else platform.processor() or platform.machine()
    result = {"benchmark": "GRPO rollout and update vs plain generate + plain peft forward/backward", "tiny": TINY,
              "device": device, "dtype": str(DTYPE), "ratios": ratios, "rows": rows,
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "peft": peft.__version__},
              "seconds": round(time.time() - started, 1),
              "command": ("TINY=1 " if TINY else "") + "python benchmarks/bench_grpo_gpu.py"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
