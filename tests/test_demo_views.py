"""The demo's pieces without a server: upload checks, windows, frame choice, cue highlighting, chips, CLI checks."""

from __future__ import annotations

import numpy as np
import pytest

from affectllm.core.records import ResultRecord


def test_upload_check_names_the_file_and_the_fix(tmp_path):
    from affectllm.demo.engine import check_upload
    from affectllm.core.errors import MediaError

    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (3 * 2**20))
    with pytest.raises(MediaError, match=r"^big\.mp4: 3\.0 MB is over this demo's 2 MB upload limit; upload a shorter"):
        check_upload(str(big), max_upload_mb=2)
    check_upload(str(big), max_upload_mb=3)  # exactly at the limit is fine
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF")
    with pytest.raises(MediaError, match=r"^report\.pdf: not a video or audio file \(\.pdf\)"):
        check_upload(str(doc), max_upload_mb=2)


def test_engine_rejects_without_leaking_the_upload_folder(tmp_path):
    from affectllm.demo.engine import DemoEngine

    engine = DemoEngine("cues", llm=False, max_upload_mb=1)  # the text head loads here; a rejected upload runs no model
    fake = tmp_path / "secret_folder" / "clip.mp4"
    fake.parent.mkdir()
    fake.write_text("not a video")
    rec = engine.analyze(str(fake), kind="video").record
    assert rec.emotions == [] and rec.error.startswith("clip.mp4: not a readable media file")
    assert "secret_folder" not in rec.error and rec.path == "clip.mp4"
    assert engine.analyze().record.error.startswith("nothing to analyse")


def test_text_only_analysis_uses_the_lexical_cues_alone():
    from affectllm.demo.engine import DemoEngine

    analysis = DemoEngine("cues", llm=False).analyze(text="I'm furious with them.")
    rec = analysis.record
    assert analysis.input_kind == "text" and rec.error is None
    assert rec.emotions[0] == "furious"
    assert rec.cues["face"]["present"] is False and rec.cues["text"]["source"] == "subtitle"
    assert [h["word"] for h in rec.cues["text"]["hits"]] == ["furious"]


@pytest.mark.parametrize("duration,expected", [
    (4.0, []),  # one window: no timeline
    (6.0, []),  # 1.5 windows: still none
    (6.5, [(0.0, 4.0), (4.0, 6.5)]),
    (11.0, [(0.0, 4.0), (4.0, 8.0), (8.0, 11.0)]),
    (9.5, [(0.0, 4.0), (4.0, 9.5)]),  # a 1.5 s tail (< half a window) joins the last window
])
def test_timeline_windows(duration, expected):
    from affectllm.demo.timeline import windows

    assert windows(duration, 4.0) == expected


def test_frames_for_long_clips():
    from affectllm.demo.engine import frames_for

    assert frames_for(4.0, 4.0) == 16  # floor
    assert frames_for(11.0, 4.0) == 24  # 3 windows x 8
    assert frames_for(100.0, 4.0) == 48  # ceiling


def test_shown_frames_spread_over_the_clip():
    from affectllm.demo.frames_view import shown_indices

    assert shown_indices(5) == [0, 1, 2, 3, 4]
    assert shown_indices(16) == [0, 2, 4, 6, 9, 11, 13, 15]


def test_annotated_frame_draws_the_box_and_bars():
    from affectllm.demo.frames_view import (BOX_COLOUR, CAPTION_BAND_PX, CITED_COLOUR, NAME_W, PANEL_W, ROW_H,
                                            TOP_COLOUR, TOP_Y, annotate_frame)

    frame = np.zeros((100, 120, 3), np.uint8)
    probs = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.9, "sad": 0.0, "surprise": 0.0, "neutral": 0.1}
    cue = {"t": 1.0, "face": True, "box": [30, 40, 80, 90], "expression": probs}
    image = np.asarray(annotate_frame(frame, cue))
    # the panel is taller than a small frame: seven rows of bars and room for the cited cue's name
    assert image.shape == (TOP_Y + 10 * ROW_H + CAPTION_BAND_PX, 120 + PANEL_W, 3)
    assert tuple(image[65, 30]) == BOX_COLOUR  # left edge of the box, mid-height
    assert tuple(image[90, 55]) == BOX_COLOUR  # bottom edge
    happy_row_y = TOP_Y + 3 * ROW_H + 9  # 4th expression row, inside its bar
    assert tuple(image[happy_row_y, 120 + 8 + NAME_W + 2]) == TOP_COLOUR
    assert CITED_COLOUR not in {tuple(p) for p in image.reshape(-1, 3)}
    cited = np.asarray(annotate_frame(frame, cue, cited="eyes wide open"))
    assert tuple(cited[50, 1]) == CITED_COLOUR  # the border of a frame behind the cited cue
    # the cue's name is written (in the cited colour) under the bars
    assert (cited[TOP_Y + 7 * ROW_H:, 120:] == CITED_COLOUR).all(axis=-1).any()


