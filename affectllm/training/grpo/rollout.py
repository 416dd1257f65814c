"""Rollouts: G sampled completions per prompt, scored by the rewards, turned into advantages.

One micro-batch of B prompts (left-padded, ``ManifestDataset(generation=True)``)
becomes N = B·G completions:

1. the frozen encoders run once per prompt (``encode_once``); the fused prompt
   embeddings are repeated G times and sampled from in one batched ``generate``
   call with the KV cache (sampling draws from torch's global RNG, which every
   training checkpoint saves, so a resumed run samples the same completions);
2. each completion is cut after its first EOS, decoded, parsed with the
   template of ``model.prompt`` and scored (``rewards``);
3. rewards are weighted, summed, and normalised within each group of G;
4. log-probabilities of the sampling policy (only needed when a rollout is
   optimised more than once) and of the reference policy (only when β > 0) are
   computed once, without gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

from affectllm.model.answer_state import answer_states, completion_mask, eos_ids
from affectllm.reasoning import parse_output
from affectllm.training.grpo.objective import completion_logps, group_advantages, repeat_rows
from affectllm.training.grpo.rewards import Completion, RewardContext, score, total_reward


@dataclass
class Rollout:
    """One micro-batch of B prompts and their N = B·G completions, ready for the loss."""

    batch: dict[str, Any]  # GRPOLoss input: prompt ids/mask/media (B, ...), completion ids/mask (N, T), advantages (N,)
    completions: list[Completion]  # (N,) in group order: prompt 0's G completions first
    rewards: dict[str, list[float | None]]  # reward name -> (N,) values
    total: torch.Tensor  # (N,) weighted reward
    ids: list[str]  # (B,) sample ids

    @property
    def completion_tokens(self) -> int:
        return int(self.batch["completion_mask"].sum())


def encode_once(model, media_inputs: dict[str, dict[str, torch.Tensor]]) -> dict[str, dict[str, torch.Tensor]]:
    """``media_inputs`` with every frozen encoder already run (its output stored as ``features``), so sampling,
    scoring and the update reuse one encoder pass. Trained encoders keep their raw inputs."""
    out = {}
    for m, inputs in media_inputs.items():
        if "features" in inputs or model.encoder_for(m).trainable:  # a context turn's stream too
            out[m] = inputs
            continue
        with torch.no_grad():
            seq, mask, rows = model.encode({m: inputs})[m]
        out[m] = {"features": seq, "feature_mask": mask, "rows": inputs["rows"]}
    return out


@torch.no_grad()
def sample_completions(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, media: dict,
                       settings, num_return: int, do_sample: bool = True,
                       synced_gpus: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``num_return`` completions per prompt of a left-padded batch: (B·n, T) generated tokens and the (B·n, Lp)
    prompt mask. Sampling follows ``train.grpo`` and nothing else: the model's own generation_config defaults
    (a repetition penalty, top-k 50) do not apply, because the loss scores plain temperature sampling."""
    from transformers import GenerationConfig

    was_training = model.training
    model.eval()
    try:
        embeds = repeat_rows(model.embed(input_ids, media), num_return)
        mask = repeat_rows(attention_mask.to(embeds.device), num_return)
        config = GenerationConfig(do_sample=do_sample, max_new_tokens=settings.max_new_tokens, use_cache=True,
                                  pad_token_id=model.tokenizer.pad_token_id, eos_token_id=eos_ids(model),
                                  **(dict(temperature=settings.temperature, top_p=settings.top_p,
                                          top_k=settings.top_k or None) if do_sample else {}))
        tokens = model.llm.generate(inputs_embeds=embeds, attention_mask=mask, generation_config=config,
                                    synced_gpus=synced_gpus)
    finally:
        model.train(was_training)
    return tokens, mask


