import numpy as np
import pytest

from affectllm.core.errors import MediaError
from affectllm.media import SAMPLE_RATE, frame_indices, load_audio, load_clip, probe_media


def test_frame_indices_are_segment_centres_and_respect_max_fps():
    assert frame_indices(80, 8.0, 4).tolist() == [10, 30, 50, 70]
    assert frame_indices(3, 30.0, 8).tolist() == [0, 1, 2]
    # a 2-second clip at max 1 fps gives 2 frames, not 8
    assert len(frame_indices(50, 25.0, 8, max_fps=1.0)) == 2


def test_video_with_audio(media_files):
    clip = load_clip(media_files["av"], num_frames=4)
    assert clip.frames.shape == (4, 64, 64, 3) and clip.frames.dtype == np.uint8
    red = clip.frames[..., 0].mean()
    assert red > 200 and clip.frames[..., 2].mean() < 60  # the clip is red
    assert np.allclose(clip.frame_times, [0.25, 0.75, 1.25, 1.75])
    assert abs(len(clip.audio) / SAMPLE_RATE - 2.0) < 0.1
    # 440 Hz tone: the spectrum peaks there
    spectrum = np.abs(np.fft.rfft(clip.audio[:SAMPLE_RATE]))
    assert abs(np.argmax(spectrum) - 440) <= 2


def test_video_without_audio_audio_only_and_image(media_files):
    silent = load_clip(media_files["silent"], num_frames=3)
    assert silent.has_video and not silent.has_audio
    audio = load_clip(media_files["audio"])
    assert audio.has_audio and not audio.has_video
    assert abs(len(audio.audio) / SAMPLE_RATE - 1.5) < 0.05
    image = load_clip(media_files["image"])
    assert image.frames.shape == (1, 30, 40, 3) and image.frames[0, 0, 0, 1] == 200
    with pytest.raises(MediaError, match="silent.mp4: no audio stream"):
        load_audio(media_files["silent"])


@pytest.mark.parametrize("kind,message", [("empty", "file is empty"), ("truncated", "not a readable media file"),
                                          ("text", "not a readable media file")])
def test_bad_media_is_one_line_naming_the_file(media_files, kind, message):
    with pytest.raises(MediaError) as err:
        load_clip(media_files[kind])
    text = str(err.value)
    assert str(media_files[kind]) in text and message in text and "\n" not in text


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="nope.mp4: file not found"):
        probe_media(tmp_path / "nope.mp4")
