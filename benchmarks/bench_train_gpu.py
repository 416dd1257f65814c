"""GPU training throughput: AffectLLM's training step vs a bare transformers+peft LoRA loop, same process.

    python benchmarks/bench_train_gpu.py [--out benchmarks/results/train_gpu.json]
    TINY=1 python benchmarks/bench_train_gpu.py        (tiny shapes on CPU, seconds; a smoke test)

Random-init real shapes (weights do not change speed): a Qwen2.5-7B-shaped LLM, a
Whisper-large-v3-shaped audio encoder (128 mel bins, 32 layers, d 1280), a ViT-L/14-shaped
SigLIP vision tower at 224 px, 8 frames and 30 s of audio per sample, LoRA r16 on every
linear layer of the LLM, sequence 1024, bf16.

Rows (one JSON line each, and all of them in --out):
- ``baseline``: the bare loop of the peer recipes (AffectGPT-like) — peft model, ``labels=input_ids``,
  torch AdamW — at batch 3 without and batch 8 with gradient checkpointing.
- ``affectllm_cached``: our step on features from the feature cache (the encoders ran once, before
  training): fusion adapter + LoRA LLM, loss projected onto the vocabulary only at answer tokens
  (the second half of each sequence), fused AdamW.
- ``affectllm_encoders``: the same step running the frozen encoders every step (no cache), as the
  peer recipes do.
tokens/s counts every position of the 1024-token sequence (media placeholders included); MFU
uses the baseline's 6·N·tokens count with N the LLM's non-embedding parameters, for every row,
so the ratio between rows is the throughput ratio. Peak TFLOP/s: PEAK_TFLOPS or 989 (H100/H200 bf16 dense).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

TINY = os.environ.get("TINY") == "1"
DEV = "cuda" if torch.cuda.is_available() else "cpu"
DTYPE = torch.bfloat16 if DEV == "cuda" else torch.float32
SEQ = 64 if TINY else 1024
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def sync() -> None:
    if DEV == "cuda":
        torch.cuda.synchronize()


def peak_tflops() -> float:
    return float(os.environ.get("PEAK_TFLOPS", "989"))


def llm_config():
    from transformers import Qwen2Config

    if TINY:
        cfg = Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, vocab_size=1000)
    else:  # Qwen2.5-7B-Instruct
        cfg = Qwen2Config(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                          num_key_value_heads=4, vocab_size=152064, max_position_embeddings=32768, rope_theta=1e6,
                          tie_word_embeddings=False)
    cfg._attn_implementation = "sdpa"
    return cfg


def write_encoders(folder: Path) -> dict[str, Path]:
    """Random-init Whisper-large-v3-shaped and ViT-L/14-shaped towers saved as ordinary folders."""
    from transformers import (SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel, WhisperConfig,
                              WhisperFeatureExtractor, WhisperModel)

    if TINY:
        audio_cfg = WhisperConfig(d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128,
                                  decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=128, num_mel_bins=80,
                                  max_source_positions=250, vocab_size=128, pad_token_id=0,
                                  bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
        vision_cfg = SiglipVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                        num_attention_heads=4, image_size=32, patch_size=8)
        chunk, image = 5, 32
    else:
        audio_cfg = WhisperConfig(d_model=1280, encoder_layers=32, encoder_attention_heads=20, encoder_ffn_dim=5120,
                                  decoder_layers=1, decoder_attention_heads=20, decoder_ffn_dim=5120,
                                  num_mel_bins=128, max_source_positions=1500, vocab_size=51866)
        vision_cfg = SiglipVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                        num_attention_heads=16, image_size=224, patch_size=14)
        chunk, image = 30, 224
    paths = {"audio": folder / "audio", "vision": folder / "vision"}
    with torch.device(DEV):
        WhisperModel(audio_cfg).to(DTYPE).save_pretrained(paths["audio"])
        SiglipVisionModel(vision_cfg).to(DTYPE).save_pretrained(paths["vision"])
    WhisperFeatureExtractor(feature_size=audio_cfg.num_mel_bins, chunk_length=chunk).save_pretrained(paths["audio"])
    SiglipImageProcessor(size={"height": image, "width": image}).save_pretrained(paths["vision"])
    return paths


def random_models(prefix: str):
    """The random-init models of a benchmark: encoders and a tokenizer saved in a new temporary folder, the
    LLM built in memory (saving a 7B model would dominate the run). Returns (folder, encoder paths, LLM
    config, LLM); the tokenizer is ``folder / "tokenizer"``."""
    from transformers import AutoModelForCausalLM

    from affectllm.checkpoint.tiny import _train_tokenizer

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    paths = write_encoders(tmp)
    _train_tokenizer().save_pretrained(tmp / "tokenizer")
    cfg = llm_config()
    with torch.device(DEV):
        llm = AutoModelForCausalLM.from_config(cfg, dtype=DTYPE)
    return tmp, paths, cfg, llm


def measure(step, batch: int, steps: int, n_params: int, **row) -> dict:
    """Median step time over ``steps`` after 2 warm-up steps."""
    if DEV == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps + 2):
        sync()
        t = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t)
    med = sorted(times[2:])[len(times[2:]) // 2]
    tokens = batch * SEQ
    flops = 6 * n_params * tokens
    out = dict(row, batch=batch, seqlen=SEQ, step_s=round(med, 4), tokens_per_s=round(tokens / med),
               samples_per_s=round(batch / med, 2), tflops_6N=round(flops / med / 1e12, 1),
               mfu_6N=round(flops / med / 1e12 / peak_tflops(), 3),
               peak_mem_gib=round(torch.cuda.max_memory_allocated() / 2**30, 1) if DEV == "cuda" else None)
    print(json.dumps(out), flush=True)
    return out


# ------------------------------------------------------------------ the bare baseline

def baseline_rows(llm, vocab: int, n_params: int, steps: int) -> tuple[list[dict], torch.nn.Module]:
    from peft import LoraConfig, get_peft_model

    pm = get_peft_model(llm, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=LORA_TARGETS))
    opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=1e-5)
    rows = []
    for batch, ckpt in ((2, False), (4, True)) if TINY else ((3, False), (8, True)):
        if ckpt:
            pm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            pm.enable_input_require_grads()
        else:
            pm.gradient_checkpointing_disable()
        pm.train()
        ids = torch.randint(0, vocab, (batch, SEQ), device=DEV)

        def step():
            pm(input_ids=ids, labels=ids).loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        rows.append(measure(step, batch, steps, n_params, what="baseline", grad_ckpt=ckpt))
    pm.gradient_checkpointing_disable()
    del opt
    return rows, pm.unload()  # the bare LLM again, for our model


# ------------------------------------------------------------------ ours

def build_affectllm(llm, paths: dict[str, Path], tokenizer_dir: Path, gradient_checkpointing: bool):
    """AffectLLM around an in-memory LLM (saving a 7B random model to disk would dominate the run)."""
    from peft import get_peft_model

    from affectllm.config.schema import Config, DataConfig, LoraSettings, MediaSettings, ModelConfig, TrainConfig
    from affectllm.encoders import build_encoders
    from affectllm.fusion import FusionAdapter
    from affectllm.model.affect_model import load_tokenizer, lora_config
    from affectllm.pretrained import AffectLLM

    cfg = Config(model=ModelConfig(llm=str(tokenizer_dir), audio_encoder=str(paths["audio"]),
                                   vision_encoder=str(paths["vision"]), pooling="qformer", num_queries=8,
                                   prefusion="mix", num_fused_tokens=4, fusion_dim=64 if TINY else 1024,
                                   fusion_heads=4 if TINY else 16, dtype="bfloat16" if DEV == "cuda" else "float32",
                                   lora=LoraSettings(r=16, alpha=32, dropout=0.05, target_modules=LORA_TARGETS),
                                   gradient_checkpointing=gradient_checkpointing),
                 data=DataConfig(max_length=SEQ, media=MediaSettings(num_frames=8, max_side=224 if not TINY else 32,
                                                                     max_audio_seconds=5.0 if TINY else 30.0)),
                 train=TrainConfig(stage="sft", lr=2e-4))
    llm.requires_grad_(False)
    peft_llm = get_peft_model(llm, lora_config(cfg))
    if gradient_checkpointing:
        peft_llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        peft_llm.config.use_cache = False
    else:  # the previous row may have switched it on
        peft_llm.base_model.model.gradient_checkpointing_disable()
    encoders = build_encoders(cfg.model)
    fusion = FusionAdapter(cfg.model, {m: e.output_dim for m, e in encoders.items()},
                           peft_llm.get_input_embeddings().embedding_dim)
    model = AffectLLM(cfg, peft_llm, load_tokenizer(str(tokenizer_dir)), encoders, fusion).to(DEV, DTYPE)
    return model, cfg


def random_samples(model, batch: int, vocab: int, cached: bool) -> list:
    """Prepared samples of SEQ tokens: media placeholders, a prompt, and an answer over the second half."""
    import numpy as np

    from affectllm.model.conversation import PLACEHOLDER_TOKENS
    from affectllm.model.processor import IGNORE_INDEX, PreparedSample

    rng = np.random.default_rng(0)
    counts = model.fusion.tokens_per_modality
    placeholder = {m: model.tokenizer.convert_tokens_to_ids(t) for m, t in PLACEHOLDER_TOKENS.items()}
    head = [placeholder[m] for m in ("video", "audio", "fused") for _ in range(counts.get(m, 0))]
    seconds = model.cfg.data.media.max_audio_seconds
    out = []
    for i in range(batch):
        text = rng.integers(0, min(vocab, 1000), SEQ - len(head))
        text[np.isin(text, list(placeholder.values()))] = 0  # a placeholder id must only mark media
        ids = head + text.tolist()
        labels = [IGNORE_INDEX] * (SEQ // 2) + ids[SEQ // 2:]
        media = {"video": rng.integers(0, 255, (8, 224 if not TINY else 32, 224 if not TINY else 32, 3), dtype=np.uint8),
                 "audio": (rng.standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32)}
        if cached:
            media = model.precompute_features(media)
        out.append(PreparedSample(f"s{i}", ids, labels, media))
    return out


def affectllm_rows(llm, paths, tokenizer_dir, vocab: int, n_params: int, steps: int) -> list[dict]:
    from affectllm.config.schema import TrainConfig
    from affectllm.training.loss import AnswerLoss
    from affectllm.training.optim import build_optimizer, parameter_groups

    rows = []
    plans = [(2, False, True), (4, True, True), (2, False, False)] if TINY else \
            [(3, False, True), (8, True, True), (3, False, False)]
    for batch, ckpt, cached in plans:
        model, cfg = build_affectllm(llm, paths, tokenizer_dir, ckpt)
        model.train()
        loss_module = AnswerLoss(model)
        opt = build_optimizer(parameter_groups(model, TrainConfig(lr=2e-4)))
        data = model.processor.collate(random_samples(model, batch, vocab, cached))

        def step():
            loss_module(data).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        rows.append(measure(step, batch, steps, n_params, what="affectllm_cached" if cached else "affectllm_encoders",
                            grad_ckpt=ckpt))
        llm = model.llm.unload()  # strip this LoRA; the next plan wraps the bare LLM again
        del model, loss_module, opt, data
        gc.collect()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3 if TINY else 6, help="timed steps per row")
    parser.add_argument("--out", default=f"benchmarks/results/train_{'tiny_cpu' if TINY else 'gpu'}.json")
    args = parser.parse_args()

    from affectllm.cli._quiet import quiet_libraries

    quiet_libraries()
    started = time.time()
    tmp, paths, cfg, llm = random_models("bench_train_")
    n_all = sum(p.numel() for p in llm.parameters())
    n_params = n_all - cfg.vocab_size * cfg.hidden_size  # the input embedding is a lookup
    print(json.dumps({"what": "init", "llm_params": n_all, "seconds": round(time.time() - started, 1)}), flush=True)

    rows, llm = baseline_rows(llm, cfg.vocab_size, n_params, args.steps)
    rows += affectllm_rows(llm, paths, tmp / "tokenizer", cfg.vocab_size, n_params, args.steps)

    base = {r["grad_ckpt"]: r for r in rows if r["what"] == "baseline"}
    for r in rows:
        ref = base[r["grad_ckpt"]]
        r["tokens_per_s_vs_baseline_same_ckpt"] = round(r["tokens_per_s"] / ref["tokens_per_s"], 2)
    device = torch.cuda.get_device_name(0) if DEV == "cuda" else platform.processor() or platform.machine()
    import peft
    import transformers

    result = {"benchmark": "AffectLLM training step vs bare transformers+peft LoRA loop", "tiny": TINY,
              "device": device, "dtype": str(DTYPE), "seqlen": SEQ, "peak_tflops": peak_tflops(),
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "peft": peft.__version__},
              "rows": rows, "seconds": round(time.time() - started, 1),
              "command": ("TINY=1 " if TINY else "") + "python benchmarks/bench_train_gpu.py"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
