"""Sampled frames with the detected face box and the expression model's bars beside each.

The face cues keep, per sampled frame, the time, the box (x0, y0, x1, y1 in
the decoded frame's pixels) and the 7 expression probabilities; the frames
themselves come from the same decode, in the same order. When the
explanation cites a face cue (the expression read, a movement), the gallery
shows the frames behind that cue, each captioned with it and framed in
``CITED_COLOUR``; otherwise frames spread over the clip.
"""

from __future__ import annotations

import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from affectllm.cues.extractors.face_expression import EXPRESSIONS

MAX_SHOWN = 8  # frames in the gallery; evenly spread over the clip
PANEL_W = 190  # px, bar panel to the right of each frame
TOP_Y, ROW_H = 32, 22  # px, first expression row and row pitch in the panel
NAME_W = 74  # px, expression names left of their bars
CAPTION_BAND_PX = 30  # blank strip at the bottom, where the gallery lays each frame's caption
FONT_PX, SMALL_PX = 17, 15  # readable where the gallery shows a frame at its own size (two per row)
BOX_COLOUR = (40, 220, 90)
CITED_COLOUR = (235, 140, 20)  # border of a frame behind a cited face cue
BAR_COLOUR, TOP_COLOUR = (150, 160, 175), (40, 160, 90)


def shown_indices(n: int, limit: int = MAX_SHOWN) -> list[int]:
    """Up to ``limit`` indices evenly spread over ``n`` frames, first and last included."""
    if n <= limit:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, limit)})


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def cited_face_frames(record) -> dict[int, str]:
    """face-track index -> the cited face cue it stands behind, for the face channels the explanation cites.

    The cue-fusion record lists its channels (``cue_channels``) with the face-track frames behind each.
    """
    out: dict[int, str] = {}
    for ch in record.extra.get("cue_channels") or []:
        if ch.get("modality") == "visual" and ch.get("frames") and ch.get("phrase", "\0") in record.explanation:
            label = ch["phrase"].split(" (")[0]
            for i in ch["frames"]:
                out[i] = f"{out[i]}; {label}" if i in out else label
    return out


def annotate_frame(frame: np.ndarray, cue: dict, cited: str | None = None) -> Image.Image:
    """(H, W, 3) uint8 RGB frame + its per-frame face cue -> the frame with its box, and a bar panel.

    ``cited``: the cited face cue this frame stands behind (drawn as a border and named under the bars).
    """
    h, w = frame.shape[:2]
    bottom = TOP_Y + len(EXPRESSIONS) * ROW_H
    canvas = Image.new("RGB", (w + PANEL_W, max(h, bottom + 3 * ROW_H) + CAPTION_BAND_PX), (250, 250, 252))
    canvas.paste(Image.fromarray(frame), (0, 0))
    draw = ImageDraw.Draw(canvas)
    font, small = _font(FONT_PX), _font(SMALL_PX)
    draw.text((w + 8, 6), f"t = {cue['t']:.2f} s", fill=(30, 30, 40), font=font)
    if cited:
        draw.rectangle((0, 0, w - 1, h - 1), outline=CITED_COLOUR, width=4)
        for k, line in enumerate(textwrap.wrap(f"cited: {cited}", 20)[:3]):
            draw.text((w + 8, bottom + 4 + k * (SMALL_PX + 3)), line, fill=CITED_COLOUR, font=small)
    if not cue.get("face"):
        draw.text((w + 8, TOP_Y), "no face found", fill=(160, 60, 60), font=font)
        return canvas
    x0, y0, x1, y1 = cue["box"]
    draw.rectangle((x0, y0, x1, y1), outline=BOX_COLOUR, width=3)
    probs = cue["expression"]
    top = max(probs, key=probs.get)
    label = f"{top} {probs[top]:.2f}"
    ty = max(0.0, y0 - SMALL_PX - 5)
    draw.rectangle((x0, ty, x0 + draw.textlength(label, font=small) + 8, ty + SMALL_PX + 4), fill=BOX_COLOUR)
    draw.text((x0 + 4, ty + 1), label, fill=(10, 10, 10), font=small)
    bar_x, bar_w = w + 8 + NAME_W, PANEL_W - NAME_W - 16
    for i, name in enumerate(EXPRESSIONS):
        y = TOP_Y + i * ROW_H
        p = float(probs.get(name, 0.0))
        draw.text((w + 8, y), name, fill=(40, 40, 50), font=small)
        draw.rectangle((bar_x, y + 4, bar_x + bar_w, y + 15), outline=(210, 212, 218))
        draw.rectangle((bar_x, y + 4, bar_x + max(1, round(bar_w * p)), y + 15),
                       fill=TOP_COLOUR if name == top else BAR_COLOUR)
    return canvas


def annotated_frames(frames: np.ndarray | None, face: dict,
                     cited: dict[int, str] | None = None) -> list[tuple[Image.Image, str]]:
    """(F, H, W, 3) frames + the face cue dict -> [(image, caption)] for a gallery (at most MAX_SHOWN).

    ``cited`` (see :func:`cited_face_frames`): when given, the frames behind the cited face cues are shown.
    """
    track = face.get("track") or []
    if frames is None or not track:
        return []
    n = min(len(frames), len(track))
    behind = sorted(i for i in (cited or {}) if i < n)
    picked = [behind[j] for j in shown_indices(len(behind))] if behind else shown_indices(n)
    out = []
    for i in picked:
        cue = track[i]
        if cue.get("face"):
            top = max(cue["expression"], key=cue["expression"].get)
            caption = f"{cue['t']:.1f} s: {top} {cue['expression'][top]:.2f}"
        else:
            caption = f"{cue['t']:.1f} s: no face"
        label = (cited or {}).get(i)
        if label:
            caption += " (cited)"  # the cue itself is named on the image: a caption shows one short line
        out.append((annotate_frame(frames[i], cue, label), caption))
    return out
