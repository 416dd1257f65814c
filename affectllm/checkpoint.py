"""A checkpoint is one directory; loading it never unpickles and never runs anything it holds.

    affectllm.yaml          resolved config (model paths relative to the checkpoint when inside it)
    adapter/                peft adapter: adapter_config.json + adapter_model.safetensors
    fusion.safetensors      pooling, pre-fusion and projector weights
    encoders.safetensors    only when encoders were trained
    tokenizer/              the LLM tokenizer with the placeholder tokens added

A checkpoint may come from someone else, so what it holds is data:

* model paths in its config resolve *inside* the checkpoint (or name a hub id already
  in the local cache). A path that leaves the checkpoint (absolute, ``../``, a symlink
  out) is refused unless the user passes it explicitly: ``base={"llm": DIR}`` replaces
  one path, ``trusted=[ROOT]`` allows the checkpoint's paths under ROOT
  (``--base llm=DIR`` / ``--base ROOT`` on the command line);
* weights are safetensors only (a folder inside the checkpoint that would need
  unpickling is refused); a corrupt or truncated file, or one holding NaN or infinite
  values, is one error line naming the file;
* the prompt is a template *name* (``affectllm.prompts``), rendered in Jinja's sandbox.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Mapping, Sequence

from affectllm.config import CHECKPOINT_CONFIG, MODEL_PATH_KEYS, Config, load_config, resolve_model_path, save_config
from affectllm.errors import AffectLLMError, ConfigError
from affectllm.model_sources import bundled_model_dir, cached_hub_id, is_bundled, portable_reference

ADAPTER_DIR = "adapter"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
TOKENIZER_DIR = "tokenizer"
FUSION_FILE = "fusion.safetensors"
ENCODERS_FILE = "encoders.safetensors"
# Weight files that torch/transformers would unpickle; a checkpoint's own folders must not need them.
PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def _portable(path: str, ckpt: Path) -> str:
    """Paths inside the checkpoint are stored relative to it, so the folder can move; a bundled model
    or a hub-cache folder is stored by name (``bundled:NAME``, ``org/name``), so it resolves anywhere."""
    reference = portable_reference(path)
    if reference != path:
        return reference
    p = Path(path)
    if not p.exists():
        return path  # hub id
    try:
        return os.path.relpath(p.resolve(), ckpt.resolve()) if p.resolve().is_relative_to(ckpt.resolve()) else str(p.resolve())
    except ValueError:
        return str(p.resolve())


def save_checkpoint(model, path: str | Path, include_config: bool = True) -> Path:
    """Write ``model`` (an AffectLLM) to ``path``: config, adapter, fusion weights, tokenizer."""
    from safetensors.torch import save_file

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    if include_config:
        cfg = copy.deepcopy(model.cfg)
        for key in MODEL_PATH_KEYS:
            value = getattr(cfg.model, key)
            if value:
                setattr(cfg.model, key, _portable(value, out))
        save_config(cfg, out / CHECKPOINT_CONFIG)
    if hasattr(model.llm, "peft_config"):
        model.llm.save_pretrained(out / ADAPTER_DIR)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.fusion.state_dict().items()}, out / FUSION_FILE)
    if model.cfg.model.train_encoders:
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


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def resolve_checkpoint_path(value: str, ckpt: Path, key: str, trusted: Sequence[Path] = ()) -> str:
    """A model path read from a checkpoint's own config, resolved without leaving the checkpoint.

    Relative paths are taken from the checkpoint folder (never the working directory);
    the result must lie inside the checkpoint or under a ``trusted`` root the user named,
    or be a hub id in the local cache. Anything else is one ConfigError line."""
    ckpt = ckpt.resolve()
    if is_bundled(value):  # a name from a fixed list, never a path the checkpoint chooses
        return str(bundled_model_dir(value, f"model.{key}"))
    roots = [ckpt, *(Path(t).expanduser().resolve() for t in trusted)]
    p = Path(value)
    candidate = p if p.is_absolute() else ckpt / p
    if candidate.exists():
        real = candidate.resolve()
        if _inside(real, roots):
            return str(real)
        outside = True
    else:
        if not p.is_absolute() and ".." not in p.parts and cached_hub_id(value):
            return value
        outside = not _inside(Path(os.path.normpath(candidate)), roots)
    if outside:
        raise ConfigError(f"checkpoint {ckpt}: model.{key} points outside the checkpoint ({value}); a checkpoint "
                          f"may only name folders inside itself or cached hub ids — if you trust it, pass it "
                          f"explicitly: --base {key}={value} (or --base FOLDER that holds it)")
    raise ConfigError(f"checkpoint {ckpt}: model.{key} '{value}' is neither a folder inside the checkpoint nor a "
                      f"model in the local Hugging Face cache; the checkpoint is incomplete — copy it again or "
                      f"pass --base {key}=DIR")


def _check_model_folder(path: str, key: str, ckpt: Path) -> None:
    """A local base-model folder must be a transformers folder; inside the checkpoint, one without pickles."""
    folder = Path(path)
    if not folder.is_dir():
        return  # a cached hub id
    if not (folder / "config.json").is_file():
        raise ConfigError(f"checkpoint {ckpt}: model.{key} {folder} holds no config.json, so it is not a "
                          f"transformers model folder; fix affectllm.yaml or pass --base {key}=DIR")
    if folder.is_relative_to(ckpt.resolve()):
        pickled = sorted(f.name for f in folder.iterdir() if f.suffix in PICKLED_SUFFIXES)
        if pickled and not any(folder.glob("*.safetensors")):
            raise ConfigError(f"checkpoint {ckpt}: model.{key} {folder} holds only pickled weights ({pickled[0]}); "
                              "loading them could run code — convert the folder to safetensors")


def checkpoint_config(ckpt: Path, overrides: list[str] | None = None, base: Mapping[str, str] | None = None,
                      trusted: Sequence[str | Path] = ()) -> Config:
    """The config of checkpoint ``ckpt`` with its model paths resolved (see ``resolve_checkpoint_path``).

    ``base`` replaces base model paths by key (the user passed them, so they resolve like any
    user path); ``overrides`` are ``key=value`` strings a user gave, and a model path among
    them counts as passed explicitly too."""
    ckpt = Path(ckpt)
    explicit = dict(base or {})
    for item in overrides or []:
        key, _, value = item.partition("=")
        if key.strip().startswith("model.") and key.strip()[len("model."):] in MODEL_PATH_KEYS:
            explicit[key.strip()[len("model."):]] = value
    unknown = set(explicit) - set(MODEL_PATH_KEYS)
    if unknown:
        raise ConfigError(f"unknown base model key '{sorted(unknown)[0]}'; use one of {', '.join(MODEL_PATH_KEYS)}")
    cfg = load_config(ckpt / CHECKPOINT_CONFIG, overrides, resolve_model_paths=False)
    for key in MODEL_PATH_KEYS:
        if key in explicit:
            value = explicit[key] or None
            resolved = resolve_model_path(value, Path.cwd(), key) if value else None
        else:
            value = getattr(cfg.model, key)
            resolved = resolve_checkpoint_path(value, ckpt, key, trusted) if value else None
        if resolved:
            _check_model_folder(resolved, key, ckpt)
        setattr(cfg.model, key, resolved)
    if not cfg.model.llm:
        raise ConfigError(f"checkpoint {ckpt}: model.llm is empty; the checkpoint is incomplete")
    return cfg


def load_checkpoint(path: str | Path, trainable: bool = False, overrides: list[str] | None = None,
                    base: Mapping[str, str] | None = None, trusted: Sequence[str | Path] = ()):
    """Rebuild an AffectLLM from a checkpoint directory (safetensors only, no pickle, nothing run).

    ``base`` / ``trusted``: base model paths the user passes explicitly (see the module docstring)."""
    from affectllm.model import AffectLLM

    ckpt = Path(path)
    if not ckpt.is_dir():
        raise ConfigError(f"{ckpt}: no such checkpoint folder")
    if not (ckpt / CHECKPOINT_CONFIG).is_file():
        raise ConfigError(f"{ckpt}: not an affectllm checkpoint (no {CHECKPOINT_CONFIG}); "
                          "make one with `affectllm init-tiny DIR` or by training")
    if not (ckpt / FUSION_FILE).is_file():
        raise ConfigError(f"{ckpt}: incomplete checkpoint ({FUSION_FILE} is missing); copy it again")
    cfg = checkpoint_config(ckpt, overrides, base, trusted)
    adapter = ckpt / ADAPTER_DIR
    if adapter.exists():
        if not (adapter / ADAPTER_WEIGHTS).is_file():
            raise ConfigError(f"{adapter}: no {ADAPTER_WEIGHTS} (a pickled adapter is never loaded); save the "
                              "adapter with safetensors")
        read_weights(adapter / ADAPTER_WEIGHTS)  # corrupt or non-finite: one line, before peft sees it
    tokenizer = ckpt / TOKENIZER_DIR
    try:
        model = AffectLLM.from_config(cfg, tokenizer_path=str(tokenizer) if tokenizer.exists() else None,
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
    from affectllm.export import read_training_record

    model.training_record = read_training_record(ckpt)  # data, recipe, scores: carried into exports
    if not trainable:
        model.requires_grad_(False)
        model.eval()
    return model
