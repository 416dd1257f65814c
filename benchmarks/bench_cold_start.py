"""A cold one-clip caption: a fresh `affectllm caption CLIP --out OUT --quiet` process per run, against a baseline.

    .venv/bin/python benchmarks/bench_cold_start.py [--runs 7] [--baseline COMMIT] [--clip face6.mp4] \\
        [--out benchmarks/results/cold_start_cpu.json]

The baseline is the code at COMMIT (default: the parent of the commit that made the cold path fast),
checked out with `git worktree add` into a temporary folder and run with PYTHONPATH pointing at it;
before the runs, a check that `affectllm`, `affectllm.cues` and `affectllm.recipes` really come from that folder.
"current" is this checkout, or the code at --current COMMIT checked out the same way. Runs alternate (baseline, current, baseline, ...) so a change in the
machine's load hits both alike; the medians, the user+system CPU seconds, the load average and the
ratio are written. Without --clip a 6-s clip is made: scikit-image's astronaut photograph held still,
with espeak-ng saying a sentence (``affectllm.media.synthetic.write_face_clip``).

Per run: wall seconds from launch to exit; ``first_frame_s``, launch to the end of the first frame
decode (``sample_frames`` returning, timed by a wrapper installed before the command runs, in the
decoding worker too); the record's own per-stage ``timings_s`` (face, speech, voice, text, fusion,
decode, total).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "5bd5529"  # the code before lazy CLI imports and background model loading
SPEECH = "I cannot believe you did that to me. I am so angry right now, this is not fair at all."
# Run in the child before the command: time the first decoded frames, then run the real entry point.
DRIVER = """
import os, sys, time
import affectllm.media.clip as clip
decode = clip.sample_frames
def timed(*a, **k):
    out = decode(*a, **k)
    path = os.environ["COLD_FIRST_FRAME"]
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(str(time.time() - float(os.environ["COLD_LAUNCH"])))
    return out
clip.sample_frames = timed
from affectllm.cli import main
sys.argv = ["affectllm", *sys.argv[1:]]
sys.exit(main())
"""
WHERE = ("import affectllm, affectllm.cues.backend as b, affectllm.recipes as r; print(affectllm.__file__); "
         "print(b.__file__); print(r.__file__)")


def make_clip(folder: Path) -> Path:
    """The 6-s face clip with speech (see the module docstring)."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from affectllm.media.synthetic import write_face_clip

    photo = folder / "astronaut.png"
    Image.fromarray(np.asarray(data.astronaut())).save(photo)
    return write_face_clip(folder / "face6.mp4", speech_text=SPEECH, seconds=6.0, face=photo)


