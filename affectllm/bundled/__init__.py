"""Offline models: those shipped inside PyPI packages (where their files are, the cache folder, their one-time
conversion to transformers folders: Whisper from CTranslate2, SmolLM2 from GGUF), and the one loader of a
local instruct LLM folder (``instruct_llm``), used by the cue path's ``--llm`` and the evaluator's LLM judge."""
