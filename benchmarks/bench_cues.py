"""Time per 10-second clip of the cue path on CPU, split by extractor and reasoner.

    python benchmarks/bench_cues.py [--runs 3] [--out benchmarks/results/cues_cpu.json]

The clip is Debian's Megamind.avi (a real face) with ~10 s of espeak-ng speech
as its audio. Models load once (a warm-up caption, not timed), then each run
decodes and captions the same clip; the numbers are medians over runs.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--num-frames", type=int, default=16)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cues_cpu.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    from affectllm.cues.backend import CueBackend
    from affectllm.media import load_clip
    from affectllm.media.synthetic import write_face_clip

    with tempfile.TemporaryDirectory() as tmp:
        clip_path = write_face_clip(Path(tmp) / "clip10s.mp4", speech_text=SPEECH, seconds=10.0)
        t = time.perf_counter()
        llm_backend = CueBackend(num_frames=args.num_frames)
        llm_backend.caption(str(clip_path), "warmup")
        load_s = time.perf_counter() - t
        fusion_backend = CueBackend(llm=False, num_frames=args.num_frames)

        rows = []
        for _ in range(args.runs):
            t = time.perf_counter()
            clip = load_clip(clip_path, num_frames=args.num_frames)
            decode = time.perf_counter() - t
            rec = llm_backend.caption_clip(clip, "bench")
            t = time.perf_counter()
            fusion_backend.caption_clip(clip, "bench")
            rows.append({"decode": decode, **rec.cues["timings_s"], "llm": rec.extra["llm_seconds"],
                         "caption_cue_fusion_only": time.perf_counter() - t, "answered_by": rec.extra["answered_by"]})

    stages = ["decode", "face", "speech", "voice", "text", "llm", "total", "caption_cue_fusion_only"]
    result = {
        "what": "seconds per 10-second clip (Megamind.avi face + espeak-ng speech), median over runs, models loaded once",
        "clip_seconds": round(clip.duration, 2),
        "frames_sampled": args.num_frames,
        "runs": args.runs,
        "median_s": {s: round(statistics.median(r[s] for r in rows), 3) for s in stages},
        "first_caption_with_model_loading_s": round(load_s, 2),
        "answered_by": [r["answered_by"] for r in rows],
        "llm": llm_backend.reasoner.llm_name,
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "processor": platform.processor() or platform.machine(), "python": platform.python_version(),
                    "load_average_1min_at_end": round(os.getloadavg()[0], 2)},
        "command": "python benchmarks/bench_cues.py --runs %d" % args.runs,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
