"""The text head's frozen encoder (all-MiniLM-L6-v2, a 6-layer BERT) run with torch alone.

transformers' BERT gives the same hidden states, but importing its modeling stack costs
about 4 CPU-seconds, most of a cold one-clip caption; this reads the same folder
(``config.json``, ``model.safetensors``, ``tokenizer.json``) with torch and the
``tokenizers`` library and runs the same arithmetic: post-LayerNorm blocks, exact GELU,
absolute positions, token type 0. ``tests/test_cues_minilm.py`` holds it to
transformers' hidden states.

    enc = MiniLMEncoder(minilm_dir())
    inputs = enc.preprocess(["I can't believe it!"])
    states = enc.hidden_states(inputs)  # layers + 1 tensors (N, L, hidden)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch.nn import functional as F

from affectllm.core.errors import AffectLLMError

FILES = ("config.json", "model.safetensors", "tokenizer.json")


class MiniLMEncoder:
    """A BERT folder -> per-layer hidden states; frozen, CPU, float32."""

    def __init__(self, folder: str | Path, max_tokens: int = 128):
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        missing = [f for f in FILES if not (folder / f).is_file()]
        if missing:
            raise AffectLLMError(f"{folder}: not a BERT encoder folder (no {', '.join(missing)}); point to "
                                 "all-MiniLM-L6-v2 as saved by transformers")
        cfg = json.loads((folder / "config.json").read_text())
        if cfg.get("model_type") != "bert" or cfg.get("hidden_act", "gelu") != "gelu" \
                or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise AffectLLMError(f"{folder}: a {cfg.get('model_type')} model; the text head's encoder is a BERT "
                                 "with GELU and absolute positions (all-MiniLM-L6-v2)")
        self.layers = int(cfg["num_hidden_layers"])
        self.hidden_size = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        # checkpoints saved from BertForX carry a "bert." prefix; the encoder's names are the same below it
        self.w = {k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=int(cfg.get("pad_token_id", 0)), pad_token="[PAD]")  # to the longest

    def preprocess(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """texts -> {"input_ids", "attention_mask"}: (N, L) int64, padded to the longest, [CLS] ... [SEP]."""
        encoded = self.tokenizer.encode_batch(texts)
        return {"input_ids": torch.tensor([e.ids for e in encoded], dtype=torch.long),
                "attention_mask": torch.tensor([e.attention_mask for e in encoded], dtype=torch.long)}

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (self.hidden_size,), self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def _attention(self, h: torch.Tensor, mask: torch.Tensor, prefix: str) -> torch.Tensor:
        n, length, _ = h.shape
        q, k, v = (self._linear(h, f"{prefix}.{p}").view(n, length, self.heads, -1).transpose(1, 2)
                   for p in ("query", "key", "value"))
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (N, heads, L, head_dim)
        return context.transpose(1, 2).reshape(n, length, self.hidden_size)

    @torch.no_grad()
    def hidden_states(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """The embeddings and every layer's output: ``layers + 1`` tensors (N, L, hidden)."""
        ids = inputs["input_ids"]
        w = self.w
        # the additions in transformers' order, so the float sums match it
        h = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.token_type_embeddings.weight"][0]
        h = self._norm(h + w["embeddings.position_embeddings.weight"][: ids.shape[1]], "embeddings.LayerNorm")
        mask = inputs["attention_mask"].bool()[:, None, None, :]  # keys that are padding are never attended
        states = [h]
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            a = self._attention(h, mask, f"{p}.attention.self")
            h = self._norm(self._linear(a, f"{p}.attention.output.dense") + h, f"{p}.attention.output.LayerNorm")
            inner = F.gelu(self._linear(h, f"{p}.intermediate.dense"))
            h = self._norm(self._linear(inner, f"{p}.output.dense") + h, f"{p}.output.LayerNorm")
            states.append(h)
        return tuple(states)
