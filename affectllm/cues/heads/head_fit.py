"""What training and running the small cue heads (text, voice) share: a fixed torch thread count, and one
seeded training loop."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block on ``n`` torch threads, then restore the count. One thread makes a head's numbers the
    same on every machine (a multi-threaded matmul sums in an order that depends on the core count), and
    for a head's few milliseconds of work a thread pool's wake-ups cost more than they save."""
    threads = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fit_head(net: torch.nn.Module, n: int, batch_loss: Callable[[torch.Tensor], torch.Tensor], cfg, desc: str,
        progress: bool = False) -> torch.nn.Module:
    """Train ``net`` on ``n`` examples: AdamW with a one-cycle schedule, batches reshuffled every epoch by a
    generator seeded with ``cfg.seed``; ``batch_loss(idx)`` is the loss of the examples at ``idx``. ``cfg``
    gives ``lr``, ``weight_decay``, ``batch_size``, ``epochs`` and ``seed``. Returns ``net`` in eval mode."""
    from tqdm import tqdm

    shuffle = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-n // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch)
    bar = tqdm(range(cfg.epochs), desc=desc, unit="epoch", disable=not progress)
    for _ in bar:
        net.train()
        order = torch.randperm(n, generator=shuffle)
        total = 0.0
        for start in range(0, n, cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            loss = batch_loss(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        bar.set_postfix(loss=f"{total / n:.3f}")
    net.eval()
    return net
