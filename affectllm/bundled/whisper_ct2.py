"""A CTranslate2 Whisper ``model.bin`` read, and its tensors renamed to transformers' Whisper weights.

faster-whisper models are CTranslate2 folders, which transformers cannot read. ``model.bin`` is a flat
binary file (nothing pickled), so it is read here directly; every tensor gets its
``WhisperForConditionalGeneration`` name and the projections CTranslate2 fuses are split again.
:mod:`affectllm.bundled.whisper` writes the result as a transformers folder.

The format, as OpenNMT/CTranslate2 defines it (commit 0d8bcd362ac75ef860ef161d6f0efad0ae439ff0):

* ``src/models/model.cc`` (``Model::load``), written by ``python/ctranslate2/specs/model_spec.py``
  (``_serialize``): little-endian; uint32 binary version; spec name; uint32 spec revision; uint32
  variable count, then per variable its name, uint8 rank, rank x uint32 dimensions, uint8 type id, uint32
  byte count and the raw bytes; then a uint32 alias count and (alias, variable) name pairs. A string is a
  uint16 length that counts a trailing NUL, then the bytes. Type ids follow ``DataType`` in
  ``include/ctranslate2/types.h``: float32, int8, int16, int32, float16, bfloat16.
* ``python/ctranslate2/converters/transformers.py`` (``WhisperLoader``, ``BartLoader.set_attention``) and
  ``converters/utils.py`` (``fuse_linear``): a self-attention stacks q, k, v along the output dimension
  in ``linear_0`` (out projection ``linear_1``); cross-attention keeps q in ``linear_0``, stacks k, v in
  ``linear_1`` and has its out projection in ``linear_2``. Whisper's k projection has no bias, so its
  slice of a fused bias is zeros. The output projection is an alias of the token embedding (tied).
* ``python/ctranslate2/specs/whisper_spec.py``: encoder conv1, conv2, position encodings, layers and final
  layer norm; head counts are the int16 scalars ``encoder/num_heads`` and ``decoder/num_heads``.

English-only or multilingual follows Whisper's own rule (openai/whisper ``whisper/model.py``,
``Whisper.is_multilingual``): 51865 tokens or more is multilingual; tiny.en has 51864.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectllm.core.errors import AffectLLMError

NEWEST_BINARY_VERSION = 6  # model.cc refuses newer files; version 4 is the first to store type ids
MULTILINGUAL_MIN_VOCAB = 51865
_TYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
_SIZES = {(384, 4): "tiny", (512, 6): "base", (768, 12): "small", (1024, 24): "medium", (1280, 32): "large"}
_GELU = 3  # ctranslate2.specs.common_spec.Activation.GELU (erf form, as transformers' "gelu")


@dataclass(frozen=True)
class CTranslate2Model:
    spec: str  # e.g. "WhisperSpec"
    revision: int
    variables: dict[str, np.ndarray]  # aliases point at the same array as their variable


class _Cursor:
    """Reads ``model.bin`` front to back; reading past the end means the file is truncated."""

    def __init__(self, path: Path):
        self.path, self.data, self.pos = path, memoryview(path.read_bytes()), 0

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self.data):
            raise AffectLLMError(f"{self.path}: truncated CTranslate2 model (ends at byte {len(self.data)}); "
                                 "reinstall or copy the model again")
        self.pos += size
        return self.data[self.pos - size:self.pos]

    def number(self, fmt: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def text(self) -> str:
        return bytes(self.take(self.number("H")))[:-1].decode("utf-8")


def _array(raw: memoryview, type_id: int, shape: tuple[int, ...], what: str) -> np.ndarray:
    if type_id not in _TYPES:
        raise AffectLLMError(f"{what}: unknown CTranslate2 type id {type_id}; the file is damaged or newer than "
                             "CTranslate2 4.x")
    dtype = np.dtype(np.uint16 if _TYPES[type_id] == "bfloat16" else _TYPES[type_id])
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise AffectLLMError(f"{what}: {len(raw)} bytes do not hold a {dtype} tensor of shape {shape}; the file "
                             "is damaged")
    array = np.frombuffer(raw, dtype).reshape(shape)
    if _TYPES[type_id] == "bfloat16":  # numpy has no bfloat16: its bits are the top half of a float32
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def read_ctranslate2_model(path: str | Path) -> CTranslate2Model:
    """Every variable of a CTranslate2 ``model.bin`` (read-only arrays over the file's bytes), aliases included."""
    cursor = _Cursor(Path(path))
    version = cursor.number("I")
    if not 4 <= version <= NEWEST_BINARY_VERSION:
        raise AffectLLMError(f"{path}: CTranslate2 binary version {version}; versions 4 to {NEWEST_BINARY_VERSION} "
                             "are read (convert the model again with CTranslate2 4.x)")
    spec, revision = cursor.text(), cursor.number("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(cursor.number("I")):
        name = cursor.text()
        shape = tuple(cursor.number("I") for _ in range(cursor.number("B")))
        type_id, size = cursor.number("B"), cursor.number("I")
        variables[name] = _array(cursor.take(size), type_id, shape, f"{path}: {name}")
    for _ in range(cursor.number("I")):
        alias, name = cursor.text(), cursor.text()
        variables[alias] = variables[name]
    return CTranslate2Model(spec, revision, variables)


@dataclass(frozen=True)
class WhisperDims:
    """Sizes read from the tensors' shapes (CTranslate2's config.json holds none)."""

    mels: int
    width: int  # d_model
    vocab: int
    encoder_layers: int
    decoder_layers: int
    encoder_heads: int
    decoder_heads: int
    encoder_ffn: int
    decoder_ffn: int
    audio_positions: int  # encoder frames of 20 ms: 1500 = 30 s
    text_positions: int  # decoder tokens

    @property
    def multilingual(self) -> bool:
        return self.vocab >= MULTILINGUAL_MIN_VOCAB

    @property
    def name(self) -> str:
        """``whisper-tiny.en``, ``whisper-base``, ...; an unknown size is named by its width and depth."""
        size = _SIZES.get((self.width, self.encoder_layers), f"d{self.width}-l{self.encoder_layers}")
        return f"whisper-{size}" + ("" if self.multilingual else ".en")


def whisper_dims(model: CTranslate2Model, what: str) -> WhisperDims:
    """The sizes of a CTranslate2 Whisper; one line naming ``what`` when it is not a Whisper transformers can hold."""
    v = model.variables
    if model.spec != "WhisperSpec":
        raise AffectLLMError(f"{what}: a CTranslate2 {model.spec or 'model'}, not a Whisper model")
    if any(name.endswith("_scale") for name in v):
        raise AffectLLMError(f"{what}: quantized CTranslate2 weights (int8/int16) cannot be converted; use a "
                             "float16 or float32 copy of the model")
    flags = {name: int(v[f"decoder/{name}"]) for name in ("activation", "pre_norm", "scale_embeddings", "alibi")}
    if flags != {"activation": _GELU, "pre_norm": 1, "scale_embeddings": 0, "alibi": 0}:
        raise AffectLLMError(f"{what}: decoder settings {flags} are not Whisper's (GELU, pre-norm, unscaled "
                             "embeddings, no ALiBi)")

    def depth(side: str) -> int:
        return len({m[1] for name in v if (m := re.match(rf"{side}/layer_(\d+)/", name))})

    conv1 = v["encoder/conv1/weight"]  # (width, mels, kernel 3)
    return WhisperDims(
        mels=conv1.shape[1], width=conv1.shape[0], vocab=v["decoder/embeddings/weight"].shape[0],
        encoder_layers=depth("encoder"), decoder_layers=depth("decoder"),
        encoder_heads=int(v["encoder/num_heads"]), decoder_heads=int(v["decoder/num_heads"]),
        encoder_ffn=v["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn=v["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        audio_positions=v["encoder/position_encodings/encodings"].shape[0],
        text_positions=v["decoder/position_encodings/encodings"].shape[0])


def _attention(out: dict, v: dict, hf: str, ct: str, groups: tuple[tuple[str, ...], ...]) -> None:
    """Split CTranslate2's stacked ``{ct}linear_N`` into transformers' ``{hf}{q,k,v,out}_proj``; ``groups`` lists,
    per linear in order, the projections it stacks along its output rows."""
    for index, names in enumerate(groups):
        weight, bias = v[f"{ct}linear_{index}/weight"], v[f"{ct}linear_{index}/bias"]
        rows = weight.shape[1]  # each projection maps width -> width
        if weight.shape[0] != rows * len(names):
            raise AffectLLMError(f"{ct}linear_{index}: shape {weight.shape} does not stack {len(names)} projections")
        for j, name in enumerate(names):
            part = slice(j * rows, (j + 1) * rows)
            out[f"{hf}{name}_proj.weight"] = weight[part]
            if name != "k":
                out[f"{hf}{name}_proj.bias"] = bias[part]
            elif np.any(bias[part]):  # CTranslate2 fills Whisper's missing k bias with zeros
                raise AffectLLMError(f"{ct}linear_{index}: the k slice of the fused bias is not zero, so the "
                                     "projections are not stacked as Whisper's q, k, v")


def _linear(out: dict, v: dict, hf: str, ct: str, parts: tuple[str, str] = ("weight", "bias")) -> None:
    for hf_part, ct_part in zip(("weight", "bias"), parts):
        out[f"{hf}.{hf_part}"] = v[f"{ct}/{ct_part}"]


def transformers_state_dict(model: CTranslate2Model, dims: WhisperDims) -> dict[str, np.ndarray]:
    """CTranslate2 variables -> ``WhisperForConditionalGeneration`` weights by name, float32 (``proj_out`` is
    left out: transformers ties it to ``model.decoder.embed_tokens``). E.g. ``model.encoder.conv1.weight``
    (width, mels, 3), ``model.decoder.layers.0.encoder_attn.k_proj.weight`` (width, width)."""
    v, out = model.variables, {}
    for conv in ("conv1", "conv2"):
        _linear(out, v, f"model.encoder.{conv}", f"encoder/{conv}")
    out["model.decoder.embed_tokens.weight"] = v["decoder/embeddings/weight"]
    norm = ("gamma", "beta")
    for side, depth in (("encoder", dims.encoder_layers), ("decoder", dims.decoder_layers)):
        out[f"model.{side}.embed_positions.weight"] = v[f"{side}/position_encodings/encodings"]
        _linear(out, v, f"model.{side}.layer_norm", f"{side}/layer_norm", norm)
        for i in range(depth):
            hf, ct = f"model.{side}.layers.{i}.", f"{side}/layer_{i}/"
            _attention(out, v, hf + "self_attn.", ct + "self_attention/", (("q", "k", "v"), ("out",)))
            _linear(out, v, hf + "self_attn_layer_norm", ct + "self_attention/layer_norm", norm)
            if side == "decoder":
                _attention(out, v, hf + "encoder_attn.", ct + "attention/", (("q",), ("k", "v"), ("out",)))
                _linear(out, v, hf + "encoder_attn_layer_norm", ct + "attention/layer_norm", norm)
            _linear(out, v, hf + "fc1", ct + "ffn/linear_0")
            _linear(out, v, hf + "fc2", ct + "ffn/linear_1")
            _linear(out, v, hf + "final_layer_norm", ct + "ffn/layer_norm", norm)
    # copies: the arrays read from model.bin are read-only views of its bytes
    return {name: np.array(array, dtype=np.float32) for name, array in out.items()}
