"""The cue path's trained readers: the text head (MiniLM sentence features and lexicon counts -> emotions and
sentiment) and the voice head (Whisper encoder layers and prosodic statistics -> 8 emotions), the safetensors
files they live in (``cues/data``), and how ``affectllm train-text-head`` / ``train-voice-head`` fit them."""
