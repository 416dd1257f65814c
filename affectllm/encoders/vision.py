"""Any transformers vision tower (CLIP, SigLIP, ViT, DINOv2) applied frame by frame."""

from __future__ import annotations

import numpy as np
import torch

from affectllm.encoders.base import MediaEncoder

# Dual-tower checkpoints whose vision half loads on its own.
_VISION_ONLY = {"clip": "CLIPVisionModel", "siglip": "SiglipVisionModel", "siglip2": "Siglip2VisionModel"}


def load_vision_tower(path: str) -> torch.nn.Module:
    import transformers
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(path)
    model_type = config.model_type.removesuffix("_vision_model")
    if model_type in _VISION_ONLY:
        return getattr(transformers, _VISION_ONLY[model_type]).from_pretrained(path)
    model = AutoModel.from_pretrained(path)
    return getattr(model, "vision_model", model)


def _image_processor(path: str):
    from transformers import AutoImageProcessor
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()  # the torchvision-less fallback warning is expected on CPU installs
    try:
        return AutoImageProcessor.from_pretrained(path)
    finally:
        logging.set_verbosity(level)


class VisionTowerEncoder(MediaEncoder):
    modality = "video"

    def __init__(self, path: str, trainable: bool = False):
        tower = load_vision_tower(path)
        super().__init__(tower, tower.config.hidden_size, trainable)
        self.image_processor = _image_processor(path)

    def preprocess(self, videos: list[np.ndarray]) -> dict[str, torch.Tensor]:
        """(F, H, W, 3) uint8 frame stacks → pixel values (N, F_max, 3, S, S) and frame counts (N,)."""
        counts = [len(v) for v in videos]
        flat = [frame for v in videos for frame in v]
        pixels = self.image_processor(images=flat, return_tensors="pt")["pixel_values"]
        out = pixels.new_zeros((len(videos), max(counts), *pixels.shape[1:]))
        start = 0
        for i, n in enumerate(counts):
            out[i, :n] = pixels[start:start + n]
            start += n
        return {"pixel_values": out, "lengths": torch.tensor(counts)}

    def encode(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        pixels, lengths = inputs["pixel_values"], inputs["lengths"]
        n, f = pixels.shape[:2]
        mask = torch.arange(f, device=pixels.device)[None, :] < lengths.to(pixels.device)[:, None]
        out = self.model(pixel_values=pixels[mask])  # only real frames go through the tower
        pooled = getattr(out, "pooler_output", None)
        if pooled is None or pooled.dim() != 2:
            pooled = out.last_hidden_state[:, 0]  # CLS token
        feats = pooled.new_zeros((n, f, pooled.shape[-1]))
        feats[mask] = pooled
        return feats, mask
