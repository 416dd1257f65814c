"""The training loss, projecting onto the vocabulary only where a token trains.

A causal LM's forward computes logits — (batch, length, vocab), upcast to float32 for
the loss — at every position, yet only assistant tokens carry labels. For a 152k
vocabulary that tensor is ~0.6 MB per token; computing the head only at labelled
positions gives the same loss (mean cross-entropy over labelled next-token
predictions, as transformers computes it) with less memory and head compute.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from affectllm.errors import ConfigError
from affectllm.processor import IGNORE_INDEX
from affectllm.training.packing import pack_rows, plan_packing


def head_is_plain(llm: nn.Module) -> bool:
    """True when logits are just ``lm_head(hidden)`` (no soft-capping or scaling to reproduce)."""
    cfg = llm.config
    return (hasattr(llm, "get_decoder") and llm.get_output_embeddings() is not None
            and getattr(cfg, "final_logit_softcapping", None) is None
            and getattr(cfg, "logit_scale", None) in (None, 1.0)
            and getattr(cfg, "logits_scaling", None) in (None, 1.0))


class AnswerLoss(nn.Module):
    """Wraps an AffectLLM: ``forward(batch)`` returns the scalar loss. The module DeepSpeed or DDP wraps."""

    def __init__(self, model: nn.Module, packing: bool = False):
        super().__init__()
        self.model = model
        self.selective = head_is_plain(model.base_llm)
        self.packing = packing
        if packing and not self.selective:
            raise ConfigError(f"data.packing needs an LLM whose logits are lm_head(hidden); "
                              f"{model.base_llm.config.model_type} scales or caps them — set data.packing=false")

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        m = self.model
        if not self.selective:
            return m(batch).loss
        base = m.base_llm
        embeds = m.embed(batch["input_ids"], batch.get("media_inputs") or {})
        labels = batch["labels"].to(embeds.device)
        if self.packing:
            lengths = batch["attention_mask"].sum(1).tolist()  # right-padded rows
            embeds, positions, labels = pack_rows(embeds, labels, lengths,
                                                  plan_packing(lengths, m.cfg.data.max_length))
            hidden = base.get_decoder()(inputs_embeds=embeds, position_ids=positions, attention_mask=None,
                                        use_cache=False).last_hidden_state
        else:
            hidden = base.get_decoder()(inputs_embeds=embeds, attention_mask=batch["attention_mask"].to(embeds.device),
                                        use_cache=False).last_hidden_state  # (B, L, H)
        targets = labels[:, 1:]  # position t predicts token t + 1
        keep = targets != IGNORE_INDEX
        logits = base.get_output_embeddings()(hidden[:, :-1][keep]).float()  # (n_labelled, vocab)
        if logits.shape[0] == 0:
            return logits.sum()  # keeps the graph (and ranks' collectives) intact
        return F.cross_entropy(logits, targets[keep])
