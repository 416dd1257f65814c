"""Frozen-encoder outputs computed once and stored on disk, keyed by media content.

Layout of a cache folder::

    index.json            signature, entries {media key: [shard, modalities]}, file-hash memo
    shard_00000.safetensors   tensors named "<media key>/<modality>", each (T, D)

The *media key* hashes the bytes of the sample's media files and its subtitle, so a
renamed file still hits and an edited one misses. The *signature* records what
produced the features (each encoder's config signature and a fingerprint of its
weights, the frame/audio sampling settings); opening a cache under a different
signature is refused, since silently mixing features from another encoder would
train the adapter on the wrong inputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from affectllm.encoders import encode_batch
from affectllm.core.durable import write_atomic
from affectllm.core.errors import ConfigError
from affectllm.core.manifest import media_spec
from affectllm.model.processor import EncoderFeatures, resolve_media_path

INDEX_FILE = "index.json"
CACHE_VERSION = 1


# ------------------------------------------------------------------ keys and signature

def weights_fingerprint(module: torch.nn.Module) -> str:
    """A cheap hash of a module's weights: shapes plus every 997th value of each tensor."""
    h = hashlib.sha256()
    for name, p in module.state_dict().items():
        flat = p.detach().reshape(-1)[::997].float().cpu()
        h.update(name.encode())
        h.update(str(tuple(p.shape)).encode())
        h.update(flat.numpy().tobytes())
    return h.hexdigest()[:16]


def cache_signature(encoders: dict, media_settings, max_text_tokens: int) -> dict[str, Any]:
    """What determines the cached features: encoders (config + weights) and how media are sampled."""
    from dataclasses import asdict

    sig: dict[str, Any] = {"version": CACHE_VERSION, "media": asdict(media_settings),
                           "max_text_tokens": max_text_tokens, "encoders": {}}
    for m, enc in sorted(encoders.items()):
        sig["encoders"][m] = dict(enc.config_signature(), weights=weights_fingerprint(enc.model))
    return sig


