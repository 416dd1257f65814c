"""Face cues over sampled video frames: where the face is, its expression, its AU-like movements.

Per frame: the largest face (the speaker, usually), its box, the 7-class
expression probabilities (calibrated, see ``face_calibration``) and the
geometric AU intensities, all time-stamped. Faces that fill the frame (tight
crops, close-ups) are found too (see :meth:`FaceCueExtractor.locate`). Over
the clip: the expression at its peak (``face_peak``) and the plain mean, the
dominant expression, and the movements strong enough to mention. A clip
without a face is a cue ("no face found"), not an error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from affectllm.cues.extractors.face_expression import EXPRESSIONS, FER_FRAME_BOX, ExpressionClassifier
from affectllm.cues.extractors.face_geometry import MEASURES, au_intensities, au_measures, describe_movement
from affectllm.cues.extractors.face_mesh import (FULL_RANGE, MESH_MIN_PRESENCE, SHORT_RANGE, FaceDetection,
                                                 FaceDetector, FaceMesh, FaceMeshModel)
from affectllm.cues.extractors.face_peak import peak_reading

if TYPE_CHECKING:
    from affectllm.cues.schema import FaceCues, FaceFrame

NOTABLE_SHARE = 0.3  # a movement seen in fewer face frames than this is left out of the summary
# BlazeFace was trained on faces with some surroundings: on tight crops (the face fills the image, as in
# FER-style stills and close-ups) it misses 7.6% of FER2013 val's faces; black borders of this share of the
# longer side on every side give it the surroundings back and recover two in three of those misses.
PAD_SHARE = 0.25
# A square-ish image the detector misses even padded is read as one whole face crop, in the box BlazeFace
# finds on such crops on average (FER_FRAME_BOX), but only when the mesh alone is this sure there is a
# face: no detector vouches for it (the photographs without a face we tried score under 0.02).
WHOLE_FACE_ASPECT = (0.8, 1.25)  # width / height of an image that can be a face crop
WHOLE_FACE_MIN_PRESENCE = 0.8


class FaceCueExtractor:
    """Detector, mesh and expression graphs, loaded once (see :func:`face_extractor`)."""

    def __init__(self):
        self.near = FaceDetector(SHORT_RANGE)
        # The full-range model finds small or distant faces the short-range one misses; it runs only then.
        self.far = FaceDetector(FULL_RANGE)
        self.mesh = FaceMeshModel()
        self.expression = ExpressionClassifier()

    def confirm(self, frame: np.ndarray, faces: list[FaceDetection]) -> tuple[FaceDetection, FaceMesh] | None:
        """The largest of ``faces`` the mesh confirms, with its mesh; None when it confirms none."""
        # Largest first: the speaker usually fills more of the frame than bystanders.
        for face in sorted(faces, key=lambda f: -f.size):
            mesh = self.mesh(frame, face)
            if mesh.presence >= MESH_MIN_PRESENCE:  # below it the mesh sees no face: a detector false alarm
                return face, mesh
        return None

    def locate(self, frame: np.ndarray) -> tuple[FaceDetection, FaceMesh, str] | None:
        """The face to read in one (H, W, 3) uint8 RGB frame, its mesh, and how it was found:
        "detector", "padded" (the detector on the frame in black borders) or "whole-image" (a face crop the
        mesh confirms without a detection); None when there is no face."""
        found = self.confirm(frame, self.near(frame) or self.far(frame))
        if found:
            return (*found, "detector")
        pad = round(PAD_SHARE * max(frame.shape[:2]))
        padded = np.pad(frame, ((pad, pad), (pad, pad), (0, 0)))
        # Boxes moved back into the frame: the crops for the mesh and the expression model fill the
        # outside with black, the same pixels the padded frame has there.
        shifted = [FaceDetection(f.box - pad, f.keypoints - pad, f.score) for f in self.near(padded)]
        found = self.confirm(frame, shifted)
        if found:
            return (*found, "padded")
        h, w = frame.shape[:2]
        if not WHOLE_FACE_ASPECT[0] <= w / h <= WHOLE_FACE_ASPECT[1]:
            return None
        x0, y0, x1, y1 = (np.array(FER_FRAME_BOX) * [w, h, w, h]).astype(np.float32)
        cy = (y0 + y1) / 2
        # Only the eye line's tilt matters to the mesh crop: a crop is taken upright.
        eyes = [[x0 + 0.3 * (x1 - x0), cy], [x0 + 0.7 * (x1 - x0), cy]]
        face = FaceDetection(np.array([x0, y0, x1, y1], np.float32),
                             np.array(eyes + [[(x0 + x1) / 2, cy]] * 4, np.float32), 0.0)
        mesh = self.mesh(frame, face)
        return (face, mesh, "whole-image") if mesh.presence >= WHOLE_FACE_MIN_PRESENCE else None

    def frame_cues(self, frame: np.ndarray, t: float) -> FaceFrame:
        """One (H, W, 3) uint8 RGB frame at time ``t`` (s) -> {"t", "face", ...}; ``score`` is the detector's
        (0 for a whole-image face) and ``found_by`` says how the face was found (see :meth:`locate`)."""
        located = self.locate(frame)
        if located is None:
            return {"t": round(float(t), 3), "face": False}
        face, mesh, how = located
        raw = au_measures(mesh.points)
        return {
            "t": round(float(t), 3),
            "face": True,
            "box": [round(float(v), 1) for v in face.box],
            "score": round(face.score, 3),
            "found_by": how,
            "mesh_presence": round(mesh.presence, 3),
            "expression": {k: round(v, 4) for k, v in self.expression(frame, face).items()},
            "au": {k: round(v, 3) for k, v in au_intensities(raw).items()},
            "au_raw": {k: round(v, 4) for k, v in raw.items()},
        }

    def __call__(self, frames: np.ndarray, times: np.ndarray) -> FaceCues:
        """frames (F, H, W, 3) uint8 RGB, times (F,) s -> the face cue dict."""
        track = [self.frame_cues(f, t) for f, t in zip(frames, times)]
        return summarize_faces(track, frame_size=(int(frames.shape[2]), int(frames.shape[1])))


def summarize_faces(track: list[FaceFrame], frame_size: tuple[int, int]) -> FaceCues:
    """Clip-level face cues from the per-frame ``track``.

    ``expression_peak`` is the reading over the most expressive face frames (``peak_frames``, track indices;
    see ``face_peak``) and names ``dominant_expression``; ``expression_mean`` is the plain mean over all
    face frames; ``dominant_share`` is the share of face frames with the dominant expression on top and
    ``peak_agreement`` the same share among the peak frames.
    """
    with_face = [i for i, f in enumerate(track) if f["face"]]
    out: FaceCues = {"present": bool(with_face), "frames": len(track), "frames_with_face": len(with_face),
                 "frame_size": list(frame_size), "track": track}
    if not with_face:
        out["summary"] = f"no face found in {len(track)} sampled frame{'s' if len(track) != 1 else ''}"
        return out
    out.update(_expression_summary(track, with_face))
    faces = [track[i] for i in with_face]
    au = {m.name: float(np.mean([f["au"][m.name] for f in faces])) for m in MEASURES}
    out["au_mean"] = {k: round(v, 3) for k, v in au.items()}
    out["movements"] = _movements(faces, au)
    n, dominant = len(faces), out["dominant_expression"]
    parts = [f"face in {n}/{len(track)} frames; expression model reads {dominant} at its peak "
             f"(p={out['expression_peak'][dominant]:.2f} over the {len(out['peak_frames'])} most expressive face "
             f"frames, mean p={out['expression_mean'][dominant]:.2f}, top in {out['dominant_top_frames']}/{n} frames)"]
    parts += [m["text"] for m in out["movements"]]
    out["summary"] = "; ".join(parts)
    return out


def _expression_summary(track: list[dict], with_face: list[int]) -> dict:
    probs = np.array([[track[i]["expression"][k] for k in EXPRESSIONS] for i in with_face])
    peak = peak_reading(probs)
    dominant = peak["top"]
    top_frames = int(np.sum(probs.argmax(1) == EXPRESSIONS.index(dominant)))
    return {"expression_mean": {k: round(float(v), 4) for k, v in zip(EXPRESSIONS, probs.mean(0))},
            "expression_peak": {k: round(float(v), 4) for k, v in zip(EXPRESSIONS, peak["probs"])},
            "peak_frames": [with_face[r] for r in peak["rows"]],
            "dominant_expression": dominant,
            "dominant_share": round(top_frames / len(with_face), 3),
            "dominant_top_frames": top_frames,
            "peak_agreement": round(peak["agreement"], 3)}


def _movements(faces: list[dict], au: dict[str, float]) -> list[dict]:
    """The AU-like movements seen, in the same direction as their clip mean, in enough face frames."""
    movements = []
    for m in MEASURES:
        phrase = describe_movement(m.name, au[m.name])
        if phrase is None:
            continue
        sign = np.sign(au[m.name])
        seen = sum(1 for f in faces if describe_movement(m.name, f["au"][m.name]) and
                   np.sign(f["au"][m.name]) == sign)
        if seen / len(faces) >= NOTABLE_SHARE:
            movements.append({"measure": m.name, "intensity": round(au[m.name], 3), "frames": seen,
                              "text": f"{phrase} in {seen}/{len(faces)} face frames"})
    return movements


@lru_cache(maxsize=1)
def face_extractor() -> FaceCueExtractor:
    """The process-wide extractor (graphs load on first use)."""
    return FaceCueExtractor()
