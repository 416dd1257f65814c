"""The face channel on real face crops: detection rate per class, the expression crop, and calibration.

    .venv/bin/python benchmarks/bench_face_channel.py [--data ../shared/data/fer2013_val] \\
        [--out benchmarks/results/face_channel_fer2013val.json] [--per-class N]

FER2013's validation crops (research use: measured and calibrated on, never shipped) are split in two
halves by a hash of their path (``face_calibration.fit_half``). Detection (geometry only, no labels) is
measured on every image: the detector alone (as before) and with the fallbacks for tight crops (padding,
then a whole-image face the mesh confirms). The fit half chooses the calibration (``face_calibration``);
every metric is reported on the other half: accuracy, UA (mean per-class recall), per-class recall and ECE,
for the face channel as it was (the detector alone, a 1.2x box crop, the graph's raw probabilities), each
change on its own, and as shipped. The `fer` model was trained on FER2013, so all of these are optimistic.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from affectllm.cues.extractors import face_calibration as cal  # noqa: E402
from affectllm.cues.extractors.face import face_extractor  # noqa: E402
from affectllm.cues.extractors.face_expression import EXPRESSIONS, FER_FRAME_BOX  # noqa: E402
from affectllm.cues.extractors.face_mesh import FaceDetection  # noqa: E402

STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)  # prior-correction grid (face_calibration)
OLD_CROP_SCALE = 1.2  # the crop before FER framing: 1.2x the box side, centred on the box


def old_crop_probs(ex, image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(7,) raw probabilities from the old crop (a square 1.2x the box, centred on it)."""
    cx, cy = (box[:2] + box[2:]) / 2
    half = float(max(box[2] - box[0], box[3] - box[1])) * OLD_CROP_SCALE / 2
    grey = Image.fromarray(image).convert("L").crop((round(cx - half), round(cy - half), round(cx + half),
                                                     round(cy + half)))
    x = np.asarray(grey.resize((ex.expression.size,) * 2, Image.BILINEAR), np.float32) / 127.5 - 1.0
    (p,) = ex.expression.model(x[None, :, :, None])
    return p[0].astype(np.float64) / p[0].sum()


def read_folder(data: Path, per_class: int | None) -> list[dict]:
    """One row per image: class, path, fit half?, how the face was found, box, raw probabilities (new and old
    crop), and the seconds the full per-frame face cue took."""
    ex = face_extractor()
    ex.frame_cues(np.zeros((64, 64, 3), np.uint8), 0.0)  # graphs load outside the timing
    files = [(c, f) for c in EXPRESSIONS if (data / c).is_dir()
             for f in sorted(os.listdir(data / c))[:per_class]]
    rows = []
    for c, f in tqdm(files, desc="FER2013 val", unit="img"):
        image = np.asarray(Image.open(data / c / f).convert("RGB"))
        t = time.perf_counter()
        cue = ex.frame_cues(image, 0.0)
        row = {"label": EXPRESSIONS.index(c), "path": f"{c}/{f}", "fit": cal.fit_half(f"{c}/{f}"),
               "found_by": cue.get("found_by", "none"), "seconds": time.perf_counter() - t,
               "side": image.shape[1]}
        if cue["face"]:
            box = np.array(cue["box"], np.float32)
            face = FaceDetection(box, np.zeros((6, 2), np.float32), cue["score"])
            row.update(box=box, raw=ex.expression.raw(image, face), old=old_crop_probs(ex, image, box))
        rows.append(row)
    return rows


def detection_rates(rows: list[dict]) -> dict:
    """Per class: the share of images with a face, the detector alone and with the fallbacks."""
    out = {}
    for k, name in enumerate(EXPRESSIONS):
        mine = [r for r in rows if r["label"] == k]
        how = Counter(r["found_by"] for r in mine)
        out[name] = {"images": len(mine), "detector": round(how["detector"] / len(mine), 4),
                     "with_fallbacks": round(sum(r["found_by"] != "none" for r in mine) / len(mine), 4),
                     "found_by": dict(how)}
    how = Counter(r["found_by"] for r in rows)
    out["all"] = {"images": len(rows), "detector": round(how["detector"] / len(rows), 4),
                  "with_fallbacks": round(sum(r["found_by"] != "none" for r in rows) / len(rows), 4),
                  "found_by": dict(how)}
    return out


def frame_box(rows: list[dict]) -> list[float]:
    """The mean detector box as fractions of the image side, over the fit half's detector-found faces."""
    boxes = [r["box"] / r["side"] for r in rows if r["fit"] and r["found_by"] == "detector"]
    return [round(float(v), 3) for v in np.mean(boxes, axis=0)]


def scores(probs: np.ndarray, labels: np.ndarray) -> dict:
    out = cal.recall_scores(probs, labels, EXPRESSIONS)
    out["ece"] = cal.expected_calibration_error(probs, labels)
    out["nll"] = cal.negative_log_likelihood(probs, labels)
    out["images"] = len(labels)
    return {k: ({n: round(x, 4) for n, x in v.items()} if isinstance(v, dict) else round(v, 4) if
                isinstance(v, float) else v) for k, v in out.items()}


