"""GAN losses on raw D logits, and the gradient penalty that keeps D smooth.

rpgan: relativistic pairing (R3GAN, Huang et al. 2025): D learns that each real image is more real than the fake
it is paired with, G the reverse. With R1 + R2 penalties it provably converges locally and resists mode dropping.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("rpgan", "bce", "hinge")


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """rpgan: softplus(-(real - fake)); bce: -log σ(real) - log(1 - σ(fake)); hinge: relu(1 - real) + relu(1 + fake)."""
    if kind == "rpgan":
        return F.softplus(fake - real).mean()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_loss(kind: str, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """rpgan: softplus(-(fake - real)) (needs D's logits of the paired reals); bce: -log σ(fake); hinge: -fake."""
    if kind == "rpgan":
        if real is None:
            raise ValueError("the rpgan generator loss needs D's logits of real images")
        return F.softplus(real - fake).mean()
    if kind == "hinge":
        return -fake.mean()
    return F.softplus(-fake).mean()


def gradient_penalty(logits: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Mean over images of |∇ₓ D(x)|²: R1 when x are real images, R2 when they are fakes (Mescheder et al. 2018).
    The graph is kept so the penalty itself can be differentiated with respect to D's weights."""
    (grad,) = torch.autograd.grad(logits.sum(), inputs, create_graph=True)
    return grad.float().square().sum(dim=[1, 2, 3]).mean()


def lecam(real: torch.Tensor, fake: torch.Tensor, real_avg: torch.Tensor, fake_avg: torch.Tensor) -> torch.Tensor:
    """LeCam regulariser (Tseng et al. 2021, "Regularizing GANs under limited data"): real logits above the running
    mean of the fake ones, and fake logits below the running mean of the real ones, are penalised squared. It keeps a
    D that starts to memorise a small data set from pushing its logits apart, and needs no per-image gradient, so
    it works with BatchNorm in D (the R1/R2 penalties do not)."""
    return F.relu(real - fake_avg).square().mean() + F.relu(real_avg - fake).square().mean()
