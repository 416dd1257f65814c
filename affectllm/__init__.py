"""affectllm: multimodal emotion reasoning with large language models.

    from affectllm import AffectLLM

    model = AffectLLM.from_pretrained("exports/meld_text_smollm2")   # a folder, or a hub id
    record = model.explain("clip.mp4")                                # a ResultRecord
"""

__version__ = "0.1.0"
__all__ = ["AffectLLM", "ResultRecord"]


def __getattr__(name: str):
    # lazy: `import affectllm` (and every CLI command) must not pay for importing torch
    if name == "AffectLLM":
        from affectllm.pretrained import AffectLLM

        return AffectLLM
    if name == "ResultRecord":
        from affectllm.core.records import ResultRecord

        return ResultRecord
    raise AttributeError(f"module 'affectllm' has no attribute {name!r}")
