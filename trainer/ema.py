"""An exponential moving average of a network's weights: what both trainers sample from and export.

The half-life is counted in images (StyleGAN2-ADA's ema_kimg), so it means the same at any batch size, and is
shorter early on (ramp-up: at most `rampup` × the images seen), so the first, noisy weights fade quickly.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, net: nn.Module, kimg: float, rampup: float = 0.0, device: torch.device | None = None):
        self.kimg, self.rampup = kimg, rampup
        self.net = copy.deepcopy(net).to(device).eval().requires_grad_(False)  # a plain module: no DDP, no SyncBN

    @torch.no_grad()
    def update(self, net: nn.Module, step: int, batch: int) -> None:
        """Move the average towards `net` after `step` steps of `batch` images."""
        half_life = self.kimg * 1000
        if self.rampup:
            half_life = min(half_life, step * batch * self.rampup)
        beta = 0.5 ** (batch / max(half_life, 1e-8))
        for pe, p in zip(self.net.parameters(), net.parameters()):
            pe.lerp_(p, 1 - beta)
