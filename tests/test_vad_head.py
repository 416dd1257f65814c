"""The dimensional head (model.vad_head): its CCC loss by hand, per-sample scales and masks, a synthetic task it
learns (and a control that cannot), the answer-marker state read alike in training and after generation, packing,
checkpoints and exports, result records on the dataset's scale, and the GRPO vad reward."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from affectllm.config.schema import VadHeadSettings
from affectllm.core.errors import AffectLLMError, ConfigError
from affectllm.eval.ccc import ccc as eval_ccc
from affectllm.fusion.vad_head import ccc_loss
from affectllm.pretrained import AffectLLM
from affectllm.checkpoint.tiny import tiny_config
from affectllm.training.loss import AnswerLoss

from synthetic_task import RATING_SCALE, make_rated_split

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def head_model(tiny_checkpoint: Path, source: str = "fused", dims=("valence", "arousal"), seed: int = 0,
               **model_keys) -> AffectLLM:
    """The tiny model (audio + video, no text encoder) with a fresh dimensional head."""
    base = tiny_checkpoint / "base"
    cfg = tiny_config({k: base / k for k in ("llm", "audio", "vision", "text")})
    cfg.model.text_encoder = None
    cfg.model.vad_head = VadHeadSettings(dims=list(dims), source=source, hidden=64)
    for key, value in model_keys.items():
        setattr(cfg.model, key, value)
    torch.manual_seed(seed)
    return AffectLLM.from_config(cfg)


def prepare(model: AffectLLM, samples: list[dict], generation: bool) -> list:
    """Frozen encoders run once per sample, as a feature cache would."""
    out = []
    for s in samples:
        media = model.precompute_features(model.processor.sample_media(s, None))
        out.append(model.processor.prepare(s, generation=generation, media=media))
    return out


def test_ccc_loss_by_hand_masks_unrated_dimensions():
    pred = torch.tensor([[0.1, 0.5], [0.4, -0.2], [-0.3, 0.9], [0.0, 0.3]], requires_grad=True)
    target = torch.tensor([[0.2, 0.0], [0.5, 0.0], [-0.4, 0.5], [0.3, 0.0]])
    # valence rated by rows 0, 1, 3; arousal only by row 2 (one rating: squared error / 2)
    mask = torch.tensor([[True, False], [True, False], [False, True], [True, False]])
    loss, scored = ccc_loss(pred, target, mask)
    valence = eval_ccc([0.2, 0.5, 0.3], [0.1, 0.4, 0.0])
    assert scored[0] == pytest.approx(valence, abs=1e-6) and 1 not in scored
    assert loss.item() == pytest.approx((1 - valence) + (0.9 - 0.5) ** 2 / 2, abs=1e-6)
    loss.backward()
    # an unrated entry gets no gradient: masked, never counted as a rating of 0
    assert pred.grad[2, 0] == 0 and pred.grad[0, 1] == 0 and pred.grad[1, 1] == 0 and pred.grad[3, 1] == 0
    nothing, scored = ccc_loss(pred, target, torch.zeros_like(mask))
    assert nothing.item() == 0 and nothing.requires_grad and scored == {}


def test_targets_follow_each_samples_scale_and_missing_dimensions_are_masked(tiny_checkpoint):
    model = head_model(tiny_checkpoint, dims=("valence", "arousal", "dominance"))
    (clip,) = make_rated_split(1, seed=3)
    samples = [
        dict(clip, id="iemocap", vad={"valence": 2.0, "arousal": 4.5, "dominance": 3.0},
             vad_scale={d: [1, 5] for d in ("valence", "arousal", "dominance")}),
        dict(clip, id="msp", vad={"arousal": 6.0}, vad_scale={"arousal": [1, 7]}),
        dict(clip, id="plain", valence=-0.4, vad=None, vad_scale=None),  # a plain valence field, already -1..1
        dict(clip, id="unrated", vad=None, vad_scale=None),
    ]
    batch = model.processor.collate(prepare(model, samples, generation=False))
    expected = torch.tensor([[-0.5, 0.75, 0.0], [0.0, 2 * 5 / 6 - 1, 0.0], [-0.4, 0.0, 0.0], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(batch["vad_targets"], expected)
    assert batch["vad_mask"].tolist() == [[True, True, True], [False, True, False], [True, False, False],
                                          [False, False, False]]
    broken = dict(clip, id="broken", vad={"arousal": 9.0}, vad_scale={"arousal": [1, 7]})
    with pytest.raises(AffectLLMError, match=r"sample 'broken': \"vad.arousal\" is 9, outside its scale \[1, 7\]"):
        prepare(model, [broken], generation=False)


@pytest.mark.parametrize("source,control", [("fused", False), ("llm_last", False), ("fused", True)])
def test_head_learns_arousal_from_pitch_and_valence_from_colour(tiny_checkpoint, source, control):
    """Target arousal follows the tone's pitch and valence the frames' colour (1..5). After 200 steps the head's
    CCC on held-out clips, from records written by the caption path, is >= 0.8 for both; a control whose head
    is cut off from the features (its input replaced by zeros) stays <= 0.2."""
    from affectllm.caption.checkpoint_backend import CheckpointBackend
    from affectllm.caption.inputs import Hearing
    from affectllm.caption.inference import InferenceOptions
    from affectllm.caption.inputs import CaptionItem
    from affectllm.eval import evaluate

    model = head_model(tiny_checkpoint, source)
    if control:
        model.dimensional_head.register_forward_pre_hook(lambda module, args: (torch.zeros_like(args[0]),))
    train_set, held_out = make_rated_split(96, seed=1), make_rated_split(40, seed=2)
    train = prepare(model, train_set, generation=False)
    params = [p for group in model.trainable_parameter_groups().values() for p in group]
    opt = torch.optim.AdamW(params, lr=3e-3)
    loss_fn = AnswerLoss(model)
    rng = random.Random(0)
    model.train()
    for _ in range(200):
        loss = loss_fn(model.processor.collate(rng.sample(train, 16)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert set(loss_fn.parts) == {"lm", "vad", "ccc"}

    backend = CheckpointBackend(model, max_new_tokens=3, options=InferenceOptions(merge_lora=False),
                                name="tiny", hearing=Hearing(asr=False))
    records = backend.caption([CaptionItem(id=s["id"], path=None, sample=s) for s in held_out])
    assert all(r.error is None and r.extra["vad_scale"] == {"valence": RATING_SCALE, "arousal": RATING_SCALE}
               for r in records)
    assert all(1 <= r.vad[d] <= 5 for r in records for d in ("valence", "arousal"))  # on the dataset's scale
    scores = evaluate("vad", {s["id"]: s for s in held_out}, {r.id: r.to_dict() for r in records}).scores
    for dim in ("valence", "arousal"):
        if control:
            assert scores["ccc"][dim] <= 0.2, scores
        else:
            assert scores["ccc"][dim] >= 0.8, scores


def test_llm_last_reads_the_same_state_in_training_and_after_generation(tiny_checkpoint):
    from affectllm.model.answer_state import answer_states, completion_markers, last_hidden, rendered_marker

    model = head_model(tiny_checkpoint, "llm_last", seed=1).eval()
    (sample,) = make_rated_split(1, seed=4)
    sample["messages"][1]["content"] = "calm and tired"
    (trained,) = prepare(model, [sample], generation=False)
    (prompt,) = prepare(model, [sample], generation=True)
    eos = model.tokenizer.eos_token_id
    at = trained.answer_at
    assert trained.input_ids[at + 1] == eos and trained.labels[at + 1] == eos  # the state that ends the answer
    answer = trained.input_ids[len(prompt.input_ids):at + 2]  # the answer's tokens, its EOS last
    assert model.tokenizer.decode(answer[:-1]) == "calm and tired"
    with torch.no_grad():
        batch = model.processor.collate([trained])
        full = model.embed_inputs(batch["input_ids"], batch["media_inputs"])
        in_training = last_hidden(model, full.embeds, batch["attention_mask"])[0, batch["answer_at"][0]]
        pbatch = model.processor.collate([prompt], padding_side="left")
        embedded = model.embed_inputs(pbatch["input_ids"], pbatch["media_inputs"])
        tokens = torch.tensor([answer + [model.tokenizer.pad_token_id] * 3])  # padded as generate pads
        keep = torch.tensor([[True] * len(answer) + [False] * 3])
        after = answer_states(model, embedded.embeds, pbatch["attention_mask"], tokens, keep, torch.tensor([True]))
        torch.testing.assert_close(after[0], in_training, rtol=1e-4, atol=1e-5)
        (rating,) = model.ratings(embedded, pbatch["attention_mask"], tokens)
        head = model.dimensional_head(in_training[None])[0]
        assert rating == pytest.approx(dict(zip(("valence", "arousal"), head.tolist())), abs=1e-5)
    # by hand: finished answers are read before their EOS (an empty one at the last prompt token); a cut one at its end
    keep = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]]).bool()
    assert completion_markers(10, keep, torch.tensor([True, True, False])).tolist() == [11, 9, 13]
    assert rendered_marker([5, 6, 7, 8, 2, 9], [False, False, True, True, True, True], eos=[2]) == 3
    assert rendered_marker([5, 6, 7, 8], [False, False, True, True], eos=[2]) == 3  # no EOS: the last token


def test_packed_and_full_vocabulary_losses_with_an_answer_state_head_equal_the_padded_loss(tiny_checkpoint):
    model = head_model(tiny_checkpoint, "llm_last", seed=2)
    samples = make_rated_split(6, seed=5)
    for i, s in enumerate(samples):  # answers of different lengths, so rows pack unevenly
        s["messages"][1]["content"] = "calm" + " and tired" * i
    batch = model.processor.collate(prepare(model, samples, generation=False))
    padded, packed, full = AnswerLoss(model), AnswerLoss(model, packing=True), AnswerLoss(model)
    full.selective = False  # the path of an LLM whose logits are not lm_head(hidden): transformers' own loss
    reference = padded(batch)
    torch.testing.assert_close(packed(batch), reference, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(full(batch), reference, rtol=1e-4, atol=1e-5)
    assert padded.parts["vad"] > 0
    assert packed.parts["vad"] == pytest.approx(padded.parts["vad"], abs=1e-5)
    assert full.parts["vad"] == pytest.approx(padded.parts["vad"], abs=1e-5)


def test_head_weights_survive_checkpoint_and_export(tiny_checkpoint, tmp_path):
    from safetensors.torch import load_file

    model = head_model(tiny_checkpoint, "llm_last", seed=3)
    with torch.no_grad():
        for p in model.dimensional_head.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # away from the init a fresh head would get
    samples = make_rated_split(3, seed=6)
    prompts = prepare(model, samples, generation=True)

    def ratings(m):
        return m.generate_rated(m.processor.collate(prompts, padding_side="left"), max_new_tokens=3)[1]

    before = ratings(model.eval())
    ckpt = model.save_checkpoint(tmp_path / "ckpt")
    assert any(k.startswith("vad_head.") for k in load_file(ckpt / "fusion.safetensors"))
    base = tiny_checkpoint / "base"
    loaded = AffectLLM.from_checkpoint(ckpt, trusted=[base])
    assert loaded.cfg.model.vad_head.source == "llm_last"
    # the same weights; the loaded model may run its matmuls in another order (1e-7 apart on some machines)
    assert [pytest.approx(r, abs=1e-5) for r in ratings(loaded)] == before
    exported = AffectLLM.from_pretrained(loaded.save_pretrained(tmp_path / "export").out, trusted=[base])
    assert [pytest.approx(r, abs=1e-5) for r in ratings(exported)] == before
    # a head's weights need the head in the config that loads them: one line naming the file
    with pytest.raises(AffectLLMError, match=r"fusion.safetensors: the weights do not fit the model its config"):
        AffectLLM.from_checkpoint(ckpt, trusted=[base], overrides=["model.vad_head=null"])


@pytest.mark.parametrize("overrides,message", [
    (["model.vad_head={dims: [valence, joy]}"], "config key 'model.vad_head.dims' has unknown dimension 'joy'"),
    (["model.vad_head={dims: [arousal, arousal]}"], "names a dimension twice"),
    (["model.vad_head={dims: []}"], "config key 'model.vad_head.dims' is empty"),
    (["model.vad_head={source: fused}", "model.prefusion=none"], "model.vad_head.source fused reads the pre-fusion"),
    (["model.vad_head={source: last}"], "config key 'model.vad_head.source' must be one of fused, llm_last"),
    (["model.vad_head={loss_weight: -1}"], "config key 'model.vad_head.loss_weight' must be 0 or more"),
])
def test_vad_head_settings_are_checked_with_one_line(tiny_checkpoint, overrides, message):
    from affectllm.config.schema import load_config

    with pytest.raises(ConfigError) as err:
        load_config(tiny_checkpoint / "affectllm.yaml", overrides, resolve_model_paths=False)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_grpo_vad_reward_reads_the_head_at_each_completion(tiny_checkpoint):
    from affectllm.config.schema import GRPOSettings, RewardWeights
    from affectllm.emotions import default_vocabulary
    from affectllm.eval.open_vocab import VocabularySpace
    from affectllm.training.grpo.rewards import RewardContext
    from affectllm.training.grpo.rollout import rollout
    from affectllm.training.grpo.setup import reward_context

    model = head_model(tiny_checkpoint, "llm_last", seed=4)
    samples = make_rated_split(2, seed=7)
    batch = model.processor.collate(prepare(model, samples, generation=True), padding_side="left")
    settings = GRPOSettings(group_size=4, max_new_tokens=6, kl_beta=0.0)
    ctx = RewardContext("emer", VocabularySpace(default_vocabulary()))
    torch.manual_seed(0)
    out = rollout(model, batch, samples, settings, ctx, {"vad": 1.0})
    lo, hi = RATING_SCALE
    for i, completion in enumerate(out.completions):
        gold = samples[i // 4]["vad"]
        gaps = [abs(completion.vad[d] - (2 * (gold[d] - lo) / (hi - lo) - 1)) / 2 for d in ("valence", "arousal")]
        assert out.rewards["vad"][i] == pytest.approx(1 - sum(gaps) / 2)
    # the head reads each completion's own answer state: ratings differ within a group, so the reward moves advantages
    assert len({round(c.vad["arousal"], 6) for c in out.completions[:4]}) > 1
    fused = head_model(tiny_checkpoint, "fused")
    fused.cfg.train.grpo.rewards = RewardWeights(wheel_f1=None, format=None, vad=1.0)
    with pytest.raises(ConfigError, match="train.grpo.rewards.vad needs model.vad_head.source llm_last"):
        reward_context(fused.cfg, {s["id"]: s for s in samples}, fused)
