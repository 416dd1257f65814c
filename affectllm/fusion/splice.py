"""The one place that puts media features into the LLM's input embeddings."""

from __future__ import annotations

import torch

from affectllm.core.errors import FeatureCountError


def splice_media_tokens(inputs_embeds: torch.Tensor, input_ids: torch.Tensor,
                        features: dict[int, torch.Tensor], names: dict[int, str] | None = None) -> torch.Tensor:
    """Replace every placeholder token with the next feature row, in row-major order.

    inputs_embeds (B, L, H); input_ids (B, L); features maps a placeholder token id to
    (n, H) rows ordered by batch position. Raises FeatureCountError when the number of
    placeholder tokens and feature rows disagree for any placeholder.
    """
    out = inputs_embeds
    for token_id, feats in features.items():
        mask = input_ids == token_id
        n_tokens, n_feats = int(mask.sum()), feats.shape[0]
        if n_tokens != n_feats:
            label = (names or {}).get(token_id, f"token {token_id}")
            raise FeatureCountError(f"{label}: {n_tokens} placeholder tokens in the text but {n_feats} "
                                    "feature rows; the prompt and the media disagree")
        if n_tokens:
            out = out.masked_scatter(mask.unsqueeze(-1).expand_as(out), feats.to(out.dtype))
    return out
