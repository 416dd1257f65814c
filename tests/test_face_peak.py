"""The face read at its peak, faces that fill the frame, and no face where there is none: on real photographs
shipped with scikit-image (the astronaut's smile, the cameraman, coffee, a rocket)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PIL import Image, ImageFilter

SIDE = 256  # px, the frames of the test clips


def square(image: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The centre square of a grey or RGB image, as (side, side, 3) uint8 RGB."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    h, w = image.shape[:2]
    s = min(h, w)
    centre = image[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return np.asarray(Image.fromarray(centre).resize((side, side), Image.BILINEAR))


@pytest.fixture(scope="module")
def extractor():
    from affectllm.cues.extractors.face import face_extractor

    return face_extractor()


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    skimage_data = pytest.importorskip("skimage.data")  # only the photographs need scikit-image
    return {"smile": square(skimage_data.astronaut()), "cameraman": square(skimage_data.camera()),
            "coffee": square(skimage_data.coffee()), "rocket": square(skimage_data.rocket()),
            "astronaut": skimage_data.astronaut()}


def run(extractor, frames: list[np.ndarray]) -> dict:
    return extractor(np.stack(frames), np.arange(len(frames)) / 4.0)


def test_a_brief_smile_is_kept_at_the_peak_where_the_mean_loses_it(extractor, photos):
    """16 frames: a face that reads weakly (the cameraman) in 10, her smile in 4, no face in 2."""
    from affectllm.cues.evidence.channels import face_channel

    cam, smile, cup = photos["cameraman"], photos["smile"], photos["coffee"]
    frames = [cam] * 3 + [smile] * 2 + [cam] * 4 + [cup] * 2 + [smile] * 2 + [cam] * 3
    smiles = [3, 4, 11, 12]
    cues = run(extractor, frames)
    assert cues["frames_with_face"] == 14
    mean = cues["expression_mean"]
    assert max(mean, key=mean.get) != "happy" and mean["happy"] < 0.35  # the plain mean reads something else
    assert cues["dominant_expression"] == "happy" and cues["expression_peak"]["happy"] > 0.7
    assert set(smiles) <= set(cues["peak_frames"]) and len(cues["peak_frames"]) == 5  # ceil(14 / 3)
    assert cues["dominant_top_frames"] == 4 and cues["peak_agreement"] == pytest.approx(4 / 5)
    assert "reads happy at its peak" in cues["summary"]
    channel = face_channel(cues)
    assert channel.top == "joy" and channel.dist["joy"] > 2 * mean["happy"]
    assert channel.frames == smiles  # the frames an explanation cites: those that read happy
    assert channel.phrase.startswith("the face reads happy (p=0.") and "at its peak, top in 4/14 face frames" in channel.phrase


def test_blurred_frames_around_the_smile_do_not_weaken_it(extractor, photos):
    from affectllm.cues.evidence.channels import above_chance, face_channel

    smile = photos["smile"]
    blurred = np.asarray(Image.fromarray(smile).filter(ImageFilter.GaussianBlur(2)))
    frames = [blurred] * 4 + [smile] * 4 + [blurred] * 4 + [photos["rocket"]] * 4
    cues = run(extractor, frames)
    assert cues["frames_with_face"] == 12
    assert cues["peak_frames"] == [4, 5, 6, 7]  # ceil(12 / 3): exactly the sharp frames
    assert cues["expression_peak"]["happy"] > 0.9 and cues["expression_mean"]["happy"] < 0.5
    channel = face_channel(cues)
    share = 12 / 16
    mean_strength = above_chance(cues["expression_mean"]["happy"], 7) * share * cues["dominant_share"]
    assert channel.strength > 0.6 and channel.strength > 3 * mean_strength  # the plain mean's strength


def test_a_steady_face_reads_the_same_at_its_peak(extractor, photos):
    cues = run(extractor, [photos["cameraman"]] * 6)
    assert cues["expression_peak"] == cues["expression_mean"]
    assert cues["peak_frames"] == [0, 1] and cues["peak_agreement"] == 1.0


def test_one_odd_frame_cannot_make_the_peak():
    from affectllm.cues.extractors.face_expression import EXPRESSIONS
    from affectllm.cues.extractors.face_peak import expressiveness, peak_reading, peak_rows

    neutral = np.full(7, 0.1 / 6)
    neutral[EXPRESSIONS.index("neutral")] = 0.9
    scared = np.full(7, 0.05 / 6)
    scared[EXPRESSIONS.index("fear")] = 0.95
    probs = np.array([neutral] * 10 + [scared] + [neutral] * 5)
    reading = peak_reading(probs)
    assert reading["top"] == "neutral" and list(reading["rows"]) == [0, 1, 2, 3, 4, 10]  # ties: earlier first
    assert reading["agreement"] == pytest.approx(5 / 6)
    # 3 of 16 frames scared (a sixth of the clip, half the peak): the peak reads it, the mean does not
    probs[[6, 7, 8]] = scared
    assert peak_reading(probs)["top"] == "fear" and EXPRESSIONS[int(probs.mean(0).argmax())] == "neutral"
    assert expressiveness(np.full((1, 7), 1 / 7))[0] == pytest.approx(1 / 7)  # unreadable: chance, not expressive
    assert list(peak_rows(probs[:1])) == [0]


def tight_crop(photo: np.ndarray, scale: float, side: int) -> np.ndarray:
    """A square ``scale`` x the astronaut's face box, around its centre, at ``side`` px: the face fills it."""
    from affectllm.cues.extractors.face import face_extractor

    box = face_extractor().near(photo)[0].box
    cx, cy = (box[:2] + box[2:]) / 2
    half = scale * (box[2] - box[0]) / 2
    crop = Image.fromarray(photo).crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
    return np.asarray(crop.resize((side, side), Image.BILINEAR))


