"""Time per 10-second clip of the zero-setup cue path on CPU, stage by stage, against the old default.

    python benchmarks/bench_cues.py [--runs 3] [--baseline-runs 2] [--out benchmarks/results/cues_cpu.json]

The clip is Debian's Megamind.avi (a real face) with ~10 s of espeak-ng speech
as its audio. Models load once (a warm-up caption, not timed), then each run
decodes and captions the same clip; the numbers are medians over runs.

Stages: decode (frames + 16 kHz audio), face (detection, mesh, expression),
speech (Whisper tiny.en transcript), voice (pitch, loudness, prosody), text
(lexicon + MiniLM text head), fusion (channel evidence -> answer). The
baseline, in the same run, is the previous default: the same cue path with
the bundled SmolLM2-135M-Instruct reasoning over the cues (``--llm smollm2``).
The machine is shared: the 1-minute load average is recorded at start and end.
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

SPEECH = ("I can't believe we finally won the game. This is the best day of my life, I am so happy. "
          "Everyone worked so hard for this moment.")
STAGES = ("decode", "face", "speech", "voice", "text", "fusion")


def timed_runs(backend, clip_path: Path, runs: int, num_frames: int) -> list[dict]:
    from affectllm.media import load_clip

    rows = []
    for _ in range(runs):
        t = time.perf_counter()
        clip = load_clip(clip_path, num_frames=num_frames, max_side=448)
        decode = time.perf_counter() - t
        rec = backend.caption_clip(clip, "bench")
        timings = rec.cues["timings_s"]
        rows.append({"decode": decode, **{k: v for k, v in timings.items() if k != "decode"},
                     "clip_total": decode + timings["total"], "answered_by": rec.extra["answered_by"],
                     "model": rec.model, "emotions": rec.emotions, "duration": clip.duration})
    return rows


def medians(rows: list[dict], keys) -> dict[str, float]:
    return {k: round(statistics.median(r.get(k, 0.0) for r in rows), 3) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=2, help="runs with the SmolLM2 baseline (0: skip it)")
    parser.add_argument("--num-frames", type=int, default=16)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cues_cpu.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    load_start = os.getloadavg()[0]

    import torch

    from affectllm.cues.backend import CueBackend
    from affectllm.media.synthetic import write_face_clip

    with tempfile.TemporaryDirectory() as tmp:
        clip_path = write_face_clip(Path(tmp) / "clip10s.mp4", speech_text=SPEECH, seconds=10.0)
        backend = CueBackend(num_frames=args.num_frames)
        t = time.perf_counter()
        backend.load()
        backend.caption(str(clip_path), "warmup")
        load_s = time.perf_counter() - t
        rows = timed_runs(backend, clip_path, args.runs, args.num_frames)
        baseline = None
        if args.baseline_runs:
            llm_backend = CueBackend(llm="smollm2", num_frames=args.num_frames)
            llm_backend.load()
            llm_backend.caption(str(clip_path), "warmup")
            base_rows = timed_runs(llm_backend, clip_path, args.baseline_runs, args.num_frames)
            baseline = {"what": "previous default: the same cues + SmolLM2-135M-Instruct reasoning (--llm smollm2)",
                        "median_s": medians(base_rows, STAGES + ("llm", "total", "clip_total")),
                        "answered_by": [r["answered_by"] for r in base_rows]}

    ours = medians(rows, STAGES + ("total", "clip_total"))
    duration = rows[0]["duration"]
    result = {
        "what": "seconds per 10-second clip (Megamind.avi face + espeak-ng speech), median over runs, models loaded once",
        "clip_seconds": round(duration, 2),
        "frames_sampled": args.num_frames,
        "runs": args.runs,
        "default_no_llm": {"median_s": ours, "model": rows[0]["model"], "emotions": rows[0]["emotions"]},
        "clip_total_s": ours["clip_total"],
        "real_time_factor": round(ours["clip_total"] / duration, 3),
        "within_real_time": ours["clip_total"] <= duration,
        "baseline": baseline,
        "speedup_vs_baseline": round(baseline["median_s"]["clip_total"] / ours["clip_total"], 2) if baseline else None,
        "first_caption_with_model_loading_s": round(load_s, 2),
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "processor": platform.processor() or platform.machine(), "python": platform.python_version(),
                    "load_average_1min_at_start": round(load_start, 2),
                    "load_average_1min_at_end": round(os.getloadavg()[0], 2)},
        "command": f"python benchmarks/bench_cues.py --runs {args.runs} --baseline-runs {args.baseline_runs}",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
