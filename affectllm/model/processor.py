"""Samples (manifest entries) → model batches.

``prepare`` does the per-sample CPU work (decode media, render the conversation
with its dialogue context, label mask, the dimensional head's targets and answer
marker) and is safe to run in DataLoader workers; ``collate`` pads a list of
prepared samples and runs each encoder's own preprocessing (log-mel, pixel
normalisation, subtitle tokenisation) for the rows that carry that modality, the
encoded context turns of the whole batch forming a batch of their own
(``ctx_<modality>`` entries of ``media_inputs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from affectllm.config.schema import MediaSettings
from affectllm.model.conversation import (CONTEXT_PREFIX, RenderedConversation, context_block, expand_user_content,
                                    placeholder_ids, render_conversation, truncate)
from affectllm.core.errors import AffectLLMError
from affectllm.media import MediaClip, load_clip
from affectllm.core.media_constants import MODALITIES
from affectllm.core.manifest import MediaSpec, check_context, is_audio, is_image, media_spec, media_tags, retag

IGNORE_INDEX = -100


@dataclass
class EncoderFeatures:
    """A frozen encoder's output for one sample, computed once (feature cache): seq (T, D), mask (T,)."""

    seq: torch.Tensor
    mask: torch.Tensor


def pad_features(feats: list[EncoderFeatures]) -> dict[str, torch.Tensor]:
    """Stack per-sample features into (N, T_max, D) with a (N, T_max) mask."""
    length = max(f.seq.shape[0] for f in feats)
    seq = feats[0].seq.new_zeros((len(feats), length, feats[0].seq.shape[-1]))
    mask = torch.zeros((len(feats), length), dtype=torch.bool)
    for i, f in enumerate(feats):
        seq[i, : f.seq.shape[0]] = f.seq
        mask[i, : f.mask.shape[0]] = f.mask
    return {"features": seq, "feature_mask": mask}


@dataclass
class PreparedSample:
    id: str
    input_ids: list[int]
    labels: list[int]
    media: dict[str, Any] = field(default_factory=dict)  # modality → frames / waveform / subtitle text
    notes: dict[str, Any] = field(default_factory=dict)  # what preparing learned for the record (a transcript)
    context: list[dict[str, Any]] = field(default_factory=list)  # per encoded context turn, oldest first: its media
    vad: dict[str, float] = field(default_factory=dict)  # dimension → rating on [-1, 1] (rated dimensions only)
    answer_at: int | None = None  # the answer marker (affectllm.model.answer_state) of a training sample


def resolve_media_path(path: str, root: Path | None) -> Path:
    p = Path(path)
    return p if p.is_absolute() or root is None else root / p


def sample_clip(sample: dict, root: Path | None, media: MediaSettings, spec: MediaSpec | None = None,
                sound: bool = False) -> MediaClip | None:
    """Decode what a manifest entry's tags ask for (``affectllm.core.manifest``): the frames of ``videos[0]``
    for ``<video>``, the sound of ``audios[0]`` (else of the video) for ``<audio>``.

    ``sound``: decode the sample's sound even when it is not tagged (to transcribe it). A preloaded
    ``clip`` (MediaClip) in the sample is used as is. None when nothing is to be decoded.
    """
    if isinstance(sample.get("clip"), MediaClip):
        return sample["clip"]
    spec = spec or media_spec(sample)
    kw = dict(num_frames=media.num_frames, max_fps=media.max_fps, max_side=media.max_side,
              max_audio_seconds=media.max_audio_seconds)
    video_sound = spec.audio is None and (spec.hear_audio or sound)
    clip = None
    if spec.video is not None and (spec.see_video or video_sound):
        clip = load_clip(resolve_media_path(spec.video, root), video=spec.see_video,
                         audio=video_sound and not is_image(spec.video), **kw)
    if spec.audio is not None:
        audio_clip = load_clip(resolve_media_path(spec.audio, root), video=False, **kw)
        if clip is None:
            clip = audio_clip
        else:
            clip.audio = audio_clip.audio
    return clip


def context_turn_sample(turn: dict, sample_id: str, k: int) -> dict:
    """A context turn as a manifest entry of its own (its clip seen and heard, its words as the subtitle), so
    it decodes, encodes and hits the feature cache exactly as that utterance would as a sample."""
    videos, audios = list(turn.get("videos") or []), list(turn.get("audios") or [])
    tags = media_tags(videos[0] if videos else None, audios[0] if audios else None)
    return {"id": f"{sample_id}#context{k}", "videos": videos, "audios": audios, "subtitle": turn.get("text") or "",
            "messages": [{"role": "user", "content": tags}]}


