"""Face cues on real faces: a smiling photograph, a film clip, and frames with no face."""

from __future__ import annotations

import numpy as np
import pytest

from affectllm.media.synthetic import MEGAMIND_CLIP


@pytest.fixture(scope="module")
def extractor():
    from affectllm.cues.extractors.face import face_extractor

    return face_extractor()


@pytest.fixture(scope="module")
def astronaut():
    skimage_data = pytest.importorskip("skimage.data")  # only the photograph needs scikit-image
    return skimage_data.astronaut()  # a real smiling face, shipped with scikit-image


def test_anchor_layout_matches_the_graphs():
    from affectllm.cues.extractors.face_mesh import FULL_RANGE, SHORT_RANGE, ssd_anchor_centres

    short = ssd_anchor_centres(SHORT_RANGE)
    # 16x16 cells x 2 anchors (stride 8) + 8x8 cells x 6 anchors (three stride-16 layers)
    assert short.shape == (16 * 16 * 2 + 8 * 8 * 6, 2) == (896, 2)
    assert np.allclose(short[0], [0.5 / 16, 0.5 / 16]) and np.allclose(short[1], short[0])
    assert np.allclose(short[512], [0.5 / 8, 0.5 / 8]) and np.allclose(short[-1], [7.5 / 8, 7.5 / 8])
    assert ssd_anchor_centres(FULL_RANGE).shape == (48 * 48, 2)


def test_weighted_nms_blends_overlaps_and_keeps_separate_faces():
    from affectllm.cues.extractors.face_mesh import weighted_nms

    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    kps = np.zeros((3, 6, 2), np.float32)
    kept = weighted_nms(boxes, kps, np.array([0.9, 0.6, 0.8], np.float32))
    assert len(kept) == 2
    box, _, score = kept[0]
    assert score == pytest.approx(0.9)
    assert box[0] == pytest.approx(0.6 / 1.5)  # (0 * 0.9 + 1 * 0.6) / 1.5
    assert np.allclose(kept[1][0], [50, 50, 60, 60])


def test_geometry_ignores_position_rotation_and_scale(extractor, astronaut):
    from affectllm.cues.extractors.face_geometry import au_measures

    face = extractor.near(astronaut)[0]
    points = extractor.mesh(astronaut, face).points[:, :2]
    theta = np.deg2rad(30)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = 2.5 * points @ rot.T + np.array([400.0, -80.0])
    a, b = au_measures(points), au_measures(moved)
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-5)


def test_smiling_face_reads_happy_with_raised_lip_corners(extractor, astronaut):
    cues = extractor(astronaut[None], np.zeros(1))
    assert cues["present"] and cues["frames_with_face"] == 1
    frame = cues["track"][0]
    x0, y0, x1, y1 = frame["box"]
    assert 150 < x0 < 200 and 60 < y0 < 100 and 250 < x1 < 300 and 150 < y1 < 200  # her face, in pixels
    assert cues["dominant_expression"] == "happy" and frame["expression"]["happy"] > 0.9
    assert frame["au"]["lip_corner_raise"] > 0.5 and frame["au"]["mouth_width"] > 0.5
    assert any(m["text"].startswith("lip corners raised (AU12") for m in cues["movements"])


def test_film_clip_face_is_found_and_less_smiling_than_the_smile(extractor, astronaut):
    if not MEGAMIND_CLIP.exists():
        pytest.skip("opencv-doc's Megamind.avi is not installed")
    from affectllm.media import load_clip

    clip = load_clip(MEGAMIND_CLIP, num_frames=6)
    cues = extractor(clip.frames, clip.frame_times)
    smile = extractor(astronaut[None], np.zeros(1))
    assert cues["frames_with_face"] >= 5
    assert [f["t"] for f in cues["track"]] == [round(float(t), 3) for t in clip.frame_times]
    assert cues["expression_mean"]["happy"] < 0.5
    assert smile["au_mean"]["lip_corner_raise"] - cues["au_mean"]["lip_corner_raise"] > 0.4


def test_no_face_is_a_cue_not_an_error(extractor):
    frames = np.zeros((3, 120, 160, 3), np.uint8)
    frames[:, :, :, 0] = 200  # plain red frames
    cues = extractor(frames, np.array([0.0, 0.5, 1.0]))
    assert cues["present"] is False and cues["frames_with_face"] == 0
    assert cues["summary"] == "no face found in 3 sampled frames"
    assert [f["face"] for f in cues["track"]] == [False, False, False]


def test_litert_delegate_notice_stays_off_stderr_and_other_native_output_passes(capfd):
    import os
    import subprocess
    import sys

    from affectllm.bundled.packages import XNNPACK_NOTICE, _native_stderr_without

    # LiteRT announces its CPU delegate once per process, so each case gets a fresh interpreter process
    load = "from affectllm.bundled.packages import expression_model_file as f; "
    raw = load + "from ai_edge_litert.interpreter import Interpreter; Interpreter(model_path=str(f())).allocate_tensors()"
    ours = load + "from affectllm.bundled.packages import TFLiteModel; TFLiteModel(f())"
    said = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
            for code in (raw, ours)]
    assert XNNPACK_NOTICE in said[0] and XNNPACK_NOTICE not in said[1]
    with _native_stderr_without(XNNPACK_NOTICE):
        os.write(2, (XNNPACK_NOTICE + "\nERROR: something real\n").encode())
    assert capfd.readouterr().err == "ERROR: something real\n"
