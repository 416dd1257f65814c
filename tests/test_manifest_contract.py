"""One manifest contract (affectllm.core.manifest): check, training, captioning and the recipes read tags and files alike."""

import json
import shutil

import pytest

from affectllm.cli import main
from affectllm.model.conversation import PLACEHOLDER_TOKENS, expand_user_content
from affectllm.core.errors import AffectLLMError
from affectllm.core.manifest import ManifestError, MediaSpec, media_spec, media_tags, prompt_turns, retag

V, A, T, F = (PLACEHOLDER_TOKENS[m] for m in ("video", "audio", "text", "fused"))
TOKENS = {"video": 2, "audio": 1, "text": 1, "fused": 2}


def _sample(content, videos=(), audios=(), **extra):
    return {"id": "s", "messages": [{"role": "user", "content": content}, {"role": "assistant", "content": "sad"}],
            "videos": list(videos), "audios": list(audios), **extra}


def test_media_spec_accepts_what_the_rule_allows():
    # DESIGN's own example: a video's own track answers <audio>
    assert media_spec(_sample("<video><audio>Why?", ["c.mp4"])) == MediaSpec("c.mp4", None, True, True)
    assert media_spec(_sample("<video><audio>Why?", ["c.mp4"])).audio_from_video
    assert media_spec(_sample("<video>Why?", ["c.mp4"])) == MediaSpec("c.mp4", None, True, False)  # seen silent
    assert media_spec(_sample("<video><audio>Why?", ["c.mp4"], ["c.wav"])) == MediaSpec("c.mp4", "c.wav", True, True)
    assert media_spec(_sample("<audio>Why?", [], ["c.wav"])) == MediaSpec(None, "c.wav", False, True)
    assert media_spec(_sample("<video>Why?", ["face.jpg"])) == MediaSpec("face.jpg", None, True, False)
    assert media_spec(_sample("Why?")) == MediaSpec()


@pytest.mark.parametrize("sample, message", [
    (_sample("<video><video>Why?", ["c.mp4"]), "s.jsonl:3: <video> appears 2 times"),
    (_sample("<video>Why?", ["a.mp4", "b.mp4"]), 's.jsonl:3: "videos" holds 2 files; a sample takes one video '
                                                  "(or image) and one audio file; split it into one sample per clip"),
    (_sample("<video>Why?", []), 's.jsonl:3: the user turn has <video> but "videos" is empty'),
    (_sample("Why?", ["c.mp4"]), "s.jsonl:3: videos holds c.mp4 but the user turn has no <video> tag"),
    (_sample("<video>Why?", ["c.mp4"], ["c.wav"]), "s.jsonl:3: audios holds c.wav but the user turn has no <audio> tag"),
    (_sample("<video><audio>Why?", ["face.jpg"]), "s.jsonl:3: the user turn has <audio> but \"audios\" is empty and "
                                                  "the image face.jpg has no sound track"),
    (_sample("<audio>Why?"), 's.jsonl:3: the user turn has <audio> but "audios" is empty and no video'),
    (_sample("<video>Why?", ["c.wav"]), 's.jsonl:3: "videos" holds the audio file c.wav; put it in "audios"'),
    (dict(_sample("<video>Why?"), videos="c.mp4"), 's.jsonl:3: "videos" must be a list of paths'),
    ({"id": "s", "messages": [{"role": "assistant", "content": "x"}]}, "s.jsonl:3: no user turn in messages"),
    ({"id": "s", "messages": [{"role": "user", "content": "<video>x"}, {"role": "user", "content": "<audio>y"}],
      "videos": ["c.mp4"]}, "s.jsonl:3: media tags belong in the first user turn; message 2 (user) has one"),
])
def test_media_spec_refuses_with_one_line(sample, message):
    with pytest.raises(ManifestError) as err:
        media_spec(sample, "s.jsonl:3")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_writers_tag_what_the_files_hold():
    assert media_tags("c.mp4") == "<video><audio>"
    assert media_tags("c.mp4", video_sound=False) == "<video>"
    assert media_tags("c.mp4", "c.wav") == "<video><audio>"
    assert media_tags("face.png") == "<video>"
    assert media_tags(None, "c.wav") == "<audio>"
    assert media_tags(None) == ""
    assert retag("<video><audio>Why?", None, "c.wav") == "<audio>Why?"
    assert retag("Look: <video> now", "face.png") == "Look: <video> now"
    assert retag("Why?", "c.mp4") == "<video><audio>Why?"
    assert retag("<video><audio>Why?", None) == "Why?"


def test_prompt_turns_leave_the_answer_out():
    s = {"messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "a"},
                      {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"},
                      {"role": "assistant", "content": "GOLD"}]}
    assert [m["content"] for m in prompt_turns(s)] == ["be kind", "a", "b", "c"]


