"""The zero-setup caption backend: media -> cues -> fused answer (-> optional LLM) -> result record.

    from affectllm.cues.backend import CueBackend
    b = CueBackend()                      # cue fusion only (the default); llm="PATH" adds a local instruct LLM
    rec = b.caption("clip.mp4", id="clip")

Models load once per process (module-level caches), so captioning many
clips pays for loading once: lazily at first use, up front with ``load()``,
or in background threads with ``start_loading()`` (``affectllm.cues.preload``),
which the caption engine uses so a cold caption loads them while the first
clip decodes. The record's ``model`` names what answered: "cue-fusion" or the LLM.
"""

from __future__ import annotations

import time

from affectllm.core.errors import AffectLLMError
from affectllm.core.media_constants import DEFAULT_MAX_SIDE
from affectllm.core.records import ResultRecord

NUM_FRAMES = 16  # frames sampled per clip for the face cues


class CueBackend:
    """Caption media with the cue path (``llm``: None / "none" = no LLM, "smollm2" = bundled, or a local folder)."""

    def __init__(self, llm: str | None | bool = None, whisper: str | None = None, num_frames: int = NUM_FRAMES,
                 max_new_tokens: int = 120, drop=()):
        from affectllm.core.manifest import check_drop
        from affectllm.cues.reasoner import CueReasoner

        self.drop = check_drop(drop)  # modalities left out on purpose (an ablation)
        self.whisper = whisper
        self.num_frames = num_frames
        self.reasoner = CueReasoner(llm, max_new_tokens=max_new_tokens)
        self.preload = None  # the background loads, once start_loading() has begun them

    @property
    def model_name(self) -> str:
        """The backend as a whole (what a failed record and run summaries name)."""
        from affectllm.cues.reasoner import FUSION_MODEL

        llm = self.reasoner.llm_name
        return FUSION_MODEL if llm is None else f"{llm} over cues ({FUSION_MODEL} fallback)"

    def start_loading(self) -> None:
        """Start loading the cue models this backend reads (the face graphs, Whisper, the voice head and its
        Whisper encoder layers, the text head) in background threads and return; the LLM, if any, loads now. A
        caption that needs a model still loading waits for it; :meth:`load` waits for all of them."""
        from affectllm.cues.preload import ModelPreload, cue_model_loads

        if self.preload is None:
            self.preload = ModelPreload(cue_model_loads(self.whisper, self.drop))
        self.reasoner.load()

    def load(self) -> None:
        """Load every cue model and the LLM (if any) now: a broken install fails before the first clip."""
        self.start_loading()
        self.preload.wait()

    def caption(self, path: str, id: str, subtitle: str | None = None) -> ResultRecord:
        """One media file -> a result record; bad media gives a failed record, not an exception."""
        from affectllm.media import load_clip

        t = time.perf_counter()
        try:
            clip = load_clip(path, num_frames=self.num_frames, max_side=DEFAULT_MAX_SIDE)
        except AffectLLMError as err:
            return ResultRecord.failed(id, str(path), str(err), self.model_name)
        record = self.caption_clip(clip, id, subtitle)
        if record.cues:
            record.cues["timings_s"]["decode"] = round(time.perf_counter() - t - record.cues["timings_s"]["total"], 4)
        return record

    def caption_clip(self, clip, id: str, subtitle: str | None = None) -> ResultRecord:
        """A decoded :class:`affectllm.media.MediaClip` -> a result record with cues and reasoning."""
        from affectllm.cues.extract import extract_cues

        path = str(clip.path) if clip.path is not None else None
        if self.preload is not None:
            # face_extractor() has no load lock (Whisper and the text head do): a second copy must not load
            self.preload.join("face")
        t = time.perf_counter()
        try:
            cues = extract_cues(clip, subtitle=subtitle, whisper_model=self.whisper, drop=self.drop)
            answer = self.reasoner.answer(cues, subtitle=subtitle or cues["speech"].get("text") or None)
        except AffectLLMError as err:
            return ResultRecord.failed(id, path, str(err), self.model_name)
        timings = cues["timings_s"]
        timings["fusion"] = answer.extra.pop("fusion_seconds")
        if "llm_seconds" in answer.extra:
            timings["llm"] = answer.extra["llm_seconds"]
        timings["total"] = round(time.perf_counter() - t, 4)
        extra = {"answered_by": answer.answered_by, "valence": answer.valence, **answer.extra}
        vad = extra.pop("vad", None) or None
        return ResultRecord(id=id, path=path, emotions=answer.emotions, explanation=answer.explanation,
                            reasoning=answer.reasoning, cues=cues, model=answer.model, vad=vad, extra=extra)

