"""The training loss, projecting onto the vocabulary only where a token trains.

A causal LM's forward computes logits — (batch, length, vocab), upcast to float32 for
the loss — at every position, yet only assistant tokens carry labels. For a 152k
vocabulary that tensor is ~0.6 MB per token; computing the head only at labelled
positions gives the same loss (mean cross-entropy over labelled next-token
predictions, as transformers computes it) with less memory and head compute.

With a dimensional head (``model.vad_head``) the loss is ``lm + λ · Σ_d (1 − CCC_d)``
(``affectllm.fusion.vad_head``): the head reads the fused tokens of the same forward
pass, or the LLM's last hidden state at each sample's answer marker.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from affectllm.model.answer_state import last_hidden
from affectllm.core.errors import ConfigError
from affectllm.fusion.vad_head import ccc_loss
from affectllm.model.processor import IGNORE_INDEX
from affectllm.training.packing import pack_rows, packed_places, plan_packing
from affectllm.training.stage_loss import StageLoss


def head_is_plain(llm: nn.Module) -> bool:
    """True when logits are just ``lm_head(hidden)`` (no soft-capping or scaling to reproduce)."""
    cfg = llm.config
    return (hasattr(llm, "get_decoder") and llm.get_output_embeddings() is not None
            and getattr(cfg, "final_logit_softcapping", None) is None
            and getattr(cfg, "logit_scale", None) in (None, 1.0)
            and getattr(cfg, "logits_scaling", None) in (None, 1.0))


class AnswerLoss(StageLoss):
    """Wraps an AffectLLM: ``forward(batch)`` returns the scalar loss (``loss``). The module DeepSpeed or DDP wraps.

    After each forward, ``parts`` holds the detached pieces of the last micro-batch's loss: ``lm``, and with a
    dimensional head ``vad`` (Σ 1 − CCC) and ``ccc`` per dimension scored."""

    def __init__(self, model: nn.Module, packing: bool = False):
        super().__init__(model)
        self.selective = head_is_plain(model.base_llm)
        self.packing = packing
        self.parts: dict[str, Any] = {}
        if packing and not self.selective:
            raise ConfigError(f"data.packing needs an LLM whose logits are lm_head(hidden); "
                              f"{model.base_llm.config.model_type} scales or caps them — set data.packing=false")

    def loss(self, batch: dict[str, Any]) -> torch.Tensor:
        m = self.model
        rated = m.dimensional_head is not None and "vad_targets" in batch
        llm_last = rated and m.cfg.model.vad_head.source == "llm_last"
        embedded = m.embed_inputs(batch["input_ids"], batch.get("media_inputs") or {})
        embeds = embedded.embeds
        markers = batch["answer_at"].to(embeds.device) if llm_last else None
        if not self.selective:
            out = m.llm(inputs_embeds=embeds, attention_mask=batch["attention_mask"].to(embeds.device),
                        labels=batch["labels"].to(embeds.device), use_cache=False, output_hidden_states=llm_last)
            lm, hidden = out.loss, (out.hidden_states[-1] if llm_last else None)
            if llm_last:
                markers = (torch.arange(len(markers), device=embeds.device), markers)
        else:
            lm, hidden, markers = self._selective_lm(batch, embeds, markers)
        self.parts = {"lm": float(lm.detach())}
        if not rated:
            return lm
        if llm_last:
            rows, at = markers
            valid = at >= 0
            pred = m.dimensional_head(hidden[rows, at.clamp(min=0)])  # (B, D)
        else:
            pred, valid = m.rate_fused(embedded, embeds.shape[0])
        mask = batch["vad_mask"].to(pred.device) & valid.to(pred.device)[:, None]
        vad, scored = ccc_loss(pred, batch["vad_targets"], mask)
        dims = m.dimensional_head.dims
        self.parts.update(vad=float(vad.detach()), ccc={dims[d]: value for d, value in scored.items()})
        return lm + m.cfg.model.vad_head.loss_weight * vad

    def _selective_lm(self, batch: dict[str, Any], embeds: torch.Tensor, markers: torch.Tensor | None):
        """LM loss with the vocabulary projection at labelled positions only; returns (loss, hidden (R, L, H),
        markers as (rows, positions) into ``hidden`` or None). With packing, R is the number of packed rows."""
        m = self.model
        base = m.base_llm
        labels = batch["labels"].to(embeds.device)
        if self.packing:
            lengths = batch["attention_mask"].sum(1).tolist()  # right-padded rows
            plan = plan_packing(lengths, m.cfg.data.max_length)
            embeds, positions, labels = pack_rows(embeds, labels, lengths, plan)
            hidden = last_hidden(m, embeds, None, positions)
            if markers is not None:
                places = packed_places(lengths, plan)
                rows = torch.tensor([places[i][0] for i in range(len(lengths))], device=embeds.device)
                offsets = torch.tensor([places[i][1] for i in range(len(lengths))], device=embeds.device)
                markers = (rows, torch.where(markers >= 0, markers + offsets, markers))
        else:
            hidden = last_hidden(m, embeds, batch["attention_mask"].to(embeds.device))  # (B, L, H)
            if markers is not None:
                markers = (torch.arange(len(markers), device=embeds.device), markers)
        targets = labels[:, 1:]  # position t predicts token t + 1
        keep = targets != IGNORE_INDEX
        logits = base.get_output_embeddings()(hidden[:, :-1][keep]).float()  # (n_labelled, vocab)
        if logits.shape[0] == 0:
            return logits.sum(), hidden, markers  # keeps the graph (and ranks' collectives) intact
        return F.cross_entropy(logits, targets[keep]), hidden, markers
