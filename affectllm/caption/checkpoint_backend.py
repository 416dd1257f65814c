"""Caption with a trained AffectLLM checkpoint: batched, left-padded, greedy generation.

The CPU half (``CheckpointPreparer``: decode, render the prompt, collate, encoder
preprocessing) runs in DataLoader workers; the model half (encoders batched across
clips, fusion, LLM generation with the KV cache) runs in the main process.

An answer the checkpoint's parser cannot read is *not* an error: the model ran, so
the record keeps ``error: null``, ``emotions: []``, the raw text in ``raw_output``
and the reason in ``parse_error``. ``error`` stays reserved for inputs or batches
that could not be processed at all, so a rerun with a better model is what fixes
the former and a fixed input what fixes the latter.
"""

from __future__ import annotations

from pathlib import Path

from affectllm.caption.inference import InferenceOptions, pad_left_to_bucket, prepare_for_inference
from affectllm.caption.inputs import CaptionItem
from affectllm.processor import inference_sample
from affectllm.prompts import PromptTemplate
from affectllm.records import ResultRecord

MEDIA_TAGS = "<video><audio>"


class CheckpointPreparer:
    """Worker-safe CPU work for one model: the processor and the fixed question."""

    def __init__(self, processor, question: str, length_bucket: int | None = None):
        self.processor = processor
        self.question = question
        self.length_bucket = length_bucket

    def prepare(self, item: CaptionItem):
        """Decode and tokenize one item; raises AffectLLMError (MediaError) for unusable media."""
        sample = inference_sample(item.path, self.question, item.subtitle, item.id)
        if item.audio_path:
            sample["audios"] = [item.audio_path]
        return self.processor.prepare(sample, generation=True)

    def collate(self, prepared: list) -> dict:
        """Left-padded batch: input_ids / attention_mask (B, L) and per-modality encoder inputs."""
        batch = self.processor.collate(prepared, padding_side="left")
        if self.length_bucket:
            batch = pad_left_to_bucket(batch, self.length_bucket, self.processor.tokenizer.pad_token_id)
        return batch


def answer_record(prompt_name: str, item: CaptionItem, text: str, model_name: str) -> ResultRecord:
    """The result record for one generated answer (see the module docstring for unparseable answers)."""
    from affectllm.reasoning import parse_output

    parsed = parse_output(prompt_name, text)
    rec = ResultRecord(id=item.id, path=item.path, emotions=list(parsed.emotions) if parsed.ok else [],
                       explanation=parsed.explanation, reasoning=dict(parsed.sections), model=model_name)
    if not parsed.ok:
        rec.extra["parse_error"] = f"no emotion list could be read from the {prompt_name} answer"
    rec.extra["raw_output"] = text
    return rec


class CheckpointBackend:
    """Wraps ``AffectLLM.from_checkpoint``; the checkpoint's own prompt template asks and parses.

    ``prompt``: another template name, or a PromptTemplate the user loaded from a file
    (``affectllm.prompts.load_prompt_file``); its answers are parsed with the parser of its
    ``name`` when one exists, else the checkpoint's own. ``base`` / ``trusted``: base model
    paths passed explicitly (``affectllm.checkpoint``)."""

    def __init__(self, checkpoint: str | Path | None = None, prompt: "str | PromptTemplate | None" = None,
                 max_new_tokens: int = 256, do_sample: bool = False, device: str | None = None,
                 options: InferenceOptions = InferenceOptions(), model=None, name: str | None = None,
                 base: dict[str, str] | None = None, trusted: tuple = ()):
        import torch

        from affectllm.model import AffectLLM
        from affectllm.prompts import load_prompt
        from affectllm.reasoning import PARSERS

        self.model = model if model is not None else AffectLLM.from_checkpoint(checkpoint, base=base, trusted=trusted)
        if device:
            self.model.to(torch.device(device))
        self.setup = prepare_for_inference(self.model, options)
        self.name = name or str(checkpoint)
        self.template = load_prompt(prompt or self.model.cfg.model.prompt)
        self.prompt_name = self.template.name if self.template.name in PARSERS else self.model.cfg.model.prompt
        self.gen_kwargs = {"max_new_tokens": max_new_tokens, "do_sample": do_sample}
        bucket = options.length_bucket if (options.static_cache or options.compile_mode) else None
        self._preparer = CheckpointPreparer(self.model.processor, self.question(), bucket)

    def question(self) -> str:
        from affectllm.prompts import render_prompt

        # the subtitle reaches the model through the processor's own subtitle line
        return MEDIA_TAGS + render_prompt(self.template, cues=None, subtitle=None).strip()

    def preparer(self) -> CheckpointPreparer:
        return self._preparer

    def caption_batch(self, items: list[CaptionItem], batch: dict) -> list[ResultRecord]:
        """Encoders, fusion and generation for one collated batch; one record per item, in order."""
        texts = self.model.generate(batch, **self.gen_kwargs)
        return [answer_record(self.prompt_name, it, text, self.name) for it, text in zip(items, texts)]

    def caption(self, items: list[CaptionItem]) -> list[ResultRecord]:
        """Unpipelined convenience (the demo): prepare here, then ``caption_batch``."""
        from affectllm.caption.engine import caption_now

        return caption_now(self, items)
