"""Helpers shared by the model tests."""

from __future__ import annotations

from pathlib import Path


def trained_looking_model(checkpoint: Path, seed: int, **paths):
    """The checkpoint's model with its trainable (LoRA, fusion) weights moved away from their init, so a
    save/load/merge round trip is not trivially comparing zeros."""
    import torch

    from affectllm.pretrained import AffectLLM

    model = AffectLLM.from_checkpoint(checkpoint, trainable=True, **paths)
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.05)
    return model
