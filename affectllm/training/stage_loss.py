"""What a step strategy trains: a stage's loss over the model, and the one other thing its forward runs.

DeepSpeed and DDP wrap one module and call its forward. Under ZeRO-3 the weights are
partitioned across ranks and gathered only inside that forward, layer by layer, including
weights a module reads without calling the submodule that holds them (``nn.MultiheadAttention``
reads ``out_proj``). Generation during training (GRPO's rollouts and held-out rewards) must
therefore run inside it too: ``forward(InForward(fn))`` runs ``fn(model)`` there
(``affectllm.training.steps.Steps.with_weights``), and any other argument is a batch whose
loss the stage computes (``loss``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from torch import nn


@dataclass(frozen=True)
class InForward:
    """A call to run inside the wrapper's forward: ``fn(model)``."""

    fn: Callable[[nn.Module], Any]


class StageLoss(nn.Module):
    """The module a step strategy wraps: ``model`` and a stage's ``loss(batch)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: Any) -> Any:
        if isinstance(batch, InForward):
            return batch.fn(self.model)
        return self.loss(batch)

    def loss(self, batch: dict[str, Any]) -> Any:
        raise NotImplementedError
