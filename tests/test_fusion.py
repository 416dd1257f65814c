import pytest
import torch

from affectllm.config.schema import ModelConfig
from affectllm.core.errors import FeatureCountError
from affectllm.fusion import AttentionPooling, FusionAdapter, MixPreFusion, QFormerPooling, splice_media_tokens
from affectllm.fusion.prefusion import Stream, Streams


def test_splice_places_rows_in_order_and_fails_loudly_on_count_mismatch():
    embeds = torch.zeros(2, 5, 3)
    ids = torch.tensor([[1, 9, 9, 2, 3], [9, 4, 4, 4, 4]])
    feats = torch.arange(9.0).view(3, 3)
    out = splice_media_tokens(embeds, ids, {9: feats})
    assert torch.equal(out[0, 1], feats[0]) and torch.equal(out[0, 2], feats[1]) and torch.equal(out[1, 0], feats[2])
    assert out[0, 0].abs().sum() == 0 and out[1, 1:].abs().sum() == 0
    with pytest.raises(FeatureCountError, match="<video> features: 3 placeholder tokens in the text but 2 feature rows"):
        splice_media_tokens(embeds, ids, {9: feats[:2]}, {9: "<video> features"})


def test_pooling_ignores_padding():
    torch.manual_seed(0)
    seq = torch.randn(1, 6, 8)
    mask = torch.tensor([[True, True, True, False, False, False]])
    garbage = seq.clone()
    garbage[0, 3:] = 1e3
    for pool in (AttentionPooling(8), QFormerPooling(8, num_queries=3, heads=2)):
        a, b = pool(seq, mask), pool(garbage, mask)
        assert a.shape == (1, pool.num_tokens, 8)
        assert torch.allclose(a, b, atol=1e-5)


def _streams(pooled: torch.Tensor, present: torch.Tensor) -> Streams:
    """Streams whose pooled tokens (one per row) are ``pooled`` (B, M, D) where ``present`` (B, M)."""
    streams = []
    for j in range(pooled.shape[1]):
        rows = present[:, j].nonzero().squeeze(1)
        tokens = pooled[rows, j].unsqueeze(1)  # (n, 1, D)
        streams.append(Stream(tokens, torch.ones(len(rows), 1, dtype=torch.bool), tokens, rows) if len(rows) else None)
    return Streams.gather(streams, pooled.shape[0], pooled.device)


def test_mix_prefusion_uses_only_present_modalities():
    torch.manual_seed(0)
    mix = MixPreFusion(8, num_tokens=2)
    pooled = torch.randn(2, 3, 8)
    present = torch.tensor([[True, False, True], [True, True, True]])
    other = pooled.clone()
    other[0, 1] = 100.0  # row 0 lacks modality 1: its value in the input must not matter
    assert torch.allclose(mix(_streams(pooled, present)), mix(_streams(other, present)))
    other[1, 1] = 100.0  # row 1 has it: its output moves, row 0's does not
    moved = mix(_streams(other, present))
    assert torch.allclose(moved[0], mix(_streams(pooled, present))[0]) and not torch.allclose(
        moved[1], mix(_streams(pooled, present))[1])
    # with a single modality the mix is that modality
    only = torch.tensor([[False, False, True], [False, False, True]])
    expected = mix.norm(mix.expand(pooled[0, 2]).view(2, 8))
    assert torch.allclose(mix(_streams(pooled, only))[0], expected, atol=1e-6)


@pytest.mark.parametrize("pooling,prefusion", [("qformer", "mix"), ("attention", "cross"), ("qformer", "none")])
def test_adapter_emits_one_row_per_placeholder(pooling, prefusion):
    cfg = ModelConfig(pooling=pooling, prefusion=prefusion, num_queries=3, num_fused_tokens=2, fusion_dim=16,
                      fusion_heads=2)
    adapter = FusionAdapter(cfg, {"video": 10, "audio": 12}, llm_hidden=20)
    encoded = {"video": (torch.randn(2, 4, 10), torch.ones(2, 4, dtype=torch.bool), torch.tensor([0, 2])),
               "audio": (torch.randn(1, 7, 12), torch.ones(1, 7, dtype=torch.bool), torch.tensor([2]))}
    out = adapter(encoded, batch_size=3)  # row 1 has no media at all
    q = 3 if pooling == "qformer" else 1
    assert out["video"].shape == (2 * q, 20) and out["audio"].shape == (q, 20)
    if prefusion == "none":
        assert "fused" not in out
    else:
        assert out["fused"].shape == (2 * 2, 20)  # rows 0 and 2 have media
    assert adapter.tokens_per_modality["video"] == q
