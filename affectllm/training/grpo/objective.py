"""The GRPO objective: completion log-probabilities, group-normalised advantages, the clipped policy loss.

For completion i of a group of G, with advantage A_i and per-token ratio
r_t = π(y_t | ·) / π_old(y_t | ·)::

    loss_t = -min(r_t · A_i, clip(r_t, 1 - ε, 1 + ε) · A_i) + β · KL_t
    KL_t   = exp(ref_t - logp_t) - (ref_t - logp_t) - 1       (k3 estimator, ≥ 0, unbiased)

averaged over each completion's tokens and then over completions (``sequence``,
as in DeepSeekMath's GRPO) or over all completion tokens of the micro-batch
(``token``). Log-probabilities are taken at the sampling temperature, so the
ratio compares the distribution the tokens were drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from affectllm.model.answer_state import join_prompt_and_completion
from affectllm.training.loss import head_is_plain
from affectllm.training.stage_loss import StageLoss

ADVANTAGE_EPS = 1e-4  # keeps a group of identical rewards at advantage 0 instead of 0 / 0


def group_advantages(rewards: torch.Tensor, group_size: int, scale: bool = True) -> torch.Tensor:
    """(N,) rewards of N = B·G completions, grouped by prompt → (N,) advantages.

    Each reward minus its group's mean, divided by the group's (unbiased) standard deviation when ``scale``."""
    grouped = rewards.view(-1, group_size)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    if scale:
        centred = centred / (grouped.std(dim=1, keepdim=True) + ADVANTAGE_EPS)
    return centred.reshape(-1)


def completion_logps(model, prompt_embeds: torch.Tensor, prompt_mask: torch.Tensor, completion_ids: torch.Tensor,
                     completion_mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Log-probabilities of the completion tokens under ``model``'s LLM (adapter state as it is now).

    ``prompt_embeds`` (N, Lp, H) left-padded with ``prompt_mask`` (N, Lp); ``completion_ids`` (N, T) right-padded
    with ``completion_mask`` (N, T). Returns (N, T) float32, 0 where the mask is 0. Positions count real tokens
    only, as ``generate`` numbers them for a left-padded prompt. The vocabulary projection runs only at completion
    tokens when the head is plain (``head_is_plain``).
    """
    llm = model.llm
    embeds, mask, positions = join_prompt_and_completion(llm, prompt_embeds, prompt_mask, completion_ids,
                                                         completion_mask)
    start, length = prompt_embeds.shape[1] - 1, completion_ids.shape[1]  # position t predicts token t + 1
    keep = completion_mask.to(embeds.device).bool()
    targets = completion_ids.to(embeds.device)[keep]
    base = model.base_llm
    if head_is_plain(base):
        hidden = base.get_decoder()(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                                    use_cache=False).last_hidden_state
        logits = base.get_output_embeddings()(hidden[:, start:start + length][keep]).float()
    else:
        logits = llm(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                     use_cache=False).logits[:, start:start + length][keep].float()
    picked = -F.cross_entropy(logits / temperature, targets, reduction="none")
    out = torch.zeros(completion_ids.shape, dtype=torch.float32, device=embeds.device)
    return out.masked_scatter(keep, picked)


@dataclass
class ObjectiveStats:
    """Per micro-batch diagnostics (detached): mean KL per token, share of clipped tokens."""

    kl: float
    clip_fraction: float


def clipped_objective(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                      clip_eps: float, ref_logps: torch.Tensor | None = None, kl_beta: float = 0.0,
                      aggregation: str = "sequence") -> tuple[torch.Tensor, ObjectiveStats]:
    """The GRPO loss of the module docstring. ``logps``/``old_logps``/``ref_logps``/``mask``: (N, T);
    ``advantages``: (N,). Returns the scalar loss and its statistics."""
    mask = mask.to(logps.dtype)
    adv = advantages.to(logps.device, logps.dtype).unsqueeze(1)
    ratio = torch.exp(logps - old_logps)
    unclipped, clipped = ratio * adv, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * adv
    per_token = -torch.min(unclipped, clipped)
    kl = None
    if ref_logps is not None and kl_beta:
        delta = ref_logps - logps
        kl = torch.exp(delta) - delta - 1
        per_token = per_token + kl_beta * kl
    tokens = mask.sum().clamp(min=1)
    if aggregation == "sequence":
        loss = ((per_token * mask).sum(1) / mask.sum(1).clamp(min=1)).mean()
    else:
        loss = (per_token * mask).sum() / tokens
    with torch.no_grad():
        was_clipped = ((ratio < 1 - clip_eps) & (adv < 0)) | ((ratio > 1 + clip_eps) & (adv > 0))
        stats = ObjectiveStats(kl=float((kl * mask).sum() / tokens) if kl is not None else 0.0,
                               clip_fraction=float((was_clipped.to(mask.dtype) * mask).sum() / tokens))
    return loss, stats


def repeat_rows(tensor: torch.Tensor, group_size: int) -> torch.Tensor:
    """(B, ...) → (B·G, ...): each prompt's row once per completion of its group."""
    return tensor.repeat_interleave(group_size, dim=0)


class GRPOLoss(StageLoss):
    """Wraps an AffectLLM: ``forward(batch)`` returns the GRPO loss of one rollout micro-batch
    (``affectllm.training.grpo.rollout.Rollout.batch``). The module DeepSpeed or DDP wraps; sampling runs
    inside its forward too (``affectllm.training.stage_loss``).

    The prompt is embedded again here, with gradients, so the fusion adapter learns too."""

    def __init__(self, model: nn.Module, settings):
        super().__init__(model)
        self.settings = settings
        self.stats = ObjectiveStats(0.0, 0.0)

    def loss(self, batch: dict[str, Any]) -> torch.Tensor:
        s, m = self.settings, self.model
        prompt = repeat_rows(m.embed(batch["input_ids"], batch["media_inputs"]), s.group_size)
        prompt_mask = repeat_rows(batch["attention_mask"].to(prompt.device), s.group_size)
        logps = completion_logps(m, prompt, prompt_mask, batch["completion_ids"], batch["completion_mask"],
                                 s.temperature)
        old = batch.get("old_logps")
        ref = batch.get("ref_logps")
        loss, self.stats = clipped_objective(
            logps, old.to(logps.device) if old is not None else logps.detach(), batch["advantages"],
            batch["completion_mask"].to(logps.device), s.clip_eps, ref.to(logps.device) if ref is not None else None,
            s.kl_beta, s.loss_aggregation)
        return loss
