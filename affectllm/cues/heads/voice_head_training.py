"""Training the voice head (``affectllm train-voice-head``): labelled clips -> a head file.

Input is a manifest whose lines carry one audio file (``audios``, or a video
with its own sound) and one of the 8 RAVDESS classes in ``label``, as
``affectllm recipe ravdess`` writes them; ``speaker`` (or ``actor``) groups the
clips by speaker. The frozen features are computed once; the head then trains
for a fixed number of epochs (AdamW, one-cycle learning rate, cross-entropy
weighted so every class counts alike).

Speaker-independent calibration: the training speakers are dealt into folds;
a head trained without each fold reads that fold, and the temperature that
makes those out-of-fold probabilities most likely (lowest negative
log-likelihood on a fixed grid) is stored with the final head, which trains on
every training clip. The fold scores are stored too.

Reproducible: the same clips, configuration and seed give bit-identical
weights (one seeded generator for initialisation, dropout and shuffling; the
head trains on one CPU thread, so the result does not depend on the core count).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectllm.cues.heads.head_fit import fit_head, torch_threads
from affectllm.cues.heads.voice_head import VOICE_CLASSES, VoiceHeadNet, probabilities
from affectllm.cues.heads.voice_head_config import VoiceTraining
from affectllm.core.errors import AffectLLMError

TEMPERATURES = tuple(round(0.5 + 0.05 * i, 2) for i in range(71))  # 0.5 .. 4.0
ECE_BINS = 10


@dataclass
class VoiceExamples:
    """Labelled clips: ``labels`` index VOICE_CLASSES; ``speakers`` group them (the clip's id when unknown)."""

    ids: list[str]
    audio: list[Path]
    labels: list[int]
    speakers: list[str]

    def __len__(self) -> int:
        return len(self.ids)


def _clip(manifest: Path, rec: dict, where: str) -> Path:
    audios, videos = rec.get("audios") or [], rec.get("videos") or []
    if len(audios) + len(videos) != 1 or not all(isinstance(p, str) for p in audios + videos):
        raise AffectLLMError(f'{where}: expected one audio file in "audios" (or one video in "videos"), '
                             f"got {len(audios) + len(videos)}")
    path = manifest.parent / (audios or videos)[0]
    if not path.is_file():
        raise AffectLLMError(f"{where}: clip {path} not found")
    return path


def read_voice_examples(manifest: str | Path) -> VoiceExamples:
    """Labelled clips of a manifest; a line without a clip or with an unknown label is one error naming it."""
    from affectllm.core.jsonl import iter_jsonl

    manifest = Path(manifest)
    out = VoiceExamples([], [], [], [])
    hint = "make one with `affectllm recipe ravdess --input RAVDESS --split train --out FILE`"
    for lineno, rec in iter_jsonl(manifest, "voice-head training manifest", hint):
        where = f"{manifest}:{lineno}"
        label = str(rec.get("label", "")).lower().strip()
        if label not in VOICE_CLASSES:
            raise AffectLLMError(f'{where}: "label" {rec.get("label")!r} is not one of {", ".join(VOICE_CLASSES)}')
        out.ids.append(str(rec.get("id", lineno)))
        out.audio.append(_clip(manifest, rec, where))
        out.labels.append(VOICE_CLASSES.index(label))
        out.speakers.append(str(rec.get("speaker") or rec.get("actor") or out.ids[-1]))
    if not out.ids:
        raise AffectLLMError(f"{manifest}: no labelled clips; {hint}")
    return out


def featurize(examples: VoiceExamples, feature_set: str, whisper: str | None = None,
              progress: bool = False) -> torch.Tensor:
    """(N, dim) float32 features of ``examples`` (one thread: the same numbers on every machine)."""
    from tqdm import tqdm

    from affectllm.cues.heads.voice_features import VoiceFeatures
    from affectllm.media.audio import load_audio

    features = VoiceFeatures(feature_set, whisper)
    with torch_threads(1):
        rows = [features(load_audio(p))[0] for p in tqdm(examples.audio, desc=f"{feature_set} features",
                                                          unit="clip", disable=not progress)]
    return torch.from_numpy(np.stack(rows))


def train_head(x: torch.Tensor, labels: list[int], cfg: VoiceTraining = VoiceTraining(),
               progress: bool = False) -> VoiceHeadNet:
    """Train a head on features ``x`` (N, D); deterministic for a given ``cfg.seed``."""
    if len(x) != len(labels):
        raise ValueError(f"{len(x)} feature rows for {len(labels)} labels")
    with torch_threads(1):
        return _train(x, torch.tensor(labels), cfg, progress)


def _train(x: torch.Tensor, y: torch.Tensor, cfg: VoiceTraining, progress: bool) -> VoiceHeadNet:
    torch.manual_seed(cfg.seed)
    net = VoiceHeadNet(x.shape[1], cfg.hidden, cfg.dropout, cfg.input_dropout)
    net.mean.copy_(x.mean(0))
    net.scale.copy_(x.std(0).clamp_min(1e-6))
    counts = torch.bincount(y, minlength=len(VOICE_CLASSES)).float()
    weight = torch.where(counts > 0, counts.sum() / (len(VOICE_CLASSES) * counts.clamp_min(1)), torch.zeros(()))
    return fit_head(net, len(x), lambda idx: nn.functional.cross_entropy(net(x[idx]), y[idx], weight=weight), cfg,
               "voice head", progress)


def speaker_folds(speakers: list[str], k: int) -> list[list[int]]:
    """Example indices of ``k`` folds, each holding whole speakers (sorted speakers dealt in turn)."""
    names = sorted(set(speakers))
    if k < 2 or len(names) < k:
        raise AffectLLMError(f"{k} speaker folds need at least {max(k, 2)} speakers; the training manifest has "
                             f"{len(names)} (set --folds 0 to skip the folds)")
    fold_of = {name: i % k for i, name in enumerate(names)}
    return [[i for i, s in enumerate(speakers) if fold_of[s] == f] for f in range(k)]


def out_of_fold_logits(x: torch.Tensor, examples: VoiceExamples, cfg: VoiceTraining,
                       progress: bool = False) -> torch.Tensor:
    """(N, 8) logits, each from a head trained without the clip's speaker fold."""
    from tqdm import tqdm

    logits = torch.zeros(len(x), len(VOICE_CLASSES))
    labels = torch.tensor(examples.labels)
    for held in tqdm(speaker_folds(examples.speakers, cfg.folds), desc="speaker folds", unit="fold",
                     disable=not progress):
        keep = torch.ones(len(x), dtype=torch.bool)
        keep[held] = False
        net = train_head(x[keep], labels[keep].tolist(), cfg)
        with torch.no_grad():
            logits[held] = net(x[held])
    return logits


def choose_temperature(logits: torch.Tensor, labels: list[int]) -> float:
    """The TEMPERATURES value with the lowest mean negative log-likelihood of ``labels`` (ties: the smaller)."""
    y = torch.tensor(labels)
    nll = [nn.functional.cross_entropy(logits / t, y).item() for t in TEMPERATURES]
    return TEMPERATURES[int(np.argmin(nll))]


def expected_calibration_error(probs: np.ndarray, labels: list[int], bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| of the top class over ``bins`` equal-width confidence bins, weighted by size."""
    conf, hit = probs.max(1), probs.argmax(1) == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    return float(sum(abs(hit[which == b].mean() - conf[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / len(labels))


def class_scores(probs: np.ndarray, labels: list[int]) -> dict:
    """Unweighted accuracy (mean per-class recall), accuracy, per-class recall and ECE of (N, 8) probabilities."""
    pred, y = probs.argmax(1), np.asarray(labels)
    recall = {c: round(float((pred[y == i] == i).mean()), 4) for i, c in enumerate(VOICE_CLASSES) if (y == i).any()}
    return {"ua": round(float(np.mean(list(recall.values()))), 4), "acc": round(float((pred == y).mean()), 4),
            "recall": recall, "ece": round(expected_calibration_error(probs, labels), 4), "samples": len(labels)}


def fit(x: torch.Tensor, examples: VoiceExamples, cfg: VoiceTraining,
        progress: bool = False) -> tuple[VoiceHeadNet, float, dict]:
    """The final head (all clips), its temperature (from the speaker folds; 1.0 without folds) and the
    fold scores at that temperature."""
    temperature, scores = 1.0, {}
    if cfg.folds:
        logits = out_of_fold_logits(x, examples, cfg, progress)
        temperature = choose_temperature(logits, examples.labels)
        scores["folds"] = class_scores((logits / temperature).softmax(-1).numpy().astype(np.float64), examples.labels)
        scores["folds"]["ece_t1"] = round(expected_calibration_error(logits.softmax(-1).numpy(), examples.labels), 4)
    net = train_head(x, examples.labels, cfg, progress)
    scores["train"] = class_scores(probabilities(net, x, temperature), examples.labels)
    return net, temperature, scores


def training_info(cfg: VoiceTraining, train_path: str | Path, examples: VoiceExamples, scores: dict) -> dict:
    """The description stored with the weights: how, on what, and how well it was trained."""
    return {"training": asdict(cfg), "train_manifest": Path(train_path).name, "train_samples": len(examples),
            "train_speakers": len(set(examples.speakers)), "scores": scores}
