"""A checkpoint is one directory; loading it never unpickles and never runs anything it holds.

    affectllm.yaml          resolved config (model paths relative to the checkpoint when inside it)
    adapter/                peft adapter: adapter_config.json + adapter_model.safetensors
    fusion.safetensors      pooling, pre-fusion and projector weights
    encoders.safetensors    only when encoders were trained
    tokenizer/              the LLM tokenizer with the placeholder tokens added
    training.json           final/ and best/ of a run: data, recipe, step, scores (carried into exports)

A checkpoint may come from someone else, so what it holds is data:

* model paths in its config resolve *inside* the checkpoint (or name a hub id already
  in the local cache). A path that leaves the checkpoint (absolute, ``../``, a symlink
  out) is refused unless the user passes it explicitly: ``base={"llm": DIR}`` replaces
  one path, ``trusted=[ROOT]`` allows the checkpoint's paths under ROOT
  (``--base llm=DIR`` / ``--base ROOT`` on the command line);
* weights are safetensors only (a folder inside the checkpoint that would need
  unpickling is refused); a corrupt or truncated file, or one holding NaN or infinite
  values, is one error line naming the file;
* the prompt is a template *name* (``affectllm.reasoning.prompts``), rendered in Jinja's sandbox.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from affectllm.checkpoint.trust import explicit_base_paths, portable_path, resolve_checkpoint_paths
from affectllm.config.schema import Config, load_config, save_config
from affectllm.config.paths import MODEL_PATH_KEYS
from affectllm.core.errors import AffectLLMError, ConfigError
from affectllm.model.affect_model import AffectModel, trained_parts

CHECKPOINT_CONFIG = "affectllm.yaml"
ADAPTER_DIR = "adapter"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
TOKENIZER_DIR = "tokenizer"
FUSION_FILE = "fusion.safetensors"
ENCODERS_FILE = "encoders.safetensors"
TRAINING_FILE = "training.json"


def config_file(path: str | Path) -> str | Path:
    """What a user named as a training config: a checkpoint folder stands for its config file."""
    return Path(path) / CHECKPOINT_CONFIG if Path(path).is_dir() else path


def save_checkpoint(model: AffectModel, path: str | Path, include_config: bool = True) -> Path:
    """Write ``model`` to ``path``: config, adapter, fusion weights, tokenizer."""
    from safetensors.torch import save_file

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    if include_config:
        cfg = copy.deepcopy(model.cfg)
        for key in MODEL_PATH_KEYS:
            value = getattr(cfg.model, key)
            if value:
                setattr(cfg.model, key, portable_path(value, out))
        save_config(cfg, out / CHECKPOINT_CONFIG)
    if hasattr(model.llm, "peft_config"):
        model.llm.save_pretrained(out / ADAPTER_DIR)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.fusion.state_dict().items()}, out / FUSION_FILE)
    if "encoders" in trained_parts(model.cfg, model.cfg.train.stage):
        save_file({k: v.detach().contiguous().cpu() for k, v in model.encoders.state_dict().items()},
                  out / ENCODERS_FILE)
    model.tokenizer.save_pretrained(out / TOKENIZER_DIR)
    return out


# ------------------------------------------------------------------ weights

def read_weights(path: str | Path) -> dict:
    """The tensors of a safetensors file, checked: readable and finite.

    A corrupt or truncated file, or a floating-point tensor with NaN or infinite
    values, raises AffectLLMError naming the file (and the first bad tensor)."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise AffectLLMError(f"{path}: not a readable safetensors file ({reason}); the checkpoint is corrupt or "
                             "was copied incompletely — copy it again") from None
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise AffectLLMError(f"{path}: tensor '{bad[0]}' holds NaN or infinite values ({len(bad)} of {len(tensors)} "
                             "tensors); the weights are broken (a diverged run?) — use an earlier checkpoint")
    return tensors


def load_weights_into(module, path: str | Path) -> None:
    """``module.load_state_dict`` from a checked safetensors file; a mismatch is one line naming the file."""
    tensors = read_weights(path)
    try:
        module.load_state_dict(tensors)
    except RuntimeError as err:
        first = next((line.strip() for line in str(err).splitlines()[1:] if line.strip()), str(err))
        raise AffectLLMError(f"{path}: the weights do not fit the model its config describes ({first}); "
                             "the checkpoint's files come from different models") from None


