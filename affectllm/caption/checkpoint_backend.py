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

from dataclasses import dataclass
from pathlib import Path

from affectllm.caption.inference import InferenceOptions, pad_left_to_bucket, prepare_for_inference
from affectllm.caption.inputs import CaptionItem, Hearing
from affectllm.core.manifest import AUDIO_TAG, MEDIA_TAG_RE, VIDEO_TAG, media_spec, withhold
from affectllm.model.processor import inference_sample
from affectllm.reasoning.prompts import PromptTemplate
from affectllm.model.questions import default_question
from affectllm.core.records import ResultRecord

MEDIA_TAGS = "<video><audio>"


class CheckpointPreparer:
    """Worker-safe CPU work for one model: the processor, the fixed question, and ASR for items without a subtitle.

    A manifest entry asks its own question (``item.sample``: its turns, subtitle and media) unless
    ``own_questions`` is off (the user named ``--prompt``); a file is asked ``question``. With
    ``hearing.asr``, an item whose subtitle is empty gets the transcript of its sound as its subtitle, and
    the transcript is kept for its record.
    """

    def __init__(self, processor, question: str, length_bucket: int | None = None, own_questions: bool = True,
                 hearing: Hearing = Hearing(asr=False)):
        self.processor = processor
        self.question = question
        self.length_bucket = length_bucket
        self.own_questions = own_questions
        # words left out are not brought back by a transcript
        self.asr = hearing.asr and "text" not in hearing.drop
        self.whisper = hearing.whisper
        self.drop = hearing.drop

    def sample_for(self, item: CaptionItem) -> dict:
        """The manifest-style sample the model is asked about ``item``, without the modalities left out."""
        return withhold(self._asked(item), self.drop)

    def _asked(self, item: CaptionItem) -> dict:
        if item.sample is not None and self.own_questions:
            return dict(item.sample)
        if item.sample is not None:  # --prompt replaces the entry's question; its media, tags and subtitle stay
            spec = media_spec(item.sample)
            tags = (VIDEO_TAG if spec.see_video else "") + (AUDIO_TAG if spec.hear_audio else "")
            question = tags + MEDIA_TAG_RE.sub("", self.question)
            return dict(item.sample, messages=[{"role": "user", "content": question}])
        sample = inference_sample(item.path, self.question, item.subtitle, item.id)
        if item.audio_path:
            sample["audios"] = [item.audio_path]
        return sample

    def prepare(self, item: CaptionItem):
        """Decode and tokenize one item; raises AffectLLMError (MediaError) for unusable media.

        An item that needs a transcript is only decoded here (``NeedsTranscript``): faster-whisper
        hangs in a forked decoding worker, so ``finish`` transcribes it in the main process."""
        from affectllm.model.processor import sample_clip

        sample = self.sample_for(item)
        if self.asr and not (sample.get("subtitle") or "").strip():
            return NeedsTranscript(sample, sample_clip(sample, None, self.processor.media, sound=True))
        return self.processor.prepare(sample, generation=True)

    def prepare_clip(self, item: CaptionItem, clip):
        """``prepare`` for an item whose media the caller already decoded (the demo): the model sees
        ``clip`` cut to its own media settings (``num_frames`` evenly spaced frames, ``max_audio_seconds``)."""
        import numpy as np

        from affectllm.media import MediaClip
        from affectllm.core.media_constants import SAMPLE_RATE

        settings = self.processor.media
        frames, times = clip.frames, clip.frame_times
        if clip.has_video and len(frames) > settings.num_frames:
            keep = np.linspace(0, len(frames) - 1, settings.num_frames).round().astype(int)
            frames, times = frames[keep], (times[keep] if times is not None else None)
        audio = clip.audio
        if audio is not None and settings.max_audio_seconds:
            audio = audio[: int(settings.max_audio_seconds * SAMPLE_RATE)]
        view = MediaClip(path=clip.path, frames=frames, frame_times=times, audio=audio, duration=clip.duration,
                         fps=clip.fps)
        sample = self.sample_for(item)
        media = self.processor.sample_media(sample, None, clip=view)
        return self.processor.prepare(sample, generation=True, media=media)

    def collate(self, prepared: list) -> dict:
        """Left-padded batch: input_ids / attention_mask (B, L), per-modality encoder inputs and per-row notes;
        ``{"unfinished": prepared}`` while some item still needs its transcript (see ``finish``)."""
        if any(isinstance(p, NeedsTranscript) for p in prepared):
            return {"unfinished": prepared}
        batch = self.processor.collate(prepared, padding_side="left")
        if self.length_bucket:
            batch = pad_left_to_bucket(batch, self.length_bucket, self.processor.tokenizer.pad_token_id)
        return batch

    def finish(self, batch: dict) -> dict:
        """In the main process: transcribe what ``prepare`` left for it, tokenize, collate."""
        if "unfinished" not in batch:
            return batch
        return self.collate([self._transcribed(p) if isinstance(p, NeedsTranscript) else p
                             for p in batch["unfinished"]])

    def _transcribed(self, pending: "NeedsTranscript"):
        transcript = transcribe_clip(pending.clip, self.whisper)
        sample = dict(pending.sample, subtitle=transcript)
        media = self.processor.sample_media(sample, None, clip=pending.clip)
        prepared = self.processor.prepare(sample, generation=True, media=media)
        prepared.notes["transcript"] = transcript
        return prepared


