"""Training pieces in one process: data order, schedule, ZeRO config filling, feature cache, drops, checkpoints.

The multi-process DeepSpeed runs (ranks, ZeRO-2/3, kill and resume) are in test_training_launch.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from affectllm.config.schema import load_config
from affectllm.core.errors import AffectLLMError, ConfigError

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ data order

def test_epoch_order_shards_ranks_and_pads_by_wrapping():
    from affectllm.training.sampler import ShardSampler, epoch_order

    # unshuffled, 10 samples over 3 ranks: 4 each, the last two wrap round to samples 0 and 1
    assert epoch_order(10, 0, 3, seed=0, epoch=0, shuffle=False) == [0, 3, 6, 9]
    assert epoch_order(10, 1, 3, seed=0, epoch=0, shuffle=False) == [1, 4, 7, 0]
    assert epoch_order(10, 2, 3, seed=0, epoch=0, shuffle=False) == [2, 5, 8, 1]
    # shuffled: ranks are disjoint and cover everything; epochs differ; the same seed repeats
    a = epoch_order(16, 0, 2, seed=3, epoch=0)
    b = epoch_order(16, 1, 2, seed=3, epoch=0)
    assert sorted(a + b) == list(range(16))
    assert epoch_order(16, 0, 2, seed=3, epoch=1) != a
    assert epoch_order(16, 0, 2, seed=3, epoch=0) == a
    sampler = ShardSampler(16, rank=0, world_size=2, seed=3)
    sampler.set_position(epoch=0, start=5)
    assert list(sampler) == a[5:] and len(sampler) == 3


def test_lr_schedule_by_hand():
    from affectllm.training.optim import lr_multiplier

    # warm-up over 2 steps, then cosine from step 2 to 0 at step 10
    assert lr_multiplier(0, 10, 2, "cosine") == 0.5
    assert lr_multiplier(1, 10, 2, "cosine") == 1.0
    assert lr_multiplier(2, 10, 2, "cosine") == 1.0
    assert lr_multiplier(6, 10, 2, "cosine") == pytest.approx(0.5)
    assert lr_multiplier(10, 10, 2, "cosine") == pytest.approx(0.0)
    assert lr_multiplier(6, 10, 2, "linear") == pytest.approx(0.5)
    assert lr_multiplier(9, 10, 0, "constant") == 1.0


# ------------------------------------------------------------------ ZeRO json

def test_deepspeed_config_filled_from_yaml(tmp_path):
    from affectllm.training.deepspeed_config import deepspeed_config, offloads_optimizer

    cfg = load_config(None, ["model.llm=x", "model.prefusion=none", "train.micro_batch_size=2", "train.grad_accum=3",
                             "train.max_grad_norm=0.5", "model.dtype=bfloat16",
                             f"train.deepspeed={REPO / 'train/ds/zero3_offload.json'}"], check_paths=False)
    ds = deepspeed_config(cfg, world_size=4)
    assert ds["train_batch_size"] == 2 * 3 * 4
    assert ds["train_micro_batch_size_per_gpu"] == 2 and ds["gradient_accumulation_steps"] == 3
    assert ds["gradient_clipping"] == 0.5
    assert ds["bf16"]["enabled"] is True and ds["fp16"]["enabled"] is False
    assert ds["zero_optimization"]["stage"] == 3 and offloads_optimizer(ds)
    assert "auto" not in json.dumps(ds)
    for name in ("zero2.json", "zero3.json"):
        cfg.train.deepspeed = str(REPO / "train/ds" / name)
        assert not offloads_optimizer(deepspeed_config(cfg, 1))

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"train_batch_size": "auto", "zero_optimization": {"stage": "auto"}}))
    cfg.train.deepspeed = str(bad)
    with pytest.raises(ConfigError, match="zero_optimization.stage"):
        deepspeed_config(cfg, 1)
    bad.write_text(json.dumps({"optimizer": {"type": "AdamW"}}))
    with pytest.raises(ConfigError, match="optimizer"):
        deepspeed_config(cfg, 1)


# ------------------------------------------------------------------ checkpoints on disk

def _complete_checkpoint(root: Path, step: int) -> Path:
    """A checkpoint folder with a state file, a weight file and the real completion marker."""
    from dataclasses import asdict

    from affectllm.training.state import STATE_FILE, TrainerState, checkpoint_name, mark_complete

    folder = root / checkpoint_name(step)
    folder.mkdir(parents=True)
    (folder / STATE_FILE).write_text(json.dumps(asdict(TrainerState(step, 0, step, 1))))
    (folder / "fusion.safetensors").write_bytes(b"w" * 64)
    mark_complete(folder, step)
    return folder


def test_resume_picks_newest_complete_checkpoint_and_says_what_it_skipped(tmp_path):
    from affectllm.training.state import COMPLETE_FILE, find_checkpoint

    root = tmp_path / "checkpoints"
    two, four = _complete_checkpoint(root, 2), _complete_checkpoint(root, 4)
    (root / ".tmp-step_0000006").mkdir()  # a save killed half-way
    (root / "step_0000008").mkdir()  # renamed without its marker: never complete
    skipped = []
    assert find_checkpoint(tmp_path, skipped) == four
    assert skipped == [(root / "step_0000008", f"no {COMPLETE_FILE} (its save was interrupted)")]
    (four / "fusion.safetensors").write_bytes(b"")  # truncated after it was saved
    skipped = []
    assert find_checkpoint(tmp_path, skipped) == two
    assert skipped[-1] == (four, "fusion.safetensors has 0 bytes, 64 when it was saved")
    assert find_checkpoint(tmp_path / "elsewhere") is None


def test_rng_state_round_trip():
    import random

    import numpy as np

    from affectllm.training.state import rng_state, set_rng_state

    torch.manual_seed(1)
    saved = json.loads(json.dumps(rng_state()))  # it is stored as JSON
    expected = (random.random(), float(np.random.rand()), torch.rand(3))
    set_rng_state(saved)
    again = (random.random(), float(np.random.rand()), torch.rand(3))
    assert expected[:2] == again[:2] and torch.equal(expected[2], again[2])


# ------------------------------------------------------------------ data + cache on the tiny model

@pytest.fixture(scope="module")
def smoke(tiny_checkpoint, tmp_path_factory):
    """The tiny model built for training, and a 6-clip manifest of real mp4 files."""
    from affectllm.testing.smoke_data import write_smoke_manifest
    from affectllm.training.run import build_model

    manifest = write_smoke_manifest(tmp_path_factory.mktemp("smoke"), num_samples=6)
    cfg = load_config(tiny_checkpoint / "affectllm.yaml", [f"data.train={manifest}", "data.num_workers=0"])
    return cfg, build_model(cfg), manifest


def _cache(cfg, model, manifest, out):
    from affectllm.training.dataset import read_manifest
    from affectllm.training.feature_cache import build_feature_cache, cache_signature

    signature = cache_signature(dict(model.encoders), cfg.data.media, cfg.model.max_text_tokens)
    return build_feature_cache(read_manifest(manifest), manifest.parent, dict(model.encoders), model.processor,
                               signature, out, batch_size=4, shard_size=4, num_workers=0, show_progress=False)


def test_feature_cache_matches_encoders_and_refuses_other_config(smoke, tmp_path):
    from affectllm.training.dataset import ManifestDataset, TrainCollator, read_manifest
    from affectllm.training.feature_cache import FeatureCache, cache_signature

    cfg, model, manifest = smoke
    out = tmp_path / "cache"
    counts = _cache(cfg, model, manifest, out)
    assert counts["encoded"] == 6 and counts["failed"] == 0
    assert sorted(p.name for p in out.glob("*.safetensors")) == ["shard_00000.safetensors", "shard_00001.safetensors"]
    assert _cache(cfg, model, manifest, out)["already_cached"] == 6  # a second run adds nothing

    samples = read_manifest(manifest)
    signature = cache_signature(dict(model.encoders), cfg.data.media, cfg.model.max_text_tokens)
    cache = FeatureCache.open(out, signature)
    raw = model.processor.sample_media(samples[0], manifest.parent)
    direct = model.precompute_features(raw)
    cached = cache.lookup(samples[0], manifest.parent)
    assert set(cached) == {"video", "audio"}
    for m in cached:
        assert cached[m].seq.shape == direct[m].seq.shape
        torch.testing.assert_close(cached[m].seq, direct[m].seq, rtol=1e-4, atol=1e-5)

    # the loss with cached features equals the loss with decoded media
    collate = TrainCollator(model.processor)
    with_cache = collate([ManifestDataset(samples, manifest.parent, model.processor, cache)[i] for i in range(2)])
    without = collate([ManifestDataset(samples, manifest.parent, model.processor)[i] for i in range(2)])
    assert with_cache["cached"] == 2 and without["cached"] == 0
    assert "features" in with_cache["media_inputs"]["video"]
    with torch.no_grad():
        assert model(with_cache).loss.item() == pytest.approx(model(without).loss.item(), rel=1e-4)

    # keyed by content: a renamed copy hits, a different file misses
    copy = dict(samples[0], videos=["renamed.mp4"])
    shutil.copy(manifest.parent / samples[0]["videos"][0], manifest.parent / "renamed.mp4")
    assert cache.lookup(copy, manifest.parent) is not None
    other = dict(samples[0], videos=[samples[1]["videos"][0]], subtitle="a new line")
    assert cache.lookup(other, manifest.parent) is None

    changed = json.loads(json.dumps(signature))
    changed["media"]["num_frames"] += 4
    with pytest.raises(ConfigError, match="different encoder config.*num_frames"):
        FeatureCache.open(out, changed)
    changed = json.loads(json.dumps(signature))
    changed["encoders"]["audio"]["weights"] = "0" * 16
    with pytest.raises(ConfigError, match="weights"):
        FeatureCache.open(out, changed)


def test_too_long_sample_is_replaced_and_counted(smoke):
    from affectllm.training.dataset import ManifestDataset, TrainCollator, read_manifest

    cfg, model, manifest = smoke
    samples = read_manifest(manifest)
    # a long system turn pushes the media placeholders past max_length: cutting would break the splice
    samples[1] = dict(samples[1], messages=[{"role": "system", "content": "calm " * 600}] + samples[1]["messages"])
    batch = TrainCollator(model.processor)([ManifestDataset(samples, manifest.parent, model.processor)[1]])
    assert batch["ids"] == [samples[2]["id"]]  # the next usable sample took its place
    assert len(batch["dropped"]) == 1
    sid, reason = batch["dropped"][0]
    assert sid == samples[1]["id"] and reason.startswith("SampleTooLong")


def test_fresh_run_refuses_used_output_dir(tmp_path):
    from affectllm.training.run_folder import resume_checkpoint

    _complete_checkpoint(tmp_path / "checkpoints", 1)
    with pytest.raises(AffectLLMError, match="--resume"):
        resume_checkpoint(tmp_path, False)
    assert resume_checkpoint(tmp_path, True)[0].name == "step_0000001"
    with pytest.raises(AffectLLMError, match="no complete checkpoint"):
        resume_checkpoint(tmp_path / "new", True)


def test_answer_loss_equals_the_llm_loss_and_its_gradients(smoke):
    from affectllm.training.dataset import ManifestDataset, TrainCollator, read_manifest
    from affectllm.training.loss import AnswerLoss

    cfg, model, manifest = smoke
    samples = read_manifest(manifest)
    batch = TrainCollator(model.processor)([ManifestDataset(samples, manifest.parent, model.processor)[i]
                                            for i in range(3)])
    loss_module = AnswerLoss(model)
    assert loss_module.selective  # Qwen2: logits are lm_head(hidden)
    params = [p for p in model.parameters() if p.requires_grad]
    full = model(batch).loss
    full_grads = torch.autograd.grad(full, params, allow_unused=True)  # no subtitle: text pooling idle
    selective = loss_module(batch)
    selective_grads = torch.autograd.grad(selective, params, allow_unused=True)
    assert selective.item() == pytest.approx(full.item(), rel=1e-5)
    assert sum(g is not None for g in full_grads) > len(params) // 2
    for a, b in zip(full_grads, selective_grads):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_plan_packing_first_fit_decreasing():
    from affectllm.training.packing import plan_packing

    assert plan_packing([5, 3, 4, 2], capacity=8) == [[0, 1], [2, 3]]
    assert plan_packing([8, 8], capacity=8) == [[0], [1]]
    assert plan_packing([1, 1, 1], capacity=8) == [[0, 1, 2]]


def test_packed_loss_equals_padded_loss(smoke):
    """Three samples share one packed row; any attention across them would change the loss."""
    from affectllm.training.dataset import ManifestDataset, TrainCollator, read_manifest
    from affectllm.training.loss import AnswerLoss

    cfg, model, manifest = smoke
    samples = read_manifest(manifest)
    samples[1] = dict(samples[1], messages=[{"role": "system", "content": "calm " * 12}] + samples[1]["messages"])
    batch = TrainCollator(model.processor)([ManifestDataset(samples, manifest.parent, model.processor)[i]
                                            for i in range(3)])
    lengths = batch["attention_mask"].sum(1).tolist()
    assert len(set(lengths)) > 1 and sum(lengths) <= cfg.data.max_length  # padding to remove; one packed row
    padded = AnswerLoss(model)(batch)
    packed = AnswerLoss(model, packing=True)(batch)
    assert packed.item() == pytest.approx(padded.item(), rel=1e-5)
