"""Export: a trained checkpoint as a folder anyone can load, with portable paths and a model card.

    OUT/affectllm.yaml       the config, base models named portably (below)
    OUT/adapter/             the peft adapter; ``peft.AutoPeftModelForCausalLM.from_pretrained(OUT/adapter)``
                             works from any working directory (its base is a hub id or an absolute folder)
    OUT/llm/                 with ``merge``: the LoRA folded into the base LLM, a plain transformers folder
                             (safetensors, the base tokenizer); affectllm.yaml then names it and turns LoRA off
    OUT/fusion.safetensors   pooling, pre-fusion and projector weights (+ encoders.safetensors when trained)
    OUT/tokenizer/           the LLM tokenizer with the placeholder tokens
    OUT/base/KEY/            with ``copy_base``: local base models copied in (safetensors only)
    OUT/training.json        data, recipe and in-loop scores of the run (when the checkpoint has one)
    OUT/README.md            model card: what it is, how to load it, data, recipe, metrics

Base models in ``affectllm.yaml``: a bundled model as ``bundled:NAME``, a hub model (or a folder of
the hub cache) by its hub id, a folder inside OUT relative to OUT. A local folder outside OUT
stays an absolute path; a checkpoint never loads paths outside itself unless the user passes
them (``--base``), so :class:`ExportReport` names the flag, and ``copy_base`` avoids it.

The export is written into a new, uniquely named folder beside OUT and renamed into place when
complete; an existing OUT is replaced only with ``overwrite`` and only when it is an affectllm
folder. Nothing the export did not create is ever removed (a user's ``.tmp-OUT`` stays).
``copy_base`` copies only a model folder's own regular files: a link that leaves the folder
(to a token file, say, that would then be uploaded with the export) stops the export.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affectllm.checkpoint.layout import ADAPTER_DIR, CHECKPOINT_CONFIG, save_checkpoint, write_training_record
from affectllm.checkpoint.trust import PICKLED_SUFFIXES
from affectllm.config.schema import save_config
from affectllm.config.paths import MODEL_PATH_KEYS
from affectllm.core.errors import AffectLLMError
from affectllm.config.model_sources import is_bundled, portable_reference

ADAPTER_CONFIG = "adapter_config.json"
MERGED_DIR = "llm"
BASE_DIR = "base"
CARD_FILE = "README.md"


@dataclass
class ExportReport:
    out: Path
    references: dict[str, str]  # base model key -> what affectllm.yaml names
    outside: dict[str, str] = field(default_factory=dict)  # key -> absolute folder outside OUT (needs --base)
    merged: bool = False
    llm_origin: str = ""  # the base LLM's portable name, also when llm/ holds it merged
    where: str = ""  # how the model card names the folder: as reached from where the export was made

    def load_hint(self) -> str:
        """The exact flags that load this export, or '' when it loads as it is."""
        return " ".join(f"--base {k}={v}" for k, v in self.outside.items())


def _model_files(src: Path, key: str) -> list[Path]:
    """The files a base-model folder holds, relative to it: regular files, and links that stay inside the folder
    (read as the file they point at). A link out of it, or anything that is not a plain file, is one error line."""
    root, found = src.resolve(), []
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            target = path.resolve()
            if path.is_symlink() and not (target == root or root in target.parents):
                raise AffectLLMError(f"model.{key}: {path} is a link to {target}, outside the model folder; an export "
                                     "copies only the model's own files — replace the link with the file it needs, "
                                     "or export without --copy-base")
            if path.is_symlink() and target.is_dir():
                raise AffectLLMError(f"model.{key}: {path} is a link to a folder; an export copies plain files only "
                                     "— replace the link with the folder, or export without --copy-base")
            if not target.is_dir() and not target.is_file():
                raise AffectLLMError(f"model.{key}: {path} is not a regular file (a pipe or device); remove it, or "
                                     "export without --copy-base")
            if target.is_file() and path.suffix not in PICKLED_SUFFIXES:
                found.append(path.relative_to(src))
    return found


def _copy_model_folder(src: Path, dst: Path, key: str) -> None:
    """Copy a base model folder's own files, without pickled weights (refusing one that has no safetensors)."""
    files = _model_files(src, key)
    if not any(rel.suffix == ".safetensors" and len(rel.parts) == 1 for rel in files):
        raise AffectLLMError(f"model.{key} {src} holds no safetensors weights; an export carries no pickled files "
                             "— convert the folder to safetensors or export without --copy-base")
    for rel in files:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dst / rel)  # the content; a link inside the folder becomes its file


def _rewrite_adapter_base(adapter: Path, base: str) -> None:
    config_file = adapter / ADAPTER_CONFIG
    config = json.loads(config_file.read_text())
    config["base_model_name_or_path"] = base
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True))