def choose_calibration(raw: np.ndarray, labels: np.ndarray) -> dict:
    """On the fit half: the prior-correction strength with the best mean of accuracy and UA (ties to the
    weaker correction), and the NLL temperature under it."""
    priors = np.bincount(labels, minlength=len(EXPRESSIONS)) / len(labels)
    grid = []
    for s in STRENGTHS:
        bias = cal.prior_bias(priors, s)
        t = cal.fit_temperature(raw, labels, bias)
        grid.append({"strength": s, "temperature": t, "bias": bias,
                     **cal.recall_scores(cal.calibrate(raw, t, bias), labels, EXPRESSIONS)})
    best = max(grid, key=lambda g: (round((g["accuracy"] + g["ua"]) / 2, 4), -g["strength"]))
    return {"priors": priors, "grid": grid, "chosen": best}


def held_out_report(rows: list[dict], chosen: dict, priors: np.ndarray) -> dict:
    """Metrics on the report half: the old channel, each change alone, as shipped, and the prior grid."""
    held = [r for r in rows if not r["fit"] and "raw" in r]
    old_found = [r for r in held if r["found_by"] == "detector"]
    y_old = np.array([r["label"] for r in old_found])
    y = np.array([r["label"] for r in held])
    raw_old_found = np.array([r["raw"] for r in old_found])
    raw = np.array([r["raw"] for r in held])
    t_only = cal.fit_temperature(np.array([r["raw"] for r in rows if r["fit"] and "raw" in r]),
                                 np.array([r["label"] for r in rows if r["fit"] and "raw" in r]))
    t, bias = chosen["temperature"], chosen["bias"]
    stages = {
        "before: detector alone, 1.2x box crop, raw probabilities": scores(np.array([r["old"] for r in old_found]), y_old),
        "FER framing of the crop (same faces, raw)": scores(raw_old_found, y_old),
        f"+ temperature alone (T={t_only:.3f}, same faces)": scores(cal.calibrate(raw_old_found, t_only, np.zeros(7)), y_old),
        "+ prior correction and its temperature (same faces)": scores(cal.calibrate(raw_old_found, t, bias), y_old),
        "after: as shipped, every face found (fallbacks included)": scores(cal.calibrate(raw, t, bias), y),
    }
    trade_off = []
    for s in STRENGTHS:
        b = cal.prior_bias(priors, s)
        fit_rows = [r for r in rows if r["fit"] and "raw" in r]
        ts = cal.fit_temperature(np.array([r["raw"] for r in fit_rows]), np.array([r["label"] for r in fit_rows]), b)
        m = scores(cal.calibrate(raw, ts, b), y)
        trade_off.append({"strength": s, "temperature": round(ts, 4), **{k: m[k] for k in ("accuracy", "ua", "ece")},
                          "recall_disgust": m["recall"]["disgust"], "recall_fear": m["recall"]["fear"]})
    return {"stages": stages, "prior_strength_trade_off": trade_off}


def timing(rows: list[dict]) -> dict:
    s = np.array([r["seconds"] for r in rows]) * 1000
    by = {how: round(float(np.median([r["seconds"] * 1000 for r in rows if r["found_by"] == how])), 2)
          for how in sorted({r["found_by"] for r in rows})}
    return {"frame_cues_ms_mean": round(float(s.mean()), 2), "frame_cues_ms_median": round(float(np.median(s)), 2),
            "frame_cues_ms_median_by_found_by": by}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fer2013_val")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "face_channel_fer2013val.json")
    ap.add_argument("--per-class", type=int, default=None, help="first N images per class (a quick run)")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"{args.data}: no such folder; pass --data with FER2013 val's class folders")
    load = os.getloadavg()[0]
    start = time.perf_counter()
    rows = read_folder(args.data, args.per_class)
    fit = [r for r in rows if r["fit"] and "raw" in r]
    choice = choose_calibration(np.array([r["raw"] for r in fit]), np.array([r["label"] for r in fit]))
    chosen = choice["chosen"]
    report = {
        "what": "face channel on FER2013 val (5,383 real face crops; research use): detection per class, "
                "calibration fit on the fit half, metrics on the report half; the fer model was trained on "
                "FER2013, so these numbers are optimistic",
        "halves": {"fit": sum(r["fit"] for r in rows), "report": sum(not r["fit"] for r in rows)},
        "detection_rate": detection_rates(rows),
        "fer_frame_box_measured_on_fit_half": frame_box(rows), "fer_frame_box_shipped": list(FER_FRAME_BOX),
        "calibration_chosen": {"temperature": round(chosen["temperature"], 4),
                               "prior_strength": chosen["strength"],
                               "class_bias": {n: round(float(b), 4) for n, b in zip(EXPRESSIONS, chosen["bias"])},
                               "fit_half_priors": {n: round(float(p), 4) for n, p in zip(EXPRESSIONS, choice["priors"])},
                               "fit_half_grid": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in g.items()
                                                  if k in ("strength", "temperature", "accuracy", "ua")}
                                                 for g in choice["grid"]]},
        "calibration_shipped": {"temperature": cal.TEMPERATURE, "class_bias": dict(zip(EXPRESSIONS, cal.CLASS_BIAS))},
        "held_out": held_out_report(rows, chosen, choice["priors"]),
        "timing": timing(rows),
        "total_s": round(time.perf_counter() - start, 1),
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.machine(), "python": platform.python_version(),
                    "load_average_1min_at_start": round(load, 2), "load_average_1min_at_end": round(os.getloadavg()[0], 2)},
        "command": "python benchmarks/bench_face_channel.py" + "".join(f" {a}" for a in sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("calibration_chosen", "held_out")}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
