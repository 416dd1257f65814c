"""What the demo runs per request: check the upload, decode it once, caption it, cut a timeline.

The backend (cue path or a trained checkpoint) loads once per process, when
the engine is built. Requests are serialised by a lock: the models are
shared, and the demo's queue makes a second request wait rather than fail.
Everything a user can get wrong (too large, not media, too long) becomes a
failed result record with one line naming the file and the fix.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from affectllm.core.errors import AffectLLMError, MediaError
from affectllm.core.media_constants import AUDIO_EXTENSIONS, DEFAULT_MAX_SIDE, VIDEO_EXTENSIONS
from affectllm.core.records import ResultRecord

DEFAULT_MAX_UPLOAD_MB = 50
MAX_DURATION_S = 120.0  # longer clips would hold the queue for minutes on a CPU
MAX_TEXT_CHARS = 5000
MIN_FRAMES, MAX_FRAMES = 16, 48
FRAMES_PER_WINDOW = 8  # face frames sampled per timeline window of a long clip
ACCEPTED = ", ".join(sorted(e.lstrip(".") for e in VIDEO_EXTENSIONS | AUDIO_EXTENSIONS))


@dataclass
class Analysis:
    """One request's answer and what the evidence views need beside the record."""

    record: ResultRecord
    frames: object = None  # (F, H, W, 3) uint8 RGB sampled frames, aligned with cues["face"]["track"]
    timeline: list[dict] = field(default_factory=list)
    input_kind: str = ""  # "video", "audio", "text" or "" when rejected
    input_name: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.record.error is None


def check_upload(path: str, max_upload_mb: float) -> None:
    """Raise MediaError naming the upload (its base name only: server paths stay private) and the fix."""
    name = Path(path).name
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS | AUDIO_EXTENSIONS:
        raise MediaError(f"{name}: not a video or audio file ({suffix or 'no extension'}); upload one of: {ACCEPTED}")
    size_mb = Path(path).stat().st_size / 2**20
    if size_mb > max_upload_mb:
        raise MediaError(f"{name}: {size_mb:.1f} MB is over this demo's {max_upload_mb:g} MB upload limit; "
                         "upload a shorter clip (or start the demo with a larger --max-upload-mb)")


