"""A media file is data: it cannot make the decoder read other files (playlists, file lists, other protocols,
image plugins that run programs). Each refusal is one line naming the file."""

from __future__ import annotations

import subprocess

import pytest

from affectllm.core.errors import MediaError


@pytest.fixture(scope="module")
def private_recording(tmp_path_factory, face_clip):
    """A file outside the upload folder that an attacker would like to hear and see: a face clip with speech."""
    folder = tmp_path_factory.mktemp("private")
    return face_clip(folder / "recording.mp4", speech_text="the vault code is four four two", seconds=2.0)


def _playlist(folder, target, name="upload.mp4"):
    path = folder / name
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{target}\n#EXT-X-ENDLIST\n")
    return path


def _lists(folder, target):
    """Text files that ffmpeg follows to ``target`` when it probes them, each named like a video."""
    concat = folder / "list.mp4"
    concat.write_text(f"ffconcat version 1.0\nfile '{target}'\n")
    bom = folder / "bom.mp4"
    bom.write_bytes(b"\xef\xbb\xbf" + f"#EXTM3U\n#EXTINF:10,\n{target}\n".encode())
    return [_playlist(folder, target), concat, bom]


def test_playlists_and_lists_are_refused_by_every_decoder(tmp_path, private_recording):
    from affectllm.media import load_audio, load_clip, probe_media, sample_frames

    for path in _lists(tmp_path, private_recording):
        for decode in (probe_media, load_clip, load_audio, sample_frames):
            with pytest.raises(MediaError) as err:
                decode(path)
            line = str(err.value)
            assert line.startswith(f"{path}: ") and "\n" not in line
            assert "playlist" in line or "file list" in line, line
    assert load_clip(private_recording).has_audio  # the recording itself is a fine media file


def test_formats_outside_the_container_list_are_refused_by_ffprobe_and_ffmpeg(tmp_path):
    """The demuxer whitelist itself, not only the text signatures: a raw y4m stream is a format we never decode."""
    from affectllm.media import load_audio, probe_media

    y4m = tmp_path / "raw.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16:d=0.2",
                    "-f", "yuv4mpegpipe", str(y4m)], check=True)
    for decode in (probe_media, load_audio):
        with pytest.raises(MediaError, match="container format is not one affectllm decodes"):
            decode(y4m)


def test_images_open_only_as_plain_image_formats(tmp_path):
    """Pillow would hand an EPS (named .png) to Ghostscript; only PNG, JPEG, BMP and WebP are opened."""
    from affectllm.media import probe_media

    eps = tmp_path / "photo.png"
    eps.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(MediaError, match=r"photo\.png: not a readable image"):
        probe_media(eps)


def test_demo_upload_of_a_playlist_reveals_nothing(tmp_path, private_recording):
    from affectllm.demo.engine import DemoEngine

    engine = DemoEngine("cues", llm=False)
    (tmp_path / "uploads").mkdir()
    upload = _playlist(tmp_path / "uploads", private_recording)
    analysis = engine.analyze(str(upload), kind="video")
    rec = analysis.record
    assert rec.emotions == [] and rec.error.startswith("upload.mp4: an HLS playlist, not a media file")
    assert str(tmp_path) not in rec.error and not rec.cues and analysis.frames is None
