"""`affectllm init-tiny DIR`: a tiny random-init model of real architectures, built offline.

DIR/base/ holds ordinary ``save_pretrained`` folders — a Qwen2 causal LM with a
byte-level BPE tokenizer trained here, a Whisper encoder, a SigLIP vision tower, a
BERT text encoder — and DIR itself is an affectllm checkpoint pointing at them, so
tests and smoke runs go through exactly the loading path of a real checkpoint.
"""

from __future__ import annotations

import random
from pathlib import Path

from affectllm.config.schema import Config, LoraSettings, ModelConfig, MediaSettings, DataConfig

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Words the tokenizer should keep whole; any other text still encodes byte by byte.
_CORPUS_WORDS = (
    "happy sad angry surprised fearful disgusted neutral worried frustrated tired relieved calm excited "
    "anxious nervous bored confused proud ashamed guilty lonely hopeful content joyful furious annoyed "
    "the a an and or but not is are was were be been it this that he she they speaker character person "
    "face voice pitch loud quiet smile frown brow eyes mouth lips tone rises falls slow fast pause says "
    "what feeling feels emotional state why because clues visual acoustic lexical reasoning emotions "
    "subtitle video audio text observations interpretation conclusion raised lowered high low red blue "
    "green yellow bright dark speech sound image frame seems appears likely shows suggests evidence"
).split()


def _train_tokenizer(vocab_size: int = 1024, seed: int = 0):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(seed)
    corpus = [" ".join(rng.choice(_CORPUS_WORDS) for _ in range(24)) for _ in range(2000)]
    corpus += [w.capitalize() + "." for w in _CORPUS_WORDS]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=None, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", unk_token=None)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _bert_vocab() -> list[str]:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    punct = list(".,!?'\"-:;()0123456789")
    return (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters + punct + ["##" + c for c in letters]
            + sorted(set(_CORPUS_WORDS)))


def write_tiny_base(out: Path, hidden: int = 64, seed: int = 0, audio: bool = True) -> dict[str, Path]:
    """Save the four tiny base models under ``out`` (three without ``audio``); returns their folders by role."""
    import torch
    from transformers import (BertConfig, BertModel, BertTokenizerFast, Qwen2Config, Qwen2ForCausalLM,
                              SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel,
                              WhisperConfig, WhisperFeatureExtractor, WhisperModel)
    from transformers.utils import logging

    torch.manual_seed(seed)
    paths = {k: out / k for k in ("llm", "audio", "vision", "text") if audio or k != "audio"}

    tok = _train_tokenizer()
    llm_cfg = Qwen2Config(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                          num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                          max_position_embeddings=2048, tie_word_embeddings=True,
                          # a wide init lets the frozen tied head reach confident logits
                          initializer_range=0.3,
                          eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
    Qwen2ForCausalLM(llm_cfg).save_pretrained(paths["llm"])
    tok.save_pretrained(paths["llm"])

    # 5-second Whisper window keeps the tiny encoder cheap; real Whisper uses 30 s.
    whisper_cfg = WhisperConfig(vocab_size=128, num_mel_bins=80, d_model=hidden, encoder_layers=2,
                                encoder_attention_heads=4, decoder_layers=1, decoder_attention_heads=4,
                                encoder_ffn_dim=2 * hidden, decoder_ffn_dim=2 * hidden,
                                max_source_positions=250, max_target_positions=64,
                                # at the default 0.02 the sinusoidal positions drown the audio content
                                init_std=0.5,
                                decoder_start_token_id=1, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    if audio:
        WhisperModel(whisper_cfg).save_pretrained(paths["audio"])
        WhisperFeatureExtractor(feature_size=80, chunk_length=5).save_pretrained(paths["audio"])

    vision_cfg = SiglipVisionConfig(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
                                    num_attention_heads=4, image_size=32, patch_size=8)
    SiglipVisionModel(vision_cfg).save_pretrained(paths["vision"])
    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(paths["vision"])
    finally:
        logging.set_verbosity(level)

    paths["text"].mkdir(parents=True, exist_ok=True)
    vocab_file = paths["text"] / "vocab.txt"
    vocab_file.write_text("\n".join(_bert_vocab()) + "\n")
    BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True).save_pretrained(paths["text"])
    bert_cfg = BertConfig(vocab_size=len(_bert_vocab()), hidden_size=hidden, num_hidden_layers=2,
                          num_attention_heads=4, intermediate_size=2 * hidden, max_position_embeddings=256)
    BertModel(bert_cfg).save_pretrained(paths["text"])
    return paths


def tiny_config(paths: dict[str, Path], prefusion: str = "mix", pooling: str = "qformer") -> Config:
    return Config(
        model=ModelConfig(llm=str(paths["llm"]), audio_encoder=str(paths["audio"]),
                          vision_encoder=str(paths["vision"]), text_encoder=str(paths["text"]),
                          pooling=pooling, num_queries=2, prefusion=prefusion, num_fused_tokens=2,
                          fusion_dim=64, fusion_heads=4, lora=LoraSettings(r=8, alpha=16, dropout=0.0)),
        data=DataConfig(max_length=512, num_workers=0, media=MediaSettings(num_frames=4, max_side=64,
                                                                           max_audio_seconds=5.0)),
    )


def init_tiny(out: str | Path, prefusion: str = "mix", pooling: str = "qformer", seed: int = 0,
              audio_encoder: str | None = None) -> Path:
    """Write base models to OUT/base and an affectllm checkpoint to OUT.

    ``audio_encoder`` replaces the tiny random Whisper with a real one: a local folder, a hub id or a bundled
    model (``bundled:whisper-tiny.en``), resolved like ``model.audio_encoder`` in a config."""
    import torch

    from affectllm.checkpoint.layout import save_checkpoint
    from affectllm.config.paths import resolve_model_path
    from affectllm.model.affect_model import AffectModel

    out = Path(out)
    # resolved first, so a wrong name stops before anything is written
    audio = resolve_model_path(audio_encoder, Path.cwd(), "audio_encoder") if audio_encoder else None
    paths = write_tiny_base(out / "base", seed=seed, audio=audio is None)
    if audio:
        paths["audio"] = Path(audio)
    torch.manual_seed(seed)
    return save_checkpoint(AffectModel.from_config(tiny_config(paths, prefusion, pooling)), out)
