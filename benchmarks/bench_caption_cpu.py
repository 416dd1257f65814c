"""Captioning speed on CPU: clips/s through the whole engine, for both backends.

    .venv/bin/python benchmarks/bench_caption_cpu.py [--clips 8] [--cue-clips 3] [--out benchmarks/results/caption_cpu.json]

Inputs are generated 2-second clips (a coloured 160x120 video at 25 fps with a tone) and
one real face clip with espeak-ng speech. The checkpoint backend uses the tiny
random-init model of ``affectllm init-tiny`` (so this measures the engine: decoding,
workers, batching, writing — not a real LLM's cost) with 64 new tokens, at batch 1
and batch 4 without workers, and batch 4 with two decoding workers, without ASR; then
batch 4 with two workers again with the default ASR (the clips have no subtitle, so
Whisper tiny.en transcribes each), against the same run without it. The cue backend uses the bundled
models (face tflite graphs, Whisper tiny.en, SmolLM2-135M); its one-off model loading is
paid on a warm-up clip and not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

NEW_TOKENS = 64


def make_clips(folder: Path, n: int) -> None:
    from affectllm.media.synthetic import write_face_clip, write_tone_clip

    folder.mkdir(parents=True, exist_ok=True)
    colours = ["red", "green", "blue", "yellow", "white", "purple", "orange", "gray"]
    for i in range(n - 1):
        write_tone_clip(folder / f"clip{i:03d}.mp4", 220.0 + 40 * i, colours[i % len(colours)], seconds=2.0,
                        size=160, fps=25)
    write_face_clip(folder / f"clip{n - 1:03d}_face.mp4", "I can't believe you did that again.", seconds=2.0)


def timed_run(items, backend, out: Path, batch: int, workers: int) -> dict:
    from affectllm.caption import run_job

    t = time.perf_counter()
    result = run_job(items, out, lambda device: backend, batch_size=batch, workers=workers, overwrite=True,
                     progress=False)
    s = time.perf_counter() - t
    n = result.summary.ok + result.summary.failed
    return {"clips": n, "failed": result.summary.failed, "batch": batch, "workers": workers, "seconds": round(s, 2),
            "clips_per_s": round(n / s, 3), "stages": {k: round(v, 2) for k, v in result.summary.stages.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--cue-clips", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "caption_cpu.json"))
    args = ap.parse_args()

    import torch

    from affectllm.caption import collect_inputs
    from affectllm.caption.backends import load_backend
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.checkpoint.tiny import init_tiny

    quiet_libraries()
    tmp = Path(tempfile.mkdtemp(prefix="bench_caption_"))
    make_clips(tmp / "clips", args.clips)
    items = collect_inputs([str(tmp / "clips")])
    rows = []

    def report(**row):
        rows.append(row)
        print(json.dumps(row), flush=True)

    ckpt = init_tiny(tmp / "tiny")
    backend = load_backend(str(ckpt), max_new_tokens=NEW_TOKENS, asr=False)
    backend.caption(items[:1])  # warm-up
    report(backend="checkpoint(tiny)", asr=False, **timed_run(items, backend, tmp / "a.jsonl", batch=1, workers=0))
    report(backend="checkpoint(tiny)", asr=False, **timed_run(items, backend, tmp / "b.jsonl", batch=4, workers=0))
    plain = timed_run(items, backend, tmp / "b.jsonl", batch=4, workers=2)
    report(backend="checkpoint(tiny)", asr=False, **plain)
    # the default for clips without a subtitle: Whisper tiny.en writes one (in the main process)
    heard = load_backend(str(ckpt), max_new_tokens=NEW_TOKENS, asr=True)
    heard.caption(items[:1])  # warm-up: loads Whisper
    with_asr = timed_run(items, heard, tmp / "d.jsonl", batch=4, workers=2)
    report(backend="checkpoint(tiny)", asr=True, seconds_ratio_vs_no_asr=round(with_asr["seconds"] / plain["seconds"], 2),
           **with_asr)

    try:
        cues = load_backend("cues")
        cue_items = [items[-1]] + items[: max(0, args.cue_clips - 1)]
        cues.caption_batch(cue_items[:1], [cues.preparer().prepare(cue_items[0])])  # loads the bundled models
        report(backend=cues.name, **timed_run(cue_items, cues, tmp / "c.jsonl", batch=1, workers=1))
    except Exception as err:  # the cue path needs the optional [cues] install
        report(backend="cues", skipped=f"{type(err).__name__}: {err}"[:300])

    result = {"machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                          "python": platform.python_version(), "processor": platform.processor()},
              "new_tokens_checkpoint": NEW_TOKENS, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
