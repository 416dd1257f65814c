"""Training the text head (``affectllm train-text-head``): labelled utterances -> a head file.

Input is a manifest whose lines carry the utterance in ``subtitle``, one of
the 7 classes in ``label`` and optionally ``sentiment`` (positive, negative,
neutral), as ``affectllm recipe meld --text-only`` writes them. The frozen
encoder's features are computed once; the head then trains for a fixed number
of epochs (AdamW, one-cycle learning rate, cross-entropy on both outputs).

Reproducible: the same examples, configuration and seed give bit-identical
weights (fixed-size, length-sorted encoder batches; one seeded generator for
initialisation, dropout and shuffling; the head trains on one CPU thread, so
the result does not depend on the core count).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from affectllm.cues.heads.head_fit import fit_head, torch_threads
from affectllm.cues.heads.text_head import EMOTION_CLASSES, SENTIMENT_CLASSES, SentenceFeatures, TextHeadNet, readings
from affectllm.cues.heads.text_head_config import HeadTraining
from affectllm.core.errors import AffectLLMError

IGNORE = -100  # sentiment target of an example without a sentiment


@dataclass
class TextExamples:
    """Labelled utterances: ``labels`` index EMOTION_CLASSES, ``sentiments`` SENTIMENT_CLASSES (IGNORE if absent)."""

    ids: list[str]
    texts: list[str]
    labels: list[int]
    sentiments: list[int]

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: list[int]) -> "TextExamples":
        return TextExamples(*([getattr(self, k)[i] for i in index] for k in ("ids", "texts", "labels", "sentiments")))


def read_text_examples(manifest: str | Path) -> TextExamples:
    """Labelled utterances of a manifest; a line without text or with an unknown label is one error naming it."""
    from affectllm.core.jsonl import iter_jsonl

    out = TextExamples([], [], [], [])
    hint = "make one with `affectllm recipe meld --input MELD_DIR --split train --text-only --out FILE`"
    for lineno, rec in iter_jsonl(manifest, "text-head training manifest", hint):
        where = f"{manifest}:{lineno}"
        text = rec.get("subtitle")
        if not isinstance(text, str) or not text.strip():
            raise AffectLLMError(f'{where}: no "subtitle" text; every training line needs the utterance')
        label = str(rec.get("label", "")).lower().strip()
        if label not in EMOTION_CLASSES:
            raise AffectLLMError(f'{where}: "label" {rec.get("label")!r} is not one of {", ".join(EMOTION_CLASSES)}')
        sentiment = rec.get("sentiment")
        if sentiment is not None and str(sentiment).lower().strip() not in SENTIMENT_CLASSES:
            raise AffectLLMError(f'{where}: "sentiment" {sentiment!r} is not one of {", ".join(SENTIMENT_CLASSES)}')
        out.ids.append(str(rec.get("id", lineno)))
        out.texts.append(text)
        out.labels.append(EMOTION_CLASSES.index(label))
        out.sentiments.append(IGNORE if sentiment is None else SENTIMENT_CLASSES.index(str(sentiment).lower().strip()))
    if not out.ids:
        raise AffectLLMError(f"{manifest}: no labelled utterances; {hint}")
    return out


def featurize(examples: TextExamples, features: SentenceFeatures, progress: bool = False) -> torch.Tensor:
    """(N, features.dim) inputs of the head for ``examples`` (lexical cues + frozen encoder)."""
    from affectllm.cues.extractors.lexicon import lexical_cues

    return features(examples.texts, [lexical_cues(t) for t in examples.texts], progress=progress)


def train_head(x: torch.Tensor, examples: TextExamples, cfg: HeadTraining = HeadTraining(),
               progress: bool = False) -> TextHeadNet:
    """Train a head on features ``x`` (N, D) of ``examples``; deterministic for a given ``cfg.seed``."""
    if len(x) != len(examples):
        raise ValueError(f"{len(x)} feature rows for {len(examples)} examples")
    with torch_threads(1):  # the same weights on every machine
        return _train(x, examples, cfg, progress)


def _train(x: torch.Tensor, examples: TextExamples, cfg: HeadTraining, progress: bool) -> TextHeadNet:
    torch.manual_seed(cfg.seed)
    net = TextHeadNet(x.shape[1], cfg.hidden)
    labels, sentiments = torch.tensor(examples.labels), torch.tensor(examples.sentiments)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        emo, sent = net(x[idx])
        loss = nn.functional.cross_entropy(emo, labels[idx])
        if (sentiments[idx] != IGNORE).any():
            loss = loss + cfg.sentiment_weight * nn.functional.cross_entropy(sent, sentiments[idx],
                                                                             ignore_index=IGNORE)
        return loss

    return fit_head(net, len(x), batch_loss, cfg, "text head", progress)


def head_scores(net: TextHeadNet, x: torch.Tensor, examples: TextExamples) -> dict[str, float]:
    """Closed-set accuracy / WAF of the emotion output and accuracy of the sentiment output on ``examples``."""
    from affectllm.eval.classification import accuracy, closed_set_scores

    got = readings(net, x)
    pred = [max(r.emotion_probs, key=r.emotion_probs.get) for r in got]
    scores = closed_set_scores([EMOTION_CLASSES[i] for i in examples.labels], pred)
    with_sent = [(s, r) for s, r in zip(examples.sentiments, got) if s != IGNORE]
    out = {"acc": round(scores["acc"], 4), "waf": round(scores["waf"], 4), "samples": len(examples)}
    if with_sent:
        out["sentiment_acc"] = round(accuracy([SENTIMENT_CLASSES[s] for s, _ in with_sent],
                                              [max(r.sentiment_probs, key=r.sentiment_probs.get)
                                               for _, r in with_sent]), 4)
    return out


def training_info(cfg: HeadTraining, train_path: str | Path, examples: TextExamples, scores: dict) -> dict:
    """The description stored with the weights: how, on what, and how well it was trained."""
    return {"training": asdict(cfg), "train_manifest": Path(train_path).name, "train_samples": len(examples),
            "scores": scores}