CUES = {
    "has_video": True, "has_audio": True,
    "face": {"present": True, "dominant_expression": "happy", "summary":
             "face in 8/8 frames; expression model reads happy (mean p=0.71, top in 7/8 frames); "
             "lip corners raised (AU12, intensity 0.6) in 6/8 face frames"},
    "voice": {"present": True, "summary": "pitch median 180 Hz, range 9.2 semitones; pitch 31% above baseline at 1.0-2.0 s"},
    "speech": {"present": True, "text": "what a lovely surprise", "words": []},
    "text": {"present": True, "source": "transcript", "text": "what a lovely surprise", "summary": "VADER compound +0.81",
             "hits": [{"word": "lovely", "index": 2, "t": 1.1, "valence": 2.8, "nrc": ["joy"], "negated": False}]},
}


def test_cited_cues_are_highlighted_by_modality():
    from affectllm.demo.reasoning_view import highlight_cues

    out = highlight_cues('The face reads happy, lip corners raised (AU12), pitch 31% above, "what a lovely surprise", '
                         "lovely; she feels happy x2.", CUES, answer=["happy"])
    assert '<a class="affect-cue affect-cue-visual" href="#affect-ev-face" title="visual evidence">AU12</a>' in out
    assert 'affect-cue-visual" href="#affect-ev-face" title="visual evidence">lip corners raised</a>' in out
    assert 'affect-cue-acoustic" href="#affect-ev-voice" title="acoustic evidence">31%</a>' in out
    assert 'affect-cue-acoustic" href="#affect-ev-voice" title="acoustic evidence">pitch</a>' in out
    assert 'title="lexical evidence">&quot;what a lovely surprise&quot;</a>' in out
    assert 'title="lexical evidence">lovely</a>' in out
    # "happy" is the face's reading (visual) wherever it appears; a bare "2" cites nothing.
    assert out.count(">happy</a>") == 2 and "x2." in out and ">2<" not in out


def test_uncited_numbers_and_quotes_stay_plain():
    from affectllm.demo.reasoning_view import highlight_cues

    out = highlight_cues('pitch 77 Hz and "never said this"', CUES)
    assert "77 Hz" in out and ">77 Hz<" not in out and "&quot;never said this&quot;" in out
    assert "lexical evidence" not in out


def test_chips_grouped_by_family_with_scores_only_from_the_rule():
    from affectllm.demo.chips_view import chips_html, emotion_scores

    rec = ResultRecord(id="x", emotions=["happy", "excited", "sad"],
                       extra={"answered_by": "cue-fusion", "cue_scores": {"happy": 0.6, "excited": 0.3, "sad": 0.1}})
    assert emotion_scores(rec) == pytest.approx({"happy": 0.6, "excited": 0.3, "sad": 0.1})
    html = chips_html(rec)
    assert html.index(">joy<") < html.index(">happy<") < html.index(">excited<") < html.index(">sadness<")
    assert ">60%<" in html and ">10%<" in html
    rec.extra["answered_by"] = "llm"
    assert emotion_scores(rec) == {} and "%<" not in chips_html(rec)


def test_cli_refuses_bad_limits_before_starting(capsys):
    from affectllm.cli import main

    assert main(["demo", "--max-upload-mb", "0"]) == 2
    assert "--max-upload-mb 0: must be positive" in capsys.readouterr().err


def test_loopback_detection():
    from affectllm.demo.launch import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_checkpoint_model_answers_and_the_cue_extractors_supply_the_evidence(tiny_checkpoint, media_files,
                                                                              monkeypatch):
    import affectllm.media
    import affectllm.model.processor
    from affectllm.demo.engine import DemoEngine
    from affectllm.demo.ui import panel_update, render

    engine = DemoEngine(str(tiny_checkpoint))  # loads once, here
    # an upload is decoded once: the cue extractors, the timeline and the model read the same clip
    decoded, load_clip = [], affectllm.media.load_clip
    monkeypatch.setattr(affectllm.media, "load_clip", lambda path, **kw: decoded.append(path) or load_clip(path, **kw))
    monkeypatch.setattr(affectllm.model.processor, "load_clip", affectllm.media.load_clip)
    analysis = engine.analyze(media_path=str(media_files["av"]), subtitle="Fine.", kind="video")
    assert analysis.ok and decoded == [str(media_files["av"])] and "raw_output" in analysis.record.extra
    assert len(analysis.frames) == 16 and analysis.record.cues["face"] is not None
    analysis = engine.analyze(text="I'm furious with them.")
    rec = analysis.record
    assert rec.model == str(tiny_checkpoint) and "raw_output" in rec.extra  # the checkpoint generated the answer
    assert [h["word"] for h in rec.cues["text"]["hits"]] == ["furious"]  # evidence from the lexical cues
    status, chips, reasoning, gallery, plot, transcript, timeline, record_json = render(analysis, engine)
    assert gallery == [] and plot is None and timeline == ""  # typed text: no frames, no voice, no timeline
    # the page hides the face and voice panels of typed text and keeps the words
    assert [panel_update(v)["visible"] for v in (gallery, plot, transcript)] == [False, False, True]
    assert ">furious</mark>" in transcript
    assert f'"model": "{tiny_checkpoint}"' in record_json
