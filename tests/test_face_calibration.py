"""Calibrated face probabilities: the temperature fit recovers a known overconfidence, the prior correction and
the split behave, the shipped numbers are the benchmark's choice, and (where ../shared has FER2013 val) real
held-out face crops are found and read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from affectllm.cues.extractors import face_calibration as cal

REPO = Path(__file__).resolve().parents[1]
FER_VAL = REPO.parent / "shared" / "data" / "fer2013_val"
RESULTS = REPO / "benchmarks" / "results" / "face_channel_fer2013val.json"


def overconfident(n: int = 4000, temperature: float = 2.0, seed: int = 0):
    """Labels drawn from softmax(z); the model reports softmax(temperature x z): too sure by ``temperature``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, 7))
    true = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = np.array([rng.choice(7, p=p) for p in true])
    reported = np.exp(temperature * z)
    return reported / reported.sum(1, keepdims=True), labels


def test_temperature_fit_undoes_a_known_overconfidence():
    probs, labels = overconfident()
    t = cal.fit_temperature(probs, labels)
    assert t == pytest.approx(2.0, rel=0.1)
    fixed = cal.calibrate(probs, t, np.zeros(7))
    assert cal.negative_log_likelihood(fixed, labels) < cal.negative_log_likelihood(probs, labels)
    assert cal.expected_calibration_error(fixed, labels) < 0.03 < cal.expected_calibration_error(probs, labels)
    # calibration moves confidence, never the ranking of one face's classes
    assert np.array_equal(fixed.argmax(1), probs.argmax(1))


def test_calibrate_is_a_softmax_of_shifted_scaled_log_probabilities():
    p = np.array([[0.7, 0.0, 0.1, 0.1, 0.05, 0.05, 0.0]])
    assert np.allclose(cal.calibrate(p, 1.0, np.zeros(7)), np.maximum(p, cal.PROB_FLOOR) / np.maximum(p, cal.PROB_FLOOR).sum())
    q = cal.calibrate(p, 2.0, np.zeros(7))
    assert q.sum() == pytest.approx(1.0) and q[0, 0] < 0.7 and q[0, 1] > 0  # flatter, and no class impossible
    bias = np.zeros(7)
    bias[1] = np.log(10.0)
    shifted = cal.calibrate(np.full((1, 7), 1 / 7), 1.0, bias)
    assert shifted[0, 1] / shifted[0, 0] == pytest.approx(10.0)


def test_prior_correction_lifts_the_classes_the_model_learned_as_rare():
    assert np.allclose(cal.prior_bias(np.full(7, 1 / 7), 1.0), 0.0)
    priors = np.array([0.13, 0.015, 0.15, 0.25, 0.17, 0.11, 0.17])
    full, half = cal.prior_bias(priors, 1.0), cal.prior_bias(priors, 0.5)
    assert full.argmax() == 1 and full.argmin() == 3  # disgust up most, happy down most
    assert np.allclose(half, full / 2) and np.allclose(cal.prior_bias(priors, 0.0), 0.0)


def test_the_split_is_a_fixed_half_by_path():
    names = [f"{c}/{i}.jpg" for c in ("angry", "fear") for i in range(1000)]
    share = np.mean([cal.fit_half(n) for n in names])
    assert 0.46 < share < 0.54
    # SHA-1 of the path, not Python's salted hash(): these never change
    assert [cal.fit_half(n) for n in ("angry/1.jpg", "happy/1.jpg", "fear/123.jpg")] == [True, False, False]


def test_recall_scores_and_ece_on_a_small_case():
    probs = np.eye(7)[[0, 0, 1, 2]] * 0.9 + 0.1 / 7
    labels = np.array([0, 1, 1, 2])
    s = cal.recall_scores(probs, labels, tuple("abcdefg"))
    assert s["accuracy"] == 0.75 and s["recall"] == {"a": 1.0, "b": 0.5, "c": 1.0}
    assert s["ua"] == pytest.approx(2.5 / 3)
    # every prediction at confidence 0.9 + 0.1/7, three of four right
    assert cal.expected_calibration_error(probs, labels) == pytest.approx(abs(0.75 - (0.9 + 0.1 / 7)))


def test_shipped_numbers_are_the_benchmarks_choice():
    from affectllm.cues.extractors.face_expression import EXPRESSIONS, FER_FRAME_BOX

    result = json.loads(RESULTS.read_text())
    chosen = result["calibration_chosen"]
    assert cal.TEMPERATURE == chosen["temperature"]
    assert cal.CLASS_BIAS == tuple(chosen["class_bias"][e] for e in EXPRESSIONS)
    assert FER_FRAME_BOX == tuple(result["fer_frame_box_measured_on_fit_half"])
    after = result["held_out"]["stages"]["after: as shipped, every face found (fallbacks included)"]
    before = result["held_out"]["stages"]["before: detector alone, 1.2x box crop, raw probabilities"]
    assert after["ua"] > before["ua"] and after["ece"] < before["ece"]


def fer_report_sample(per_class: int) -> list[tuple[str, str]]:
    if not FER_VAL.is_dir():
        pytest.skip(f"{FER_VAL} is not here (FER2013 val: research use, kept outside the repository)")
    from affectllm.cues.extractors.face_expression import EXPRESSIONS

    out = []
    for c in EXPRESSIONS:
        names = [f"{c}/{f}" for f in sorted(os.listdir(FER_VAL / c))]
        out += [n for n in names if not cal.fit_half(n)][:per_class]
    return out


def test_held_out_fer_crops_are_found_and_read():
    """12 report-half crops per class (84 real faces, none seen by the calibration fit)."""
    from PIL import Image

    from affectllm.cues.extractors.face import face_extractor
    from affectllm.cues.extractors.face_expression import EXPRESSIONS

    ex = face_extractor()
    found = right = 0
    for name in fer_report_sample(12):
        cue = ex.frame_cues(np.asarray(Image.open(FER_VAL / name).convert("RGB")), 0.0)
        if cue["face"]:
            found += 1
            right += max(cue["expression"], key=cue["expression"].get) == name.split("/")[0]
    assert found >= 0.95 * 12 * len(EXPRESSIONS)
    assert right / found > 0.55  # 0.67 on the whole report half (benchmarks/results)


@pytest.mark.parametrize("name, how", [("angry/1.jpg", "padded"), ("angry/1070.jpg", "padded"),
                                       ("angry/1308.jpg", "whole-image"), ("angry/3404.jpg", "whole-image")])
def test_fer_crops_the_detector_misses_are_found_by_the_fallbacks(name, how):
    if not FER_VAL.is_dir():
        pytest.skip(f"{FER_VAL} is not here")
    from PIL import Image

    from affectllm.cues.extractors.face import face_extractor

    image = np.asarray(Image.open(FER_VAL / name).convert("RGB"))
    ex = face_extractor()
    assert ex.confirm(image, ex.near(image) or ex.far(image)) is None  # the detector alone finds no face
    assert ex.frame_cues(image, 0.0)["found_by"] == how
