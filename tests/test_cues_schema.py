"""Every key the extractors write is declared in ``affectllm.cues.schema`` with its type: real extractions of a
face clip with speech, a tone over a coloured clip, a silent clip, audio alone, and each modality left out."""

from __future__ import annotations

import copy
import types
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from affectllm.cues.schema import Cues

SAID = "I am so happy to see you again, this is wonderful news."


def conforms(value: Any, hint: Any, where: str = "cues") -> None:
    """Raise AssertionError naming the first key or value that ``hint`` does not declare."""
    if is_typeddict(hint):
        assert isinstance(value, dict), f"{where}: {type(value).__name__}, not a dict"
        hints = get_type_hints(hint)
        undeclared = sorted(set(value) - set(hints))
        assert not undeclared, f"{where}: keys {undeclared} are not in {hint.__name__}"
        for key, item in value.items():
            conforms(item, hints[key], f"{where}.{key}")
        return
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return conforms(value, option, where)
            except AssertionError as err:
                errors.append(str(err))
        raise AssertionError("; ".join(errors))
    if origin is list or hint is list:
        assert isinstance(value, list), f"{where}: {type(value).__name__}, not a list"
        for i, item in enumerate(value):
            if args:
                conforms(item, args[0], f"{where}[{i}]")
        return
    if origin is dict or hint is dict:
        assert isinstance(value, dict), f"{where}: {type(value).__name__}, not a dict"
        for key, item in value.items():
            if args:
                conforms(item, args[1], f"{where}.{key}")
        return
    if hint is type(None):
        assert value is None, f"{where}: {value!r}, not null"
    elif hint is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}: {value!r}, not a number"
    elif hint is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r}, not an integer"
    else:
        assert isinstance(value, hint), f"{where}: {value!r}, not {hint.__name__}"


@pytest.fixture(scope="module")
def extractions(face_clip, media_files, tmp_path_factory):
    from affectllm.cues.extract import extract_cues
    from affectllm.media import load_clip

    said = face_clip(tmp_path_factory.mktemp("schema") / "said.mp4", speech_text=SAID, seconds=4.0)
    clips = {"face and speech": said, "tone": media_files["av"], "silent": media_files["silent"],
             "audio only": media_files["audio"]}
    out = {name: extract_cues(load_clip(str(path), num_frames=4)) for name, path in clips.items()}
    face_speech = load_clip(str(said), num_frames=4)
    for drop in ("video", "audio", "text"):
        out[f"without {drop}"] = extract_cues(face_speech, drop=frozenset([drop]))
    out["with a subtitle"] = extract_cues(face_speech, subtitle="What a lovely day.")
    return out


def test_every_extraction_conforms_to_the_schema(extractions):
    for name, cues in extractions.items():
        conforms(cues, Cues, f"{name}: cues")


def test_the_extractions_fill_the_channels(extractions):
    """The check above is not vacuous: the clips make the extractors write their full dicts."""
    said = extractions["face and speech"]
    assert said["face"]["present"] and "expression_peak" in said["face"] and said["face"]["track"][0]["au"]
    assert said["speech"]["words"] and said["voice"]["pitch_hz"] and said["voice"]["model"]["probs"]
    assert said["text"]["model"]["emotion_probs"] and "happy" in said["text"]["text"]
    assert extractions["tone"]["voice"]["speech"] is False
    assert extractions["without audio"]["voice"]["left_out"] is True


def test_an_undeclared_or_mistyped_key_is_named(extractions):
    cues = copy.deepcopy(extractions["face and speech"])
    cues["voice"]["pitch_hzz"] = [1.0]
    with pytest.raises(AssertionError, match=r"cues\.voice: keys \['pitch_hzz'\] are not in VoiceCues"):
        conforms(cues, Cues)
    cues = copy.deepcopy(extractions["face and speech"])
    cues["speech"]["words"][0]["start"] = "0.5"
    with pytest.raises(AssertionError, match=r"cues\.speech\.words\[0\]\.start: '0\.5', not a number"):
        conforms(cues, Cues)
