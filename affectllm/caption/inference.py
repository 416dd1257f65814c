"""Make a loaded AffectLLM fast for captioning: LoRA merged in place, KV cache on, optional
static cache and compiled decode step.

Merging folds ``B @ A * scale`` into each target weight once, so every decode step runs
one matmul per layer instead of three and the peft wrapper's Python overhead disappears.
It is done in place (``merge_and_unload`` rewrites the base weights and drops the LoRA
modules): no second copy of a 7B model is ever held. It is skipped for quantized base
models, where merging would round the adapter into 4/8-bit weights.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InferenceOptions:
    merge_lora: bool = True
    use_adapter: bool = True  # False: drop the LoRA adapter and answer with the base LLM (a baseline)
    static_cache: bool = False  # fixed-shape KV cache; lets the decode step compile without recompiles
    compile_mode: str | None = None  # torch.compile mode of the decode step ("default", "reduce-overhead", ...)
    # prompts are left-padded to a multiple of this under a static cache, so few cache shapes occur
    length_bucket: int = 64


def _is_quantized(llm) -> bool:
    base = llm.get_base_model() if hasattr(llm, "get_base_model") else llm
    return bool(getattr(base, "is_quantized", False) or getattr(base, "hf_quantizer", None)
                or getattr(base.config, "quantization_config", None))


def prepare_for_inference(model, options: InferenceOptions) -> list[str]:
    """Configure ``model`` (an AffectModel) in place; returns what was done, for the log."""
    from affectllm.model.affect_model import set_trainable

    done = []
    set_trainable(model, None)  # inference: nothing trains, eval mode
    llm = model.llm
    if getattr(llm, "is_gradient_checkpointing", False) or getattr(llm, "is_activation_checkpointing", False):
        # a training config leaves use_cache=False behind, and generate then runs without a KV cache
        llm.gradient_checkpointing_disable()
        done.append("gradient checkpointing off")
    if not options.use_adapter:
        if not hasattr(llm, "unload"):
            from affectllm.core.errors import AffectLLMError

            raise AffectLLMError("the checkpoint has no LoRA adapter to turn off (model.lora.enabled is false)")
        model.llm = llm.unload()  # the base weights as loaded, LoRA layers removed without merging
        done.append("LoRA adapter off (base LLM)")
    elif options.merge_lora and hasattr(llm, "merge_and_unload"):
        if _is_quantized(llm):
            done.append("LoRA kept unmerged (quantized base)")
        else:
            model.llm = llm.merge_and_unload(progressbar=False)
            done.append("LoRA merged")
    base = model.base_llm
    base.config.use_cache = True
    gen = base.generation_config
    gen.use_cache = True
    if options.static_cache or options.compile_mode:
        gen.cache_implementation = "static"
        done.append("static KV cache")
    if options.compile_mode:
        from transformers import CompileConfig

        compile_config = CompileConfig(mode=options.compile_mode, fullgraph=False)
        # transformers compiles the decode step itself under a static cache; off CUDA it must be asked to
        compile_config._compile_all_devices = True
        gen.compile_config = compile_config
        gen.disable_compile = False
        done.append(f"compiled decode step (mode={options.compile_mode})")
    elif options.static_cache:
        gen.disable_compile = True
    return done


def pad_left_to_bucket(batch: dict, bucket: int, pad_id: int) -> dict:
    """Left-pad ``input_ids`` / ``attention_mask`` / ``labels`` (B, L) to L rounded up to ``bucket``."""
    import torch

    from affectllm.model.processor import IGNORE_INDEX

    length = batch["input_ids"].shape[1]
    extra = -length % bucket
    if extra == 0:
        return batch
    out = dict(batch)
    rows = batch["input_ids"].shape[0]
    out["input_ids"] = torch.cat([torch.full((rows, extra), pad_id, dtype=torch.long), batch["input_ids"]], 1)
    out["attention_mask"] = torch.cat([torch.zeros((rows, extra), dtype=torch.long), batch["attention_mask"]], 1)
    if "labels" in batch:
        out["labels"] = torch.cat([torch.full((rows, extra), IGNORE_INDEX, dtype=torch.long), batch["labels"]], 1)
    return out
