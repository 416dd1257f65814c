"""IEMOCAP (dyadic sessions; categorical label + valence/activation/dominance per utterance).

    affectllm recipe iemocap --input IEMOCAP_full_release --out iemocap4.jsonl --split Session5

Facts relied on (IEMOCAP release layout as documented in CXianRen/AMST
``Doc/dataset/IEMOCAP.md``, commit 16f96be80dc074a3e1bb095fa6ae9f9d8e5eee94;
the 4-class protocol of MERBench, zeroQiaoba/MERTools ``MER2024/toolkit/
preprocess/iemocap.py`` and ``config.py``'s ``IEMOCAPFour``, commit
89120b780ab18b28349f0e37dcc12b8cc253cb02):
- ``SessionN/dialog/EmoEvaluation/<dialog>.txt``: one summary line per turn,
  ``[start - end]<TAB><utterance id><TAB><label><TAB>[V, A, D]``; the other
  lines (``C-E1:``, ``A-E2:`` ...) are per-annotator details and are ignored.
- Labels: neu, hap, exc, ang, sad, fru, sur, fea, dis, oth, xxx (no majority).
  The 4-class protocol keeps neu / hap+exc (excited folded into happy) / ang /
  sad; the sample's ``code`` keeps the original label code.
- Every turn line is accounted for: a sample, an error (no wav, malformed),
  or "left out" with its reason (``xxx``: no majority label; ``oth``: no
  emotion named; with ``--classes 4``, a class outside the protocol).
- V, A, D are rated on 1..5: the sample keeps them as ``vad`` with
  ``vad_scale`` [1, 5] each (``affectllm.core.dimensions``); ``valence`` is
  (V - 3) / 2, in [-1, 1]. A rating off the scale is reported.
- ``SessionN/dialog/transcriptions/<dialog>.txt``: ``<utterance id> [start-end]: text``.
- ``SessionN/sentences/wav/<dialog>/<utterance id>.wav``. Video exists only per
  dialog (both speakers, ``dialog/avi/DivX``), so samples are audio-only.
- The speaker of a turn is the letter (F or M) that opens the last part of
  its id (``Ses01F_impro05_M001``: M).
``--context K``: the previous K turns of the dialog by start time, every turn
of its EmoEvaluation file (``xxx`` ones too), with transcript and wav.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from affectllm.core.errors import AffectLLMError
from affectllm.core.dimensions import rated_fields, to_unit

from .context import Dialogues, Turn, add_context_argument
from .label_words import emotion_words
from .manifest import LeftOut, add_common_arguments, convert, make_sample
from .rows import RowError, SourceRow, read_text
from .targets import Targets

NAME = "iemocap"
ALIASES: dict[str, dict] = {}
HELP = "IEMOCAP (EmoEvaluation files; 4-class with excited->happy, or all classes)"
LAYOUT = ("IEMOCAP_full_release/SessionN/dialog/EmoEvaluation/*.txt + dialog/transcriptions/ + "
          "sentences/wav/<dialog>/<utterance>.wav")
STYLES = ("affectgpt_hybrid", "emer", "think_answer", "hef_hint")
FOUR_CLASS = {"neu": "neutral", "hap": "happy", "exc": "happy", "ang": "angry", "sad": "sad"}
ALL_CLASSES = dict(FOUR_CLASS, exc="excited", fru="frustrated", sur="surprised", fea="fearful", dis="disgusted")
NO_LABEL = {"xxx": "no majority label (xxx)", "oth": "label 'oth' (other) names no emotion"}
SESSIONS = tuple(f"Session{i}" for i in range(1, 6))
SCALE = (1.0, 5.0)  # V, A and D ratings
_TURN = re.compile(r"^\[(?P<start>[\d.]+)\s*-\s*(?P<end>[\d.]+)\]\s+(?P<id>\S+)\s+(?P<label>\S+)\s+\[(?P<vad>[^\]]*)\]")
_TRANSCRIPT = re.compile(r"^(?P<id>\S+)\s+\[[^\]]*\]:\s*(?P<text>.*)$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=SESSIONS, label_only=True)
    parser.add_argument("--classes", choices=["4", "all"], default="4",
                        help="4: neutral/happy(+excited)/angry/sad, others left out; all: every labelled class")
    add_context_argument(parser)


def _rows(root: Path, split: str):
    sessions = [s for s in SESSIONS if split in ("all", s) and (root / s).is_dir()]
    if not sessions:
        raise AffectLLMError(f"{root}: no {split if split != 'all' else 'SessionN'} folder; point --input at IEMOCAP_full_release")
    for session in sessions:
        for path in sorted((root / session / "dialog" / "EmoEvaluation").glob("*.txt")):
            if path.name.startswith("._"):  # macOS resource forks some copies of the release carry
                continue
            for i, line in enumerate(read_text(path).splitlines(), start=1):
                if line.startswith("["):
                    yield SourceRow(path, i, {"line": line, "session": session})


def _transcripts(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    found = {}
    for line in read_text(path).splitlines():
        m = _TRANSCRIPT.match(line.strip())
        if m:
            found[m.group("id")] = m.group("text").strip()
    return found


def _wav(session_dir: Path, dialog: str, utt: str) -> Path:
    return session_dir / "sentences" / "wav" / dialog / f"{utt}.wav"


def _dialog_turns(path: Path, session_dir: Path, transcript: dict[str, str], dialogues: Dialogues) -> None:
    """Every turn line of one EmoEvaluation file as a dialogue turn at its start time."""
    for line in read_text(path).splitlines():
        m = _TURN.match(line)
        if m:
            utt = m.group("id")
            wav = _wav(session_dir, path.stem, utt)
            turn = Turn(utt.rsplit("_", 1)[-1][:1], transcript.get(utt, ""), audio=wav if wav.is_file() else None)
            dialogues.add(path, float(m.group("start")), turn)


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    table = FOUR_CLASS if args.classes == "4" else ALL_CLASSES
    out_dir = args.out.resolve().parent
    transcripts: dict[Path, dict[str, str]] = {}
    targets = Targets.from_args(args)
    dialogues, read_dialogs = Dialogues(), set()

    def build(row: SourceRow) -> dict | None:
        m = _TURN.match(row.data["line"])
        if not m:
            raise RowError("not an EmoEvaluation turn line ([start - end] id label [V, A, D])")
        code = m.group("label")
        if code in NO_LABEL:
            raise LeftOut(NO_LABEL[code])
        if code in ALL_CLASSES and code not in table:
            raise LeftOut(f"class '{code}' is outside --classes 4 (use --classes all to keep it)")
        if code not in table:
            raise RowError(f"unknown label code {code!r} (expected one of {', '.join(sorted(ALL_CLASSES) + sorted(NO_LABEL))})")
        vad = [float(x) for x in m.group("vad").split(",")]
        if len(vad) != 3:
            raise RowError(f"expected [V, A, D], got [{m.group('vad')}]")
        if not all(SCALE[0] <= x <= SCALE[1] for x in vad):
            raise RowError(f"[V, A, D] = [{m.group('vad')}] is off the 1..5 rating scale")
        utt, dialog = m.group("id"), row.file.stem
        session_dir = root / row.data["session"]
        wav = _wav(session_dir, dialog, utt)
        if not wav.is_file():
            raise RowError(f"clip {wav} not found")
        tfile = session_dir / "dialog" / "transcriptions" / f"{dialog}.txt"
        if tfile not in transcripts:
            transcripts[tfile] = _transcripts(tfile)
        context = None
        if args.context:
            if row.file not in read_dialogs:
                _dialog_turns(row.file, session_dir, transcripts[tfile], dialogues)
                read_dialogs.add(row.file)
            context = dialogues.before(row.file, float(m.group("start")), args.context, out_dir)
        ratings = dict(zip(("valence", "arousal", "dominance"), vad))
        return make_sample(utt, out_dir, targets, emotions=emotion_words([table[code]]), audio=wav,
                           subtitle=transcripts[tfile].get(utt, ""), valence=to_unit(vad[0], SCALE),
                           label=table[code], code=code, split=row.data["session"], context=context,
                           **rated_fields(ratings, SCALE))

    return convert(args, _rows(root, args.split), build, dataset=f"iemocap/{args.classes}class", targets=targets)