@dataclass
class NeedsTranscript:
    """A decoded item whose subtitle is to come from ASR (its sound is decoded even when not tagged)."""

    sample: dict
    clip: object  # MediaClip or None


def transcribe_clip(clip, whisper: str | None = None) -> str:
    """What is said in ``clip`` (faster-whisper through ``affectllm.cues.extractors.speech``); "" without sound or
    speech."""
    if clip is None or not clip.has_audio:
        return ""
    from affectllm.cues.extractors.speech import transcribe

    return transcribe(clip.audio, whisper)["text"]  # deterministic: resumed runs match


def check_asr(whisper: str | None) -> None:
    """Fail before the first clip, with one line, when ASR cannot run (no faster-whisper, no model folder).

    The model itself loads at the first clip that needs it, so runs where every input has a subtitle
    never pay for it."""
    from pathlib import Path

    from affectllm.core.errors import AffectLLMError

    try:
        import faster_whisper
    except ImportError:
        raise AffectLLMError("transcribing clips without a subtitle needs faster-whisper: install affectllm[cues], "
                             "or pass --no-asr") from None
    del faster_whisper  # only its presence is checked here; the model loads at the first clip
    if whisper is None:
        from affectllm.bundled.packages import whisper_model_dir

        folder = whisper_model_dir()
    else:
        folder = Path(whisper)
    if not (folder / "model.bin").is_file():
        raise AffectLLMError(f"--whisper {folder}: not a faster-whisper model folder (no model.bin); point it at a "
                             "local CTranslate2 Whisper model, or pass --no-asr")


def rated(rating: dict[str, float], sample: dict | None) -> tuple[dict[str, float], dict[str, list[float]]]:
    """A head's ratings (on [-1, 1]) as a record reports them: each dimension the manifest entry rates on a
    scale (its ``vad_scale``) mapped onto that scale (``affectllm.core.dimensions.from_unit``), the others left on
    [-1, 1]. Returns (vad, vad_scale of the dimensions mapped)."""
    from affectllm.core.dimensions import check_scale, from_unit

    scales = (sample or {}).get("vad_scale")
    vad, used = {}, {}
    for dim, value in rating.items():
        raw = scales.get(dim) if isinstance(scales, dict) else None
        scale = check_scale(raw, f"vad_scale.{dim}") if raw is not None else None
        vad[dim] = round(from_unit(value, scale), 4) if scale else round(value, 4)
        if scale:
            used[dim] = list(scale)
    return vad, used


def answer_record(prompt_name: str, item: CaptionItem, text: str, model_name: str,
                  notes: dict | None = None) -> ResultRecord:
    """The result record for one generated answer, parsed with template ``prompt_name`` (see the module
    docstring for unparseable answers); ``notes`` (the ASR transcript) are kept in the record."""
    from affectllm.reasoning import parse_output

    parsed = parse_output(prompt_name, text)
    rec = ResultRecord(id=item.id, path=item.path, emotions=list(parsed.emotions) if parsed.ok else [],
                       explanation=parsed.explanation, reasoning=dict(parsed.sections), model=model_name)
    if not parsed.ok:
        rec.extra["parse_error"] = f"no emotion list could be read from the {prompt_name} answer"
    rec.extra["raw_output"] = text
    rec.extra.update(notes or {})
    return rec


