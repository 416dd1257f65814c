"""Offline models shipped inside PyPI packages: where their files are, the cache folder, and their one-time
conversion to transformers folders (Whisper from CTranslate2, SmolLM2 from GGUF)."""
