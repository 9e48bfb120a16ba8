"""GAN losses on raw D logits."""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "hinge")


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """bce: -log σ(real) - log(1 - σ(fake)); hinge: relu(1 - real) + relu(1 + fake)."""
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating: bce → -log σ(fake); hinge → -fake."""
    if kind == "hinge":
        return -fake.mean()
    return F.softplus(-fake).mean()