class CheckpointBackend:
    """Captions with a loaded AffectModel (:meth:`open` loads a checkpoint folder, ``affectllm.checkpoint.layout``):
    the question the checkpoint was trained on (its ``training.json``, ``affectllm.model.questions``) asks and that
    style's parser reads, else its prompt template.

    A manifest entry asks its own question (its turns, subtitle, dialogue context) and its answer is
    parsed with the entry's ``style`` when that has a parser. ``prompt``: another template name, or a
    PromptTemplate the user loaded from a file (``affectllm.reasoning.prompts.load_prompt_file``), asked of every
    input instead (manifest entries too); its answers are parsed with the parser of its ``name`` when
    one exists, else the checkpoint's own. ``options``: how the model runs (``InferenceOptions``);
    ``hearing``: what it hears of each input (:class:`Hearing`)."""

    def __init__(self, model, name: str | None = None, prompt: "str | PromptTemplate | None" = None,
                 max_new_tokens: int = 256, do_sample: bool = False,
                 options: InferenceOptions = InferenceOptions(), hearing: Hearing = Hearing()):
        from affectllm.reasoning.prompts import load_prompt
        from affectllm.reasoning import PARSERS

        if hearing.asr:
            check_asr(hearing.whisper)
        self.model = model
        self.setup = prepare_for_inference(self.model, options)
        self.name = name or str(getattr(model, "name_or_path", None) or model.cfg.model.llm)
        if not options.use_adapter:
            self.name += " (LoRA off)"
        if hearing.drop:
            self.name += f" (without {', '.join(sorted(hearing.drop))})"
        self.template = load_prompt(prompt or self.model.cfg.model.prompt)
        # a checkpoint that records what it was trained on is asked that and read with that style's parser
        self.trained = None if prompt is not None else default_question(getattr(self.model, "training_record", None))
        style = self.trained.style if self.trained is not None else None
        self.prompt_name = (style if style in PARSERS else self.template.name if self.template.name in PARSERS
                            else self.model.cfg.model.prompt)
        self.own_questions = prompt is None
        self.gen_kwargs = {"max_new_tokens": max_new_tokens, "do_sample": do_sample}
        bucket = options.length_bucket if (options.static_cache or options.compile_mode) else None
        self._preparer = CheckpointPreparer(self.model.processor, self.question(), bucket, self.own_questions,
                                            hearing=hearing)

    @classmethod
    def open(cls, checkpoint: str | Path, base: dict[str, str] | None = None, trusted: tuple = (),
             device: str | None = None, **backend) -> "CheckpointBackend":
        """The backend of the checkpoint folder ``checkpoint``, named after it and placed on ``device``;
        ``base`` / ``trusted``: base model paths passed explicitly (``affectllm.checkpoint.layout``);
        ``backend``: the constructor's other arguments. Whether ASR can run is checked before the model loads."""
        import torch

        from affectllm.checkpoint.layout import load_checkpoint

        hearing = backend.get("hearing", Hearing())
        if hearing.asr:
            check_asr(hearing.whisper)  # one line, before minutes of loading
        model = load_checkpoint(checkpoint, base=base, trusted=trusted)
        if device:
            model.to(torch.device(device))
        return cls(model, name=backend.pop("name", None) or str(checkpoint), **backend)

    def parser_for(self, item: CaptionItem) -> str:
        """The template whose parser reads the answer to ``item``: the entry's own style when it asked its own
        question and that style has a parser, else the backend's."""
        from affectllm.reasoning import PARSERS

        style = (item.sample or {}).get("style")
        return style if self.own_questions and style in PARSERS else self.prompt_name

    def question(self) -> str:
        from affectllm.reasoning.prompts import render_prompt

        if self.trained is not None and self.trained.text:
            return MEDIA_TAGS + self.trained.text
        # the subtitle reaches the model through the processor's own subtitle line
        return MEDIA_TAGS + render_prompt(self.template, cues=None, subtitle=None).strip()

    def preparer(self) -> CheckpointPreparer:
        return self._preparer

    def caption_batch(self, items: list[CaptionItem], batch: dict) -> list[ResultRecord]:
        """Encoders, fusion and generation for one collated batch; one record per item, in order. With a
        dimensional head each record carries its ratings (``vad``, on the item's own scale: ``rated``)."""
        batch = self._preparer.finish(batch)
        texts, ratings = self.model.generate_rated(batch, **self.gen_kwargs)
        notes = batch.get("notes") or [{}] * len(items)
        records = []
        for it, text, note, rating in zip(items, texts, notes, ratings):
            rec = answer_record(self.parser_for(it), it, text, self.name, note)
            if rating:
                rec.vad, scale = rated(rating, it.sample)
                if scale:
                    rec.extra["vad_scale"] = scale
            records.append(rec)
        return records

    def caption_clip(self, item: CaptionItem, clip) -> ResultRecord:
        """One item whose media the caller already decoded (the demo: decoded once for the cue views and the
        model); ``item.subtitle`` is what the model hears as the subtitle."""
        batch = self._preparer.collate([self._preparer.prepare_clip(item, clip)])
        return self.caption_batch([item], batch)[0]

    def caption(self, items: list[CaptionItem]) -> list[ResultRecord]:
        """Unpipelined convenience (text inputs in the demo): prepare here, then ``caption_batch``."""
        from affectllm.caption.engine import caption_now

        return caption_now(self, items)