def load_trained_weights(model: AffectModel, ckpt: Path) -> None:
    """The weights training changes (fusion, the LoRA adapter, trained encoders) of checkpoint ``ckpt`` into a
    live ``model`` built from the same config (``train.init_from``, resuming a plain-torch run)."""
    from peft import set_peft_model_state_dict

    load_weights_into(model.fusion, ckpt / FUSION_FILE)
    adapter = ckpt / ADAPTER_DIR / ADAPTER_WEIGHTS
    if adapter.is_file() and hasattr(model.llm, "peft_config"):
        result = set_peft_model_state_dict(model.llm, read_weights(adapter))
        if getattr(result, "unexpected_keys", None):
            raise AffectLLMError(f"{ckpt}: adapter weights do not fit this model ({result.unexpected_keys[:3]}); "
                                 "model.lora settings differ from the checkpoint's")
    if (ckpt / ENCODERS_FILE).is_file() and "encoders" in trained_parts(model.cfg, model.cfg.train.stage):
        load_weights_into(model.encoders, ckpt / ENCODERS_FILE)


def read_training_record(checkpoint: str | Path) -> dict[str, Any] | None:
    """A checkpoint's ``training.json`` (written into final/ and best/ by `affectllm train`), or None.

    It is data from whoever wrote the checkpoint: its fields are checked here (one line naming the field),
    and nothing reads the paths it names — the model card takes what it says from the record itself."""
    path = Path(checkpoint) / TRAINING_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise AffectLLMError(f"{path}: not readable JSON ({err}); delete it or copy the checkpoint again") from None
    problem = _training_record_problem(record)
    if problem is not None:
        raise AffectLLMError(f"{path}: {problem}; the file is damaged — copy the checkpoint again, or delete "
                             f"{TRAINING_FILE} to go on without it")
    return record


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _training_record_problem(record: Any) -> str | None:
    """What is wrong with a training record's shape (the fields exports and model cards read), or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    for key, kind in (("data", list), ("config", dict), ("eval", dict), ("best", dict)):
        if record.get(key) is not None and not isinstance(record[key], kind):
            return f'"{key}" is not a JSON {kind.__name__.replace("dict", "object")}'
    for key in ("train", "data", "model"):
        if not isinstance((record.get("config") or {}).get(key, {}), dict):
            return f'"config.{key}" is not a JSON object'
    for k, source in enumerate(record.get("data") or []):
        if not isinstance(source, dict) or not isinstance(source.get("path"), str):
            return f"data[{k}] has no \"path\" string"
        if not _is_count(source.get("samples")) or not _is_count(source.get("per_epoch", 0)):
            return f"data[{k}].samples (and per_epoch) must be whole numbers"
        if not _is_number(source.get("weight", 1.0)):
            return f"data[{k}].weight is not a number"
        names = source.get("datasets", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return f"data[{k}].datasets is not a list of names"
    for key in ("step", "samples_seen"):
        if record.get(key) is not None and not _is_count(record[key]):
            return f'"{key}" is not a whole number'
    best = record.get("best") or {}
    if best.get("score") is not None and not (_is_number(best["score"]) and _is_count(best.get("step"))):
        return '"best" needs a numeric score and a step'
    return None


def write_training_record(folder: Path, record: dict[str, Any]) -> None:
    """``folder/training.json``: data, recipe, how far the run trained, its scores (read back by export)."""
    (Path(folder) / TRAINING_FILE).write_text(json.dumps(record, indent=1))


# ------------------------------------------------------------------ config and paths

def parse_base_arguments(values: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """``--base`` values: ``KEY=DIR`` replaces a base model path, a bare ``DIR`` is a trusted root."""
    base: dict[str, str] = {}
    trusted: list[str] = []
    for value in values or []:
        key, sep, path = value.partition("=")
        if sep and key in MODEL_PATH_KEYS:
            base[key] = path
        elif sep and not Path(value).exists():
            raise AffectLLMError(f"--base {value}: unknown key '{key}'; use one of {', '.join(MODEL_PATH_KEYS)} "
                                 "(e.g. --base llm=/models/qwen) or a folder to trust")
        else:
            trusted.append(value)
    return base, trusted


def checkpoint_config(ckpt: Path, overrides: list[str] | None = None, base: Mapping[str, str] | None = None,
                      trusted: Sequence[str | Path] = ()) -> Config:
    """The config of checkpoint ``ckpt`` with its model paths resolved (see
    :func:`affectllm.checkpoint.trust.resolve_checkpoint_path`).

    ``base`` replaces base model paths by key (the user passed them, so they resolve like any
    user path); ``overrides`` are ``key=value`` strings a user gave, and a model path among
    them counts as passed explicitly too."""
    ckpt = Path(ckpt)
    explicit = explicit_base_paths(overrides, base)
    cfg = load_config(ckpt / CHECKPOINT_CONFIG, overrides, resolve_model_paths=False)
    resolve_checkpoint_paths(cfg, ckpt, explicit, trusted)
    return cfg


def check_checkpoint(ckpt: Path, overrides: list[str] | None = None, base: Mapping[str, str] | None = None,
                     trusted: Sequence[str | Path] = ()) -> Config:
    """The config of checkpoint folder ``ckpt`` after the checks that need no weights loaded: its files are
    there and its base models resolve (``base`` / ``trusted`` as in :func:`load_checkpoint`). Cheap, so a
    long run can check its checkpoints before its first sample."""
    ckpt = Path(ckpt)
    if not ckpt.is_dir():
        raise ConfigError(f"{ckpt}: no such checkpoint folder")
    if not (ckpt / CHECKPOINT_CONFIG).is_file():
        raise ConfigError(f"{ckpt}: not an affectllm checkpoint (no {CHECKPOINT_CONFIG}); "
                          "make one with `affectllm init-tiny DIR` or by training")
    if not (ckpt / FUSION_FILE).is_file():
        raise ConfigError(f"{ckpt}: incomplete checkpoint ({FUSION_FILE} is missing); copy it again")
    adapter = ckpt / ADAPTER_DIR
    if adapter.exists() and not (adapter / ADAPTER_WEIGHTS).is_file():
        raise ConfigError(f"{adapter}: no {ADAPTER_WEIGHTS} (a pickled adapter is never loaded); save the "
                          "adapter with safetensors")
    return checkpoint_config(ckpt, overrides, base, trusted)


def load_checkpoint(path: str | Path, trainable: bool = False, overrides: list[str] | None = None,
                    base: Mapping[str, str] | None = None, trusted: Sequence[str | Path] = (),
                    model_class: type[AffectModel] = AffectModel) -> AffectModel:
    """Rebuild a model (``model_class``) from a checkpoint directory (safetensors only, no pickle, nothing run).

    ``base`` / ``trusted``: base model paths the user passes explicitly (see the module docstring).
    ``trainable``: the parts the checkpoint's stage trains require gradients; else it is ready for inference."""
    ckpt = Path(path)
    cfg = check_checkpoint(ckpt, overrides, base, trusted)
    adapter = ckpt / ADAPTER_DIR
    if adapter.exists():
        read_weights(adapter / ADAPTER_WEIGHTS)  # corrupt or non-finite: one line, before peft sees it
    tokenizer = ckpt / TOKENIZER_DIR
    try:
        model = model_class.from_config(cfg, tokenizer_path=str(tokenizer) if tokenizer.exists() else None,
                                        adapter_path=str(adapter) if adapter.exists() else None, trainable=trainable)
    except AffectLLMError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        reason = " ".join(str(err).split())[:300] or type(err).__name__
        raise ConfigError(f"checkpoint {ckpt}: its models cannot be loaded ({type(err).__name__}: {reason}); "
                          "check the model paths in affectllm.yaml or pass --base KEY=DIR") from None
    load_weights_into(model.fusion, ckpt / FUSION_FILE)
    if (ckpt / ENCODERS_FILE).exists():
        load_weights_into(model.encoders, ckpt / ENCODERS_FILE)
    model.name_or_path = str(ckpt)
    model.training_record = read_training_record(ckpt)  # data, recipe, scores: carried into exports
    return model
