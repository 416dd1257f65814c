"""The cue dict, channel by channel: every key an extractor writes, with its type.

A caption record stores the cues as JSON (``record.cues``), and the evidence rules, the
explanations, the demo and the recipes read them back by key. These types are the one
place the keys are written down. They are ``TypedDict``s, not dataclasses, so the record
is the same JSON it always was (a key an extractor has nothing for is absent, not null)
and records written earlier still read. ``total=False``: which keys a channel holds depends
on what it found (no face: no ``expression_peak``; silence: no ``pitch_hz``).
``tests/test_cues_schema.py`` checks real extractions against them, so a key added or
renamed without its type here fails the suite.
"""

from __future__ import annotations

from typing import TypedDict


class Channel(TypedDict, total=False):
    """What every channel holds: whether it read anything, a one-line summary, and whether it was left out
    on purpose (``--drop``)."""

    present: bool
    summary: str
    left_out: bool


class FaceFrame(TypedDict, total=False):
    """One sampled frame: its time (s), whether a face was found, where, how sure, and what it shows."""

    t: float
    face: bool
    box: list[float]  # x0, y0, x1, y1 in pixels of the decoded frame
    score: float  # the detector's (0 for a face taken from the whole image)
    found_by: str
    mesh_presence: float
    expression: dict[str, float]  # the 7 FER2013 classes
    au: dict[str, float]  # AU-like movement intensities
    au_raw: dict[str, float]


class FaceCues(Channel, total=False):
    frames: int
    frames_with_face: int
    frame_size: list[int]  # width, height
    track: list[FaceFrame]
    expression_mean: dict[str, float]
    expression_peak: dict[str, float]  # over the most expressive face frames
    peak_frames: list[int]  # indices into track
    dominant_expression: str
    dominant_share: float
    dominant_top_frames: int
    peak_agreement: float
    au_mean: dict[str, float]
    movements: list[dict]  # {"measure", "intensity", "frames", "text"}


class Word(TypedDict, total=False):
    word: str
    start: float  # s
    end: float  # s
    probability: float


class SpeechCues(Channel, total=False):
    text: str
    words: list[Word]
    language: str
    english_only: bool
    confidence: float | None  # mean word probability; None without words
    duration: float  # s
    speech_s: float  # seconds the voice-activity filter kept


class VoiceReading(TypedDict, total=False):
    """The voice head's reading (``affectllm.cues.heads.voice_head.VoiceReading.to_dict`` and its name)."""

    present: bool
    top: str | None
    strength: float
    probs: dict[str, float]  # the 8 RAVDESS classes
    sound_s: float
    note: str
    name: str


class VoiceCues(Channel, total=False):
    hop_s: float
    duration: float
    times: list[float]
    pitch_hz: list[float | None]  # None where unvoiced
    loudness_db: list[float]
    pauses: list[list[float]]  # [start, end] s
    pause_share: float
    active_s: float
    voiced_ratio: float
    loudness_baseline_db: float
    loudness_slope_db_per_s: float
    loudness_change_db: float
    pitch_baseline_hz: float
    pitch_range_semitones: float
    pitch_slope_st_per_s: float
    windows: list[dict]  # {"start", "end", "pitch_pct", "loudness_db"}
    pitch_peak: dict
    loudness_peak: dict
    speaking_rate_wps: float
    voiced_note: str
    notes: list[str]
    speech: bool  # False: sound without recognisable speech (a tone, music, noise)
    model: VoiceReading


class TextReading(TypedDict, total=False):
    """The text head's reading (``affectllm.cues.heads.text_head.TextReading.to_dict`` and its name)."""

    emotion_probs: dict[str, float]
    sentiment_probs: dict[str, float]
    name: str


class TextCues(Channel, total=False):
    source: str  # "transcript" or "subtitle"
    text: str
    vader: dict[str, float]
    hits: list[dict]  # lexicon words found: {"word", "emotions", "t", ...}
    nrc_counts: dict[str, int]
    key_phrase: dict  # {"text", "word", "t"}
    model: TextReading
    confidence: float | None  # the transcript's, when the words were heard


class Cues(TypedDict, total=False):
    """One clip's cues (``affectllm.cues.extract.extract_cues``)."""

    duration: float
    has_video: bool
    has_audio: bool
    face: FaceCues
    speech: SpeechCues
    voice: VoiceCues
    text: TextCues
    timings_s: dict[str, float]
