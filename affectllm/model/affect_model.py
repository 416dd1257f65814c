"""AffectLLM: frozen encoders → fusion adapter → any causal LM (LoRA via peft).

Placeholder tokens are added to the tokenizer only; their ids never reach the LLM's
embedding table (they are swapped for fused features first), so the base model and
its vocabulary stay untouched and the adapter loads with plain
``peft.PeftModel.from_pretrained``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from affectllm.config.schema import Config
from affectllm.model.conversation import CONTEXT_PREFIX, PLACEHOLDER_TOKENS
from affectllm.encoders import build_encoders, encode_batch
from affectllm.fusion import FusionAdapter, splice_media_tokens
from affectllm.model.processor import AffectProcessor, EncoderFeatures

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    missing = [t for t in PLACEHOLDER_TOKENS.values() if t not in tok.get_vocab()]
    if missing:
        tok.add_tokens(missing, special_tokens=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def trained_parts(cfg: Config, stage: str | None) -> frozenset[str]:
    """Which parts of the model learn in ``stage``: "fusion" (pooling, pre-fusion, projector, the dimensional
    head) always; "lora" in sft and grpo when LoRA is enabled (align trains the fusion alone); "encoders" with
    ``model.train_encoders``. ``stage`` None (inference): nothing. The LLM's own weights never train."""
    if stage is None:
        return frozenset()
    parts = {"fusion"}
    if stage != "align" and cfg.model.lora.enabled:
        parts.add("lora")
    if cfg.model.train_encoders:
        parts.add("encoders")
    return frozenset(parts)


def set_trainable(model: "AffectModel", stage: str | None) -> None:
    """Make exactly the parts of :func:`trained_parts` require gradients; inference (None) also sets eval mode."""
    parts = trained_parts(model.cfg, stage)
    model.requires_grad_(False)
    model.fusion.requires_grad_("fusion" in parts)
    if "lora" in parts:
        for name, param in model.llm.named_parameters():
            if "lora_" in name:  # peft's adapter tensors (lora_A / lora_B)
                param.requires_grad_(True)
    for encoder in model.encoders.values():
        encoder.set_trainable("encoders" in parts)
    if stage is None:
        model.eval()


@dataclass
class Embedded:
    """``AffectLLM.embed_inputs``: the LLM's input embeddings (B, L, H) with every feature spliced in, and the
    pre-fusion's fused tokens (n_any, K, d) of the rows ``fused_rows`` (n_any,) for the dimensional head."""

    embeds: torch.Tensor
    fused: torch.Tensor | None = None
    fused_rows: torch.Tensor | None = None


def lora_config(cfg: Config):
    from peft import LoraConfig

    lora = cfg.model.lora
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=lora.target_modules, task_type="CAUSAL_LM")


