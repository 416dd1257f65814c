"""The LLM-judge extractor (reference prompt, answer parsing, batching) and the eval CLI's --extractor choices."""

import json
from pathlib import Path

import pytest

from affectllm.cli import main
from affectllm.core.errors import AffectLLMError
from affectllm.eval.llm_extractor import EXTRACTION_PROMPT, clean_answer, parse_emotion_answer

REAL_WHEELS = Path(__file__).resolve().parents[2] / "shared" / "emotion_wheel"
WORDS = ["<unk>", "<eos>", "<pad>", ",", "[", "]", "happy", "sad", "angry", "tired", "calm", "the", "person", "is", "very"]


@pytest.fixture(scope="module")
def tiny_judge(tmp_path_factory):
    """A tiny random-init Llama with a word-level tokenizer and a chat template (real classes, no weights to fetch)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("judge")
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", pad_token="<pad>")
    fast.chat_template = "{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% endfor %}{% if add_generation_prompt %}assistant {% endif %}"
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, eos_token_id=1, pad_token_id=2)
    LlamaForCausalLM(cfg).save_pretrained(out)
    fast.save_pretrained(out)
    return out


def test_prompt_is_the_reference_wording():
    # MERTools MER2025_Track23/toolkit/utils/qwen.py, reason_to_openset_qwen: one line, two worked examples.
    text = EXTRACTION_PROMPT.format(text="He is sad.")
    assert text.startswith("Please assume the role of an expert in the field of emotions. We provide clues")
    assert text.endswith("Input: His emotional state is happy, sad, and angry; Output: [happy, sad, angry] Input: He is sad.; Output: ")
    assert "\n" not in text


@pytest.mark.parametrize(
    "answer, items",
    [
        ("[happy, sad, angry]", ["happy", "sad", "angry"]),
        ("Output: [worried, nervous]", ["worried", "nervous"]),
        ("输出：[Worried]", ["worried"]),
        ("[]", []),
        ("  \n[calm,\n relieved]. ", ["calm", "relieved"]),
        ("['happy', 'happy', 'calm.']", ["happy", "calm"]),
        # items are never split further: the official wheels then drop it, as in the reference
        ("[happy and sad]", ["happy and sad"]),
        ("none", []),
    ],
)
def test_answers_are_read_as_the_reference_reads_them(answer, items):
    assert parse_emotion_answer(answer) == items


def test_clean_answer_strips_prefixes_in_order():
    assert clean_answer("Output: Input: [a]") == "Input: [a]"  # one pass, like the reference
    assert clean_answer("Output：\n[a,\nb]") == "[a,b]"


def test_greedy_batches_equal_single_calls(tiny_judge):
    from affectllm.eval.llm_extractor import LLMEmotionExtractor

    texts = ["the person is happy", "the person is very very sad , tired", "calm"]
    single = LLMEmotionExtractor(tiny_judge, max_new_tokens=6, device="cpu")
    one_by_one = [single._generate([t])[0] for t in texts]
    batched = LLMEmotionExtractor(tiny_judge, max_new_tokens=6, device="cpu", batch_size=2)
    batched.prefetch(texts + ["", "calm"])
    assert [batched.answers[t] for t in texts] == one_by_one  # left padding: same continuation in a batch
    assert set(batched.answers) == set(texts)  # blanks skipped, duplicates answered once
    assert batched(texts[1]) == parse_emotion_answer(one_by_one[1])
    prompt = single.prompt_text("the person is happy")
    assert prompt.startswith("user Please assume the role") and prompt.endswith("Input: the person is happy; Output:  assistant ")


def test_reference_sampling_is_seeded(tiny_judge):
    from affectllm.eval.llm_extractor import LLMEmotionExtractor

    a = LLMEmotionExtractor(tiny_judge, max_new_tokens=6, device="cpu", decoding="reference")
    b = LLMEmotionExtractor(tiny_judge, max_new_tokens=6, device="cpu", decoding="reference")
    assert a.max_new_tokens == 6 and LLMEmotionExtractor(tiny_judge, decoding="reference").max_new_tokens == 512
    assert a._generate(["the person is happy"]) == b._generate(["the person is happy"])


def test_bad_extractor_arguments(tmp_path):
    from affectllm.eval.llm_extractor import LLMEmotionExtractor

    with pytest.raises(AffectLLMError, match=r"--extractor .*nope is not a folder; pass 'discourse', 'lexicon' or a local"):
        LLMEmotionExtractor(tmp_path / "nope")
    with pytest.raises(AffectLLMError, match="--extractor-decoding beam is not supported; use one of greedy, reference"):
        LLMEmotionExtractor(tmp_path, decoding="beam")


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_cli_extractor_choices(tmp_path, capsys, tiny_judge):
    gold = _write(tmp_path / "gold.jsonl", [{"id": "1", "emotions": ["calm"]}, {"id": "2", "emotions": ["sad"]}])
    pred = _write(tmp_path / "pred.jsonl", [
        {"id": "1", "emotions": [], "explanation": "The atmosphere is tense. Therefore, he is calm."},
        {"id": "2", "emotions": [], "explanation": "Relaxed background music plays; she is sad."},
    ])

    def ov(*extra):
        assert main(["eval", "ov", "--pred", str(pred), "--gold", str(gold), "--level", "word", "--json", *extra]) == 0
        return json.loads(capsys.readouterr().out)

    assert ov() == {"f1": 1.0, "precision": 1.0, "recall": 1.0}
    assert ov("--extractor", "rule") == ov()
    # the first-generation extractor takes the scene's words too: precision 1/2 on both samples
    assert ov("--extractor", "lexicon") == {"f1": pytest.approx(2 / 3), "precision": 0.5, "recall": 1.0}
    judged = ov("--extractor", str(tiny_judge))
    assert set(judged) == {"f1", "precision", "recall"}
    assert main(["eval", "ov", "--pred", str(pred), "--gold", str(gold), "--extractor", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err == (
        f"affectllm eval: error: --extractor {tmp_path / 'missing'} is not a folder; "
        "pass 'discourse', 'lexicon' or a local transformers model directory\n"
    )


@pytest.mark.skipif(not REAL_WHEELS.is_dir(), reason="official wheel files not present")
def test_official_mode_reads_labels_as_written(tmp_path, capsys):
    # "reluctance" is a listed form of "hesitant"; wheel 4 puts "hesitant" under anger but does not know
    # "reluctance", which therefore vanishes there, as it does when an LLM judge writes "reluctance".
    gold = _write(tmp_path / "gold.jsonl", [{"id": "1", "emotions": ["happy"]}])
    pred = _write(tmp_path / "pred.jsonl", [{"id": "1", "explanation": "Therefore, his emotional state is happiness and reluctance."}])
    argv = ["eval", "ov", "--pred", str(pred), "--gold", str(gold), "--wheel-dir", str(REAL_WHEELS), "--json"]
    assert main(argv) == 0
    new = json.loads(capsys.readouterr().out)
    assert main(argv + ["--extractor", "lexicon"]) == 0
    old = json.loads(capsys.readouterr().out)
    assert new["recall"] == old["recall"] == 1.0
    assert new["precision"] > old["precision"]
