"""The user-facing model: :class:`AffectModel` plus loading, saving, export, hub upload and ``explain``.

    from affectllm import AffectLLM

    model = AffectLLM.from_pretrained("exports/meld_text_smollm2")   # a folder, or the hub id of an export
    record = model.explain("clip.mp4")                                # a ResultRecord

The persistence itself is :mod:`affectllm.checkpoint.layout` (one owner of the checkpoint layout) and
:mod:`affectllm.checkpoint.export`; this class only gives them transformers-style names.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from affectllm.checkpoint.layout import load_checkpoint, save_checkpoint
from affectllm.core.errors import AffectLLMError
from affectllm.checkpoint.export import export_model
from affectllm.model.affect_model import AffectModel
from affectllm.config.model_sources import hub_offline, hub_snapshot, looks_like_hub_id


class AffectLLM(AffectModel):
    """An :class:`AffectModel` with the transformers-style entry points users call."""

    @classmethod
    def from_checkpoint(cls, path: str | Path, trainable: bool = False, **paths) -> "AffectLLM":
        """A checkpoint folder (:func:`affectllm.checkpoint.layout.load_checkpoint`). ``paths``: ``base`` / ``trusted``
        base model paths passed explicitly, and ``overrides``."""
        return load_checkpoint(path, trainable=trainable, model_class=cls, **paths)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, trainable: bool = False, **paths) -> "AffectLLM":
        """A checkpoint or export folder, or the hub id of an exported model (downloaded into the local
        cache when online; offline, the error prints the ``hf download`` command). ``paths``: ``base`` /
        ``trusted`` as in :meth:`from_checkpoint`."""
        folder = Path(name_or_path).expanduser()
        if not folder.exists() and looks_like_hub_id(str(name_or_path)):
            folder = hub_snapshot(str(name_or_path), "from_pretrained")
        return cls.from_checkpoint(folder, trainable=trainable, **paths)

    def save_checkpoint(self, path: str | Path) -> Path:
        """An inference checkpoint folder (:func:`affectllm.checkpoint.layout.save_checkpoint`)."""
        return save_checkpoint(self, path)

    def save_pretrained(self, path: str | Path, merge: bool = False, copy_base: bool = False,
                        overwrite: bool = False, metrics: dict | None = None, card_name: str | None = None):
        """Export to ``path`` (``affectllm.checkpoint.export``): portable base references, the peft adapter, fusion
        weights, tokenizer, model card; ``merge`` folds the LoRA into the LLM in place and writes it as a
        plain transformers folder; ``card_name`` is what the card's snippets load (default: ``path`` as seen from
        the working directory). Returns the :class:`affectllm.checkpoint.export.ExportReport`."""
        return export_model(self, path, merge=merge, copy_base=copy_base, overwrite=overwrite,
                            training=getattr(self, "training_record", None), metrics=metrics, card_name=card_name)

    def push_to_hub(self, repo_id: str, private: bool = True, merge: bool = False, copy_base: bool = False,
                    metrics: dict | None = None) -> str:
        """Export to a temporary folder and upload it to the hub repository ``repo_id`` (created when
        missing). Needs the network: with ``HF_HUB_OFFLINE`` set it refuses with the offline recipe."""
        if hub_offline():
            raise AffectLLMError(f"push_to_hub {repo_id}: HF_HUB_OFFLINE is set; export with "
                                 f"model.save_pretrained(DIR) (or `affectllm export CKPT --out DIR`) and run "
                                 f"`hf upload {repo_id} DIR` on a machine that is online")
        from huggingface_hub import HfApi

        api = HfApi()
        with tempfile.TemporaryDirectory(prefix="affectllm-push-") as tmp:
            report = self.save_pretrained(Path(tmp) / repo_id.split("/")[-1], merge=merge, copy_base=copy_base,
                                          metrics=metrics, card_name=repo_id)  # the card loads it from the hub
            if report.outside:
                raise AffectLLMError(f"push_to_hub {repo_id}: base models {', '.join(report.outside.values())} are "
                                     "local folders nobody else has; push with copy_base=True (or name hub models)")
            api.create_repo(repo_id, private=private, exist_ok=True)
            api.upload_folder(repo_id=repo_id, folder_path=str(report.out))
        return f"https://huggingface.co/{repo_id}"

    def explain(self, path: str | Path | None = None, subtitle: str | None = None, prompt: str | None = None,
                max_new_tokens: int = 256):
        """Emotions and an explanation for one media file (or for ``subtitle`` alone): a
        :class:`affectllm.core.records.ResultRecord`. The model is asked the question it was trained on
        (``training.json``, :mod:`affectllm.model.questions`) unless ``prompt`` names a template; a checkpoint
        that records none is asked its template's question. A file that cannot be read gives a record
        whose ``error`` says why. Puts the model in inference mode (eval, no gradients)."""
        from affectllm.caption.checkpoint_backend import CheckpointBackend
        from affectllm.caption.inference import InferenceOptions
        from affectllm.caption.inputs import CaptionItem
        if path is None and not subtitle:
            raise AffectLLMError("explain: give a media file, a subtitle, or both")
        key = (prompt, max_new_tokens)
        if getattr(self, "_explainer", (None, None))[0] != key:
            backend = CheckpointBackend(self, prompt=prompt, max_new_tokens=max_new_tokens,
                                        options=InferenceOptions(merge_lora=False))
            object.__setattr__(self, "_explainer", (key, backend))  # not a submodule
        media = str(Path(path).expanduser().absolute()) if path is not None else None
        item = CaptionItem(id=str(path) if path is not None else "text", path=media, subtitle=subtitle)
        (record,) = self._explainer[1].caption([item])
        return record