def _commit(name: str) -> str:
    """A commit name as its short hash (what HEAD was when the file was written), or "none"."""
    if name == "none":
        return name
    return subprocess.run(["git", "rev-parse", "--short", name], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()


def environment(code: Path | None) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false")
    if code is not None:
        env["PYTHONPATH"] = f"{code}{os.pathsep}{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(code)
    return env


def check_code(code: Path | None) -> None:
    """The baseline must run the worktree's code, not this checkout's (the editable install)."""
    if code is None:
        return
    files = subprocess.run([sys.executable, "-c", WHERE], env=environment(code), cwd=code, capture_output=True,
                           text=True, check=True).stdout.split()
    if not all(Path(f).resolve().is_relative_to(code.resolve()) for f in files):
        raise SystemExit(f"the baseline imports {files}, not the worktree {code}")


def one_run(code: Path | None, clip: Path, work: Path) -> dict:
    """One cold caption in a fresh process: wall, CPU, time to the first frame, the record's stage timings."""
    out, first = work / "out.jsonl", work / "first_frame"
    first.unlink(missing_ok=True)
    env = dict(environment(code), COLD_FIRST_FRAME=str(first))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env["COLD_LAUNCH"] = repr(time.time())
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DRIVER, "caption", str(clip), "--out", str(out), "--overwrite",
                           "--quiet"], env=env, cwd=code or REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"caption failed ({done.returncode}): {done.stderr[-2000:]}")
    record = json.loads(out.read_text().splitlines()[0])
    if record.get("error"):
        raise SystemExit(f"the clip was not captioned: {record['error']}")
    return {"wall_s": round(wall, 3),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3),
            "first_frame_s": round(float(first.read_text()), 3) if first.exists() else None,
            "stages_s": record["cues"]["timings_s"], "emotions": record["emotions"],
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def summarise(runs: list[dict]) -> dict:
    med = statistics.median
    stages = sorted({k for r in runs for k in r["stages_s"]})
    return {"runs": len(runs), "wall_s_median": round(med(r["wall_s"] for r in runs), 3),
            "wall_s_min": min(r["wall_s"] for r in runs), "cpu_s_median": round(med(r["cpu_s"] for r in runs), 3),
            "first_frame_s_median": round(med(r["first_frame_s"] for r in runs if r["first_frame_s"]), 3),
            "stages_s_median": {k: round(med(r["stages_s"][k] for r in runs if k in r["stages_s"]), 3)
                                for k in stages},
            "emotions": runs[-1]["emotions"], "per_run": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--baseline", default=BASELINE_COMMIT, help="commit to compare with ('none': current only)")
    ap.add_argument("--current", default=None, help="commit to measure as 'current' (default: this checkout as it is)")
    ap.add_argument("--clip", default=None, help="clip to caption (default: make the 6-s face clip)")
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/cold_start_cpu.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cold_") as tmp:
        tmp = Path(tmp)
        clip = Path(args.clip) if args.clip else make_clip(tmp)
        commits = {"baseline": None if args.baseline == "none" else args.baseline, "current": args.current}
        sides: dict[str, Path | None] = {"current": None}
        for name, commit in commits.items():
            if commit:
                sides[name] = tmp / name
                subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(sides[name]), commit],
                               check=True, capture_output=True)
                # the editable install maps affectllm.recipes / .prompt_templates onto this checkout's folders;
                # links inside the worktree's package are found first, so the baseline reads its own
                for package, folder in (("recipes", "data_recipes"), ("prompt_templates", "prompts")):
                    (sides[name] / "affectllm" / package).symlink_to(sides[name] / folder, target_is_directory=True)
        sides = dict(sorted(sides.items()))  # baseline first in every round
        try:
            for code in sides.values():
                check_code(code)
            runs: dict[str, list[dict]] = {name: [] for name in sides}
            for i in range(args.runs):
                for name, code in sides.items():
                    runs[name].append(one_run(code, clip, tmp))
                    print(f"run {i + 1}/{args.runs} {name}: {runs[name][-1]['wall_s']:.2f} s", file=sys.stderr)
        finally:
            for code in sides.values():
                if code is not None:
                    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(code)],
                                   check=False, capture_output=True)
    report(runs, args)


def report(runs: dict[str, list[dict]], args: argparse.Namespace) -> None:
    result = {"what": "cold single-clip `affectllm caption CLIP --out OUT --quiet`, a fresh process per run",
              "clip": args.clip or "6-s astronaut photo clip with espeak-ng speech", "baseline_commit": _commit(args.baseline),
              "current_commit": _commit(args.current) if args.current else "working tree",
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                          "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
              **{name: summarise(r) for name, r in runs.items()}}
    if "baseline" in result:
        result["speedup_wall_median"] = round(result["baseline"]["wall_s_median"] / result["current"]["wall_s_median"], 2)
        result["speedup_cpu_median"] = round(result["baseline"]["cpu_s_median"] / result["current"]["cpu_s_median"], 2)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("baseline", "current")}, indent=1))
    for name in runs:
        s = result[name]
        print(f"{name}: wall median {s['wall_s_median']} s (min {s['wall_s_min']}), CPU {s['cpu_s_median']} s, "
              f"first frame {s['first_frame_s_median']} s, stages {s['stages_s_median']}")


if __name__ == "__main__":
    main()
