"""7-class facial-expression probabilities from the ``fer`` package's bundled classifier.

The graph takes a 64x64 grey face scaled to [-1, 1] and returns probabilities
over FER-2013's classes. We crop from our own detections rather than fer's
Haar cascade, a little looser than the box (the classifier was trained on
crops with some forehead and chin).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from affectllm.cues.bundled_models import expression_model_file, tflite_model
from affectllm.cues.face_mesh import FaceDetection

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CROP_MARGIN = 0.1  # fraction of the box side added on every side


class ExpressionClassifier:
    def __init__(self):
        self.model = tflite_model(expression_model_file())
        self.size = self.model.input_shape[1]

    def crop(self, image: np.ndarray, face: FaceDetection) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (size, size) float32 grey in [-1, 1], a square around the face."""
        cx, cy = (face.box[:2] + face.box[2:]) / 2
        half = face.size * (0.5 + CROP_MARGIN)
        grey = Image.fromarray(image).convert("L")
        # Image.crop pads outside the frame with black, like fer's border padding near the edges.
        patch = grey.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
        patch = patch.resize((self.size, self.size), Image.BILINEAR)
        return np.asarray(patch, dtype=np.float32) / 127.5 - 1.0

    def __call__(self, image: np.ndarray, face: FaceDetection) -> dict[str, float]:
        """Probabilities over EXPRESSIONS (sum to 1) for one detected face."""
        x = self.crop(image, face)[None, :, :, None]
        (probs,) = self.model(x)
        p = np.clip(probs[0].astype(np.float64), 0, None)
        p = p / max(p.sum(), 1e-9)
        return {name: float(v) for name, v in zip(EXPRESSIONS, p)}
