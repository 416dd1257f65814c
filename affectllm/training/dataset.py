"""Manifest samples → prepared training samples, decoded in DataLoader worker processes.

A sample that cannot be used (its media placeholders would be cut by
``data.max_length``, or its media file is broken) is replaced by the next usable
sample, so every rank still gets full batches and takes the same number of steps;
the replacement is recorded with its reason and the trainer reports the counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from affectllm.core.errors import AffectLLMError
from affectllm.core.jsonl import iter_jsonl
from affectllm.core.manifest import ManifestError, check_context, media_spec
from affectllm.model.processor import AffectProcessor, PreparedSample

# Give up after this many unusable samples in a row: the manifest is broken, not one sample.
MAX_CONSECUTIVE_DROPS = 64


def read_manifest(path: str | Path) -> list[dict]:
    """All samples of a manifest JSONL, in file order (media paths stay relative to its folder).

    Every sample must keep the manifest contract (``affectllm.core.manifest.media_spec``: one video and one
    audio at most, tags matching the files): a sample that breaks it is a bug in the manifest, so the
    run stops at load time naming the first one, exactly as ``affectllm recipe check`` reports it.
    """
    path = Path(path)
    samples, broken = [], []
    hint = "set data.train to a JSONL manifest (`affectllm recipe` writes one)"
    for lineno, sample in iter_jsonl(path, "manifest", hint):
        try:
            media_spec(sample, f"{path}:{lineno}")
            check_context(sample, f"{path}:{lineno}")
        except ManifestError as err:
            broken.append(str(err))
            continue
        sample.setdefault("id", f"{path.stem}:{lineno}")
        samples.append(sample)
    if broken:
        more = f" (and {len(broken) - 1} more samples)" if len(broken) > 1 else ""
        raise ManifestError(f"{broken[0]}{more}; `affectllm recipe check {path}` lists them all")
    if not samples:
        raise AffectLLMError(f"manifest {path} has no samples")
    return samples


@dataclass
class TrainItem:
    sample: PreparedSample
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (sample id, reason) replaced by this one
    from_cache: bool = False


class ManifestDataset:
    """Index → :class:`TrainItem`. Picklable, so DataLoader workers can run it.

    With a feature cache, a sample whose media is cached skips decoding and
    encoding: its media arrive as ``EncoderFeatures`` the model splices directly.
    """

    def __init__(self, samples: list[dict], root: Path | None, processor: AffectProcessor, feature_cache=None,
                 generation: bool = False):
        self.samples, self.root, self.processor, self.feature_cache = samples, root, processor, feature_cache
        self.generation = generation  # prompts only (the user turns, ready to answer), as GRPO samples from them

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> TrainItem:
        dropped: list[tuple[str, str]] = []
        for attempt in range(MAX_CONSECUTIVE_DROPS):
            sample = self.samples[(index + attempt) % len(self.samples)]
            try:
                media = self.feature_cache.lookup(sample, self.root) if self.feature_cache is not None else None
                prepared = self.processor.prepare(sample, self.root, generation=self.generation, media=media,
                                                  cache=self.feature_cache)
                return TrainItem(prepared, dropped, from_cache=media is not None)
            except AffectLLMError as err:  # SampleTooLong, MediaError, an empty assistant turn ...
                dropped.append((str(sample.get("id")), f"{type(err).__name__}: {err}"))
        raise AffectLLMError(f"{MAX_CONSECUTIVE_DROPS} unusable samples in a row from index {index}; "
                             f"last: {dropped[-1][1]}")


@dataclass
class TrainingData:
    """The training manifests as one dataset, with their mixture when there are several."""

    dataset: Any  # ManifestDataset, or a torch ConcatDataset of one per manifest
    mixture: Any  # sampler.Mixture, or None for a single manifest
    sources: list[dict[str, Any]]  # per manifest: path, samples, weight, per_epoch, feature_cache

    def describe(self) -> str:
        if len(self.sources) == 1:
            return f"{self.sources[0]['samples']} samples"
        parts = [f"{Path(s['path']).name} {s['per_epoch']}/epoch of {s['samples']}" for s in self.sources]
        return f"{sum(s['samples'] for s in self.sources)} samples mixed from {len(self.sources)} manifests (" \
               + ", ".join(parts) + ")"


def build_training_data(sources: list, processor: AffectProcessor, open_cache: Callable[[Path], Any],
                        generation: bool = False) -> TrainingData:
    """One ManifestDataset per ``TrainSource`` (``open_cache(manifest)`` gives its feature cache or None),
    concatenated and mixed by weight (``affectllm.training.sampler``); ``generation``: prompts only."""
    from torch.utils.data import ConcatDataset

    from affectllm.training.sampler import Mixture, mixture_counts

    datasets, info = [], []
    for source in sources:
        manifest = Path(source.path)
        cache = open_cache(manifest)
        samples = read_manifest(manifest)
        datasets.append(ManifestDataset(samples, manifest.parent, processor, cache, generation))
        # the names the model card cites (and the licences they carry), kept so the card never reads the manifest
        names = sorted({str(s["dataset"]) for s in samples if s.get("dataset")})
        info.append({"path": str(manifest), "samples": len(datasets[-1]), "weight": source.weight,
                     "feature_cache": str(cache.folder) if cache is not None else None, "datasets": names})
    if len(datasets) == 1:
        info[0]["per_epoch"] = info[0]["samples"]
        return TrainingData(datasets[0], None, info)
    counts = mixture_counts([len(d) for d in datasets], [s.weight for s in sources])
    for entry, count in zip(info, counts):
        entry["per_epoch"] = count
    return TrainingData(ConcatDataset(datasets), Mixture(tuple(len(d) for d in datasets), tuple(counts)), info)


class TrainCollator:
    """Pads a micro-batch (``processor.collate``) and carries the drop and cache counts along."""

    def __init__(self, processor: AffectProcessor, padding_side: str = "right"):
        self.processor, self.padding_side = processor, padding_side  # left: prompts to generate from

    def __call__(self, items: list[TrainItem]) -> dict[str, Any]:
        batch = self.processor.collate([it.sample for it in items], padding_side=self.padding_side)
        batch["dropped"] = [d for it in items for d in it.dropped]
        batch["cached"] = sum(it.from_cache for it in items)
        batch["num_tokens"] = int(batch["attention_mask"].sum())
        return batch
