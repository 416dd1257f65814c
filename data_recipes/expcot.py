"""An Exp-CoT-style rule engine: facial action-unit intensities + the gold label -> an ExpLLM reasoning chain.

ExpLLM built its chains from detected action units and the expression label;
this engine does the same with published facts instead of a model:
- FACS action-unit names (Ekman & Friesen), the 17 intensities OpenFace
  reports as ``AUxx_r`` on a 0..5 scale;
- EMFACS-style prototypes: happiness 6+12; sadness 1+4+15(+17); surprise
  1+2+5+26; fear 1+2+4+5+7+20+26; anger 4+5+7+23; disgust 9+10(+15+17);
  contempt 14 (unilateral).
Each active unit (intensity >= threshold) is listed with the emotion it is
associated with (the gold emotion when the unit belongs to its prototype),
the interpretation states how much of the gold prototype is active and which
units point elsewhere, and the conclusion names the gold expression.
"""

from __future__ import annotations

import re
from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .rows import read_csv, read_text

AU_NAMES = {1: "inner brow raiser", 2: "outer brow raiser", 4: "brow lowerer", 5: "upper lid raiser",
            6: "cheek raiser", 7: "lid tightener", 9: "nose wrinkler", 10: "upper lip raiser",
            12: "lip corner puller", 14: "dimpler", 15: "lip corner depressor", 17: "chin raiser",
            20: "lip stretcher", 23: "lip tightener", 25: "lips part", 26: "jaw drop", 45: "blink"}
# Ordered so that the first prototype holding a unit is its most typical association.
PROTOTYPES = {"happy": (6, 12), "sad": (1, 4, 15, 17), "surprised": (1, 2, 5, 26),
              "fearful": (1, 2, 4, 5, 7, 20, 26), "angry": (4, 5, 7, 23), "disgusted": (9, 10, 15, 17),
              "contemptuous": (14,)}
NOUNS = {"happy": "happiness", "sad": "sadness", "surprised": "surprise", "fearful": "fear", "angry": "anger",
         "disgusted": "disgust", "contemptuous": "contempt", "neutral": "a neutral expression"}
_AU_COLUMN = re.compile(r"^AU\s*0*(\d{1,2})(?:_r)?$", re.IGNORECASE)


def au_number(key: str | int) -> int | None:
    if isinstance(key, int):
        return key
    m = _AU_COLUMN.match(key.strip())
    return int(m.group(1)) if m else None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def expllm_record(action_units: dict, gold: str, threshold: float = 1.0, top_k: int = 6) -> dict:
    """The render_target record for the expllm template.

    ``action_units``: {"AU12" | "AU12_r" | 12: intensity 0..5}; ``gold``: the
    vocabulary word of the label (happy, sad, ..., neutral).
    """
    active = sorted(((n, float(v)) for k, v in action_units.items()
                     if (n := au_number(k)) in AU_NAMES and v is not None and float(v) >= threshold),
                    key=lambda t: (-t[1], t[0]))[:top_k]
    proto = PROTOTYPES.get(gold, ())
    units, elsewhere = [], []
    for n, value in active:
        if n in proto:
            assoc = gold
        else:
            assoc = next((e for e, p in PROTOTYPES.items() if n in p), "")
            elsewhere.append(n)
        units.append({"au": f"AU{n}", "name": AU_NAMES[n], "intensity": value, "emotion": NOUNS.get(assoc, assoc)})
    noun = NOUNS.get(gold, gold)
    matched = sorted(n for n, _ in active if n in proto)
    if not active:
        interpretation = ("No action unit is clearly active; the face is at rest." if gold == "neutral" else
                          f"No action unit is clearly active, so the evidence for {noun} is subtle.")
    elif gold == "neutral":
        interpretation = ("Only weak, isolated movements are present and they do not form the pattern of any "
                          "basic emotion.")
    elif matched:
        names = _join([f"AU{n}" for n in matched])
        interpretation = (f"{names} together form {len(matched)} of the {len(proto)} units typical of {noun}.")
    else:
        interpretation = f"None of the units typical of {noun} is strongly active; the cue is subtle."
    if elsewhere and gold != "neutral":
        verb = "points to another emotion but is" if len(elsewhere) == 1 else "point to other emotions but are"
        interpretation += f" {_join([f'AU{n}' for n in sorted(elsewhere)])} {verb} weaker evidence."
    return {"action_units": units,
            "reasoning": {"interpretation": interpretation,
                          "conclusion": f"The facial expression is best described as {noun}."}}


def read_au_table(path: Path) -> dict[str, dict[int, float]]:
    """AU intensities per image from a CSV: an image column (``name``, ``image``, ``file``,
    ``subDirectory_filePath`` or ``path``) and ``AUxx_r`` / ``AUxx`` columns (OpenFace output with
    spaces after commas works). Keyed by the image's relative path and by its file stem."""
    if not path.is_file():
        raise AffectLLMError(f"{path}: AU table not found")
    rows = [values for _, values in read_csv(path, read_text(path))]
    header = [h.strip() for h in rows[0]] if rows else []
    key_col = next((i for i, h in enumerate(header) if h in ("name", "image", "file", "subDirectory_filePath", "path")), None)
    au_cols = {i: au_number(h) for i, h in enumerate(header) if au_number(h) is not None and not h.endswith("_c")}
    if key_col is None or not au_cols:
        raise AffectLLMError(f"{path}:1: need an image column (name/image/file/path) and AUxx_r columns")
    table = {}
    for values in rows[1:]:
        if len(values) <= key_col or not values[key_col].strip():
            continue
        aus = {}
        for i, n in au_cols.items():
            try:
                aus[n] = float(values[i])
            except (IndexError, ValueError):
                continue
        key = values[key_col].strip()
        table[key] = aus
        table[Path(key).stem] = aus
    return table
