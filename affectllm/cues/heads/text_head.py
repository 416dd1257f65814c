"""The learned text channel: frozen all-MiniLM-L6-v2 features + a small trained head.

Features of one utterance (``FEATURE_DIM`` floats): the mean of every hidden
layer of all-MiniLM-L6-v2 over the utterance's tokens (embeddings + 6 layers,
each L2-normalised: lower layers keep the surface words, upper ones the
meaning), followed by 16 lexicon features from the lexical cues (VADER
compound/pos/neg/neu, the 8 NRC emotion counts, negation, ``?`` and ``!``
counts, length). The encoder stays frozen; only the head trains.

The head is one hidden layer shared by two outputs: MELD's 7 emotion classes
and 3 sentiments. The shipped weights (``data/text_head.safetensors``) were
trained by ``affectllm train-text-head`` on MELD's train split (see
``data/TEXT_HEAD_NOTICE.md``: MELD is GPL-3.0, and so are these weights).
A head file is data: safetensors tensors plus a JSON description in the
file's metadata, never a pickle.

    from affectllm.cues.heads.text_head import default_text_head
    reading = default_text_head().read(["I can't believe you did that!"])[0]
    reading.emotion_probs["anger"], reading.sentiment_probs["negative"]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectllm.cues.heads.head_file import load_weights, read_head, save_head
from affectllm.cues.heads.head_fit import torch_threads
from affectllm.cues.load_once import load_once
from affectllm.core.errors import AffectLLMError

EMOTION_CLASSES = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
SENTIMENT_CLASSES = ("negative", "neutral", "positive")
# The vocabulary word each class is reported as (the word a person would use for it).
CLASS_WORD = {"anger": "angry", "disgust": "disgusted", "fear": "scared", "joy": "happy", "neutral": "neutral",
              "sadness": "sad", "surprise": "surprised"}
ENCODER_NAME = "all-MiniLM-L6-v2"
LEXICON_FEATURES = ("vader_compound", "vader_pos", "vader_neg", "vader_neu", "nrc_anger", "nrc_anticipation",
                    "nrc_disgust", "nrc_fear", "nrc_joy", "nrc_sadness", "nrc_surprise", "nrc_trust", "negated",
                    "question_marks", "exclamation_marks", "words")
MAX_TOKENS = 128
BATCH = 64  # utterances per encoder pass
SMALL_BATCH = 8  # up to this many texts are read on one thread
HEAD_FILE = Path(__file__).parents[1] / "data" / "text_head.safetensors"
_META_KEY = "affectllm_text_head"


def clean_text(text: str) -> str:
    """One spelling of apostrophes and quotes, so training text and transcripts look alike."""
    return (text or "").replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"').strip()


def lexicon_features(lexical: dict, text: str) -> list[float]:
    """The 16 ``LEXICON_FEATURES`` of one utterance from its lexical cue dict
    (``affectllm.cues.extractors.lexicon``)."""
    from affectllm.cues.extractors.lexicon import NRC_EMOTIONS

    if not lexical.get("present"):
        return [0.0] * len(LEXICON_FEATURES)
    v = lexical["vader"]
    counts = lexical.get("nrc_counts") or {}
    return ([float(v["compound"]), float(v["pos"]), float(v["neg"]), float(v["neu"])]
            + [math.log1p(counts.get(e, 0)) for e in NRC_EMOTIONS]
            + [float(any(h["negated"] for h in lexical.get("hits", []))), math.log1p(text.count("?")),
               math.log1p(text.count("!")), math.log1p(len(text.split()))])


class SentenceFeatures:
    """Frozen all-MiniLM-L6-v2 -> per-layer mean-pooled, normalised features (see the module docstring)."""

    def __init__(self, encoder_dir: str | Path | None = None):
        from affectllm.bundled.packages import minilm_dir
        from affectllm.cues.heads.minilm import MiniLMEncoder

        self.encoder = MiniLMEncoder(encoder_dir or minilm_dir(), max_tokens=MAX_TOKENS)
        self.layers = self.encoder.layers + 1
        self.dim = self.layers * self.encoder.hidden_size + len(LEXICON_FEATURES)

    @torch.no_grad()
    def __call__(self, texts: list[str], lexicals: list[dict], progress: bool = False) -> torch.Tensor:
        """texts, their lexical cue dicts -> (N, dim) float32 features.

        Utterances are encoded in length-sorted batches of a fixed size, so the
        same texts always meet the same padding: features are reproducible.
        """
        from tqdm import tqdm

        texts = [clean_text(t) for t in texts]
        out = torch.zeros(len(texts), self.dim)
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        for start in tqdm(range(0, len(order), BATCH), desc="MiniLM features", unit="batch", disable=not progress):
            idx = order[start:start + BATCH]
            inputs = self.encoder.preprocess([texts[i] or "." for i in idx])
            hidden = self.encoder.hidden_states(inputs)
            mask = inputs["attention_mask"][..., None].float()
            means = [nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1) for h in hidden]
            out[idx, : self.dim - len(LEXICON_FEATURES)] = torch.cat(means, dim=-1)
        out[:, self.dim - len(LEXICON_FEATURES):] = torch.tensor(
            [lexicon_features(lex, t) for lex, t in zip(lexicals, texts)], dtype=torch.float32)
        return out


class TextHeadNet(nn.Module):
    """features (N, in_dim) -> (emotion logits (N, 7), sentiment logits (N, 3))."""

    def __init__(self, in_dim: int, hidden: int = 128, dropout: float = 0.3, input_dropout: float = 0.1):
        super().__init__()
        self.trunk = nn.Sequential(nn.Dropout(input_dropout), nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout))
        self.emotion = nn.Linear(hidden, len(EMOTION_CLASSES))
        self.sentiment = nn.Linear(hidden, len(SENTIMENT_CLASSES))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.trunk(x)
        return self.emotion(z), self.sentiment(z)


@dataclass
class TextReading:
    """What the head reads in one utterance."""

    emotion_probs: dict[str, float]  # over EMOTION_CLASSES, sums to 1
    sentiment_probs: dict[str, float]  # over SENTIMENT_CLASSES, sums to 1

    def to_dict(self) -> dict:
        return {"emotion_probs": {k: round(v, 4) for k, v in self.emotion_probs.items()},
                "sentiment_probs": {k: round(v, 4) for k, v in self.sentiment_probs.items()}}


def save_text_head(net: TextHeadNet, path: str | Path, info: dict) -> Path:
    """Write the head's weights and ``info`` (architecture, training data, licence, scores) to one safetensors file."""
    hidden = net.trunk[1].out_features
    meta = {"encoder": ENCODER_NAME, "in_dim": net.trunk[1].in_features, "hidden": hidden,
            "emotion_classes": list(EMOTION_CLASSES), "sentiment_classes": list(SENTIMENT_CLASSES),
            "lexicon_features": list(LEXICON_FEATURES), **info}
    return save_head(net, path, _META_KEY, meta)