def media_kind(path: str | Path) -> str:
    """'audios' for audio-only file extensions, else 'videos' (videos and images)."""
    return "audios" if is_audio(path) else "videos"


class AffectProcessor:
    """Turns samples into batches for one model (its tokenizer, encoders and token layout)."""

    def __init__(self, tokenizer, encoders: dict, tokens_per_modality: dict[str, int],
                 media: MediaSettings, max_length: int = 1024, vad_dims: tuple[str, ...] = (),
                 context_media: bool = False):
        self.tokenizer = tokenizer
        self.encoders = encoders
        self.tokens_per_modality = tokens_per_modality
        self.media = media
        self.max_length = max_length
        self.vad_dims = tuple(vad_dims)  # the dimensional head's dimensions: their targets join training batches
        self.context_media = context_media  # context turns' media go through the encoders
        self.placeholder_ids = placeholder_ids(tokenizer)

    # ------------------------------------------------------------------ per sample
    def sample_media(self, sample: dict, root: Path | None, clip: MediaClip | None = None) -> dict[str, Any]:
        """The inputs each configured encoder will see for this sample: its tagged streams (decoded here
        unless ``clip`` is given) and its subtitle."""
        spec = media_spec(sample)
        if clip is None:
            clip = sample_clip(sample, root, self.media, spec)
        out: dict[str, Any] = {}
        if clip is not None and clip.has_video and "video" in self.encoders:
            out["video"] = clip.frames
        if clip is not None and clip.has_audio and "audio" in self.encoders:
            out["audio"] = clip.audio
        subtitle = (sample.get("subtitle") or "").strip()
        if subtitle and "text" in self.encoders:
            out["text"] = subtitle
        return self.tagged(out, spec)

    @staticmethod
    def tagged(media: dict[str, Any], spec: MediaSpec) -> dict[str, Any]:
        """Only the streams the sample's tags ask for (a cached or preloaded clip may hold more)."""
        return {m: v for m, v in media.items()
                if (m != "video" or spec.see_video) and (m != "audio" or spec.hear_audio)}

    def context_media_of(self, sample: dict, root: Path | None, cache=None) -> list[dict[str, Any]]:
        """Per context turn (``affectllm.core.manifest.check_context``), the streams the encoders will see: what
        ``sample_media`` gives for the turn as a sample of its own (``context_turn_sample``), from ``cache``
        (a FeatureCache) when it holds them; {} for every turn unless ``context_media`` is on."""
        sid = str(sample.get("id", "?"))
        turns = check_context(sample, f"sample {sid!r}")
        if not (self.context_media and self.encoders):
            return [{} for _ in turns]
        out = []
        for k, turn in enumerate(turns, start=1):
            turn_sample = context_turn_sample(turn, sid, k)
            try:
                media = cache.lookup(turn_sample, root) if cache is not None else None
                out.append(self.sample_media(turn_sample, root) if media is None
                           else self.tagged(media, media_spec(turn_sample)))
            except AffectLLMError as err:
                raise AffectLLMError(f"sample {sid!r}: context turn {k}: {err}") from None
        return out

    def render(self, sample: dict, present: list[str], generation: bool,
               context_present: list[list[str]] | None = None) -> RenderedConversation:
        """The sample's conversation with its placeholders; ``context_present``: the encoded modalities of each
        context turn (default: none encoded, the turns rendered as text)."""
        messages = [dict(m) for m in sample.get("messages") or []]
        if not messages or not any(m.get("role") == "user" for m in messages):
            raise AffectLLMError(f"sample {sample.get('id', '?')}: needs at least one user message")
        where = f"sample {sample.get('id', '?')!r}"
        turns = check_context(sample, where)
        first_user = next(i for i, m in enumerate(messages) if m["role"] == "user")
        history = context_block(turns, context_present or [[] for _ in turns], self.tokens_per_modality,
                                sample.get("speaker") if isinstance(sample.get("speaker"), str) else None, where)
        messages[first_user]["content"] = history + expand_user_content(
            messages[first_user].get("content", ""), present, self.tokens_per_modality, sample.get("subtitle"))
        if generation:
            while messages and messages[-1]["role"] == "assistant":
                messages.pop()
        conv = render_conversation(self.tokenizer, messages, add_generation_prompt=generation)
        if generation:
            return conv
        return truncate(conv, self.max_length, set(self.placeholder_ids.values()), str(sample.get("id", "?")))

    def prepare(self, sample: dict, root: Path | None = None, generation: bool = False,
                media: dict[str, Any] | None = None, cache=None) -> PreparedSample:
        """Decode, render and mask one sample. ``media`` skips decoding when already known; ``cache`` (a
        FeatureCache) may hold the encoded media of its context turns."""
        from affectllm.model.answer_state import rendered_marker
        from affectllm.core.dimensions import unit_targets

        media = self.sample_media(sample, root) if media is None else self.tagged(media, media_spec(sample))
        present = [m for m in MODALITIES if m in media]
        turn_media = self.context_media_of(sample, root, cache)
        conv = self.render(sample, present, generation,
                           [[m for m in MODALITIES if m in t] for t in turn_media])
        labels = [t if trains else IGNORE_INDEX for t, trains in zip(conv.input_ids, conv.train_mask)]
        prepared = PreparedSample(str(sample.get("id", "")), conv.input_ids, labels, media,
                                  context=[t for t in turn_media if t])
        if self.vad_dims:  # malformed ratings or scales are this sample's error, before any model runs
            rated = unit_targets(sample, f"sample {sample.get('id', '?')!r}")
            prepared.vad = {d: v for d, v in rated.items() if d in self.vad_dims}
        if generation:
            return prepared
        if all(label == IGNORE_INDEX for label in labels):
            raise AffectLLMError(f"sample {sample.get('id', '?')}: no assistant tokens to train on")
        if self.vad_dims:
            prepared.answer_at = rendered_marker(conv.input_ids, conv.train_mask, [self.tokenizer.eos_token_id])
        return prepared

    # ------------------------------------------------------------------ batches
    def collate(self, items: list[PreparedSample], padding_side: str = "right") -> dict[str, Any]:
        """Pad to the longest sample. Returns input_ids / attention_mask / labels (B, L), the ids,
        and per modality the encoder inputs plus ``rows`` (which batch rows carry it)."""
        pad = self.tokenizer.pad_token_id
        length = max(len(it.input_ids) for it in items)
        ids = torch.full((len(items), length), pad, dtype=torch.long)
        labels = torch.full((len(items), length), IGNORE_INDEX, dtype=torch.long)
        attn = torch.zeros((len(items), length), dtype=torch.long)
        for i, it in enumerate(items):
            n = len(it.input_ids)
            sl = slice(length - n, length) if padding_side == "left" else slice(0, n)
            ids[i, sl] = torch.tensor(it.input_ids)
            labels[i, sl] = torch.tensor(it.labels)
            attn[i, sl] = 1
        media_inputs = self.encoder_inputs([it.media for it in items])
        # context turns are a batch of their own, numbered in text order (sample, then turn)
        turns = [t for it in items for t in it.context]
        media_inputs.update({CONTEXT_PREFIX + m: v for m, v in self.encoder_inputs(turns).items()})
        batch = {"ids": [it.id for it in items], "input_ids": ids, "attention_mask": attn, "labels": labels,
                 "media_inputs": media_inputs, "notes": [it.notes for it in items]}
        if self.vad_dims:
            batch["vad_targets"] = torch.tensor([[it.vad.get(d, 0.0) for d in self.vad_dims] for it in items])
            batch["vad_mask"] = torch.tensor([[d in it.vad for d in self.vad_dims] for it in items])
            shift = [length - len(it.input_ids) if padding_side == "left" else 0 for it in items]
            batch["answer_at"] = torch.tensor([-1 if it.answer_at is None else it.answer_at + s
                                               for it, s in zip(items, shift)])
        return batch

    def encoder_inputs(self, media: list[dict[str, Any]]) -> dict[str, dict[str, torch.Tensor]]:
        """Per modality, the encoder's preprocessed inputs (or padded cached features) for the rows of
        ``media`` that carry it, and ``rows``: which rows those are."""
        out = {}
        for m, encoder in self.encoders.items():
            rows = [i for i, row in enumerate(media) if m in row]
            if rows:
                values = [media[i][m] for i in rows]
                if isinstance(values[0], EncoderFeatures):
                    inputs = pad_features(values)
                else:
                    inputs = encoder.preprocess(values)
                inputs["rows"] = torch.tensor(rows)
                out[m] = inputs
        return out


def inference_sample(path: str | Path | None, prompt: str, subtitle: str | None = None,
                     sample_id: str | None = None) -> dict:
    """A one-turn manifest entry asking ``prompt`` about one media file (or about the subtitle alone).

    The prompt's media tags are set for the file (``affectllm.core.manifest.retag``): a video is seen and
    heard, an image seen, an audio file heard, and text alone carries no tag."""
    sample: dict = {"id": sample_id or (str(path) if path else "text"), "subtitle": subtitle}
    kind = media_kind(path) if path is not None else None
    question = retag(prompt, path if kind == "videos" else None, path if kind == "audios" else None)
    sample["messages"] = [{"role": "user", "content": question}]
    if path is not None:
        sample[kind] = [str(path)]
    return sample
