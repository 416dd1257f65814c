"""The dimensional head: valence / arousal / dominance on [-1, 1], and its CCC loss.

The head reads one vector per sample — the mean of the pre-fusion's fused tokens
(``model.vad_head.source: fused``) or the LLM's last hidden state at the answer
marker (``llm_last``; ``affectllm.model.answer_state``) — and trains jointly with the
language-model loss::

    loss = lm + λ · Σ_d (1 − CCC_d)

over the dimensions ``d`` the micro-batch rates, as the speech-emotion regression
literature trains valence/arousal/dominance (SEVLM's VAD head, Wav2Small). CCC is
Lin's concordance correlation coefficient with population moments, the definition
``affectllm eval vad`` scores with (``affectllm.eval.ccc``). A sample that does not
rate a dimension is masked out of that dimension's CCC (never counted as 0).

CCC is a statistic of a batch: with one rated sample it is degenerate (1 − CCC is 1
whatever the prediction), so a dimension rated by a single sample of the micro-batch
trains on half its squared error instead, ``(p − t)² / 2`` — the numerator of
1 − CCC, on the same 0 … 2 range. Micro-batches of 8 or more give the CCC loss its
meaning; a dimension no sample of the micro-batch rates adds nothing.
"""

from __future__ import annotations

import torch
from torch import nn

CCC_EPS = 1e-8  # keeps 0 / 0 finite for a micro-batch whose ratings and predictions are all equal


class VadHead(nn.Module):
    """(N, D_in) → (N, len(dims)) ratings on [-1, 1] (LayerNorm, MLP, tanh)."""

    def __init__(self, in_dim: int, hidden: int, dims: list[str] | tuple[str, ...]):
        super().__init__()
        self.dims = tuple(dims)
        self.net = nn.Sequential(nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden), nn.GELU(),
                                 nn.Linear(hidden, len(self.dims)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(x.to(self.net[1].weight.dtype)))


def ccc(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Lin's CCC of two (n,) tensors, population moments, in float32."""
    pred, target = pred.float(), target.float()
    mp, mt = pred.mean(), target.mean()
    vp, vt = ((pred - mp) ** 2).mean(), ((target - mt) ** 2).mean()
    cov = ((pred - mp) * (target - mt)).mean()
    return 2 * cov / (vp + vt + (mp - mt) ** 2 + CCC_EPS)


def ccc_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, dict[int, float]]:
    """Σ over dimensions of (1 − CCC) on the rated rows (one rated row: its squared error / 2, module docstring).

    pred, target (N, D); mask (N, D) True where the sample rates the dimension. Returns the loss (0 with its
    graph kept when nothing is rated, so every rank runs the same backward) and the CCC per dimension index
    scored over two or more rows."""
    mask = mask.to(pred.device).bool()
    target = target.to(pred.device, torch.float32)
    loss = pred.sum() * 0.0
    scored: dict[int, float] = {}
    for d in range(pred.shape[1]):
        rows = mask[:, d]
        n = int(rows.sum())
        if n == 1:
            loss = loss + (pred[rows, d].float() - target[rows, d]).pow(2).sum() / 2
        elif n >= 2:
            value = ccc(pred[rows, d], target[rows, d])
            loss = loss + (1.0 - value)
            scored[d] = float(value.detach())
    return loss, scored