def read_head_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, description) of a head file; anything unexpected is one error naming the file."""
    tensors, meta = read_head(path, _META_KEY, "text head", "affectllm train-text-head")
    if not isinstance(meta, dict) or meta.get("emotion_classes") != list(EMOTION_CLASSES) \
            or meta.get("sentiment_classes") != list(SENTIMENT_CLASSES) or meta.get("encoder") != ENCODER_NAME:
        raise AffectLLMError(f"text head {path}: no affectllm text-head description for {ENCODER_NAME} with the "
                             f"classes {', '.join(EMOTION_CLASSES)}; retrain it with `affectllm train-text-head`")
    return tensors, meta


class TextHead:
    """A trained head with its frozen encoder; ``read(texts)`` gives one :class:`TextReading` per text."""

    def __init__(self, path: str | Path = HEAD_FILE, encoder_dir: str | Path | None = None):
        tensors, self.info = read_head_file(path)
        self.path = Path(path)
        self.features = SentenceFeatures(encoder_dir)
        if self.info["in_dim"] != self.features.dim:
            raise AffectLLMError(f"text head {path}: made for {self.info['in_dim']} features, the encoder gives "
                                 f"{self.features.dim}; retrain it for this encoder")
        self.net = TextHeadNet(self.info["in_dim"], self.info["hidden"])
        load_weights(self.net, tensors, f"text head {path}")

    @torch.no_grad()
    def read(self, texts: list[str], lexicals: list[dict] | None = None) -> list[TextReading]:
        """One reading per text; ``lexicals`` are their lexical cue dicts (computed here when None)."""
        from affectllm.cues.extractors.lexicon import lexical_cues

        if lexicals is None:
            lexicals = [lexical_cues(t) for t in texts]
        # a few sentences are a few milliseconds of work on one core; a thread pool's wake-ups cost more
        with torch_threads(1 if len(texts) <= SMALL_BATCH else torch.get_num_threads()):
            return readings(self.net, self.features(texts, lexicals))

    @property
    def name(self) -> str:
        trained_on = str(self.info.get("trained_on", self.path.name)).split(" (")[0]  # the source stays in the file
        return f"{ENCODER_NAME} + text head ({trained_on})"


def readings(net: TextHeadNet, features: torch.Tensor) -> list[TextReading]:
    """(N, in_dim) features -> N readings (softmax of both outputs)."""
    net.eval()
    with torch.no_grad():
        emo, sent = net(features)
    pe, ps = emo.softmax(-1).numpy().astype(np.float64), sent.softmax(-1).numpy().astype(np.float64)
    return [TextReading(dict(zip(EMOTION_CLASSES, map(float, a))), dict(zip(SENTIMENT_CLASSES, map(float, b))))
            for a, b in zip(pe, ps)]


@load_once
def text_head(path: str | None = None) -> TextHead:
    """The head at ``path`` (default: the bundled MELD head), loaded once per process (a caller that comes
    while a background thread loads it waits for that load)."""
    return TextHead(path or HEAD_FILE)


def default_text_head() -> TextHead:
    return text_head(None)