@pytest.mark.parametrize("side", [48, 224])
def test_a_crop_tighter_than_the_detector_likes_is_found_padded(extractor, photos, side):
    crop = tight_crop(photos["astronaut"], 0.8, side)
    assert extractor.near(crop) == [] and extractor.far(crop) == []  # the detector alone misses it
    cue = extractor.frame_cues(crop, 0.0)
    assert cue["face"] and cue["found_by"] == "padded" and cue["mesh_presence"] > 0.9
    assert max(cue["expression"], key=cue["expression"].get) == "happy"
    x0, y0, x1, y1 = cue["box"]
    assert x0 < 0.2 * side and x1 > 0.8 * side and y0 < 0.2 * side and y1 > 0.8 * side  # the face fills it


def test_a_whole_image_face_needs_the_mesh_to_confirm_it(extractor, photos):
    """With the detector blind (as on the crops it misses even padded), a face crop is read whole only when
    the mesh is sure of a face: never on a photograph without one, nor on a wide image."""
    blind = copy.copy(extractor)
    blind.near = blind.far = lambda image: []
    face = tight_crop(photos["astronaut"], 1.16, 96)  # the detector box fills FER-style framing
    face_at, mesh, how = blind.locate(face)
    assert how == "whole-image" and mesh.presence > 0.8 and face_at.score == 0.0
    assert max(blind.expression(face, face_at).items(), key=lambda kv: kv[1])[0] == "happy"
    for name in ("coffee", "rocket", "cameraman"):  # the cameraman's face is small: not a face crop
        assert blind.locate(photos[name]) is None, name
    assert blind.locate(np.pad(face, ((0, 0), (48, 48), (0, 0)))) is None  # 2:1, not a face crop


@pytest.mark.parametrize("name", ["red", "grey", "noise", "coffee", "rocket", "coffee full", "rocket full"])
def test_no_face_is_claimed_where_there_is_none(extractor, photos, name):
    import skimage.data

    images = {"red": np.full((224, 224, 3), (200, 30, 30), np.uint8), "grey": np.full((96, 96, 3), 128, np.uint8),
              "noise": np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8),
              "coffee": photos["coffee"], "rocket": photos["rocket"],
              "coffee full": skimage.data.coffee(), "rocket full": skimage.data.rocket()}
    cue = extractor.frame_cues(images[name], 0.0)
    assert cue == {"t": 0.0, "face": False}