def frames_for(duration: float, window_s: float) -> int:
    """Frames to sample: enough per timeline window on long clips, within [MIN_FRAMES, MAX_FRAMES]."""
    windows = int(duration // window_s) + 1
    return max(MIN_FRAMES, min(MAX_FRAMES, windows * FRAMES_PER_WINDOW))


class DemoEngine:
    """``model``: "cues" (default) or a checkpoint folder, loaded through the caption backends
    (``affectllm.caption.backends.load_backend``); ``llm``: the cue path's ``--llm`` (None: no LLM); ``base``:
    ``--base`` values for a checkpoint whose base models lie outside it (``affectllm.checkpoint.layout``); ``asr``: a
    checkpoint hears the cue extractors' transcript as the subtitle of an upload that has none."""

    def __init__(self, model: str = "cues", llm: str | None = None,
                 max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, base: tuple[str, ...] = (), asr: bool = True):
        from affectllm.caption.backends import CueCaptionBackend, load_backend
        from affectllm.caption.inputs import Hearing
        from affectllm.checkpoint.layout import parse_base_arguments
        from affectllm.demo.timeline import WINDOW_S

        self.model = model or "cues"
        self.max_upload_mb = max_upload_mb
        self.window_s = WINDOW_S
        self.lock = threading.Lock()
        self.asr = asr
        paths, trusted = parse_base_arguments(base) if self.model != "cues" else (None, ())
        # a checkpoint's transcript comes from the cue extractors, which run for the evidence views anyway
        self.backend = load_backend(self.model, llm=llm, base=paths, trusted=tuple(trusted), hearing=Hearing(asr=False))
        # the cue path reads its cues itself; a checkpoint answers from features, so the demo reads them
        self.backend_reads_cues = isinstance(self.backend, CueCaptionBackend)
        if self.backend_reads_cues:
            self.backend.ready()  # its models load in the background: a broken install stops the demo here
        self.name = self.backend.name

    def analyze(self, media_path: str | None = None, text: str | None = None, subtitle: str | None = None,
                kind: str = "video", progress=None) -> Analysis:
        """One request: an uploaded file (``kind`` "video" or "audio") or, without one, ``text``.

        ``progress(fraction, desc)`` is called between stages when given.
        """
        report = progress or (lambda *a, **k: None)
        t0 = time.perf_counter()
        subtitle = (subtitle or "").strip()[:MAX_TEXT_CHARS] or None
        text = (text or "").strip()[:MAX_TEXT_CHARS]
        if media_path:
            name = Path(media_path).name
            analysis = self._analyze_media(media_path, name, subtitle, kind, report)
        elif text:
            report(0.2, desc="reading the text")
            analysis = self._analyze_text(text, report)
        else:
            rec = ResultRecord.failed("input", None, "nothing to analyse: upload a video or audio file, or type some "
                                      "text", self.name)
            analysis = Analysis(rec)
        analysis.seconds = round(time.perf_counter() - t0, 3)
        return analysis

    def _analyze_media(self, path: str, name: str, subtitle: str | None, kind: str, report) -> Analysis:
        from affectllm.media import load_clip, probe_media

        try:
            check_upload(path, self.max_upload_mb)
            info = probe_media(path)
            if info.duration > MAX_DURATION_S:
                raise MediaError(f"{name}: {info.duration:.0f} s is longer than this demo's {MAX_DURATION_S:.0f} s "
                                 "limit; trim the clip, or caption it offline with `affectllm caption`")
            report(0.1, desc="decoding frames and audio")
            # decoded once: the cue extractors, the model and the evidence views all read this clip
            clip = load_clip(path, num_frames=frames_for(info.duration, self.window_s), max_side=DEFAULT_MAX_SIDE)
        except AffectLLMError as err:
            # The upload's server-side folder is nobody's business: name the file only.
            msg = str(err).replace(str(path), name).replace(str(Path(path).parent) + "/", "")
            return Analysis(ResultRecord.failed(name, name, msg, self.name))
        kind = "video" if clip.has_video else "audio"
        with self.lock:
            report(0.3, desc="extracting cues and reasoning")
            record = self._caption_clip(clip, path, name, subtitle)
        record.path = name
        if record.error is not None:
            return Analysis(record, input_kind=kind, input_name=name)
        report(0.8, desc="cutting the timeline")
        from affectllm.demo.timeline import segment_timeline

        timeline = segment_timeline(clip, record.cues, self.window_s)
        if timeline:
            record.extra["timeline"] = timeline
        return Analysis(record, frames=clip.frames, timeline=timeline, input_kind=kind, input_name=name)

    def _caption_clip(self, clip, path: str, name: str, subtitle: str | None) -> ResultRecord:
        from affectllm.caption.inputs import CaptionItem
        from affectllm.cues.extract import extract_cues

        if self.backend_reads_cues:
            return self.backend.caption_clip(CaptionItem(name, path, subtitle), clip)
        # The cue extractors supply the evidence views and, for an upload without a subtitle, the transcript
        # the model hears as its subtitle.
        cues = extract_cues(clip, subtitle=subtitle)
        transcript = None if subtitle or not self.asr else (cues.get("speech") or {}).get("text", "")
        record = self.backend.caption_clip(CaptionItem(name, path, subtitle or transcript or None), clip)
        if transcript is not None:
            record.extra["transcript"] = transcript
        return self._with_cues(record, cues)

    def _analyze_text(self, text: str, report) -> Analysis:
        from affectllm.caption.inputs import CaptionItem
        from affectllm.cues.extract import extract_cues
        from affectllm.media import MediaClip

        with self.lock:
            report(0.3, desc="reasoning over the words")
            # no media: the text is the subtitle, and only the lexical cues apply
            (record,) = self.backend.caption([CaptionItem("text", None, text)])
            if not self.backend_reads_cues:
                record = self._with_cues(record, extract_cues(MediaClip(path=None), subtitle=text))
        return Analysis(record, input_kind="text", input_name="typed text")

    @staticmethod
    def _with_cues(record: ResultRecord, cues: dict) -> ResultRecord:
        if not record.cues:
            record.cues = cues
            record.extra["evidence_from"] = "cue extractors (shown beside the checkpoint's answer)"
        return record
