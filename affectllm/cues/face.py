"""Face cues over sampled video frames: where the face is, its expression, its AU-like movements.

Per frame: the largest face (the speaker, usually), its box, the 7-class
expression probabilities and the geometric AU intensities, all time-stamped.
Over the clip: mean probabilities, the dominant expression, and the movements
strong enough to mention. A clip without a face is a cue ("no face found"),
not an error.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np

from affectllm.cues.face_expression import EXPRESSIONS, ExpressionClassifier
from affectllm.cues.face_geometry import MEASURES, au_intensities, au_measures, describe_movement
from affectllm.cues.face_mesh import FULL_RANGE, SHORT_RANGE, MESH_MIN_PRESENCE, FaceDetector, FaceMeshModel

NOTABLE_SHARE = 0.3  # a movement seen in fewer face frames than this is left out of the summary


class FaceCueExtractor:
    """Detector, mesh and expression graphs, loaded once (see :func:`face_extractor`)."""

    def __init__(self):
        self.near = FaceDetector(SHORT_RANGE)
        # The full-range model finds small or distant faces the short-range one misses; it runs only then.
        self.far = FaceDetector(FULL_RANGE)
        self.mesh = FaceMeshModel()
        self.expression = ExpressionClassifier()

    def frame_cues(self, frame: np.ndarray, t: float) -> dict:
        """One (H, W, 3) uint8 RGB frame at time ``t`` (s) -> {"t", "face", ...}."""
        faces = self.near(frame) or self.far(frame)
        # Largest first: the speaker usually fills more of the frame than bystanders.
        for face in sorted(faces, key=lambda f: -f.size):
            mesh = self.mesh(frame, face)
            if mesh.presence < MESH_MIN_PRESENCE:
                continue  # the mesh sees no face in this box: a detector false alarm
            raw = au_measures(mesh.points)
            return {
                "t": round(float(t), 3),
                "face": True,
                "box": [round(float(v), 1) for v in face.box],
                "score": round(face.score, 3),
                "expression": {k: round(v, 4) for k, v in self.expression(frame, face).items()},
                "au": {k: round(v, 3) for k, v in au_intensities(raw).items()},
                "au_raw": {k: round(v, 4) for k, v in raw.items()},
            }
        return {"t": round(float(t), 3), "face": False}

    def __call__(self, frames: np.ndarray, times: np.ndarray) -> dict:
        """frames (F, H, W, 3) uint8 RGB, times (F,) s -> the face cue dict."""
        track = [self.frame_cues(f, t) for f, t in zip(frames, times)]
        return summarize_faces(track, frame_size=(int(frames.shape[2]), int(frames.shape[1])))


def summarize_faces(track: list[dict], frame_size: tuple[int, int]) -> dict:
    """Clip-level face cues from the per-frame ``track``."""
    with_face = [f for f in track if f["face"]]
    out: dict = {"present": bool(with_face), "frames": len(track), "frames_with_face": len(with_face),
                 "frame_size": list(frame_size), "track": track}
    if not with_face:
        out["summary"] = f"no face found in {len(track)} sampled frame{'s' if len(track) != 1 else ''}"
        return out
    probs = np.array([[f["expression"][k] for k in EXPRESSIONS] for f in with_face])
    mean = probs.mean(0)
    tops = Counter(EXPRESSIONS[i] for i in probs.argmax(1))
    dominant = EXPRESSIONS[int(mean.argmax())]
    out["expression_mean"] = {k: round(float(v), 4) for k, v in zip(EXPRESSIONS, mean)}
    out["dominant_expression"] = dominant
    out["dominant_share"] = round(tops[dominant] / len(with_face), 3)
    au = {m.name: float(np.mean([f["au"][m.name] for f in with_face])) for m in MEASURES}
    out["au_mean"] = {k: round(v, 3) for k, v in au.items()}
    movements = []
    for m in MEASURES:
        phrase = describe_movement(m.name, au[m.name])
        if phrase is None:
            continue
        sign = np.sign(au[m.name])
        seen = sum(1 for f in with_face if describe_movement(m.name, f["au"][m.name]) and
                   np.sign(f["au"][m.name]) == sign)
        if seen / len(with_face) >= NOTABLE_SHARE:
            movements.append({"measure": m.name, "intensity": round(au[m.name], 3), "frames": seen,
                              "text": f"{phrase} in {seen}/{len(with_face)} face frames"})
    out["movements"] = movements
    n = len(with_face)
    parts = [f"face in {n}/{len(track)} frames; expression model reads {dominant} "
             f"(mean p={mean.max():.2f}, top in {tops[dominant]}/{n} frames)"]
    parts += [m["text"] for m in movements]
    out["summary"] = "; ".join(parts)
    return out


@lru_cache(maxsize=1)
def face_extractor() -> FaceCueExtractor:
    """The process-wide extractor (graphs load on first use)."""
    return FaceCueExtractor()
