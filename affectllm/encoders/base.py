"""What every frozen media encoder shares: freezing, no_grad, and the (features, mask) output."""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn


class MediaEncoder(nn.Module):
    """Wraps a transformers model. Subclasses implement ``preprocess`` (CPU, DataLoader
    workers) and ``encode`` (device): ``encode`` returns features (N, T, D) and a bool
    mask (N, T) marking real positions."""

    modality: str = ""

    def __init__(self, model: nn.Module, output_dim: int, trainable: bool = False):
        super().__init__()
        self.model = model
        self.output_dim = output_dim
        self.set_trainable(trainable)

    def set_trainable(self, trainable: bool) -> None:
        """A frozen encoder needs no gradients and runs in eval mode under no_grad (``affectllm.model.affect_model.set_trainable``
        decides which encoders train)."""
        self.trainable = trainable
        self.model.requires_grad_(trainable)
        if not trainable:
            self.model.eval()

    def train(self, mode: bool = True) -> "MediaEncoder":
        # a frozen encoder stays in eval mode (no dropout) whatever the caller does
        super().train(mode)
        if not self.trainable:
            self.model.eval()
        return self

    def preprocess(self, items: list[Any]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def encode(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def forward(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        ctx = contextlib.nullcontext() if self.trainable else torch.no_grad()
        device = next(self.model.parameters()).device
        dtype = next(self.model.parameters()).dtype
        moved = {k: (v.to(device, dtype) if v.is_floating_point() else v.to(device)) for k, v in inputs.items()}
        with ctx:
            feats, mask = self.encode(moved)
        return feats, mask

    def config_signature(self) -> dict[str, Any]:
        """What determines this encoder's output (used to key feature caches)."""
        cfg = self.model.config
        return {"modality": self.modality, "model_type": cfg.model_type,
                "name_or_path": getattr(cfg, "_name_or_path", ""), "output_dim": self.output_dim}