class AffectModel(nn.Module):
    """Encoders → fusion adapter → LLM: construction from a config, forward, generation. Saving and loading
    live in :mod:`affectllm.checkpoint.layout`; the user-facing class is :class:`affectllm.pretrained.AffectLLM`."""

    def __init__(self, cfg: Config, llm: nn.Module, tokenizer, encoders: dict, fusion: FusionAdapter):
        super().__init__()
        self.cfg = cfg
        self.llm = llm
        self.tokenizer = tokenizer
        self.encoders = nn.ModuleDict(encoders)
        self.fusion = fusion
        head = cfg.model.vad_head
        self.processor = AffectProcessor(tokenizer, dict(self.encoders), fusion.tokens_per_modality,
                                         cfg.data.media, cfg.data.max_length,
                                         vad_dims=tuple(head.dims) if head is not None else (),
                                         context_media=cfg.model.context_media)
        self.placeholder_ids = self.processor.placeholder_ids

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(cls, cfg: Config, tokenizer_path: str | None = None, adapter_path: str | None = None,
                    trainable: bool = True) -> "AffectModel":
        """Build from base checkpoints: load the LLM and encoders, make a fresh fusion adapter,
        wrap the LLM with LoRA (new, or loaded from ``adapter_path``). ``trainable``: the parts
        ``cfg.train.stage`` trains require gradients (see :func:`trained_parts`); else nothing does
        and the model is in eval mode."""
        from peft import PeftModel, get_peft_model
        from transformers import AutoModelForCausalLM

        dtype = DTYPES[cfg.model.dtype]
        llm = AutoModelForCausalLM.from_pretrained(cfg.model.llm, dtype=dtype)
        tokenizer = load_tokenizer(tokenizer_path or cfg.model.llm)
        if cfg.model.lora.enabled:
            if adapter_path:
                llm = PeftModel.from_pretrained(llm, adapter_path, is_trainable=trainable)
            else:
                llm = get_peft_model(llm, lora_config(cfg))
        if cfg.model.gradient_checkpointing:
            llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            llm.config.use_cache = False
        encoders = build_encoders(cfg.model)
        fusion = FusionAdapter(cfg.model, {m: e.output_dim for m, e in encoders.items()},
                               llm.get_input_embeddings().embedding_dim)
        model = cls(cfg, llm, tokenizer, encoders, fusion).to(dtype)
        set_trainable(model, cfg.train.stage if trainable else None)
        return model

    # ------------------------------------------------------------------ properties
    @property
    def device(self) -> torch.device:
        return self.fusion.projector.net[0].weight.device

    @property
    def base_llm(self) -> nn.Module:
        """The transformers model under any peft wrapper."""
        return self.llm.get_base_model() if hasattr(self.llm, "get_base_model") else self.llm

    @property
    def dimensional_head(self) -> nn.Module | None:
        """The valence/arousal/dominance head (``model.vad_head``), or None."""
        return self.fusion.vad_head

    def trainable_parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = {"fusion": [p for p in self.fusion.parameters() if p.requires_grad],
                  "llm": [p for p in self.llm.parameters() if p.requires_grad],
                  "encoders": [p for p in self.encoders.parameters() if p.requires_grad]}
        return {k: v for k, v in groups.items() if v}

    # ------------------------------------------------------------------ forward
    def encode(self, media_inputs: dict[str, dict[str, torch.Tensor]]) -> dict[str, tuple]:
        """Run each encoder on the rows that carry its modality: (seq (n, T, D), mask (n, T), rows (n,)).

        A ``features`` entry (from a feature cache) replaces running the encoder. A context turn's stream
        (key ``ctx_<modality>``, rows numbering the batch's encoded context turns) runs the same encoder."""
        encoded = {}
        for m, inputs in media_inputs.items():
            if "features" in inputs:
                seq, mask = inputs["features"].to(self.device), inputs["feature_mask"].to(self.device)
            else:
                enc_inputs = {k: v for k, v in inputs.items() if k != "rows"}
                seq, mask = self.encoder_for(m)(enc_inputs)
            encoded[m] = (seq, mask, inputs["rows"])
        return encoded

    def encoder_for(self, key: str) -> nn.Module:
        """The encoder of a ``media_inputs`` key: ``video`` and a context turn's ``ctx_video`` share one."""
        return self.encoders[key.removeprefix(CONTEXT_PREFIX)]

    @torch.no_grad()
    def precompute_features(self, media: dict[str, Any]) -> dict[str, Any]:
        """Run the frozen encoders once on one sample's media (a trainable encoder's input stays raw)."""
        frozen = {m: e for m, e in self.encoders.items() if not e.trainable}
        (features,) = encode_batch(frozen, [media])
        return {m: EncoderFeatures(features[m], torch.ones(len(features[m]), dtype=torch.bool)) if m in features
                else value for m, value in media.items()}

    def embed(self, input_ids: torch.Tensor, media_inputs: dict[str, Any]) -> torch.Tensor:
        """Token embeddings with media features spliced in: (B, L, H)."""
        return self.embed_inputs(input_ids, media_inputs).embeds

    def embed_inputs(self, input_ids: torch.Tensor, media_inputs: dict[str, Any]) -> Embedded:
        """Token embeddings with the sample's media and its context turns' media spliced in, plus the fused
        tokens the dimensional head reads. Context turns go through the same encoders and fusion as the
        sample, as a batch of their own; their tokens fill the ``<|affect_ctx_*|>`` placeholders."""
        input_ids = input_ids.to(self.device)
        placeholder = torch.zeros_like(input_ids, dtype=torch.bool)
        for token_id in self.placeholder_ids.values():
            placeholder |= input_ids == token_id
        safe_ids = input_ids.masked_fill(placeholder, 0)
        embeds = self.llm.get_input_embeddings()(safe_ids)
        encoded = self.encode(media_inputs) if media_inputs else {}
        own = {m: v for m, v in encoded.items() if not m.startswith(CONTEXT_PREFIX)}
        turns = {m.removeprefix(CONTEXT_PREFIX): v for m, v in encoded.items() if m.startswith(CONTEXT_PREFIX)}
        fused = self.fusion.fuse(own, input_ids.shape[0]) if own else None
        tokens = dict(fused.tokens) if fused is not None else {}
        if turns:  # every encoded context turn holds at least one stream, so the last row counts them
            n_turns = 1 + max(int(rows.max()) for _, _, rows in turns.values())
            tokens.update({CONTEXT_PREFIX + m: t for m, t in self.fusion.fuse(turns, n_turns).tokens.items()})
        by_id = {self.placeholder_ids[m]: tokens.get(m, embeds.new_zeros((0, embeds.shape[-1])))
                 for m in PLACEHOLDER_TOKENS}
        names = {token_id: f"<{m}> features" for m, token_id in self.placeholder_ids.items()}
        return Embedded(splice_media_tokens(embeds, input_ids, by_id, names),
                        fused.fused if fused is not None else None, fused.fused_rows if fused is not None else None)

    def rate_fused(self, embedded: Embedded, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Dimensional ratings from the fused tokens (``vad_head.source: fused``): (B, D) on [-1, 1] and a (B,)
        mask of the rows that have fused tokens (a sample with no media to fuse cannot be rated)."""
        head = self.fusion.vad_head
        param = next(head.parameters())
        pred = param.new_zeros((batch_size, len(head.dims)))
        valid = torch.zeros(batch_size, dtype=torch.bool, device=param.device)
        if embedded.fused is not None:
            pred = pred.index_put((embedded.fused_rows,), head(embedded.fused.mean(dim=1)))
            valid[embedded.fused_rows] = True
        return pred, valid

    def forward(self, batch: dict[str, Any]) -> Any:
        """Causal-LM loss over the unmasked (assistant) tokens; prompt tokens carry IGNORE_INDEX."""
        embeds = self.embed(batch["input_ids"], batch.get("media_inputs") or {})
        return self.llm(inputs_embeds=embeds, attention_mask=batch["attention_mask"].to(self.device),
                        labels=batch["labels"].to(self.device), use_cache=False)

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(self, batch: dict[str, Any], max_new_tokens: int = 256, do_sample: bool = False,
                 temperature: float = 0.7, top_p: float = 0.9, synced_gpus: bool = False) -> list[str]:
        """Batched generation from a left-padded batch, with the KV cache. Returns the new text per row.

        ``synced_gpus``: every rank keeps stepping until all are done (weights partitioned by ZeRO-3)."""
        return self.generate_rated(batch, max_new_tokens, do_sample, temperature, top_p, synced_gpus,
                                   rate=False)[0]

    @torch.no_grad()
    def generate_rated(self, batch: dict[str, Any], max_new_tokens: int = 256, do_sample: bool = False,
                       temperature: float = 0.7, top_p: float = 0.9, synced_gpus: bool = False,
                       rate: bool = True) -> tuple[list[str], list[dict[str, float] | None]]:
        """``generate``, plus each row's dimensional ratings on [-1, 1] from the head ({dimension: value}; None for
        a row the head cannot rate, and for every row without a head or with ``rate=False``)."""
        was_training = self.training
        self.eval()
        try:
            embedded = self.embed_inputs(batch["input_ids"], batch.get("media_inputs") or {})
            mask = batch["attention_mask"].to(self.device)
            kwargs = dict(do_sample=do_sample, synced_gpus=synced_gpus)
            if do_sample:
                kwargs.update(temperature=temperature, top_p=top_p)
            out = self.llm.generate(inputs_embeds=embedded.embeds, attention_mask=mask,
                                    max_new_tokens=max_new_tokens, use_cache=True,
                                    pad_token_id=self.tokenizer.pad_token_id,
                                    eos_token_id=self.tokenizer.eos_token_id, **kwargs)
            ratings: list[dict[str, float] | None] = [None] * out.shape[0]
            if rate and self.dimensional_head is not None:
                ratings = self.ratings(embedded, mask, out)
        finally:
            self.train(was_training)
        return self.tokenizer.batch_decode(out, skip_special_tokens=True), ratings

    def ratings(self, embedded: Embedded, prompt_mask: torch.Tensor, completion_ids: torch.Tensor
                ) -> list[dict[str, float] | None]:
        """Per row {dimension: value on [-1, 1]} from the head, for prompts (``embedded``, left-padded, with
        ``prompt_mask``) and their generated ``completion_ids`` (N, T); None where the head cannot rate a row."""
        from affectllm.model.answer_state import answer_states, completion_mask, eos_ids

        head = self.dimensional_head
        if self.cfg.model.vad_head.source == "fused":
            pred, valid = self.rate_fused(embedded, completion_ids.shape[0])
        else:
            keep, finished = completion_mask(completion_ids, eos_ids(self))
            pred = head(answer_states(self, embedded.embeds, prompt_mask, completion_ids, keep, finished))
            valid = torch.ones(pred.shape[0], dtype=torch.bool)
        return [dict(zip(head.dims, map(float, row))) if ok else None for row, ok in zip(pred.float().cpu(), valid)]

    def answer(self, samples: list[dict], root: Path | None = None, **gen_kwargs) -> list[str]:
        """Prepare, batch and generate for manifest-style samples (their last user turn is the question)."""
        prepared = [self.processor.prepare(s, root, generation=True) for s in samples]
        return self.generate(self.processor.collate(prepared, padding_side="left"), **gen_kwargs)
