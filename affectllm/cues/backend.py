"""The zero-setup caption backend: media -> cues -> reasoning -> result record.

    from affectllm.cues.backend import CueBackend
    b = CueBackend()                 # bundled SmolLM2-135M-Instruct; llm=False: cue-fusion only
    rec = b.caption("clip.mp4", id="clip")

Models load lazily, once per process (module-level caches), so captioning
many clips pays for loading once.
"""

from __future__ import annotations

import time
from pathlib import Path

from affectllm.errors import AffectLLMError
from affectllm.records import ResultRecord

NUM_FRAMES = 16  # frames sampled per clip for the face cues
MAX_SIDE = 448  # px, decoded frame size; faces stay well above the detectors' needs


class CueBackend:
    """Caption media with the cue path (``llm``: None = bundled SmolLM2, a local instruct model folder, or False)."""

    def __init__(self, llm: str | None | bool = None, whisper: str | None = None, num_frames: int = NUM_FRAMES,
                 max_new_tokens: int = 120):
        from affectllm.cues.reasoner import CueReasoner

        self.whisper = whisper
        self.num_frames = num_frames
        self.reasoner = CueReasoner(llm, max_new_tokens=max_new_tokens)

    @property
    def model_name(self) -> str:
        return f"cues+{self.reasoner.llm_name}"

    def caption(self, path: str, id: str, subtitle: str | None = None) -> ResultRecord:
        """One media file -> a result record; bad media gives a failed record, not an exception."""
        from affectllm.media import load_clip

        try:
            clip = load_clip(path, num_frames=self.num_frames, max_side=MAX_SIDE)
        except AffectLLMError as err:
            return ResultRecord.failed(id, str(path), str(err), self.model_name)
        return self.caption_clip(clip, id, subtitle)

    def caption_clip(self, clip, id: str, subtitle: str | None = None) -> ResultRecord:
        """A decoded :class:`affectllm.media.MediaClip` -> a result record with cues and reasoning."""
        from affectllm.cues.extract import extract_cues

        path = str(clip.path) if clip.path is not None else None
        t = time.perf_counter()
        try:
            cues = extract_cues(clip, subtitle=subtitle, whisper_model=self.whisper)
            answer = self.reasoner.answer(cues, subtitle=subtitle or cues["speech"].get("text") or None)
        except AffectLLMError as err:
            return ResultRecord.failed(id, path, str(err), self.model_name)
        cues["timings_s"]["total"] = round(time.perf_counter() - t, 4)
        extra = {"answered_by": answer.answered_by, "valence": answer.valence, **answer.extra}
        return ResultRecord(id=id, path=path, emotions=answer.emotions, explanation=answer.explanation,
                            reasoning=answer.reasoning, cues=cues, model=self.model_name, extra=extra)


def default_id(path: str) -> str:
    return Path(path).stem
