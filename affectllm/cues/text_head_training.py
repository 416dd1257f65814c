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

from affectllm.cues.text_head import EMOTION_CLASSES, SENTIMENT_CLASSES, SentenceFeatures, TextHeadNet, readings
from affectllm.cues.text_head_config import HeadTraining
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
    from affectllm.cues.lexicon import lexical_cues

    return features(examples.texts, [lexical_cues(t) for t in examples.texts], progress=progress)


def train_head(x: torch.Tensor, examples: TextExamples, cfg: HeadTraining = HeadTraining(),
               progress: bool = False) -> TextHeadNet:
    """Train a head on features ``x`` (N, D) of ``examples``; deterministic for a given ``cfg.seed``."""
    if len(x) != len(examples):
        raise ValueError(f"{len(x)} feature rows for {len(examples)} examples")
    threads = torch.get_num_threads()
    # One thread: a multi-threaded matmul sums in an order that depends on the core count, so the
    # weights would differ between machines; the head is small enough that one thread is fast.
    torch.set_num_threads(1)
    try:
        return _train(x, examples, cfg, progress)
    finally:
        torch.set_num_threads(threads)


def _train(x: torch.Tensor, examples: TextExamples, cfg: HeadTraining, progress: bool) -> TextHeadNet:
    from tqdm import tqdm

    torch.manual_seed(cfg.seed)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    net = TextHeadNet(x.shape[1], cfg.hidden)
    labels, sentiments = torch.tensor(examples.labels), torch.tensor(examples.sentiments)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-len(x) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch)
    bar = tqdm(range(cfg.epochs), desc="text head", unit="epoch", disable=not progress)
    for _ in bar:
        net.train()
        order = torch.randperm(len(x), generator=shuffle)
        total = 0.0
        for start in range(0, len(x), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            emo, sent = net(x[idx])
            loss = nn.functional.cross_entropy(emo, labels[idx])
            if (sentiments[idx] != IGNORE).any():
                loss = loss + cfg.sentiment_weight * nn.functional.cross_entropy(sent, sentiments[idx],
                                                                                 ignore_index=IGNORE)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        bar.set_postfix(loss=f"{total / len(x):.3f}")
    net.eval()
    return net


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
