"""A BERT-family text encoder over the subtitle or transcript."""

from __future__ import annotations

import torch

from affectllm.encoders.base import MediaEncoder


class TextEncoder(MediaEncoder):
    modality = "text"

    def __init__(self, path: str, trainable: bool = False, max_tokens: int = 128):
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(path)
        super().__init__(model, model.config.hidden_size, trainable)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.max_tokens = max_tokens

    def preprocess(self, texts: list[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def encode(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        return out.last_hidden_state, inputs["attention_mask"].bool()
