"""What a checkpoint's config may point at: model paths resolve inside the checkpoint (or a root the user
trusts, or the local hub cache), never where the checkpoint alone chooses; see :mod:`affectllm.checkpoint.layout`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from affectllm.config.paths import MODEL_PATH_KEYS, resolve_model_path
from affectllm.core.errors import ConfigError
from affectllm.config.model_sources import bundled_model_dir, cached_hub_id, is_bundled, portable_reference

if TYPE_CHECKING:
    from affectllm.config.schema import Config

# Weight files that torch/transformers would unpickle; a checkpoint's own folders must not need them.
PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def portable_path(path: str, ckpt: Path) -> str:
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


def check_model_folder(path: str, key: str, ckpt: Path) -> None:
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


def explicit_base_paths(overrides: list[str] | None, base: Mapping[str, str] | None) -> dict[str, str]:
    """Base model paths the user passed: ``base`` by key, and ``model.KEY=...`` among ``overrides``."""
    explicit = dict(base or {})
    for item in overrides or []:
        key, _, value = item.partition("=")
        if key.strip().startswith("model.") and key.strip()[len("model."):] in MODEL_PATH_KEYS:
            explicit[key.strip()[len("model."):]] = value
    unknown = set(explicit) - set(MODEL_PATH_KEYS)
    if unknown:
        raise ConfigError(f"unknown base model key '{sorted(unknown)[0]}'; use one of {', '.join(MODEL_PATH_KEYS)}")
    return explicit


def resolve_checkpoint_paths(cfg: Config, ckpt: Path, explicit: Mapping[str, str], trusted: Sequence[str | Path]
                             ) -> None:
    """Resolve the model paths of checkpoint ``ckpt``'s config ``cfg`` in place: those the user passed
    (``explicit``) like any user path, the checkpoint's own with :func:`resolve_checkpoint_path`."""
    for key in MODEL_PATH_KEYS:
        if key in explicit:
            value = explicit[key] or None
            resolved = resolve_model_path(value, Path.cwd(), key) if value else None
        else:
            value = getattr(cfg.model, key)
            resolved = resolve_checkpoint_path(value, ckpt, key, trusted) if value else None
        if resolved:
            check_model_folder(resolved, key, ckpt)
        setattr(cfg.model, key, resolved)
    if not cfg.model.llm:
        raise ConfigError(f"checkpoint {ckpt}: model.llm is empty; the checkpoint is incomplete")