def read_completions(model, tokens: torch.Tensor, template: str, ratings: list[dict[str, float]] | None = None
                     ) -> tuple[list[Completion], torch.Tensor]:
    """Cut, decode and parse (N, T) generated tokens; returns the completions and their (N, T) mask.
    ``ratings``: each completion's dimensional ratings (``rate_completions``)."""
    mask, finished = completion_mask(tokens, eos_ids(model))
    out = []
    for i, (row, keep, done) in enumerate(zip(tokens, mask, finished)):
        text = model.tokenizer.decode(row[keep], skip_special_tokens=True)
        out.append(Completion(text=text, parsed=parse_output(template, text), num_tokens=int(keep.sum()),
                              finished=bool(done), vad=ratings[i] if ratings else None))
    return out, mask


@torch.no_grad()
def rate_completions(model, prompt: torch.Tensor, prompt_mask: torch.Tensor, tokens: torch.Tensor
                     ) -> list[dict[str, float]]:
    """The dimensional head's ratings of each completion, read at its answer marker (``affectllm.model.answer_state``):
    ``prompt`` (N, Lp, H) fused prompt embeddings repeated per completion, ``tokens`` (N, T)."""
    was_training = model.training
    model.eval()
    try:
        keep, finished = completion_mask(tokens, eos_ids(model))
        pred = model.dimensional_head(answer_states(model, prompt, prompt_mask, tokens, keep, finished))
    finally:
        model.train(was_training)
    dims = model.dimensional_head.dims
    return [dict(zip(dims, map(float, row))) for row in pred.float().cpu()]


@torch.no_grad()
def rollout(model, batch: dict[str, Any], gold: list[Mapping[str, Any]], settings, ctx: RewardContext,
            weights: Mapping[str, float], reference=None, synced_gpus: bool = False) -> Rollout:
    """Sample, score and prepare one micro-batch (``batch``: a left-padded collated prompt batch; ``gold``: its
    B manifest samples). ``weights``: reward name -> weight for every reward to compute (0 = logged only).
    ``reference``: an explicit reference AffectLLM, else this model with its adapter disabled."""
    g = settings.group_size
    media = encode_once(model, batch.get("media_inputs") or {})
    tokens, prompt_mask = sample_completions(model, batch["input_ids"], batch["attention_mask"], media, settings,
                                             g, synced_gpus=synced_gpus)
    ratings = None
    if "vad" in weights:  # setup allows it only with a head at the answer marker
        ratings = rate_completions(model, repeat_rows(model.embed(batch["input_ids"], media), g), prompt_mask, tokens)
    completions, mask = read_completions(model, tokens, ctx.template, ratings)
    names = list(weights)
    rewards: dict[str, list[float | None]] = {name: [] for name in names}
    totals = []
    for i, completion in enumerate(completions):
        scores = score(gold[i // g], completion, ctx, names)
        for name in names:
            rewards[name].append(scores[name])
        totals.append(total_reward(scores, weights))
    total = torch.tensor(totals, dtype=torch.float32)
    step_batch = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "media_inputs": media,
                  "completion_ids": tokens, "completion_mask": mask,
                  "advantages": group_advantages(total, g, settings.scale_rewards)}
    if settings.updates_per_rollout > 1 or settings.kl_beta:
        was_training = model.training
        model.eval()
        try:
            prompt = repeat_rows(model.embed(batch["input_ids"], media), g)
            if settings.updates_per_rollout > 1:
                step_batch["old_logps"] = completion_logps(model, prompt, prompt_mask, tokens, mask,
                                                           settings.temperature)
            if settings.kl_beta:
                step_batch["ref_logps"] = reference_logps(model, reference, batch, media, prompt, prompt_mask,
                                                          tokens, mask, settings)
        finally:
            model.train(was_training)
    return Rollout(step_batch, completions, rewards, total, list(batch["ids"]))


def reference_logps(model, reference, batch, media, prompt, prompt_mask, tokens, mask, settings) -> torch.Tensor:
    """(N, T) log-probabilities under the reference policy: the explicit reference model when given, else this
    model's LLM with its LoRA adapter disabled (peft ``disable_adapter``) on the same fused prompt."""
    if reference is not None:
        ref_prompt = repeat_rows(reference.embed(batch["input_ids"], media), settings.group_size)
        return completion_logps(reference, ref_prompt, prompt_mask, tokens, mask, settings.temperature)
    with model.llm.disable_adapter():
        return completion_logps(model, prompt, prompt_mask, tokens, mask, settings.temperature)