def test_tags_are_replaced_where_they_stand():
    sub = f'{T}Subtitle: "hi"\n'
    # the usual layout: media runs, subtitle line, fused run, then the question
    assert expand_user_content("<video><audio>Why?", ["video", "audio", "text"], TOKENS, "hi") == \
        f"{V}{V}{A}{sub}{F}{F}\nWhy?"
    # tags inside the text: each run where its tag stands, subtitle and fused tokens after the last one
    assert expand_user_content("Watch <video> and hear <audio> please", ["video", "audio"], TOKENS) == \
        f"Watch {V}{V} and hear {A}{F}{F}\nplease"
    # <subtitle> places the subtitle line; the fused run follows the later of it and the last media tag
    assert expand_user_content("<video>Clip. Words: <subtitle> Why?", ["video", "text"], TOKENS, "hi") == \
        f"{V}{V}Clip. Words: {sub}{F}{F}\nWhy?"
    # an absent stream's tag vanishes (a silent video), text alone leads with its subtitle line
    assert expand_user_content("<video><audio>Why?", ["video"], TOKENS) == f"{V}{V}{F}{F}\nWhy?"
    assert expand_user_content("Why?", ["text"], TOKENS, "hi") == f"{sub}{F}{F}\nWhy?"
    assert expand_user_content("<video><audio>Why?", [], TOKENS) == "Why?"
    with pytest.raises(AffectLLMError, match="audio features are present but the user turn has no <audio> tag"):
        expand_user_content("<video>Why?", ["video", "audio"], TOKENS)


def test_processor_decodes_what_the_tags_ask_for(tiny_model, media_files, tmp_path):
    proc = tiny_model.processor
    av, silent = str(media_files["av"]), str(media_files["silent"])
    seen = proc.prepare(_sample("<video>Why?", [av]), generation=True)
    heard = proc.prepare(_sample("<video><audio>Why?", [av]), generation=True)
    mute = proc.prepare(_sample("<video><audio>Why?", [silent]), generation=True)
    assert sorted(seen.media) == ["video"] and sorted(heard.media) == ["audio", "video"]
    assert sorted(mute.media) == ["video"]  # <audio> on a video without a track: left out, no error
    audio_id = tiny_model.placeholder_ids["audio"]
    assert audio_id not in seen.input_ids and audio_id in heard.input_ids
    # a separate audio file replaces the video's own track
    wav = proc.prepare(_sample("<video><audio>Why?", [silent], [str(media_files["audio"])]), generation=True)
    assert sorted(wav.media) == ["audio", "video"]
    # placeholders stand where the tags stood
    ids = proc.prepare(_sample("Colour first: <video> then the question.", [av]), generation=True).input_ids
    text = tiny_model.tokenizer.decode(ids)
    assert text.index("Colour first:") < text.index(V) < text.index("then the question")


def test_check_and_training_read_the_same_contract(tmp_path, media_files, capsys):
    from affectllm.training.dataset import read_manifest
    from affectllm.testing.smoke_data import write_smoke_manifest

    # the project's own smoke manifest (<video><audio> on clips with sound) passes check and loads for training
    smoke = write_smoke_manifest(tmp_path / "smoke", num_samples=4)
    assert main(["recipe", "check", str(smoke), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == [] and report["warnings"] == []
    assert len(read_manifest(smoke)) == 4

    shutil.copy(media_files["silent"], tmp_path / "silent.mp4")
    good = _sample("<video><audio>Why?", ["silent.mp4"])
    bad = [_sample("<video>Why?", ["silent.mp4", "silent.mp4"], id="two"), _sample("Why?", ["silent.mp4"], id="untagged")]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(s) + "\n" for s in [good, *bad]))
    assert main(["recipe", "check", str(manifest), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == [
        f'{manifest}:2: "videos" holds 2 files; a sample takes one video (or image) and one audio file; split it '
        "into one sample per clip",
        f"{manifest}:3: videos holds silent.mp4 but the user turn has no <video> tag; put <video> where the clip belongs"]
    assert report["warnings"] == [f"{manifest}:1: silent.mp4 has no audio track; <audio> is left out and the sample "
                                  "is used without sound"]
    with pytest.raises(ManifestError) as err:
        read_manifest(manifest)
    assert str(err.value) == (f"{report['errors'][0]} (and 1 more samples); `affectllm recipe check {manifest}` "
                              "lists them all")


def test_the_cue_path_hears_a_separate_audio_file(media_files, tmp_path):
    from affectllm.caption import collect_inputs
    from affectllm.caption.backends import CuePreparer
    from affectllm.media import load_clip

    for name in ("silent", "audio"):
        shutil.copy(media_files[name], tmp_path / media_files[name].name)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps(_sample("<video><audio>Why?", ["silent.mp4"], ["tone.wav"])) + "\n")
    (item,) = collect_inputs([str(manifest)])
    clip = CuePreparer(num_frames=2, max_side=64).prepare(item)
    assert clip.has_video and len(clip.audio) == len(load_clip(media_files["audio"], video=False).audio)
