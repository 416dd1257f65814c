"""Media constants, with units, in one place."""

MODALITIES = ("video", "audio", "text")  # the encoded streams, in the fixed order used everywhere
SAMPLE_RATE = 16_000  # Hz, mono audio fed to every audio encoder and cue extractor
DEFAULT_NUM_FRAMES = 8  # frames sampled uniformly from a video
DEFAULT_MAX_SIDE = 448  # px, longest side of decoded frames (the vision processor resizes further)
MAX_AUDIO_SECONDS = 30.0  # Whisper's receptive window; longer audio is truncated for the encoder
SAMPLES_PER_ENCODER_FRAME = 320  # Whisper: 10 ms mel hop, then a stride-2 convolution: one frame per 20 ms

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".flv", ".m4v", ".mpg", ".mpeg", ".wmv"})
AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS | IMAGE_EXTENSIONS
