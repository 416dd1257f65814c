"""Caption with a trained AffectLLM checkpoint: batched, left-padded, greedy generation."""

from __future__ import annotations

from pathlib import Path

from affectllm.caption.inputs import CaptionItem
from affectllm.errors import AffectLLMError
from affectllm.processor import inference_sample
from affectllm.records import ResultRecord

MEDIA_TAGS = "<video><audio>"


class CheckpointBackend:
    """Wraps ``AffectLLM.from_checkpoint``; the checkpoint's own prompt template asks and parses."""

    def __init__(self, checkpoint: str | Path, prompt: str | None = None, max_new_tokens: int = 256,
                 do_sample: bool = False, device: str | None = None):
        import torch

        from affectllm.model import AffectLLM

        self.model = AffectLLM.from_checkpoint(checkpoint)
        if device:
            self.model.to(torch.device(device))
        self.name = str(checkpoint)
        self.prompt_name = prompt or self.model.cfg.model.prompt
        self.gen_kwargs = {"max_new_tokens": max_new_tokens, "do_sample": do_sample}

    def question(self) -> str:
        from affectllm.prompts import render_prompt

        # the subtitle reaches the model through the processor's own subtitle line
        return MEDIA_TAGS + render_prompt(self.prompt_name, cues=None, subtitle=None).strip()

    def prepare(self, item: CaptionItem):
        """CPU work for one item (decode, tokenize); raises AffectLLMError for bad media."""
        sample = inference_sample(item.path, self.question(), item.subtitle, item.id)
        if item.audio_path:
            sample["audios"] = [item.audio_path]
        return self.model.processor.prepare(sample, generation=True)

    def caption_prepared(self, items: list[CaptionItem], prepared: list) -> list[ResultRecord]:
        from affectllm.reasoning import parse_output

        batch = self.model.processor.collate(prepared, padding_side="left")
        texts = self.model.generate(batch, **self.gen_kwargs)
        records = []
        for item, text in zip(items, texts):
            rec = parse_output(self.prompt_name, text).to_record(item.id, item.path, self.name)
            rec.extra["raw_output"] = text
            records.append(rec)
        return records

    def caption(self, items: list[CaptionItem]) -> list[ResultRecord]:
        """One record per item; a bad item gets an error record, the others still run."""
        good, prepared, records = [], [], {}
        for item in items:
            try:
                prepared.append(self.prepare(item))
                good.append(item)
            except AffectLLMError as err:
                records[item.id] = ResultRecord.failed(item.id, item.path, str(err), self.name)
        if good:
            for rec in self.caption_prepared(good, prepared):
                records[rec.id] = rec
        return [records[it.id] for it in items]
