"""Pick the captioning backend from `--model`: "cues" (zero-setup default) or a checkpoint folder."""

from __future__ import annotations

from pathlib import Path

from affectllm.caption.inference import InferenceOptions
from affectllm.errors import AffectLLMError


class CueCaptionBackend:
    """Adapts the cue path (``affectllm.cues.backend.CueBackend``) to the engine's batch interface."""

    def __init__(self, llm: str | None = None):
        try:
            from affectllm.cues.backend import CueBackend
        except ImportError as err:
            raise AffectLLMError(f"--model cues: the cue path is not available in this install ({err}); "
                                 "install affectllm[cues] or pass a checkpoint folder") from None

        self.backend = CueBackend(llm=llm)
        self.name = "cues"

    def caption(self, items):
        from affectllm.records import ResultRecord

        out = []
        for it in items:
            try:
                out.append(self.backend.caption(it.path, it.id, subtitle=it.subtitle))
            except AffectLLMError as err:
                out.append(ResultRecord.failed(it.id, it.path, str(err), self.name))
        return out


def load_backend(model: str | None, prompt: str | None = None, max_new_tokens: int = 256,
                 do_sample: bool = False, llm: str | None = None, device: str | None = None,
                 options: InferenceOptions = InferenceOptions()):
    """The backend for ``--model``; ``device`` places a checkpoint's model (cues stay on CPU)."""
    if model in (None, "", "cues"):
        return CueCaptionBackend(llm=llm)
    if not Path(model).is_dir():
        raise AffectLLMError(f"--model {model}: not 'cues' and not a checkpoint folder")
    from affectllm.caption.checkpoint_backend import CheckpointBackend

    return CheckpointBackend(model, prompt=prompt, max_new_tokens=max_new_tokens, do_sample=do_sample,
                             device=device, options=options)
