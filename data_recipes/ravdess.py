"""RAVDESS (acted emotional speech and song, 24 actors; everything is in the file names).

    affectllm recipe ravdess --input RAVDESS --split train --out ravdess_train.jsonl
    affectllm recipe ravdess --input RAVDESS --actors 13-16 --out ravdess_dev.jsonl

Facts relied on (Livingstone & Russo 2018, "The Ryerson Audio-Visual Database
of Emotional Speech and Song (RAVDESS)", PLoS ONE 13(5): e0196391,
doi:10.1371/journal.pone.0196391, and its Zenodo record 1188976; the file
naming convention as restated in robertjkeck2/EmoNet
``server/data/RAVDESS/README.md`` at commit
63132ce8a8a258a188fdeb8b63ab1f19f03bcc3c; the speech audio as mirrored in
Rahul5430/Speech-Emotion-Recognition-System
``speech-emotion-recognition-ravdess-data/audio_speech_actors_01-24/`` at
commit b6a1dd81cfb09db95d71b9ff3a5692bb68110fae):
- Files sit in one folder per actor, ``Actor_01`` .. ``Actor_24`` (audio
  ``.wav``, audio-visual ``.mp4``), possibly under the archive's folder
  (``Audio_Speech_Actors_01-24/Actor_01/...``); ``--input`` may be any folder above them.
- A name is seven two-digit codes, ``MM-VV-EE-II-SS-RR-AA``: modality (01
  full audio-video, 02 video only, 03 audio only), vocal channel (01 speech,
  02 song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry,
  06 fearful, 07 disgust, 08 surprised), intensity (01 normal, 02 strong;
  neutral has no strong), statement (01 "Kids are talking by the door",
  02 "Dogs are sitting by the door"), repetition (01, 02), actor (01-24;
  odd numbers male, even female).
The statements are lexically neutral: the emotion is in the voice (and face),
never in the words, which become the ``subtitle``. A video-only file (02) has
no sound, so it is seen and not heard. Speaker-independent splits by actor:
train 01-12, dev 13-16, test 17-24; ``--actors`` picks actors (within ``--split``).
Every file inside an ``Actor_NN`` folder is accounted for: a sample, or one
``FILE: reason`` line (a name that is not seven known codes, an actor that
does not match its folder). Samples are label-only: without
``--ground-chains`` a chain ``--style`` writes plain answers.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .label_words import emotion_words, label_valence
from .manifest import AUDIO_EXTENSIONS, LeftOut, add_common_arguments, convert, make_sample
from .rows import RowError, SourceRow
from .targets import Targets

NAME = "ravdess"
ALIASES: dict[str, dict] = {}
HELP = "RAVDESS (Actor_NN/MM-VV-EE-II-SS-RR-AA.wav|.mp4; the codes in the name are the labels)"
LAYOUT = "RAVDESS root: Actor_01..Actor_24/<modality>-<channel>-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav|.mp4"
STYLES = ("affectgpt_hybrid", "emer", "think_answer", "hef_hint")
EMOTIONS = {1: "neutral", 2: "calm", 3: "happy", 4: "sad", 5: "angry", 6: "fearful", 7: "disgust", 8: "surprised"}
MODALITIES = {1: "audio-visual", 2: "video-only", 3: "audio-only"}
CHANNELS = {1: "speech", 2: "song"}
INTENSITIES = {1: "normal", 2: "strong"}
STATEMENTS = {1: "Kids are talking by the door", 2: "Dogs are sitting by the door"}
SPLITS = {"train": range(1, 13), "dev": range(13, 17), "test": range(17, 25)}
MEDIA_EXTENSIONS = (*AUDIO_EXTENSIONS, ".mp4")
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_ACTOR_FOLDER = re.compile(r"^Actor_(\d+)$")


class FileRow(SourceRow):
    """A media file is its own row: errors name the file alone."""

    @property
    def where(self) -> str:
        return str(self.file)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=tuple(SPLITS), label_only=True)
    parser.add_argument("--actors", default=None, metavar="LIST",
                        help="actors to convert, e.g. 1-12 or 13,14,16, within --split (default: all the split's actors)")
    parser.add_argument("--channel", choices=["speech", "song", "all"], default="speech",
                        help="vocal channel kept (default: speech; song files are then left out, with the reason)")


def parse_actors(text: str) -> set[int]:
    """``"1-12"``, ``"13,14,16"`` or ``"1-4,9"`` -> actor numbers; one error naming the option otherwise."""
    actors: set[int] = set()
    for part in text.replace(" ", "").split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise AffectLLMError(f"--actors {text!r}: write actor numbers and ranges such as 1-12 or 13,14,16")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 1 <= lo <= hi <= 24:
            raise AffectLLMError(f"--actors {text!r}: RAVDESS actors are 1-24")
        actors.update(range(lo, hi + 1))
    return actors


def decode_name(stem: str) -> dict:
    """The seven codes of a RAVDESS file name as fields; RowError saying which code is wrong."""
    m = _NAME.match(stem)
    if not m:
        raise RowError(f"name {stem!r} is not seven two-digit codes MM-VV-EE-II-SS-RR-AA")
    modality, channel, emotion, intensity, statement, repetition, actor = map(int, m.groups())
    for value, table, what in ((modality, MODALITIES, "modality"), (channel, CHANNELS, "vocal channel"),
                               (emotion, EMOTIONS, "emotion"), (intensity, INTENSITIES, "intensity"),
                               (statement, STATEMENTS, "statement"), (repetition, {1: 1, 2: 2}, "repetition")):
        if value not in table:
            raise RowError(f"unknown {what} code {value:02d} (expected {', '.join(f'{k:02d}' for k in table)})")
    if not 1 <= actor <= 24:
        raise RowError(f"unknown actor {actor:02d} (expected 01-24)")
    if emotion == 1 and intensity == 2:
        raise RowError("neutral has no strong intensity (code 02) in RAVDESS")
    return {"modality": MODALITIES[modality], "vocal_channel": CHANNELS[channel], "label": EMOTIONS[emotion],
            "intensity": INTENSITIES[intensity], "statement": statement, "repetition": repetition, "actor": actor,
            "speaker": f"Actor_{actor:02d}", "gender": "male" if actor % 2 else "female"}


def _rows(root: Path):
    """Every file inside an Actor_NN folder under ``root`` (hidden files and macOS forks aside), sorted."""
    if not root.is_dir():
        raise AffectLLMError(f"{root}: not a folder; point --input at the RAVDESS root (the folder above Actor_01)")
    folders = sorted(p for p in root.rglob("Actor_*") if p.is_dir() and _ACTOR_FOLDER.match(p.name))
    if _ACTOR_FOLDER.match(root.name):
        folders.insert(0, root)
    if not folders:
        raise AffectLLMError(f"{root}: no Actor_NN folder; point --input at the RAVDESS root (the folder above Actor_01)")
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                yield FileRow(path, 0, {"folder_actor": int(_ACTOR_FOLDER.match(folder.name).group(1))})


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    actors = set(SPLITS.get(args.split, range(1, 25)))
    if args.actors:
        actors &= parse_actors(args.actors)
        if not actors:
            raise AffectLLMError(f"--actors {args.actors} holds no actor of --split {args.split}")
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)

    def build(row: SourceRow) -> dict | None:
        path = row.file
        if path.suffix.lower() not in MEDIA_EXTENSIONS:
            raise RowError(f"not a RAVDESS media file (expected {', '.join(MEDIA_EXTENSIONS)})")
        fields = decode_name(path.stem)
        if fields["actor"] != row.data["folder_actor"]:
            raise RowError(f"actor code {fields['actor']:02d} does not match its folder {path.parent.name}")
        if fields["actor"] not in actors:
            return None
        if args.channel not in ("all", fields["vocal_channel"]):
            raise LeftOut(f"{fields['vocal_channel']} file (use --channel all or {fields['vocal_channel']} to keep it)")
        is_video = path.suffix.lower() == ".mp4"
        if is_video == (fields["modality"] == "audio-only"):
            raise RowError(f"a {fields['modality']} code on a {path.suffix} file")
        split = next(name for name, span in SPLITS.items() if fields["actor"] in span)
        emotions = emotion_words([fields["label"]])
        return make_sample(f"ravdess_{path.stem}", out_dir, targets, emotions=emotions,
                           video=path if is_video else None, audio=None if is_video else path,
                           video_sound=fields["modality"] == "audio-visual" if is_video else None,
                           subtitle=STATEMENTS[fields["statement"]], valence=label_valence(emotions), split=split,
                           **fields)

    return convert(args, _rows(root), build, dataset="ravdess", targets=targets)