def _signature_difference(a: dict, b: dict, prefix: str = "") -> str:
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            diff = _signature_difference(va, vb, f"{prefix}{key}.")
            if diff:
                return diff
        elif va != vb:
            return f"{prefix}{key}: cache has {va!r}, config has {vb!r}"
    return ""


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FileHasher:
    """Content hashes with a (size, mtime) memo, so a training epoch does not reread every file."""

    def __init__(self, memo: dict[str, list] | None = None):
        self.memo = memo if memo is not None else {}

    def __call__(self, path: Path) -> str:
        st = path.stat()
        key = str(path.resolve())
        known = self.memo.get(key)
        if known and known[0] == st.st_size and known[1] == st.st_mtime_ns:
            return known[2]
        digest = file_sha256(path)
        self.memo[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest


def media_key(sample: dict, root: Path | None, hasher: FileHasher) -> str | None:
    """Hash of everything the encoders see for this sample; None when it has no media or subtitle."""
    h = hashlib.sha256()
    parts = 0
    for kind in ("videos", "audios"):
        for path in (sample.get(kind) or [])[:1]:  # a sample holds at most one of each (affectllm.core.manifest)
            h.update(f"{kind}:{hasher(resolve_media_path(path, root))};".encode())
            parts += 1
    clip = sample.get("clip")  # an in-memory MediaClip (generated data)
    if clip is not None:
        for name in ("frames", "audio"):
            arr = getattr(clip, name, None)
            if arr is not None:
                h.update(f"{name}:{arr.shape}:".encode())
                h.update(arr.tobytes())
                parts += 1
    subtitle = (sample.get("subtitle") or "").strip()
    if subtitle:
        h.update(f"subtitle:{subtitle}".encode())
        parts += 1
    if parts:  # the same clip seen with or without its sound (its tags) holds different features
        spec = media_spec(sample)
        h.update(f"tags:{spec.see_video:d}{spec.hear_audio:d}".encode())
    return h.hexdigest()[:32] if parts else None


# ------------------------------------------------------------------ reading

class FeatureCache:
    """Read side, used by the training dataset (in DataLoader workers)."""

    def __init__(self, folder: Path, index: dict):
        self.folder = folder
        self.index = index
        self.entries: dict[str, list] = index["entries"]
        self.hasher = FileHasher(dict(index.get("files", {})))
        self._open: dict[str, Any] = {}

    @classmethod
    def open(cls, folder: str | Path, signature: dict) -> "FeatureCache":
        folder = Path(folder)
        index_path = folder / INDEX_FILE
        if not index_path.is_file():
            raise ConfigError(f"data.feature_cache {folder}: no {INDEX_FILE}; build it with "
                              "`affectllm cache-features MANIFEST --config CONFIG`")
        index = json.loads(index_path.read_text())
        diff = _signature_difference(index.get("signature", {}), signature)
        if diff:
            raise ConfigError(f"feature cache {folder} was built with a different encoder config ({diff}); "
                              "rebuild it with `affectllm cache-features` or set data.feature_cache=null")
        return cls(folder, index)

    def __getstate__(self):  # safetensors handles do not cross process boundaries
        state = dict(self.__dict__)
        state["_open"] = {}
        return state

    def lookup(self, sample: dict, root: Path | None) -> dict[str, EncoderFeatures] | None:
        """The cached encoder features of this sample's media, or None when not cached."""
        from safetensors import safe_open

        try:
            key = media_key(sample, root, self.hasher)
        except OSError:
            return None  # a missing file: let normal decoding report it
        entry = self.entries.get(key) if key else None
        if entry is None:
            return None
        shard, modalities = entry
        handle = self._open.get(shard)
        if handle is None:
            handle = self._open[shard] = safe_open(str(self.folder / shard), framework="pt")
        out = {}
        for m in modalities:
            seq = handle.get_tensor(f"{key}/{m}")
            out[m] = EncoderFeatures(seq, torch.ones(seq.shape[0], dtype=torch.bool))
        return out


# ------------------------------------------------------------------ writing

class _DecodeOnly:
    """Dataset for building a cache: decode each sample's media (in workers), no rendering."""

    def __init__(self, samples: list[dict], root: Path | None, processor, hasher: FileHasher):
        self.samples, self.root, self.processor, self.hasher = samples, root, processor, hasher

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        from affectllm.core.errors import AffectLLMError

        sample = self.samples[i]
        try:
            key = media_key(sample, self.root, self.hasher)
            return key, self.processor.sample_media(sample, self.root), None
        except (AffectLLMError, OSError) as err:
            return None, None, f"{sample.get('id')}: {err}"


def _write_index(folder: Path, index: dict) -> None:
    write_atomic(folder / INDEX_FILE, json.dumps(index))  # readers never see a half-written index


def _open_index(folder: Path, signature: dict) -> dict:
    """The cache's index (a new one when the folder holds none); a cache of other encoders is refused."""
    if not (folder / INDEX_FILE).exists():
        return {"signature": signature, "entries": {}, "files": {}}
    index = json.loads((folder / INDEX_FILE).read_text())
    diff = _signature_difference(index.get("signature", {}), signature)
    if diff:
        raise ConfigError(f"feature cache {folder} was built with a different encoder config ({diff}); "
                          "write the new cache to another folder")
    return index


class _ShardWriter:
    """Encoded samples collect in memory and go to disk a shard (safetensors file) at a time, the index after it."""

    def __init__(self, folder: Path, index: dict):
        self.folder, self.index = folder, index
        self.tensors: dict[str, torch.Tensor] = {}
        self.entries: dict[str, list] = {}
        self.shard_no = len({shard for shard, _ in index["entries"].values()})

    def has(self, key: str) -> bool:
        return key in self.index["entries"] or key in self.entries

    def add(self, key: str, feats: dict[str, torch.Tensor]) -> None:
        for m, seq in feats.items():
            self.tensors[f"{key}/{m}"] = seq
        self.entries[key] = sorted(feats)

    def flush(self) -> None:
        from safetensors.torch import save_file

        if not self.tensors:
            return
        name = f"shard_{self.shard_no:05d}.safetensors"
        save_file(self.tensors, str(self.folder / name))
        for key, modalities in self.entries.items():
            self.index["entries"][key] = [name, modalities]
        _write_index(self.folder, self.index)
        self.shard_no += 1
        self.tensors.clear()
        self.entries.clear()


@torch.no_grad()
def build_feature_cache(samples: list[dict], root: Path | None, encoders: dict, processor, signature: dict,
                        out: str | Path, batch_size: int = 8, shard_size: int = 512, num_workers: int = 2,
                        show_progress: bool = True) -> dict[str, Any]:
    """Encode every sample's media once and add them to the cache at ``out`` (already cached keys are skipped).

    Returns counts: {"samples", "encoded", "already_cached", "no_media", "failed", "errors"}."""
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    if any(enc.trainable for enc in encoders.values()):
        raise ConfigError("model.train_encoders is true: trained encoders change every step, so their "
                          "features cannot be cached; set model.train_encoders=false")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    index = _open_index(folder, signature)
    hasher = FileHasher(index["files"])
    counts = {"samples": len(samples), "encoded": 0, "already_cached": 0, "no_media": 0, "failed": 0}
    errors: list[str] = []
    loader = DataLoader(_DecodeOnly(samples, root, processor, hasher), batch_size=batch_size,
                        num_workers=num_workers, collate_fn=list)
    writer = _ShardWriter(folder, index)
    for batch in tqdm(loader, desc="caching features", unit="batch", disable=not show_progress):
        todo = []
        for key, media, error in batch:
            if error is not None:
                counts["failed"] += 1
                errors.append(error)
            elif key is None or not media:
                counts["no_media"] += 1
            elif writer.has(key):
                counts["already_cached"] += 1
            else:
                todo.append((key, media))
        for (key, _), feats in zip(todo, encode_batch(encoders, [media for _, media in todo])):
            writer.add(key, feats)
            counts["encoded"] += 1
        if len(writer.entries) >= shard_size:
            writer.flush()
    writer.flush()
    # file hashes computed in worker processes did not come back; hash on the main side once
    for sample in samples:
        try:
            media_key(sample, root, hasher)
        except OSError:
            pass
    _write_index(folder, index)
    return dict(counts, errors=errors[:20])
