"""Pick the captioning backend from `--model`: "cues" (zero-setup default) or a checkpoint folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from affectllm.caption.inputs import Hearing
from affectllm.caption.loader import setup_failure
from affectllm.core.errors import AffectLLMError, SetupError
from affectllm.core.media_constants import DEFAULT_MAX_SIDE


class CuePreparer:
    """Worker half of the cue path: decode the clip (frames for the face cues, 16 kHz audio)."""

    def __init__(self, num_frames: int, max_side: int):
        self.num_frames = num_frames
        self.max_side = max_side

    def prepare(self, item):
        """The item's clip; a manifest entry's separate audio file replaces the video's own track."""
        from affectllm.media import load_clip

        if item.path is None:
            return None  # a text-only manifest entry: the subtitle is the only evidence
        clip = load_clip(item.path, num_frames=self.num_frames, max_side=self.max_side, audio=not item.audio_path)
        if item.audio_path:
            clip.audio = load_clip(item.audio_path, video=False).audio
        return clip

    def collate(self, prepared: list) -> list:
        return prepared


class CueCaptionBackend:
    """Adapts the cue path (``affectllm.cues.backend.CueBackend``) to the engine: clips decode in
    DataLoader workers, cue extraction and the reasoning LLM run in the main process."""

    def __init__(self, llm: str | None = None, drop=()):
        try:
            from affectllm.cues.backend import CueBackend
        except ImportError as err:
            raise AffectLLMError(f"--model cues: the cue path is not available in this install ({err}); "
                                 "install affectllm[cues] or pass a checkpoint folder") from None

        self.backend = CueBackend(llm=llm, drop=drop)  # a bad --llm or --drop value is refused here
        self.name = self.backend.model_name
        self._preparer = CuePreparer(self.backend.num_frames, DEFAULT_MAX_SIDE)
        # The models load in background threads while the first clip decodes and its first cues are read;
        # ready() raises a load that failed as one setup error before the first record (loaded lazily at the
        # first clip instead, a broken one would become an error record for every clip).
        self.backend.start_loading()
        self._ready = False

    def ready(self) -> None:
        """Wait for the models; a load that failed is a SetupError (the same line a failed load at start gives)."""
        if self._ready:
            return
        try:
            self.backend.preload.wait()
        except AffectLLMError as err:
            raise SetupError(str(err)) from None
        except Exception as err:
            raise SetupError(setup_failure(err)) from None
        self._ready = True

    def preparer(self) -> CuePreparer:
        return self._preparer

    def caption(self, items):
        """Unpipelined convenience: decode here, then ``caption_batch``."""
        from affectllm.caption.engine import caption_now

        return caption_now(self, items)

    def caption_clip(self, item, clip):
        """One item whose media the caller already decoded (the demo): cues read ``clip`` as it is."""
        return self.caption_batch([item], [clip])[0]

    def caption_batch(self, items, clips: list):
        from affectllm.media import MediaClip

        out = []
        for it, clip in zip(items, clips):
            if clip is None:
                clip = MediaClip(path=None)
            out.append(self.backend.caption_clip(clip, it.id, subtitle=it.subtitle))
        self.ready()  # after the first clip's cues, so the loads overlap them; before any record is kept
        return out


def load_backend(model: str | None, llm: str | None = None, device: str | None = None,
                 base: dict[str, str] | None = None, trusted: tuple = (), hearing: Hearing = Hearing(), **answering):
    """The backend for ``--model``; ``device`` places a checkpoint's model (cues stay on CPU).

    ``llm``: the cue path's instruct LLM; ``base`` / ``trusted``: base model paths the user passed for a
    checkpoint (``affectllm.checkpoint.layout``); ``hearing``: what a checkpoint hears of each input
    (its ``drop`` also leaves modalities out of the cue path, which always transcribes); ``answering``: a
    checkpoint's other arguments (``CheckpointBackend``: prompt, max_new_tokens, do_sample, options)."""
    from affectllm.core.manifest import check_drop

    hearing = replace(hearing, drop=check_drop(hearing.drop))
    if model in (None, "", "cues"):
        return CueCaptionBackend(llm=llm, drop=hearing.drop)
    if not Path(model).is_dir():
        raise AffectLLMError(f"--model {model}: not 'cues' and not a checkpoint folder")
    from affectllm.caption.checkpoint_backend import CheckpointBackend

    return CheckpointBackend.open(model, base=base, trusted=trusted, device=device, hearing=hearing, **answering)
