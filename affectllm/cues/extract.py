"""Run every cue extractor that applies to a clip and collect one JSON-serialisable cue dict.

Extractors run only for the modalities present (no frames: no face cues; no
audio: no prosody or transcript). A given subtitle replaces the transcript
as the text analysed for lexical affect and read by the text head; the
transcript is still kept. ``drop`` leaves modalities out on purpose (an ablation,
``affectllm caption --drop``): ``video`` (no face), ``audio`` (no voice, no
transcript) or ``text`` (the words are not read, though the voice still uses
their timing); each left-out cue says so.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from affectllm.media import MediaClip
from affectllm.core.media_constants import SAMPLE_RATE

if TYPE_CHECKING:
    from affectllm.cues.schema import Cues, TextCues, VoiceReading


MIN_SPEECH_S = 0.3  # seconds of voice activity that make a sound a voice, even when no word was read


def _left_out(modality: str) -> dict:
    return {"present": False, "left_out": True, "summary": f"left out (--drop {modality})"}


def text_cues(text: str, words: list[dict] | None = None, source: str = "transcript") -> TextCues:
    """Lexical cues of ``text`` plus the text head's reading of it under ``"model"``."""
    from affectllm.cues.extractors.lexicon import lexical_cues
    from affectllm.cues.heads.text_head import default_text_head

    out = lexical_cues(text, words=words, source=source)
    if out["present"]:
        head = default_text_head()
        out["model"] = head.read([out["text"]], [out])[0].to_dict()
        out["model"]["name"] = head.name
    return out


def voice_reading(audio) -> VoiceReading:
    """The learned voice head's reading of ``audio`` (how it is said, whatever the words), with the head's name."""
    from affectllm.cues.heads.voice_head import default_voice_head

    head = default_voice_head()
    return {**head.read(audio).to_dict(), "name": head.name}


def extract_cues(clip: MediaClip, subtitle: str | None = None, whisper_model: str | None = None,
                 drop: frozenset[str] = frozenset()) -> Cues:
    """All cues of ``clip`` but the ``drop``ped modalities'; ``cues["timings_s"]`` says how long each extractor took."""
    from affectllm.cues.extractors.face import face_extractor
    from affectllm.cues.extractors.speech import transcribe
    from affectllm.cues.extractors.voice import prosody_cues

    timings: dict[str, float] = {}
    cues: Cues = {"duration": round(float(clip.duration), 3), "has_video": clip.has_video, "has_audio": clip.has_audio}

    t = time.perf_counter()
    if "video" in drop:
        cues["face"] = _left_out("video")
    elif clip.has_video:
        cues["face"] = face_extractor()(clip.frames, clip.frame_times)
    else:
        cues["face"] = {"present": False, "frames": 0, "summary": "no video"}
    timings["face"] = time.perf_counter() - t

    words: list[dict] = []
    if "audio" in drop:
        cues["speech"], cues["voice"] = dict(_left_out("audio"), text="", words=[]), _left_out("audio")
    elif clip.has_audio:
        # how it is said does not wait for the words: the voice head reads the audio while Whisper transcribes it
        # (both run native code that releases the GIL), and only prosody needs the words' timing
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="voice-head") as pool:
            head = pool.submit(voice_reading, clip.audio)
            t = time.perf_counter()
            cues["speech"] = transcribe(clip.audio, whisper_model)
            words = cues["speech"]["words"]
            timings["speech"] = time.perf_counter() - t
            t = time.perf_counter()
            cues["voice"] = prosody_cues(clip.audio, SAMPLE_RATE, words=words or None)
            cues["voice"]["model"] = head.result()
        heard = cues["speech"]["present"] or cues["speech"]["speech_s"] >= MIN_SPEECH_S
        if cues["voice"].get("present") and not heard:
            # a tone, music or noise is sound, not a voice: say so rather than describe its "voicing"
            cues["voice"].update(speech=False, summary="sound without recognisable speech ("
                                 + cues["voice"]["summary"].replace("voiced", "pitched") + ")")
        timings["voice"] = time.perf_counter() - t
    else:
        cues["speech"] = {"present": False, "text": "", "words": [], "summary": "no audio"}
        cues["voice"] = {"present": False, "summary": "no audio"}

    t = time.perf_counter()
    if "text" in drop:
        cues["text"] = _left_out("text")
    elif subtitle and subtitle.strip():
        cues["text"] = text_cues(subtitle, source="subtitle")
    else:
        cues["text"] = text_cues(cues["speech"]["text"], words=words or None, source="transcript")
        cues["text"]["confidence"] = cues["speech"].get("confidence")  # how far the heard words can be trusted
    timings["text"] = time.perf_counter() - t
    cues["timings_s"] = {k: round(v, 4) for k, v in timings.items()}
    return cues
