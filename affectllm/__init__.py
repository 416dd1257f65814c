"""affectllm: multimodal emotion reasoning with large language models."""

__version__ = "0.1.0"
