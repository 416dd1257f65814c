"""ExpLLM's published facial-expression chains of thought, as targets over RAF-DB (or AffectNet-Kaggle) images.

    affectllm recipe expllm --input ExpLLM-TMM --images RAF-DB --out expllm_raf_val.jsonl
    affectllm recipe expllm --input ExpLLM-TMM/data_list/anno_json/rafdb_emo_au_val_mini_description.json \\
        --images RAF-DB --out expllm_raf_val.jsonl

Facts relied on (starhiking/ExpLLM-TMM, commit d34dd4a3b3c2ce0b3130b5b732f33a19b8a4c08c, and the
folder listing and ``data_list/anno_json/readme.md`` at b76fad9d4466c98dcb6cb08a4f23dc2f25ebc30c:
``data_list/anno_json/rafdb_emo_au_val_mini_description.json``,
``data_list/anno_json/readme.md``, ``data_list/test/raf-db-gt_emo-des.txt``,
``datasets/facetask.py``):
- The description files sit in ``data_list/anno_json/`` beside label-only
  lists (``rafdb_train.json``, ``rafdb_valid.json``, ...); the repository holds
  ``rafdb_emo_au_val_mini_description.json``, and its ``readme.md`` lists the
  ``*_mini_description.json`` / ``*_description.json`` files of the other
  splits. ``--input`` may be one file, the repository root, ``data_list/`` or
  ``anno_json/``: every ``*description*.json`` in the first of those folders
  holding one is read, ``--split`` picks by file name.
- A JSON list of ``{"file_name", "emo", "au", "description"}``:
  ``file_name`` is relative to the image folder listed beside the JSON
  (``RAF-DB/basic/Image/aligned`` for RAF-DB, e.g. ``test_0001_aligned.jpg``;
  the AffectNet-Kaggle root for its lists, e.g. ``val_class/class003/x.jpg``);
  ``emo`` is Surprise / Fear / Disgust / Happiness / Sadness / Anger / Neutral
  (and Contempt for AffectNet); ``au`` holds 24 predicted intensities the
  repository does not name, so they are kept raw as ``au_intensities`` and
  not mapped to FACS numbers.
- ``description`` already is the chain: Key Observations, Overall Emotional
  Interpretation, Conclusion. The headings come as ``**Key Observations:**``,
  ``**Key Observations**:``, ``Key Observations:`` or ``### Key Observations``;
  in the RAF-DB validation file 14 of 3068 have no interpretation and one has
  no heading at all (reported and skipped: there is no chain to split).
The target is the ``expllm`` template over the published sections (text
kept, markdown dropped) followed by the gold expression.
``--images`` takes the RAF-DB root, its ``basic/`` folder, the aligned-image
folder itself, or the AffectNet-Kaggle root.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterator

from affectllm.core.errors import AffectLLMError

from .label_words import emotion_words, label_valence
from .manifest import add_common_arguments, convert, inside, make_sample
from .rows import RowError, SourceRow, json_list_rows

NAME = "expllm"
ALIASES: dict[str, dict] = {}
HELP = "ExpLLM's published AU descriptions (anno_json/*description*.json) as chain-of-thought targets over images"
LAYOUT = ("ExpLLM-TMM/ (the repository) with data_list/anno_json/*_description.json "
          "([{file_name, emo, au, description}]); "
          "--images RAF-DB root (basic/Image/aligned) or AffectNet-Kaggle root")
STYLES = ("expllm", "think_answer", "affectgpt_hybrid")
IMAGE_FOLDERS = (".", "basic/Image/aligned", "Image/aligned", "RAF-DB/basic/Image/aligned")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "expllm", splits=("train", "valid", "test"))
    parser.add_argument("--images", type=Path, required=True, metavar="DIR",
                        help="the image folder file_name is relative to (RAF-DB root, basic/, basic/Image/aligned, "
                             "or the AffectNet-Kaggle root)")


def _split_of(path: Path) -> str:
    stem = path.stem.lower()
    return "train" if "train" in stem else "test" if "test" in stem else "valid" if "val" in stem else "all"


ANNOTATION_FOLDERS = (".", "anno_json", "data_list/anno_json", "ExpLLM-TMM/data_list/anno_json")


def _files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    for folder in (source / sub if sub != "." else source for sub in ANNOTATION_FOLDERS):
        found = sorted(folder.glob("*description*.json")) if folder.is_dir() else []
        if found:
            return found
    raise AffectLLMError(f"{source}: no ExpLLM description JSON (*description*.json) in it or its "
                         "data_list/anno_json/; point --input at the ExpLLM-TMM repository or at one file, e.g. "
                         "data_list/anno_json/rafdb_emo_au_val_mini_description.json")


def _rows(files: list[Path], split: str) -> Iterator[SourceRow]:
    for path in files:
        file_split = _split_of(path)
        if split in ("all", file_split):
            for row in json_list_rows(path, "ExpLLM description"):
                yield SourceRow(row.file, row.line, {"entry": row.data, "split": file_split}, row.entry)


def _image(bases: list[Path], file_name: str) -> Path:
    for base in bases:
        path = inside(base, file_name)
        if path.is_file():
            return path
    raise RowError(f"image {file_name!r} not found under {bases[0]} (tried {', '.join(IMAGE_FOLDERS)})")


def run(args: argparse.Namespace) -> int:
    from affectllm.reasoning import parse_output

    images: Path = args.images
    bases = [images / sub if sub != "." else images for sub in IMAGE_FOLDERS]
    bases = [b for b in bases if b.is_dir()]
    if not bases:
        raise AffectLLMError(f"{images}: no such image folder; give --images the RAF-DB root or the AffectNet-Kaggle root")
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict:
        entry = row.data["entry"]
        if not isinstance(entry, dict):
            raise RowError("entry is not an object with file_name, emo, description")
        file_name, emo = str(entry.get("file_name") or ""), str(entry.get("emo") or "").strip()
        description = str(entry.get("description") or "").strip()
        if not file_name or not emo or not description:
            missing = [k for k, v in (("file_name", file_name), ("emo", emo), ("description", description)) if not v]
            raise RowError(f"missing {', '.join(missing)}")
        sections = parse_output("expllm", description).sections
        if not sections["observations"] or not sections["conclusion"]:
            raise RowError("the description has no Key Observations / Conclusion parts to form a chain")
        emotions = emotion_words([emo])
        stem = Path(file_name).with_suffix("").as_posix().replace("/", "_")
        au = entry.get("au")
        return make_sample(f"expllm_{stem}", out_dir, args.style, emotions=emotions, video=_image(bases, file_name),
                           valence=label_valence(emotions), label=emo,
                           record={"reasoning": sections, "target_mode": "description",
                                   "description": " ".join(v for v in sections.values() if v)},
                           description=description, au_intensities=au if isinstance(au, list) else None,
                           split=row.data["split"])

    return convert(args, _rows(_files(args.input), args.split), build, dataset="expllm")
