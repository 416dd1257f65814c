"""MER-Caption / MER-Caption+ / OV-MERD+ (descriptions and open-vocabulary labels).

    affectllm recipe mer-caption+ --input mer2025-dataset --out mcplus.jsonl
    affectllm recipe ov-merd+ --input ovmerdplus-process --out ovmerdplus.jsonl

Two layouts:

- OV-MERD+ as AffectGPT reads it (``ovmerdplus-process/``): ``ovlabel.csv``
  (``name, openset``), ``subtitle_eng.csv`` (``name, sentence``), ``video/``,
  ``audio/``; labels only, no descriptions. Relied on: AffectGPT ``config.py``
  (``DATA_DIR['OVMERDPlus']``, ``PATH_TO_TRANSCRIPTIONS``, ``PATH_TO_LABEL``)
  and ``my_affectgpt/datasets/datasets/ovmerdplus_dataset.py``, read in
  201983290498/AffectGPT (a copy of zeroQiaoba/AffectGPT's current tree) at
  commits 270e093013e612ee0846cc4dcf20c5320d439fee and
  4d68406ff3e6c90854f59ace8a813d7214a06baa.
- The MER2025 release (``mercaptionplus_dataset.py`` of the same commit):
- ``track2_train_<subset>.csv``: columns ``name, openset``; ``openset`` is a
  Python-list string of open-vocabulary labels ("['worried', 'tense']"); an
  empty list means neutral (as AffectGPT's readers do). The words are the
  gold ``emotions`` as written ("teasing", "tender"): the evaluator maps them.
- ``track3_train_<subset>.csv``: columns ``name, reason``: the multimodal
  emotion description (visual, acoustic and lexical cues, then the inferred
  state).
- ``subtitle_chieng.csv``: ``name, chinese, english``; clips
  ``video/<name>.mp4``, ``audio/<name>.wav``.
- subsets: ``mercaptionplus`` (MER-Caption+, auto-annotated), ``ovmerd``
  (OV-MERD+, human-checked); ``mercaption`` reads the same two-file layout.
AffectGPT trains on both targets of one clip ("description" and "label");
``--label-ratio`` picks the label sentence for that share of clips
(deterministic per clip id). A clip with labels and no description is
label-only: a chain ``--style`` writes plain answers unless
``--ground-chains`` grounds a chain in the clip's cues.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .label_words import label_valence, open_vocabulary_words
from .manifest import (AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, add_common_arguments, convert, description_sections,
                       find_media, make_sample)
from .rows import RowError, SourceRow, cell, csv_rows, split_list_cell
from .mer import read_subtitles
from .targets import Targets

NAME = "mer_caption"
ALIASES = {"mer-caption+": {"subset": "mercaptionplus"}, "mercaptionplus": {"subset": "mercaptionplus"},
           "ov-merd+": {"subset": "ovmerd"}, "ovmerd": {"subset": "ovmerd"}}
HELP = "MER-Caption / MER-Caption+ / OV-MERD+ (open-vocabulary labels, descriptions, subtitles)"
LAYOUT = ("MER2025 release: track2_train_<subset>.csv (name,openset) + track3_train_<subset>.csv (name,reason) + "
          "video/; OV-MERD+: ovmerdplus-process/ with ovlabel.csv, subtitle_eng.csv, video/, audio/")
STYLES = ("affectgpt_hybrid", "emer", "think_answer")
OVMERD_PLUS = ("ovlabel.csv", "subtitle_eng.csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=("train",), label_only=True)
    parser.add_argument("--subset", choices=["mercaptionplus", "ovmerd", "mercaption"], default="mercaptionplus",
                        help="which release set: names the default track2/track3 CSVs (track2_train_<subset>.csv)")
    parser.add_argument("--labels", type=Path, help="open-vocabulary label CSV (default: ROOT/track2_train_<subset>.csv)")
    parser.add_argument("--descriptions", type=Path, help="description CSV (default: ROOT/track3_train_<subset>.csv)")
    parser.add_argument("--label-ratio", type=float, default=0.0,
                        help="share of clips whose affectgpt_hybrid target is the label sentence (0..1)")
    parser.add_argument("--language", choices=["english", "chinese"], default="english", help="subtitle language")


def _uses_label_target(name: str, ratio: float) -> bool:
    return ratio > 0 and (zlib.crc32(name.encode()) % 1000) < ratio * 1000


def _ovmerd_plus_root(root: Path) -> Path | None:
    for folder in (root, root / "ovmerdplus-process"):
        if (folder / OVMERD_PLUS[0]).is_file():
            return folder
    return None


def _ovmerd_plus_subtitles(root: Path) -> dict[str, str]:
    path = root / OVMERD_PLUS[1]
    if not path.is_file():
        return {}
    return {r.data["name"].strip(): (r.data.get("sentence") or "").strip()
            for r in csv_rows(path, required=("name", "sentence"))}


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    plus = _ovmerd_plus_root(root) if args.subset == "ovmerd" and not args.labels else None
    if plus is not None:
        root = plus
    labels_csv = args.labels or (root / OVMERD_PLUS[0] if plus else root / f"track2_train_{args.subset}.csv")
    desc_csv = args.descriptions or root / f"track3_train_{args.subset}.csv"
    if not labels_csv.is_file() and not desc_csv.is_file():
        raise AffectLLMError(f"{root}: neither {labels_csv.name} nor {desc_csv.name} found; "
                             "point --input at the MER2025 release root or give --labels/--descriptions")
    descriptions = {}
    if desc_csv.is_file():
        descriptions = {r.data["name"].strip(): (r.data.get("reason") or "").strip()
                        for r in csv_rows(desc_csv, required=("name", "reason"))}
    rows = csv_rows(labels_csv, required=("name", "openset")) if labels_csv.is_file() else csv_rows(
        desc_csv, required=("name", "reason"))
    subtitles = _ovmerd_plus_subtitles(root) if plus else read_subtitles(root, args.language)
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)

    def build(row: SourceRow) -> dict:
        name = cell(row, "name")
        raw = row.data.get("openset")
        labels = split_list_cell(raw) if raw is not None else []
        if raw is not None and not labels:
            labels = ["neutral"]
        description = descriptions.get(name, "")
        if not labels and not description:
            raise RowError("no open-vocabulary labels and no description")
        emotions = open_vocabulary_words(labels)
        if not emotions:  # description-only subset: the gold labels are what the description names
            from affectllm.reasoning import parse_output
            emotions = parse_output("affectgpt_hybrid", description).emotions
        mode = "label" if (not description or _uses_label_target(name, args.label_ratio)) else "description"
        record = {"description": description, "target_mode": mode,
                  "reasoning": description_sections(description) if description else {}}
        audio = find_media(root / "audio", name, AUDIO_EXTENSIONS) if (root / "audio").is_dir() else None
        return make_sample(name, out_dir, targets, emotions=emotions,
                           video=find_media(root / "video", name, VIDEO_EXTENSIONS), audio=audio,
                           subtitle=subtitles.get(name, ""), valence=label_valence(emotions),
                           record=record, description=description or None, split="train")

    dataset = "ovmerd_plus" if plus else f"mer_caption/{args.subset}"
    return convert(args, rows, build, dataset=dataset, targets=targets)
