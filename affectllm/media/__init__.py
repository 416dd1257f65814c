"""Media decoding: frames with decord, 16 kHz mono audio with ffmpeg, clear errors for bad files."""

from affectllm.media.audio import load_audio
from affectllm.media.clip import MediaClip, load_clip
from affectllm.core.media_constants import SAMPLE_RATE
from affectllm.media.probe import MediaInfo, probe_media
from affectllm.media.video import frame_indices, sample_frames

__all__ = ["MediaClip", "MediaInfo", "SAMPLE_RATE", "frame_indices", "load_audio", "load_clip",
           "probe_media", "sample_frames"]