def _check_target(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise AffectLLMError(f"--out {out}: exists and is not a folder; choose another path")
    if any(out.iterdir()):
        if not overwrite:
            raise AffectLLMError(f"--out {out}: folder exists and is not empty; choose a new folder or pass --overwrite")
        if not (out / CHECKPOINT_CONFIG).is_file():
            raise AffectLLMError(f"--out {out}: not an affectllm export (no {CHECKPOINT_CONFIG}); --overwrite only "
                                 "replaces an earlier export — choose a new folder")


def export_model(model, out: str | Path, merge: bool = False, copy_base: bool = False, overwrite: bool = False,
                 training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                 card_name: str | None = None) -> ExportReport:
    """Write ``model`` (an AffectLLM) to ``out`` as described in the module docstring.

    ``merge`` folds the LoRA into the LLM *in place* (``model.llm`` becomes the merged model and
    ``model.cfg.model.lora.enabled`` false). ``training``: the run's ``training.json``; ``metrics``:
    benchmark scores for the model card (the ``report.json`` of ``affectllm benchmark``);
    ``card_name``: what the card's snippets load (a hub id), by default ``out`` as seen from here."""
    from affectllm.checkpoint.model_card import render_card
    from affectllm.core.durable import fsync_tree, replace_dir

    out = Path(out).expanduser().absolute()
    _check_target(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))  # ours alone: removed on failure
    cfg = copy.deepcopy(model.cfg)
    try:
        save_checkpoint(model, tmp, include_config=False)  # adapter (from the unmerged model), fusion, tokenizer
        references: dict[str, str] = {}
        outside: dict[str, str] = {}
        merged = merge and hasattr(model.llm, "merge_and_unload")
        origin = portable_reference(cfg.model.llm)
        for key in MODEL_PATH_KEYS:
            value = getattr(cfg.model, key)
            if not value:
                continue
            reference = portable_reference(value)
            if key == "llm" and merged:
                reference = MERGED_DIR
            elif reference == value and Path(value).is_dir():  # a local folder, not a name
                if copy_base:
                    _copy_model_folder(Path(value), tmp / BASE_DIR / key, key)
                    reference = f"{BASE_DIR}/{key}"
                else:
                    reference = str(Path(value).resolve())
                    outside[key] = reference
            references[key] = reference
            setattr(cfg.model, key, reference)
        adapter = tmp / ADAPTER_DIR
        if (adapter / ADAPTER_CONFIG).is_file():
            llm = references["llm"]
            if llm.startswith(f"{BASE_DIR}/"):
                _rewrite_adapter_base(adapter, str(out / llm))  # peft needs a hub id or an absolute folder
            elif not is_bundled(llm) and llm != MERGED_DIR:
                _rewrite_adapter_base(adapter, llm)
        if merged:
            _write_merged_llm(model, tmp / MERGED_DIR)
            cfg.model.lora.enabled = False
        save_config(cfg, tmp / CHECKPOINT_CONFIG)
        if training is not None:
            write_training_record(tmp, training)
        report = ExportReport(out, references, outside, bool(merged), origin, card_name or _as_seen_from_here(out))
        (tmp / CARD_FILE).write_text(render_card(cfg, references, training, metrics, report))
        fsync_tree(tmp)
        replace_dir(tmp, out, unique_aside=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _write_merged_llm(model, folder: Path) -> None:
    """Fold the LoRA into the base weights (in place) and save a plain transformers folder."""
    from transformers import AutoTokenizer

    base_path = model.cfg.model.llm
    model.llm = model.llm.merge_and_unload(progressbar=False)
    model.cfg.model.lora.enabled = False
    model.llm.save_pretrained(folder)
    # the base tokenizer: the placeholder tokens mean nothing to a plain causal LM
    AutoTokenizer.from_pretrained(base_path).save_pretrained(folder)


def _as_seen_from_here(out: Path) -> str:
    """``out`` relative to the working directory when it lies under it, else absolute: the path that
    loads it from where the user ran the export."""
    try:
        return out.relative_to(Path.cwd().absolute()).as_posix()
    except ValueError:
        return str(out)


def read_metrics_file(path: str | Path) -> dict[str, Any]:
    """Scores for the model card (``--metrics``): the ``report.json`` of ``affectllm benchmark --out DIR``
    (DIR itself is taken for its report.json), or an older JSON object of scores; one line naming the file
    when it is neither."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise AffectLLMError(f"--metrics {path}: no such file; pass the report.json that "
                             "`affectllm benchmark --out DIR` writes (DIR/report.json)") from None
    except (ValueError, OSError) as err:
        raise AffectLLMError(f"--metrics {path}: not readable JSON ({err}); pass the report.json that "
                             "`affectllm benchmark --out DIR` writes") from None
    if not isinstance(data, dict):
        raise AffectLLMError(f"--metrics {path}: must hold a JSON object (the report.json of `affectllm benchmark`)")
    return data
