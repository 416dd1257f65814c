"""Action-unit-like measures from the 468-point face mesh, normalised by face size.

Every measure is a distance in units of the outer-eye-corner span (so it does
not depend on image size or distance to the camera), taken in a face frame
rotated so the eyes are level. ``au_intensities`` compares each measure with
the value of a neutral face and maps the difference to an intensity in [0, 1]
(1 = a strong, unmistakable movement). The FACS units each measure stands in
for are approximations from geometry alone, named as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# MediaPipe face-mesh indices (subject's right = image left).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_EYE_TOP, RIGHT_EYE_BOTTOM = 33, 133, 159, 145
LEFT_EYE_OUTER, LEFT_EYE_INNER, LEFT_EYE_TOP, LEFT_EYE_BOTTOM = 263, 362, 386, 374
RIGHT_BROW = (70, 63, 105, 66, 107)  # outer -> inner, upper edge
LEFT_BROW = (300, 293, 334, 296, 336)
RIGHT_BROW_INNER, LEFT_BROW_INNER = 107, 336
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
UPPER_LIP_OUTER, LOWER_LIP_OUTER = 0, 17


@dataclass(frozen=True)
class ActionUnitMeasure:
    """One geometric measure and the FACS unit it approximates above/below neutral (None: not meaningful)."""

    name: str  # key in the cue dict
    up_unit: str | None
    up_phrase: str | None
    down_unit: str | None
    down_phrase: str | None
    neutral: float  # value on a relaxed, neutral face (eye-span units)
    full_scale: float  # difference from neutral that counts as intensity 1


# Neutral values and full scales: typical values of relaxed faces on this mesh,
# read off real photographs and film frames (a smile widens the mouth to ~0.75
# eye spans and lifts the corners ~0.08 above the lips' midline).
MEASURES: tuple[ActionUnitMeasure, ...] = (
    ActionUnitMeasure("lip_corner_raise", "AU12", "lip corners raised", "AU15", "lip corners pulled down", 0.03, 0.06),
    ActionUnitMeasure("mouth_width", "AU20", "lips stretched wide", "AU23", "lips pressed narrow", 0.50, 0.30),
    ActionUnitMeasure("mouth_open", "AU25/26", "mouth open", None, None, 0.02, 0.20),
    ActionUnitMeasure("eye_open", "AU5", "eyes wide open", "AU43", "eyes narrowed", 0.30, 0.15),
    ActionUnitMeasure("brow_height", "AU1+2", "brows raised", "AU4", "brows lowered", 0.17, 0.08),
    ActionUnitMeasure("brow_gap", None, None, "AU4", "brows drawn together", 0.33, 0.04),
)
MEASURE_BY_NAME = {m.name: m for m in MEASURES}
NOTABLE_INTENSITY = 0.3  # below this a movement is not worth mentioning


def face_frame(points: np.ndarray) -> np.ndarray:
    """(468, 2+) image points -> (468, 2) points with the eyes level, eye span 1, origin between the eyes.

    y grows downwards, as in the image.
    """
    xy = points[:, :2].astype(np.float64)
    right, left = xy[RIGHT_EYE_OUTER], xy[LEFT_EYE_OUTER]
    span = float(np.linalg.norm(left - right))
    if span < 1e-6:
        raise ValueError("degenerate face mesh: eye corners coincide")
    c, s = (left - right) / span
    rot = np.array([[c, s], [-s, c]])  # rotates the eye line onto +x
    return ((xy - (left + right) / 2) @ rot.T) / span


def au_measures(points: np.ndarray) -> dict[str, float]:
    """Raw geometric measures in eye-span units for one face; (468, 2+) image points in."""
    p = face_frame(points)
    mouth_mid_y = (p[UPPER_LIP_INNER, 1] + p[LOWER_LIP_INNER, 1]) / 2
    corners_y = (p[MOUTH_RIGHT, 1] + p[MOUTH_LEFT, 1]) / 2
    right_eye_w = np.linalg.norm(p[RIGHT_EYE_OUTER] - p[RIGHT_EYE_INNER])
    left_eye_w = np.linalg.norm(p[LEFT_EYE_OUTER] - p[LEFT_EYE_INNER])
    eye_open = ((p[RIGHT_EYE_BOTTOM, 1] - p[RIGHT_EYE_TOP, 1]) / right_eye_w
                + (p[LEFT_EYE_BOTTOM, 1] - p[LEFT_EYE_TOP, 1]) / left_eye_w) / 2
    eye_line_y = (p[RIGHT_EYE_TOP, 1] + p[LEFT_EYE_TOP, 1]) / 2
    brow_y = np.concatenate([p[list(RIGHT_BROW), 1], p[list(LEFT_BROW), 1]]).mean()
    return {
        # Image y grows downwards: corners above the lip line give a positive raise.
        "lip_corner_raise": float(mouth_mid_y - corners_y),
        "mouth_width": float(np.linalg.norm(p[MOUTH_LEFT] - p[MOUTH_RIGHT])),
        "mouth_open": float(max(0.0, p[LOWER_LIP_INNER, 1] - p[UPPER_LIP_INNER, 1])),
        "eye_open": float(eye_open),
        "brow_height": float(eye_line_y - brow_y),
        "brow_gap": float(np.linalg.norm(p[LEFT_BROW_INNER] - p[RIGHT_BROW_INNER])),
    }


def au_intensities(measures: dict[str, float]) -> dict[str, float]:
    """Signed intensity per measure in [-1, 1]: (value - neutral) / full_scale, clipped."""
    return {m.name: float(np.clip((measures[m.name] - m.neutral) / m.full_scale, -1.0, 1.0))
            for m in MEASURES if m.name in measures}


def describe_movement(name: str, intensity: float) -> str | None:
    """Plain words for a notable movement ("lip corners raised (AU12, intensity 0.8)"), or None."""
    m = MEASURE_BY_NAME[name]
    if abs(intensity) < NOTABLE_INTENSITY:
        return None
    unit, phrase = (m.up_unit, m.up_phrase) if intensity > 0 else (m.down_unit, m.down_phrase)
    if phrase is None:
        return None
    return f"{phrase} ({unit}, intensity {abs(intensity):.1f})"
