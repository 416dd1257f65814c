"""One training epoch on CPU with and without the feature cache.

    .venv/bin/python benchmarks/bench_cache_cpu.py [--clips 24] [--epochs 2] [--workers 1] [--out benchmarks/results/cache_cpu.json]

Data: generated 3-second 256x256 25 fps clips with a tone (real mp4 files decoded by
the media pipeline). Model: the tiny random-init model of ``affectllm init-tiny`` at 8
frames — so the encoders are cheap and the saving measured here is mostly media
decoding plus encoding; with real encoders (Whisper-large, ViT-L) the encoder share
grows and so does the gain. Each epoch is the real training step (forward, backward,
AdamW) over all clips at micro-batch 2, with ``--workers`` decoding processes.
Building the cache is a one-off cost, reported separately.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path


def epoch_seconds(cfg, model, manifest: Path, cache, epoch: int) -> float:
    import torch

    from affectllm.training.dataset import ManifestDataset, TrainCollator, read_manifest
    from affectllm.training.loss import AnswerLoss
    from affectllm.training.optim import build_optimizer, parameter_groups
    from affectllm.training.sampler import ShardSampler
    from affectllm.training.batches import MicroBatches

    dataset = ManifestDataset(read_manifest(manifest), manifest.parent, model.processor, cache)
    data = MicroBatches(dataset, TrainCollator(model.processor), ShardSampler(len(dataset), seed=0), cfg)
    optimizer = build_optimizer(parameter_groups(model, cfg.train))
    loss_module = AnswerLoss(model)
    batches = data.iterate(epoch, 0)
    started = time.perf_counter()
    for _ in range(data.steps_per_epoch):
        _, _, batch = next(batches)
        loss_module(batch).backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - started
    batches.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per variant (median reported)")
    parser.add_argument("--workers", type=int, default=1, help="DataLoader decoding processes")
    parser.add_argument("--out", default="benchmarks/results/cache_cpu.json")
    args = parser.parse_args()

    from affectllm.cli._quiet import quiet_libraries

    quiet_libraries()
    import torch

    from affectllm.config.schema import load_config
    from affectllm.checkpoint.tiny import init_tiny
    from affectllm.training.dataset import read_manifest
    from affectllm.training.feature_cache import FeatureCache, build_feature_cache, cache_signature
    from affectllm.testing.smoke_data import write_smoke_manifest
    from affectllm.training.run import build_model

    tmp = Path(tempfile.mkdtemp(prefix="bench_cache_"))
    ckpt = init_tiny(tmp / "tiny")
    manifest = write_smoke_manifest(tmp / "data", num_samples=args.clips, seconds=3.0, size=256, fps=25)
    cfg = load_config(ckpt / "affectllm.yaml", [f"data.train={manifest}", f"data.num_workers={args.workers}",
                             "data.media.num_frames=8", "data.media.max_side=256", "train.micro_batch_size=2"])
    model = build_model(cfg)

    signature = cache_signature(dict(model.encoders), cfg.data.media, cfg.model.max_text_tokens)
    started = time.perf_counter()
    build_feature_cache(read_manifest(manifest), manifest.parent, dict(model.encoders), model.processor, signature,
                        tmp / "cache", num_workers=args.workers, show_progress=False)
    build_seconds = time.perf_counter() - started
    cache = FeatureCache.open(tmp / "cache", signature)

    times = {"decode_and_encode": [], "feature_cache": []}
    for epoch in range(args.epochs):  # interleaved, so machine load hits both alike
        times["decode_and_encode"].append(epoch_seconds(cfg, model, manifest, None, epoch))
        times["feature_cache"].append(epoch_seconds(cfg, model, manifest, cache, epoch))
    median = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "benchmark": "training epoch with vs without the feature cache (CPU)",
        "clips": args.clips, "clip": "3 s, 256x256, 25 fps, tone audio (mp4)", "frames_per_clip": 8,
        "micro_batch_size": 2, "workers": args.workers, "model": "affectllm init-tiny (hidden 64)",
        "epoch_seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
        "median_epoch_seconds": {k: round(v, 2) for k, v in median.items()},
        "speedup": round(median["decode_and_encode"] / median["feature_cache"], 2),
        "cache_build_seconds": round(build_seconds, 2),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                    "torch": torch.__version__},
        "command": "python benchmarks/bench_cache_cpu.py " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items() if k != "out"),
    }
    print(json.dumps(result, indent=1))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
