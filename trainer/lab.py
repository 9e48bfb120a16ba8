"""sRGB ↔ CIE Lab (D65) in PyTorch, as scikit-image's rgb2lab/lab2rgb compute it.

Written with plain tensor ops so it trains on any device and exports into the colouriser's ONNX graph: the
app, the API and a browser hand the model RGB and get RGB back, with no colour science of their own.
The colouriser's scaling convention (the seed documents'): L/100 ∈ [0, 1], ab/110 ∈ [-1, 1].
"""
from __future__ import annotations

import torch

L_SCALE, AB_SCALE = 100.0, 110.0
# sRGB (linear) → XYZ, and the D65 white point, as in skimage.color
_RGB2XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                         [0.212671, 0.715160, 0.072169],
                         [0.019334, 0.119193, 0.950227]], dtype=torch.float64)
_XYZ2RGB = torch.linalg.inv(_RGB2XYZ)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883], dtype=torch.float64)


def _mix(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A 3×3 matrix applied to the channels of [B, 3, H, W] (a 1×1 convolution in the exported graph)."""
    return torch.einsum("ij,bjhw->bihw", m.to(x.dtype), x)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] sRGB in [0, 1] → Lab (L in [0, 100], a and b roughly in [-110, 110])."""
    rgb = rgb.clamp(0, 1)
    lin = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).pow(2.4), rgb / 12.92)
    xyz = _mix(_RGB2XYZ, lin) / _WHITE.to(rgb.dtype).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp(min=0.008856).pow(1 / 3), 7.787 * xyz + 16 / 116)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)


def _linear(lab: torch.Tensor) -> torch.Tensor:
    """Lab → linear-light RGB, not yet clipped (outside [0, 1] where the colour is outside the sRGB gamut)."""
    L, a, b = lab[:, 0:1], lab[:, 1:2], lab[:, 2:3]
    fy = (L + 16) / 116
    f = torch.cat([fy + a / 500, fy, (fy - b / 200).clamp(min=0)], dim=1)
    xyz = torch.where(f > 0.2068966, f.pow(3), (f - 16 / 116) / 7.787) * _WHITE.to(lab.dtype).view(1, 3, 1, 1)
    return _mix(_XYZ2RGB, xyz)


def _encode(lin: torch.Tensor) -> torch.Tensor:
    """Linear light → sRGB in [0, 1]."""
    srgb = torch.where(lin > 0.0031308, 1.055 * lin.clamp(min=0.0031308).pow(1 / 2.4) - 0.055, 12.92 * lin)
    return srgb.clamp(0, 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Lab → [B, 3, H, W] sRGB clipped to [0, 1] (colours outside the gamut are clipped, as skimage does)."""
    return _encode(_linear(lab))


CHROMA_STEPS = (0.2, 0.4, 0.6, 0.8, 1.0)


def lab_to_rgb_in_gamut(lab: torch.Tensor, tol: float = 1e-4) -> torch.Tensor:
    """Lab → sRGB keeping L exactly: where a colour falls outside the sRGB gamut (strong colour on a near-black
    line, say), its chroma (a, b) is scaled down to the largest of CHROMA_STEPS that fits, instead of clipping
    R, G or B, which would change the lightness and thicken or fade the line art."""
    L, ab = lab[:, :1], lab[:, 1:]
    out = _linear(torch.cat([L, torch.zeros_like(ab)], dim=1))  # gray: always inside the gamut
    for s in CHROMA_STEPS:
        cand = _linear(torch.cat([L, ab * s], dim=1))
        fits = ((cand >= -tol) & (cand <= 1 + tol)).all(dim=1, keepdim=True)
        out = torch.where(fits, cand, out)
    return _encode(out)


def split(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB in [0, 1] → (L/100 [B, 1, H, W], ab/110 [B, 2, H, W]): the colouriser's input and target."""
    lab = rgb_to_lab(rgb)
    return lab[:, :1] / L_SCALE, lab[:, 1:] / AB_SCALE


def join(l_scaled: torch.Tensor, ab_scaled: torch.Tensor, in_gamut: bool = False) -> torch.Tensor:
    """(L/100, ab/110) → sRGB in [0, 1]; in_gamut: keep L exactly (lab_to_rgb_in_gamut) instead of clipping."""
    lab = torch.cat([l_scaled * L_SCALE, ab_scaled * AB_SCALE], dim=1)
    return lab_to_rgb_in_gamut(lab) if in_gamut else lab_to_rgb(lab)
